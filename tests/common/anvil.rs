//! anvil (npm `@foundry-rs/anvil`, pinned by `verifier/contracts/package-lock.json`) for the
//! tests that need a real L1 node: installed with `npm ci` in `verifier/contracts` when missing
//! (without npm the tests fail, they never skip), started on a free loopback port, killed by PID.
//! The other foundry tools pinned there (cast) come the same way ([`foundry_tool`]).
#![allow(dead_code)]

use std::fs::File;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use verifier::l1::rpc::RpcL1;

pub fn contracts_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("verifier/contracts")
}

/// The npm package that ships this platform's `tool` binary (`anvil`, `cast`).
fn tool_binary(tool: &str) -> PathBuf {
    let os = match std::env::consts::OS {
        "macos" => "darwin",
        "windows" => "win32",
        other => other,
    };
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    };
    let exe = if os == "win32" {
        format!("{tool}.exe")
    } else {
        tool.to_string()
    };
    contracts_dir()
        .join("node_modules/@foundry-rs")
        .join(format!("{tool}-{os}-{arch}"))
        .join("bin")
        .join(exe)
}

/// A foundry binary from `verifier/contracts/node_modules` (pinned by its package-lock), with
/// `npm ci` run there once per test run if it is missing.
pub fn foundry_tool(tool: &str) -> PathBuf {
    static NPM_CI: OnceLock<()> = OnceLock::new();
    let binary = tool_binary(tool);
    if !binary.exists() {
        NPM_CI.get_or_init(|| {
            let dir = contracts_dir();
            println!(
                "{} is missing: running `npm ci` in {}",
                binary.display(),
                dir.display()
            );
            let out = Command::new("npm")
                .args(["ci", "--no-audit", "--no-fund"])
                .current_dir(&dir)
                .output()
                .unwrap_or_else(|e| {
                    panic!(
                        "cannot run `npm` ({e}): the foundry tests need Node.js and npm \
                         (Debian: apt-get install nodejs npm)"
                    )
                });
            assert!(
                out.status.success(),
                "`npm ci` failed:\n{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        });
    }
    assert!(
        binary.exists(),
        "no {tool} at {} even after `npm ci` in verifier/contracts: is @foundry-rs/{tool} in \
         its package-lock.json, with a package for this platform?",
        binary.display()
    );
    binary
}

/// The anvil binary.
pub fn anvil() -> PathBuf {
    foundry_tool("anvil")
}

/// A running anvil; killed (and reaped) by its PID when dropped.
pub struct Anvil {
    pub child: Child,
    pub url: String,
    log: PathBuf,
}

impl Anvil {
    pub fn start() -> Anvil {
        // A port the OS says is free right now; anvil binds it a moment later.
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free loopback port")
            .port();
        let log = std::env::temp_dir().join(format!("anvil-{}-{port}.log", std::process::id()));
        let log_file = File::create(&log).expect("anvil log file");
        let child = Command::new(anvil())
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .args(["--hardfork", "osaka", "--enable-tx-gas-limit", "--silent"])
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().expect("log file"))
            .stderr(log_file)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", anvil().display()));
        let anvil = Anvil {
            child,
            url: format!("http://127.0.0.1:{port}"),
            log,
        };
        eprintln!("anvil (PID {}) on {}", anvil.child.id(), anvil.url);
        anvil
    }

    /// Connects once `eth_chainId` answers.
    pub fn connect(&mut self) -> RpcL1 {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            match RpcL1::connect(&self.url) {
                Ok(l1) => return l1,
                Err(e) => {
                    if let Ok(Some(status)) = self.child.try_wait() {
                        panic!(
                            "anvil exited ({status}) before answering: {}",
                            self.output()
                        );
                    }
                    assert!(
                        Instant::now() < deadline,
                        "anvil did not answer eth_chainId within 20 s ({e}): {}",
                        self.output()
                    );
                    std::thread::sleep(Duration::from_millis(50));
                }
            }
        }
    }

    pub fn output(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Anvil {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
    }
}
