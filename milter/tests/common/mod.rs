//! The daemon under test: the real `smime-lint-milter` binary on a loopback port, its standard
//! error collected line by line.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The test PKI's certificate store.
pub fn certs() -> PathBuf {
    repo().join("testdata/certs/store")
}

/// The repository root (the milter is a workspace member one level down).
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A fixture's bytes.
pub fn fixture(path: &str) -> Vec<u8> {
    let p = repo().join(path);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// A free port on 127.0.0.1.
pub fn free_port() -> u16 {
    smime_lint_testkit::free_port()
}

/// A running daemon; killed on drop.
pub struct Daemon {
    child: Option<Child>,
    pub addr: SocketAddr,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Daemon {
    /// Starts the daemon on a free port with `args` (the test store unless `args` has
    /// `--certs`) and waits until it listens.
    pub fn start(args: &[&str]) -> Daemon {
        Daemon::start_on(free_port(), args)
    }

    /// The same on `port`.
    pub fn start_on(port: u16, args: &[&str]) -> Daemon {
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_smime-lint-milter"));
        cmd.arg("--listen").arg(format!("inet:{addr}"));
        if !args.contains(&"--certs") {
            cmd.arg("--certs").arg(certs());
        }
        cmd.args(args).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("the milter starts");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let stderr = child.stderr.take().expect("stderr");
        let sink = lines.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                eprintln!("[milter {port}] {line}");
                sink.lock().unwrap().push(line);
            }
        });
        let d = Daemon { child: Some(child), addr, lines };
        assert!(
            d.wait_log("listening on", Duration::from_secs(30)),
            "the milter did not start: {:?}",
            d.log()
        );
        d
    }

    /// Every line written to standard error so far.
    pub fn log(&self) -> Vec<String> {
        self.lines.lock().unwrap().clone()
    }

    /// Waits until a line contains `needle`.
    pub fn wait_log(&self, needle: &str, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if self.log().iter().any(|l| l.contains(needle)) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    /// Lines containing `needle`.
    pub fn lines_with(&self, needle: &str) -> Vec<String> {
        self.log().into_iter().filter(|l| l.contains(needle)).collect()
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().map(Child::id).expect("running")
    }

    /// Sends a signal (`HUP`, `TERM`, `KILL`).
    pub fn signal(&self, name: &str) {
        let ok = Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.pid().to_string())
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "kill -{name}");
    }

    /// Waits for the process to end.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        let child = self.child.as_mut()?;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = child.try_wait() {
                self.child = None;
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    /// A field of /proc/PID/status in kB (`VmRSS`, `VmHWM`).
    pub fn memory_kb(&self, field: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or_else(|| panic!("{field} in {status}"))
    }

    /// Whether the port still accepts connections.
    pub fn accepts(&self) -> bool {
        TcpStream::connect_timeout(&self.addr, Duration::from_millis(500)).is_ok()
    }

    /// Kills the process at once (as a crash would).
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.kill();
    }
}
