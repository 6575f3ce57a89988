//! Interrupting `outage serve` at random moments: while connections wait for
//! a request, sit mid-handshake, mid-drip or in a long close, and while
//! nobody reads its stderr. Each time it exits 0 (its contract) within a
//! bounded time, with no panic, nothing left in its temporary directory, and
//! every attempt in the journal saying how the stop cut it short.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::served::{Served, Stderr, WAIT, connect, text};

/// How a test client leaves a connection when the signal comes.
#[derive(Clone, Copy, Debug)]
enum Caught {
    /// Connected, nothing sent.
    Idle,
    /// Half a request head sent.
    MidHead,
    /// A whole request sent, the response under way (or never coming).
    Answering,
    /// The first bytes of a TLS ClientHello sent.
    MidHandshake,
}

fn open(served: &Served, caught: Caught) -> TcpStream {
    let mut stream = connect(served.addr);
    let bytes: &[u8] = match caught {
        Caught::Idle => b"",
        Caught::MidHead => b"GET /mid HTTP/1.1\r\nHost: x\r\nX-Half: ",
        Caught::Answering => b"GET /whole HTTP/1.1\r\nHost: x\r\n\r\n",
        Caught::MidHandshake => b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
    };
    stream.write_all(bytes).expect("the first bytes are sent");
    stream
}

/// A small xorshift, seeded from the clock and printed, so a failing moment
/// can be told apart from the others.
struct Moments(u64);

impl Moments {
    fn new() -> Moments {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(1, |d| d.subsec_nanos() as u64);
        Moments(nanos | 1)
    }

    fn next(&mut self, below: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % below
    }
}

/// Waits until the server has accepted `count` more connections than it had
/// fds at `before`, so that the signal finds them all inside the server.
fn accepted(served: &Served, before: usize, count: usize) {
    let deadline = Instant::now() + WAIT;
    while served.fds() < before + count {
        assert!(Instant::now() < deadline, "connections not accepted");
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn interrupted_at_random_moments_exits_0_and_journals_what_the_stop_cut_short() {
    let cases: &[(&[&str], Caught, &str)] = &[
        (
            &["drip", "--bytes", "100", "--interval", "50ms"],
            Caught::Answering,
            "planned: dripped 100 bytes, one every 50ms",
        ),
        (
            &["hang"],
            Caught::MidHead,
            "server stopped before a full request arrived",
        ),
        (
            &["hang"],
            Caught::Idle,
            "server stopped before a full request arrived",
        ),
        (
            &["slow-close", "--delay", "1h"],
            Caught::Answering,
            "planned: sent a close-delimited body, to close 1h later",
        ),
        (
            &["ok", "--tls"],
            Caught::MidHandshake,
            "server stopped during the TLS handshake",
        ),
        (
            &["slow-headers", "--delay", "1h"],
            Caught::Answering,
            "planned: delayed the status line 1h",
        ),
    ];
    let mut moments = Moments::new();
    let seed = moments.0;
    for (round, (args, caught, words)) in cases.iter().enumerate() {
        let mut served = Served::start(args, Stderr::Collected);
        let before = served.fds();
        let clients: Vec<TcpStream> = (0..5).map(|_| open(&served, *caught)).collect();
        accepted(&served, before, 5);
        if let Caught::Answering = caught {
            if args[0] == "drip" {
                // Mid-drip: the headers and a first byte have arrived.
                let mut reader = BufReader::new(clients[0].try_clone().unwrap());
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                assert!(line.starts_with("HTTP/1.1 200"), "{line:?}");
            }
        }
        std::thread::sleep(Duration::from_millis(moments.next(200)));
        let signal = if round % 2 == 0 { "-TERM" } else { "-INT" };
        let (status, took) = served.signal(signal);
        let context = format!("{args:?} {caught:?} kill {signal} (seed {seed})");
        assert_eq!(status.code(), Some(0), "{context}: {}", served.stderr());
        assert!(
            took < Duration::from_secs(5),
            "{context}: exit took {took:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
        assert!(
            !served.stderr().contains("panicked"),
            "{context}: {}",
            served.stderr()
        );
        served.sandbox.assert_clean();
        let attempts = served.attempts();
        assert_eq!(attempts.len(), 5, "{context}: {attempts:?}");
        for attempt in &attempts {
            assert_eq!(attempt["ending"], "server-stopped", "{context}: {attempt}");
            let action = text(attempt, "action");
            assert!(action.contains(words), "{context}: {action:?}");
        }
        drop(clients);
    }
}

#[test]
fn a_signal_with_stderr_unread_and_connections_open_still_exits_promptly() {
    let mut served = Served::start(&["hang"], Stderr::Unread);
    let before = served.fds();
    // Ended attempts fill the pipe first (about 100 bytes a line, 64 KiB a pipe).
    for round in 0..10 {
        for _ in 0..100 {
            drop(connect(served.addr));
        }
        std::thread::sleep(Duration::from_millis(10 * round));
    }
    served.journaled(1000);
    let clients: Vec<TcpStream> = (0..300).map(|_| open(&served, Caught::Answering)).collect();
    accepted(&served, before, 300);
    let (status, took) = served.signal("-TERM");
    assert_eq!(status.code(), Some(0));
    assert!(took < Duration::from_secs(6), "exit took {took:?}");
    // Every attempt reached the journal file, although stderr lost lines.
    let attempts = served.attempts();
    assert_eq!(attempts.len(), 1300);
    drop(clients);
    served.sandbox.assert_clean();
}

#[test]
fn a_signal_right_after_the_url_exits_0() {
    for signal in ["-INT", "-TERM"] {
        let mut served = Served::start(&["ok"], Stderr::Collected);
        let (status, took) = served.signal(signal);
        assert_eq!(status.code(), Some(0), "{signal}");
        assert!(
            took < Duration::from_secs(2),
            "{signal}: exit took {took:?}"
        );
        assert!(served.attempts().is_empty());
    }
}
