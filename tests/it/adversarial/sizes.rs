//! Absurd sizes and waits: a body far larger than memory is streamed in
//! bounded chunks to a client that leaves early, and every value that cannot
//! be served is refused up front with the range allowed, on the command line,
//! in a scenario file and through [`FaultServer`].
//!
//! Every wait is bounded by [`BOUND`]; every `outage` process is killed on
//! drop, and its sandbox checked clean.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use outage::fault::{Garbage, Truncate};
use outage::{Fault, FaultServer, ServerError};

use super::guard::{Sandbox, peak_rss_kib};

/// The longest any single wait in these tests may take.
const BOUND: Duration = Duration::from_secs(10);

/// What a client reads of a huge body before it leaves.
const READ: usize = 10_000_000;

/// The peak resident memory allowed to a server that streamed huge bodies.
/// A debug build serving nothing peaks near 10 MiB; a body held whole would be
/// hundreds.
const RSS_BOUND_KIB: u64 = 64 * 1024;

/// The range every refused size names.
const SIZE_RANGE: &str = "use 0 to 1000000000000000 bytes (1 PB)";

/// `outage serve ARGS...` in its own sandbox, killed when dropped.
struct Served {
    sandbox: Sandbox,
    child: Child,
    addr: SocketAddr,
}

impl Served {
    fn start(args: &[&str]) -> Served {
        let sandbox = Sandbox::new();
        let mut child = sandbox
            .outage(&[&["serve"], args].concat())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the outage binary starts");
        let stdout = child.stdout.take().expect("stdout is piped");
        let (send, receive) = std::sync::mpsc::channel();
        thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = send.send(line);
        });
        let url = receive
            .recv_timeout(BOUND)
            .expect("outage serve prints its URL");
        let addr = url
            .trim()
            .trim_start_matches("http://")
            .parse()
            .unwrap_or_else(|e| panic!("a URL with an address, not {url:?}: {e}"));
        Served {
            sandbox,
            child,
            addr,
        }
    }

    /// Panics unless the process is still running.
    fn assert_alive(&mut self) {
        let status = self.child.try_wait().expect("the child can be waited for");
        assert!(status.is_none(), "outage serve died: {status:?}");
    }

    /// Stops the server with SIGTERM and checks it left nothing behind.
    fn stop(mut self) {
        let id = self.child.id().to_string();
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &id])
            .status();
        let status = wait_bounded(&mut self.child);
        assert!(status.success(), "outage serve exited with {status}");
        self.sandbox.assert_clean();
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits for `child` to exit within [`BOUND`], killing it if it does not.
fn wait_bounded(child: &mut Child) -> ExitStatus {
    let deadline = Instant::now() + BOUND;
    loop {
        if let Some(status) = child.try_wait().expect("the child can be waited for") {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("outage did not exit within {BOUND:?}");
        }
        // std has no wait with a timeout; this only sets how often we look.
        thread::sleep(Duration::from_millis(10));
    }
}

/// Sends a GET to `addr`, reads up to `limit` bytes of the answer, and leaves
/// with the connection still open on the server's side; returns what was read.
fn read_some(addr: SocketAddr, limit: usize) -> usize {
    let mut stream = TcpStream::connect_timeout(&addr, BOUND).expect("connect");
    stream
        .set_read_timeout(Some(BOUND))
        .expect("a read timeout");
    stream
        .write_all(b"GET / HTTP/1.1\r\nhost: localhost\r\n\r\n")
        .expect("send the request");
    let mut buf = vec![0u8; 64 * 1024];
    let mut read = 0;
    while read < limit {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => read += n,
            Err(e) => panic!("reading after {read} bytes: {e}"),
        }
    }
    read
}

#[test]
fn a_terabyte_of_garbage_streams_to_a_client_that_reads_10_mb_and_leaves() {
    let mut served = Served::start(&["garbage", "--length", "1000000000000"]);
    for _ in 0..2 {
        let read = read_some(served.addr, READ);
        assert!(read >= READ, "the server sent only {read} bytes");
    }
    served.assert_alive();
    let peak = peak_rss_kib(served.child.id());
    assert!(
        peak < RSS_BOUND_KIB,
        "outage serve peaked at {peak} KiB serving a terabyte"
    );
    served.stop();
}

#[test]
fn concurrent_huge_truncations_cost_no_more_memory_than_small_ones() {
    let mut served = Served::start(&["truncate", "--length", "200000001", "--sent", "200000000"]);
    let addr = served.addr;
    let clients: Vec<_> = (0..3)
        .map(|_| thread::spawn(move || read_some(addr, READ)))
        .collect();
    for client in clients {
        let read = client.join().expect("a client thread");
        assert!(read >= READ, "the server sent only {read} bytes");
    }
    served.assert_alive();
    let peak = peak_rss_kib(served.child.id());
    assert!(
        peak < RSS_BOUND_KIB,
        "outage serve peaked at {peak} KiB for three 200 MB truncations"
    );
    served.stop();
}

