//! The `rollup` binary run as users and outside checks run it.
#![allow(dead_code)]

use std::process::Command;

/// Exit code (-1 if killed), stdout and stderr of `rollup args...`.
pub fn rollup(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_rollup"))
        .args(args)
        .output()
        .expect("run rollup");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The value of the `key: value` line of `out`, if any.
pub fn field<'a>(out: &'a str, key: &str) -> Option<&'a str> {
    out.lines()
        .find_map(|line| line.strip_prefix(key)?.strip_prefix(": "))
}
