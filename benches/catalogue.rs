//! Catalogue overhead: wall time of the whole scenario catalogue, one
//! scenario at a time, against the time its clients spend waiting on the
//! faults' own delays and timeouts.
//!
//! The runner times each client from launch to exit. That time holds the
//! waits the scenario exists for (a fault's delay, the client's timeout or its
//! backoff between retries) and the cost of launching the client (a Python
//! interpreter, Node, a shell and curl). The launch cost of each kind of
//! client is taken as its quickest scenario, which waits on nothing. So:
//!
//! - fault waits = client time - launch cost, summed over scenarios;
//! - outage's overhead = wall time - client time (loading files, starting and
//!   stopping fault servers, settling journals, checking expectations);
//! - total overhead = wall time - fault waits.
//!
//! Run with `make bench`, which puts the catalogue's clients on `PATH`.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::verdict;
use outage::runner::Report;

/// What launches a client: its interpreter, or the runner itself for reqwest.
fn launcher(report: &Report) -> &'static str {
    match Path::new(&report.client)
        .extension()
        .and_then(|e| e.to_str())
    {
        Some("py") => "python",
        Some("mjs" | "js") => "node",
        Some("sh") => "shell + curl",
        _ => "in process",
    }
}

fn main() {
    let files = outage::scenario::discover(&[PathBuf::from("scenarios")])
        .expect("the catalogue is readable (run from the repository root)");
    let runtime = tokio::runtime::Runtime::new().expect("a runtime builds");
    let began = Instant::now();
    let reports = runtime.block_on(outage::runner::run_files(files, 1, |_| {}));
    let wall = began.elapsed();
    let took = |r: &Report| r.observed.as_ref().map_or(Duration::ZERO, |o| o.took);
    let mut launch: BTreeMap<&str, Duration> = BTreeMap::new();
    for report in &reports {
        let cost = launch.entry(launcher(report)).or_insert(Duration::MAX);
        *cost = (*cost).min(took(report));
    }
    let client: Duration = reports.iter().map(took).sum();
    let waits: Duration = reports
        .iter()
        .map(|r| took(r).saturating_sub(launch[launcher(r)]))
        .sum();
    let failed: Vec<&str> = reports
        .iter()
        .filter(|r| !r.passed())
        .map(|r| r.name.as_str())
        .collect();
    let secs = |d: Duration| d.as_secs_f64();
    println!(
        "Catalogue, {} scenarios one at a time ({} failed{}):",
        reports.len(),
        failed.len(),
        if failed.is_empty() {
            String::new()
        } else {
            format!(": {}", failed.join(", "))
        }
    );
    println!("  wall time                 {:>8.2} s", secs(wall));
    println!("  client time               {:>8.2} s", secs(client));
    println!("  of which fault waits      {:>8.2} s", secs(waits));
    let launches: Vec<String> = launch
        .iter()
        .map(|(name, cost)| format!("{name} {:.0} ms", cost.as_secs_f64() * 1e3))
        .collect();
    println!("  client launch, each       {}", launches.join(", "));
    let own = wall.saturating_sub(client);
    let total = wall.saturating_sub(waits);
    println!(
        "  outage's overhead         {:>8.2} s   {:>5.1}% of fault waits",
        secs(own),
        100.0 * secs(own) / secs(waits)
    );
    println!(
        "  overhead with launches    {:>8.2} s   {:>5.1}% of fault waits   (wall / fault waits {:.2})",
        secs(total),
        100.0 * secs(total) / secs(waits),
        secs(wall) / secs(waits)
    );
    verdict(
        "overhead under 10% of fault waits",
        total.as_secs_f64() < 0.1 * waits.as_secs_f64(),
        "launching an interpreter per scenario (Python, Node) counts as overhead",
    );
}