/// Runs `outage ARGS...`, which must refuse them: exit 2 within [`BOUND`],
/// with `needle` in its output (`run` reports on stdout, `serve` on stderr).
fn assert_refused(args: &[&str], needle: &str) {
    let sandbox = Sandbox::new();
    let mut child = sandbox
        .outage(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the outage binary starts");
    // Both are a few lines at most, far below a pipe's buffer, so reading
    // them after the exit cannot block the child.
    let status = wait_bounded(&mut child);
    let mut text = String::new();
    for mut pipe in [
        Box::new(child.stdout.take().expect("stdout is piped")) as Box<dyn Read>,
        Box::new(child.stderr.take().expect("stderr is piped")),
    ] {
        pipe.read_to_string(&mut text).expect("output reads");
    }
    assert_eq!(status.code(), Some(2), "{args:?} gave {status}: {text}");
    assert!(text.contains(needle), "{args:?} said {text:?}");
    sandbox.assert_clean();
}

#[test]
fn every_absurd_size_on_the_command_line_is_refused_naming_the_range() {
    let max = "18446744073709551615";
    let cases: &[&[&str]] = &[
        &["garbage", "--length", max],
        &["truncate", "--length", max],
        &["truncate", "--length", "9223372036854775807"],
        &["cut-chunk", "--chunk", max],
        &["limit-data", "--size", max],
        &["limit-data", "--bytes", "-1"],
        &["slicer", "--size", max],
        &["slicer", "--segment", max],
        &["bandwidth", "--size", max],
        &["drip", "--bytes", max],
        &["reset", "--body-bytes", max],
    ];
    for args in cases {
        assert_refused(&[&["serve"], *args].concat(), SIZE_RANGE);
    }
}

#[test]
fn every_absurd_wait_and_code_on_the_command_line_is_refused_naming_the_range() {
    let waits: &[&[&str]] = &[
        &["status", "--retry-after-date", "1000000000y"],
        &["status", "--retry-after-date", "500000000000y"],
        &["status", "--retry-after", "500000000000y"],
        &["slicer", "--delay", "1000000000y"],
        &["drip", "--interval", "1000000000y"],
        &["slow-headers", "--delay", "11y"],
        &["slow-close", "--delay", "500000000000y"],
    ];
    for args in waits {
        assert_refused(&[&["serve"], *args].concat(), "use 0s to 10years");
    }
    assert_refused(
        &["serve", "status", "--code", "-1"],
        "status code -1 cannot be a final response; use 200 to 999",
    );
}

#[test]
fn a_header_that_contradicts_the_body_length_is_refused_before_serving() {
    // Found by the server fuzz target: hyper asserts in debug builds, and
    // sends two contradicting lengths in release builds.
    for fault in ["status", "bad-encoding", "redirect-loop"] {
        assert_refused(
            &["serve", fault, "--header", "Content-Length: 99"],
            "header \"Content-Length\" is written by the server from the body; remove it",
        );
    }
}

#[test]
fn an_absurd_size_in_a_scenario_file_is_refused_naming_the_range() {
    assert_refused(
        &["run", "fixtures/scenarios/invalid/size_out_of_range.toml"],
        "fixtures/scenarios/invalid/size_out_of_range.toml:2:9: \
         size 9223372036854775807 is out of range; use 0 to 1000000000000000 bytes (1 PB)",
    );
}

#[tokio::test]
async fn fault_server_refuses_what_it_cannot_serve_naming_the_range() {
    let absurd = [
        (
            Truncate::default().length(usize::MAX).sent(1).into(),
            SIZE_RANGE,
        ),
        (Garbage::default().length(usize::MAX).into(), SIZE_RANGE),
        (
            Fault::Status(outage::fault::Status::code(503).retry_after_date(Duration::MAX)),
            "use 0s to 10years",
        ),
        (
            Fault::sequence([Fault::Status(
                outage::fault::Status::code(503)
                    .retry_after(Duration::from_secs(500_000_000_000 * 31_557_600)),
            )]),
            "use 0s to 10years",
        ),
    ];
    for (fault, needle) in absurd {
        let name = fault.name();
        match FaultServer::start(fault).await {
            Err(ServerError::InvalidFault(invalid)) => {
                assert!(invalid.reason.contains(needle), "{name}: {invalid}");
            }
            Err(other) => panic!("{name}: refused for another reason: {other}"),
            Ok(server) => panic!("{name}: started at {}", server.url()),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fault_server_streams_a_terabyte_and_journals_the_client_leaving() {
    let server = FaultServer::start(Garbage::default().length(1_000_000_000_000).seed(3))
        .await
        .expect("a terabyte of garbage is valid");
    let addr = server.addr();
    let read = tokio::task::spawn_blocking(move || read_some(addr, READ))
        .await
        .expect("the client thread");
    assert!(read >= READ, "the server sent only {read} bytes");
    let attempts = server
        .journal()
        .settled(1, BOUND)
        .await
        .expect("the attempt ends once the client leaves");
    assert!(
        attempts[0].action.contains("1000000000000 garbage bytes"),
        "{attempts:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_fault_that_sends_a_body_streams_a_terabyte_to_a_client_that_leaves_early() {
    let terabyte = "1000000000000";
    let faults = [
        format!("{{ kind = 'truncate', length = {terabyte}1, sent = {terabyte} }}"),
        format!("{{ kind = 'cut-chunk', chunk = {terabyte}1, sent = {terabyte} }}"),
        format!("{{ kind = 'limit-data', bytes = {terabyte}, size = {terabyte} }}"),
        format!("{{ kind = 'slicer', segment = {terabyte}, size = {terabyte}, delay = '0s' }}"),
        format!("{{ kind = 'bandwidth', rate = 9223372036854775807, size = {terabyte} }}"),
        format!("{{ kind = 'reset', when = 'after-body-bytes', body-bytes = {terabyte} }}"),
    ];
    for toml in faults {
        let fault = crate::support::fault(&toml);
        let server = FaultServer::start(fault)
            .await
            .unwrap_or_else(|e| panic!("{toml}: {e}"));
        let addr = server.addr();
        let read = tokio::task::spawn_blocking(move || read_some(addr, READ))
            .await
            .expect("the client thread");
        assert!(read >= READ, "{toml}: the server sent only {read} bytes");
        server
            .journal()
            .settled(1, BOUND)
            .await
            .unwrap_or_else(|e| panic!("{toml}: the attempt never ended: {e}"));
    }
}
