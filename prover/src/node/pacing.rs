//! How a process's loop of node turns waits: a poll interval when idle, a doubling backoff after
//! a failed turn, and never past a stop request by more than a moment.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Waits after a failed turn: doubling from the poll interval up to 30 s.
pub struct Backoff {
    first: Duration,
    current: Duration,
}

impl Backoff {
    pub fn new(poll: Duration) -> Backoff {
        let first = poll.max(Duration::from_millis(500));
        Backoff {
            first,
            current: first,
        }
    }

    /// The wait after one more failure (doubling up to 30 s).
    pub fn next_wait(&mut self) -> Duration {
        let wait = self.current;
        self.current = (self.current * 2).min(Duration::from_secs(30));
        wait
    }

    pub fn reset(&mut self) {
        self.current = self.first;
    }
}

/// Sleeps `wait` unless `stop` is set first.
pub fn pause(wait: Duration, stop: &AtomicBool) {
    let until = Instant::now() + wait;
    while Instant::now() < until && !stop.load(Ordering::SeqCst) {
        std::thread::sleep(Duration::from_millis(20));
    }
}
