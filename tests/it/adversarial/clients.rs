//! Hostile clients against `outage serve`: huge heads, many headers,
//! slowloris, garbage, pipelining, early close, never-ending bodies, the
//! HTTP/2 preface, a parent that never reads stderr, and faults that panic.
//! After each, the server still answers, every attempt ends in the journal,
//! the journal stays small, no fd is left open and memory stays bounded.

use std::io::{BufReader, Write};
use std::time::{Duration, Instant};

use outage::{Ending, Fault, FaultServer, PanicAt};

use super::served::{Served, Stderr, WAIT, connect, read_response, read_to_close, text};

/// Peak memory a served process may reach in these tests: a few MiB of
/// runtime, buffers of the connections open at once, and a journal whose
/// stored heads are each at most 4 KiB.
const RSS_BOUND_KIB: u64 = 64 * 1024;

/// A request head with one header of `size` bytes.
fn huge_request(size: usize) -> Vec<u8> {
    let mut request = b"GET /big HTTP/1.1\r\nHost: x\r\nX-Big: ".to_vec();
    request.resize(request.len() + size, b'a');
    request.extend(b"\r\n\r\n");
    request
}

#[test]
fn huge_heads_are_journaled_in_part_and_memory_stays_bounded() {
    let served = Served::start(&["ok"], Stderr::Collected);
    let request = huge_request(100_000);
    // 8 kept-alive connections, 1,000 requests of 100 KB each: 100 MB of heads.
    std::thread::scope(|scope| {
        for _ in 0..8 {
            scope.spawn(|| {
                let stream = connect(served.addr);
                let mut reader = BufReader::new(stream.try_clone().expect("a second handle"));
                let mut writer = stream;
                for _ in 0..125 {
                    writer.write_all(&request).expect("the request is sent");
                    assert_eq!(read_response(&mut reader), "HTTP/1.1 200 OK");
                }
            });
        }
    });
    served.still_answers();
    let attempts = served.journaled(1001);
    let big = attempts
        .iter()
        .find(|a| a["request"]["target"] == "/big")
        .expect("a journaled huge request");
    let omitted = big["request_bytes_omitted"].as_u64().unwrap();
    assert!(omitted > 95_000, "{omitted} bytes of a 100 KB head omitted");
    let longest = attempts.iter().map(|a| a.to_string().len()).max().unwrap();
    assert!(longest < 6 * 1024, "a journal line of {longest} bytes");
    let rss = served.peak_rss_kib();
    assert!(
        rss < RSS_BOUND_KIB,
        "peak RSS {rss} KiB after 100 MB of heads"
    );
    served.stop();
}

