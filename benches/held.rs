//! Held connections: resident memory of a `hang` server holding 10,000
//! connections, each with a request sent, against a bare hyper server that
//! never answers and wiremock-rs with an hour's delay.
//!
//! Both this process (the clients) and the server need more than 10,000 open
//! files; each raises its soft `RLIMIT_NOFILE` to the hard limit. Each server
//! runs in its own process. Run with `make bench`.

mod common;

use std::io::Write;
use std::net::TcpStream;
use std::time::Duration;

use common::{Served, compare, verdict};

const CONNECTIONS: u64 = 10_000;

/// Opens `CONNECTIONS` connections, each with a request, waits until the
/// server has seen all of them, and returns its resident memory.
fn hold(kind: &'static str) -> f64 {
    let mut served = Served::start(kind);
    let idle = served.rss_mib();
    let mut held = Vec::with_capacity(CONNECTIONS as usize);
    for _ in 0..CONNECTIONS {
        let mut stream = TcpStream::connect(served.addr).expect("the server accepts");
        // Closing with an RST leaves no TIME_WAIT behind: 10,000 of them per
        // server would use up the ephemeral ports the next server needs.
        socket2::SockRef::from(&stream)
            .set_linger(Some(Duration::ZERO))
            .expect("loopback sockets take SO_LINGER");
        stream
            .write_all(b"GET / HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n")
            .expect("the request is sent");
        held.push(stream);
    }
    let seen = served.wait_count(CONNECTIONS, Duration::from_secs(60));
    assert_eq!(
        seen, CONNECTIONS,
        "{kind} saw {seen} of {CONNECTIONS} connections"
    );
    let rss = served.rss_mib();
    println!("  {kind:<14} idle {idle:>5.1} MiB, holding {CONNECTIONS}: {rss:>6.1} MiB");
    rss
}

fn main() {
    common::serve_if_asked();
    let limit = common::raise_open_files();
    assert!(
        limit > CONNECTIONS + 100,
        "{CONNECTIONS} connections need an open-file limit above {}; the hard limit is {limit} (raise it with `ulimit -Hn`)",
        CONNECTIONS + 100
    );
    println!(
        "Resident memory holding {CONNECTIONS} concurrent connections (open-file limit {limit}):"
    );
    let outage = hold("outage-hang");
    let hyper = hold("hyper-hang");
    let wiremock = hold("wiremock-hang");
    compare("RSS", outage, "hyper", hyper, "MiB");
    compare("RSS", outage, "wiremock", wiremock, "MiB");
    verdict(
        "under 100 MiB",
        outage < 100.0,
        "a task, a socket buffer and a journal entry per connection",
    );
}
