//! `Served`: one `outage serve` process for a hostile client to attack, with
//! its journal in a JSON-lines file, its stderr collected (or left unread on
//! purpose), and raw HTTP/1.1 helpers that bound every wait.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, ChildStderr, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::guard::{Sandbox, open_fds, peak_rss_kib};

/// Longest any single wait of these tests takes.
pub const WAIT: Duration = Duration::from_secs(10);

/// What happens to the server's stderr.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Stderr {
    /// Read as it comes and kept, to check afterwards.
    Collected,
    /// Left on a pipe nobody reads, as a careless parent does.
    Unread,
}

pub struct Served {
    pub sandbox: Sandbox,
    child: Child,
    pub addr: SocketAddr,
    pub journal: PathBuf,
    stderr: Arc<Mutex<String>>,
    /// Kept open, unread, for `Stderr::Unread`.
    _unread: Option<ChildStderr>,
}

impl Served {
    /// Starts `outage serve ARGS... --journal FILE` and reads its URL.
    pub fn start(args: &[&str], stderr: Stderr) -> Served {
        let sandbox = Sandbox::new();
        let journal = sandbox.files().join("journal.jsonl");
        let mut all = vec!["serve"];
        all.extend_from_slice(args);
        let journal_arg = journal.to_str().expect("a UTF-8 temporary path");
        all.extend_from_slice(&["--journal", journal_arg]);
        let mut child = sandbox
            .outage(&all)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("outage serve starts");
        let mut url = String::new();
        let stdout = child.stdout.take().expect("stdout is piped");
        // The URL comes within WAIT, or the server is killed when the test fails.
        let reader = std::thread::spawn(move || {
            let mut url = String::new();
            let _ = BufReader::new(stdout).read_line(&mut url);
            url
        });
        let deadline = Instant::now() + WAIT;
        while !reader.is_finished() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        if reader.is_finished() {
            url = reader.join().unwrap_or_default();
        }
        if url.is_empty() {
            let _ = child.kill();
            panic!("outage serve {args:?} printed no URL within {WAIT:?}");
        }
        let addr = url
            .trim()
            .rsplit('/')
            .next()
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("not a URL: {url:?}"));
        let collected = Arc::new(Mutex::new(String::new()));
        let pipe = child.stderr.take().expect("stderr is piped");
        let unread = match stderr {
            Stderr::Unread => Some(pipe),
            Stderr::Collected => {
                let sink = collected.clone();
                std::thread::spawn(move || {
                    for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                        sink.lock().unwrap().push_str(&(line + "\n"));
                    }
                });
                None
            }
        };
        Served {
            sandbox,
            child,
            addr,
            journal,
            stderr: collected,
            _unread: unread,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn fds(&self) -> usize {
        open_fds(self.pid())
    }

    pub fn peak_rss_kib(&self) -> u64 {
        peak_rss_kib(self.pid())
    }

    /// The server's stderr so far.
    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// The attempts in the journal file so far.
    pub fn attempts(&self) -> Vec<serde_json::Value> {
        std::fs::read_to_string(&self.journal)
            .unwrap_or_default()
            .lines()
            .map(|line| serde_json::from_str(line).expect("each journal line is JSON"))
            .collect()
    }

    /// Waits until the journal file has at least `count` attempts.
    pub fn journaled(&self, count: usize) -> Vec<serde_json::Value> {
        let deadline = Instant::now() + WAIT;
        loop {
            let attempts = self.attempts();
            if attempts.len() >= count {
                return attempts;
            }
            if Instant::now() > deadline {
                panic!(
                    "{} attempts journaled after {WAIT:?}, wanted {count}; stderr:\n{}",
                    attempts.len(),
                    self.stderr()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits until the server has at most `fds` open.
    pub fn fds_back_to(&self, fds: usize) {
        let deadline = Instant::now() + WAIT;
        while self.fds() > fds {
            if Instant::now() > deadline {
                panic!("{} fds open after {WAIT:?}, {fds} before", self.fds());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Asserts that a plain GET is answered 200 within WAIT.
    pub fn still_answers(&self) {
        let mut client = connect(self.addr);
        client
            .write_all(b"GET /still HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .expect("the request is sent");
        let answer = read_to_close(&mut client);
        assert!(
            answer.starts_with("HTTP/1.1 200"),
            "the server no longer answers: {answer:?}"
        );
    }

    /// Asserts that the server still serves `fault`: `ok` answers 200, and
    /// `hang` reads the request and lets the client go.
    pub fn still_serves(&self, fault: &str) {
        if fault == "ok" {
            return self.still_answers();
        }
        let mut client = connect(self.addr);
        client
            .write_all(b"GET /still HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        client.shutdown(std::net::Shutdown::Write).unwrap();
        assert_eq!(read_to_close(&mut client), "");
        let deadline = Instant::now() + WAIT;
        let still = |a: &serde_json::Value| a["request"]["target"] == "/still";
        while !self.attempts().iter().any(still) {
            assert!(Instant::now() < deadline, "/still never journaled");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Sends `signal` (`-TERM`, `-INT`) and returns the exit status and how
    /// long the exit took; kills the server and fails if it takes over WAIT.
    pub fn signal(&mut self, signal: &str) -> (ExitStatus, Duration) {
        let start = Instant::now();
        let sent = std::process::Command::new("kill")
            .args([signal, &self.pid().to_string()])
            .status()
            .expect("kill runs");
        assert!(sent.success());
        loop {
            if let Some(status) = self.child.try_wait().expect("the server can be waited for") {
                return (status, start.elapsed());
            }
            if start.elapsed() > WAIT {
                let _ = self.child.kill();
                panic!("outage serve still running {WAIT:?} after kill {signal}");
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Stops the server as a user would and checks its promises: exit 0, no
    /// panic, nothing left behind.
    pub fn stop(mut self) -> Vec<serde_json::Value> {
        let (status, took) = self.signal("-TERM");
        assert_eq!(status.code(), Some(0), "exit after SIGTERM");
        assert!(took < Duration::from_secs(5), "exit took {took:?}");
        // Give the reader thread a moment to take the last lines.
        std::thread::sleep(Duration::from_millis(50));
        let stderr = self.stderr();
        assert!(!stderr.contains("panicked"), "{stderr}");
        self.sandbox.assert_clean();
        self.attempts()
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A connection to `addr` whose reads give up after WAIT.
pub fn connect(addr: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect_timeout(&addr, WAIT).expect("the server accepts");
    stream.set_read_timeout(Some(WAIT)).expect("a read timeout");
    stream
        .set_write_timeout(Some(WAIT))
        .expect("a write timeout");
    stream
}

/// Everything the server sends until it closes (or WAIT passes), as text.
pub fn read_to_close(stream: &mut TcpStream) -> String {
    let mut bytes = Vec::new();
    let _ = stream.read_to_end(&mut bytes);
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Reads one response with a `content-length` body from a kept-alive
/// connection and returns its status line.
pub fn read_response(reader: &mut BufReader<TcpStream>) -> String {
    let mut status = String::new();
    reader.read_line(&mut status).expect("a status line");
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).expect("a header line");
        if let Some(value) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            length = value.trim().parse().expect("a length");
        }
        if line == "\r\n" || line.is_empty() {
            break;
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).expect("the body");
    status.trim_end().to_owned()
}

/// A field of a journaled attempt as text, or "" when absent.
pub fn text<'a>(attempt: &'a serde_json::Value, field: &str) -> &'a str {
    attempt[field].as_str().unwrap_or("")
}