#[test]
fn many_headers_are_read_and_too_many_are_named_as_such() {
    let served = Served::start(&["hang"], Stderr::Collected);
    let head = |count: usize| {
        let mut head = b"GET / HTTP/1.1\r\n".to_vec();
        for i in 0..count {
            head.extend(format!("X-{i}: {i}\r\n").as_bytes());
        }
        head.extend(b"\r\n");
        head
    };
    // 200 short headers, under 2 KB in all: a hang reads it and never answers.
    let mut two_hundred = connect(served.addr);
    two_hundred.write_all(&head(200)).unwrap();
    two_hundred.shutdown(std::net::Shutdown::Write).unwrap();
    assert_eq!(read_to_close(&mut two_hundred), "");
    let attempts = served.journaled(1);
    assert_eq!(
        text(&attempts[0], "action"),
        "read the request, never answered"
    );
    // Times are seconds from the server's start, for programs to read.
    let started = attempts[0]["started"].as_f64().expect("started in seconds");
    let ended = attempts[0]["ended"].as_f64().expect("ended in seconds");
    assert!(
        0.0 < started && started <= ended && ended < 60.0,
        "{}",
        attempts[0]
    );
    let mut too_many = connect(served.addr);
    too_many.write_all(&head(300)).unwrap();
    let answer = read_to_close(&mut too_many);
    assert!(answer.starts_with("HTTP/1.1 431"), "{answer:?}");
    let attempts = served.journaled(2);
    assert_eq!(
        text(&attempts[1], "action"),
        "unreadable request (request head has more than 256 headers); answered 431 and closed"
    );
    served.stop();
    // Responders are served by hyper, whose limit is 100 headers; the journal
    // names the count there too, not the size.
    let served = Served::start(&["ok"], Stderr::Collected);
    let mut too_many = connect(served.addr);
    too_many.write_all(&head(200)).unwrap();
    let answer = read_to_close(&mut too_many);
    assert!(answer.starts_with("HTTP/1.1 431"), "{answer:?}");
    assert_eq!(
        text(&served.journaled(1)[0], "action"),
        "unreadable request (request head has more than 100 headers); answered 431 and closed"
    );
    // A request line past hyper's size limit is answered 414, and journaled so.
    let mut long = connect(served.addr);
    let target = "a".repeat(200_000);
    long.write_all(format!("GET /{target} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes())
        .unwrap();
    let answer = read_to_close(&mut long);
    assert!(answer.starts_with("HTTP/1.1 414"), "{answer:?}");
    assert_eq!(
        text(&served.journaled(2)[1], "action"),
        "unreadable request (request target too long); answered 414 and closed"
    );
    served.stop();
}

#[test]
fn slowloris_connections_end_when_their_clients_leave_and_leak_nothing() {
    let served = Served::start(&["ok"], Stderr::Collected);
    let before = served.fds();
    let mut slow: Vec<_> = (0..50).map(|_| connect(served.addr)).collect();
    for byte in b"GET / HTTP/1.1\r\nX-Slow: " {
        for stream in &mut slow {
            stream.write_all(&[*byte]).unwrap();
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    served.still_answers();
    drop(slow);
    let attempts = served.journaled(51);
    let left = attempts
        .iter()
        .filter(|a| text(a, "action") == "client left before sending a full request")
        .count();
    assert_eq!(left, 50);
    served.fds_back_to(before);
    served.stop();
}

#[test]
fn garbage_and_early_closes_are_journaled_and_the_server_goes_on() {
    for fault in ["ok", "hang"] {
        let served = Served::start(&[fault], Stderr::Collected);
        let before = served.fds();
        let mut garbage = connect(served.addr);
        garbage
            .write_all(b"\x16\x03\x01\x00\xff\x00\r\n\r\n")
            .unwrap();
        let answer = read_to_close(&mut garbage);
        assert!(answer.starts_with("HTTP/1.1 400"), "{fault}: {answer:?}");
        for _ in 0..50 {
            drop(connect(served.addr));
        }
        let mut half = connect(served.addr);
        half.write_all(b"GET / HT").unwrap();
        drop(half);
        served.still_serves(fault);
        let attempts = served.journaled(53);
        assert!(attempts.iter().all(|a| !a["ending"].is_null()));
        served.fds_back_to(before);
        served.stop();
    }
}

#[test]
fn pipelined_requests_are_answered_in_order_each_its_own_attempt() {
    let served = Served::start(&["ok"], Stderr::Collected);
    let stream = connect(served.addr);
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut writer = stream;
    let batch: Vec<u8> = (0..50)
        .flat_map(|i| format!("GET /p{i} HTTP/1.1\r\nHost: x\r\n\r\n").into_bytes())
        .collect();
    writer.write_all(&batch).unwrap();
    for _ in 0..50 {
        assert_eq!(read_response(&mut reader), "HTTP/1.1 200 OK");
    }
    drop((reader, writer));
    let attempts = served.journaled(50);
    let targets: Vec<&str> = attempts
        .iter()
        .map(|a| a["request"]["target"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(targets[0], "/p0");
    assert_eq!(targets[49], "/p49");
    // Garbage after an answered request is journaled with that request, and
    // does not replace what was done for it.
    let mut stream = connect(served.addr);
    stream
        .write_all(b"GET /last HTTP/1.1\r\nHost: x\r\n\r\n\x00\x01garbage\r\n\r\n")
        .unwrap();
    let answer = read_to_close(&mut stream);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer:?}");
    let attempts = served.journaled(51);
    let last = attempts
        .iter()
        .find(|a| a["request"]["target"] == "/last")
        .expect("the last request is journaled");
    let action = text(last, "action");
    assert!(
        action.starts_with("answered 200; then unreadable request ("),
        "{action}"
    );
    served.stop();
}

#[test]
fn a_request_body_that_never_ends_is_read_and_dropped_in_bounded_memory() {
    for fault in ["ok", "hang"] {
        let served = Served::start(&[fault], Stderr::Collected);
        let mut stream = connect(served.addr);
        stream
            .write_all(b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
            .unwrap();
        let mut chunk = b"10000\r\n".to_vec();
        chunk.resize(chunk.len() + 0x10000, b'z');
        chunk.extend(b"\r\n");
        // 50 MB of body, no end in sight.
        for _ in 0..800 {
            stream.write_all(&chunk).unwrap();
        }
        served.still_serves(fault);
        drop(stream);
        let attempts = served.journaled(2);
        assert!(attempts.iter().all(|a| !a["ending"].is_null()));
        let rss = served.peak_rss_kib();
        assert!(rss < RSS_BOUND_KIB, "{fault}: peak RSS {rss} KiB");
        served.stop();
    }
}

#[test]
fn the_http2_preface_is_journaled_as_not_served_with_nothing_sent() {
    for fault in ["ok", "hang"] {
        let served = Served::start(&[fault], Stderr::Collected);
        let mut stream = connect(served.addr);
        stream
            .write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
            .unwrap();
        assert_eq!(read_to_close(&mut stream), "", "{fault}");
        let attempts = served.journaled(1);
        assert_eq!(
            text(&attempts[0], "action"),
            "HTTP/2 prior knowledge (the `PRI * HTTP/2.0` preface) is not served; closed without answering",
            "{fault}"
        );
        assert_eq!(attempts[0]["bytes_sent"], 0);
        served.still_serves(fault);
        served.stop();
    }
}

#[test]
fn a_parent_that_never_reads_stderr_does_not_stall_the_server() {
    let served = Served::start(&["ok"], Stderr::Unread);
    // Each attempt line is about 100 bytes; a pipe holds 64 KiB, so a few
    // hundred attempts fill it, and a blocking write would stall them all.
    let stream = connect(served.addr);
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut writer = stream;
    let start = Instant::now();
    for i in 0..3000 {
        writer
            .write_all(format!("GET /{i} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes())
            .unwrap();
        assert_eq!(read_response(&mut reader), "HTTP/1.1 200 OK", "request {i}");
    }
    assert!(start.elapsed() < WAIT);
    drop((reader, writer));
    assert_eq!(served.journaled(3000).len(), 3000);
    served.still_answers();
    let mut served = served;
    let (status, took) = served.signal("-TERM");
    assert_eq!(status.code(), Some(0));
    assert!(took < Duration::from_secs(5), "exit took {took:?}");
}

/// A healthy client's GET, with a raw connection so a 500 or a close is seen as is.
async fn get(server: &FaultServer) -> String {
    let addr = server.addr();
    tokio::task::spawn_blocking(move || {
        let mut stream = connect(addr);
        stream
            .write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .unwrap();
        read_to_close(&mut stream)
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn a_fault_that_panics_is_answered_500_and_its_attempt_ends() {
    for (fault, at) in [
        (Fault::hang(), PanicAt::Misbehave),
        (Fault::ok(), PanicAt::Respond),
    ] {
        let server = FaultServer::builder(fault.clone())
            .panic_at(at)
            .start()
            .await
            .unwrap();
        let answer = get(&server).await;
        assert!(answer.starts_with("HTTP/1.1 500"), "{at:?}: {answer:?}");
        let attempts = server.journal().settled(1, WAIT).await.unwrap();
        assert_eq!(
            attempts[0].action, "the fault panicked (panic on purpose); answered 500 and closed",
            "{at:?}"
        );
        // The server goes on: the next attempt panics and is answered too.
        assert!(get(&server).await.starts_with("HTTP/1.1 500"));
        server.journal().settled(2, WAIT).await.unwrap();
    }
}

#[tokio::test]
async fn a_response_body_that_panics_closes_the_connection_and_ends_its_attempt() {
    let server = FaultServer::builder(Fault::ok())
        .panic_at(PanicAt::Body)
        .start()
        .await
        .unwrap();
    // hyper sends the head with the first piece of body, so the client sees
    // the connection close, with nothing or a head and no body, not a hang.
    let answer = get(&server).await;
    assert!(!answer.contains("content-length"), "{answer:?}");
    let attempts = server.journal().settled(1, WAIT).await.unwrap();
    assert_eq!(
        attempts[0].action,
        "answered 200; then the connection task panicked (panic on purpose); closed"
    );
    assert_eq!(attempts[0].ending, Some(Ending::ServerFin));
}
