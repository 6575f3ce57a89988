//! Memory under load: resident memory of one server after 500,000 requests
//! over 32 keep-alive connections, against bare hyper and wiremock-rs.
//!
//! The journal keeps every count but stores at most its capacity (10,000
//! attempts by default, `FaultServerBuilder::journal_capacity`). wiremock-rs
//! records every request; its run stops early once it passes 1 GiB. Each server
//! runs in its own process; the requests come from this one. Run with
//! `make bench`.

mod common;

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
    // Counting makes wiremock-rs copy every recorded request; check the others.
    if !kind.starts_with("wiremock") {
        assert_eq!(served.count(), sent, "{kind} did not see every request");
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
    let (hyper, _) = load("hyper-ok", &runtime);
    let (wiremock, sent) = load("wiremock-ok", &runtime);
    compare("RSS", outage, "hyper", hyper, "MiB");
    compare("RSS", outage, "wiremock", wiremock, "MiB");
    println!("  outage storing 100 attempts instead of 10,000: {small:.1} MiB");
    if sent < REQUESTS {
        println!("  wiremock-rs stopped at {sent} requests, past {CEILING_MIB} MiB");
    }
    verdict(
        "under 50 MiB",
        outage < 50.0,
        "the 10,000 stored attempts; lower journal_capacity",
    );
}
