//! Memory under load: resident memory of one server after 500,000 requests
//! over 32 keep-alive connections, against bare hyper and wiremock-rs.
//!
//! The journal keeps every count but stores at most its capacity (10,000
//! attempts by default, `FaultServerBuilder::journal_capacity`) within its
//! byte bound (`FaultServerBuilder::journal_bytes`). A server with an
//! `on_attempt` callback is measured too. wiremock-rs
//! records every request; its run stops early once it passes 1 GiB. Each server
//! runs in its own process; the requests come from this one. Run with
//! `make bench`.

mod common;

use std::time::Duration;

use common::{Served, compare, verdict};

const REQUESTS: u64 = 500_000;
const STEP: u64 = 100_000;
const CONNECTIONS: usize = 32;
const CEILING_MIB: f64 = 1024.0;

/// Sends up to `REQUESTS` requests in steps, printing the server's memory
/// after each; returns the last figure and how many requests were sent.
fn load(kind: &'static str, runtime: &tokio::runtime::Runtime) -> (f64, u64) {
    let mut served = Served::start(kind);
    let idle = served.rss_mib();
    let mut sent = 0;
    let mut steps = Vec::new();
    while sent < REQUESTS && served.rss_mib() < CEILING_MIB {
        runtime.block_on(common::load::hammer(served.addr, CONNECTIONS, STEP));
        sent += STEP;
        steps.push(format!("{:.0}", served.rss_mib()));
    }
    // Counting makes wiremock-rs copy every recorded request; check the
    // others. An `on_attempt` callback counts an attempt once it has ended,
    // which can be a moment after its response was read.
    if !kind.starts_with("wiremock") {
        let seen = served.wait_count(sent, Duration::from_secs(5));
        assert_eq!(seen, sent, "{kind} did not see every request");
    }
    println!(
        "  {kind:<21} idle {idle:>5.1} MiB, then every {STEP} requests: {} MiB",
        steps.join(", ")
    );
    (served.rss_mib(), sent)
}

fn main() {
    common::serve_if_asked();
    let runtime = common::load::runtime();
    println!("Resident memory after {REQUESTS} requests, {CONNECTIONS} keep-alive connections:");
    let (outage, _) = load("outage-ok", &runtime);
    let (small, _) = load("outage-ok-journal-100", &runtime);
    let (observed, _) = load("outage-ok-on-attempt", &runtime);
    let (hyper, _) = load("hyper-ok", &runtime);
    let (wiremock, sent) = load("wiremock-ok", &runtime);
    compare("RSS", outage, "hyper", hyper, "MiB");
    compare("RSS", outage, "wiremock", wiremock, "MiB");
    println!("  outage storing 100 attempts instead of 10,000: {small:.1} MiB");
    println!("  outage with an on_attempt callback: {observed:.1} MiB");
    if sent < REQUESTS {
        println!("  wiremock-rs stopped at {sent} requests, past {CEILING_MIB} MiB");
    }
    verdict(
        "under 16 MiB",
        outage < 16.0,
        &format!(
            "the attempts the default journal stores: 10,000 take {:.1} MiB more than 100 (a test can store fewer with journal_capacity or journal_bytes), and with 100 stored outage holds {:.1} MiB more than bare hyper",
            outage - small,
            small - hyper
        ),
    );
}
