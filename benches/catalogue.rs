//! Catalogue overhead: wall time of the whole scenario catalogue, one
//! scenario at a time, against the time its clients spend waiting on the
//! faults' own delays and timeouts.
//!
//! The runner times each client from launch to exit. That time holds the
//! waits the scenario exists for (a fault's delay, the client's timeout or its
//! backoff between retries) and the cost of launching the client (a Python
//! interpreter, Node, a JVM, a shell and curl). The launch cost of each
//! client is taken as its quickest scenario, which waits on nothing. So:
//!
//! - fault waits = client time - launch cost, summed over scenarios;
//! - outage's overhead = wall time - client time (loading files, starting and
//!   stopping fault servers, settling journals, checking expectations);
//! - total overhead = wall time - fault waits.
//!
//! Then the catalogue again as `outage run` runs it, with as many jobs as
//! cores: its wall time against the 3-minute target, and the share of the
//! client time that was the clients' own start-up.
//!
//! Run with `make bench`, which puts the catalogue's clients on `PATH`.

mod common;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use common::verdict;
use outage::runner::Report;

/// The whole catalogue must run within this, with as many jobs as cores.
const TARGET: Duration = Duration::from_secs(180);

fn took(report: &Report) -> Duration {
    report.observed.as_ref().map_or(Duration::ZERO, |o| o.took)
}

/// Each client's launch cost: its quickest scenario.
fn launch_costs(reports: &[Report]) -> BTreeMap<&str, Duration> {
    let mut launch: BTreeMap<&str, Duration> = BTreeMap::new();
    for report in reports.iter().filter(|r| r.observed.is_some()) {
        let cost = launch
            .entry(report.client.as_str())
            .or_insert(Duration::MAX);
        *cost = (*cost).min(took(report));
    }
    launch
}

fn run(files: &[PathBuf], jobs: usize) -> (Vec<Report>, Duration) {
    let runtime = tokio::runtime::Runtime::new().expect("a runtime builds");
    let began = Instant::now();
    let reports = runtime.block_on(outage::runner::run_files(files.to_vec(), jobs, |_| {}));
    (reports, began.elapsed())
}

fn main() {
    let files = outage::scenario::discover(&[PathBuf::from("scenarios")])
        .expect("the catalogue is readable (run from the repository root)");
    one_at_a_time(&files);
    as_outage_runs_it(&files);
}

fn one_at_a_time(files: &[PathBuf]) {
    let (reports, wall) = run(files, 1);
    let launch = launch_costs(&reports);
    let launcher = |r: &Report| launch.get(r.client.as_str()).copied().unwrap_or_default();
    let client: Duration = reports.iter().map(took).sum();
    let waits: Duration = reports
        .iter()
        .map(|r| took(r).saturating_sub(launcher(r)))
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

fn as_outage_runs_it(files: &[PathBuf]) {
    let jobs = std::thread::available_parallelism().map_or(2, |n| n.get());
    let (reports, wall) = run(files, jobs);
    let launch = launch_costs(&reports);
    let client: Duration = reports.iter().map(took).sum();
    let start_up: Duration = reports
        .iter()
        .filter(|r| r.observed.is_some())
        .map(|r| launch[r.client.as_str()])
        .sum();
    let clients = launch.len();
    let failed = reports.iter().filter(|r| !r.passed()).count();
    println!(
        "Catalogue as `outage run` runs it: {} scenarios, {clients} clients, {jobs} jobs ({failed} not passed):",
        reports.len()
    );
    println!(
        "  wall time                 {:>8.2} s   target {} s",
        wall.as_secs_f64(),
        TARGET.as_secs()
    );
    println!(
        "  clients' own start-up     {:>8.2} s   {:>5.1}% of client time {:.2} s",
        start_up.as_secs_f64(),
        100.0 * start_up.as_secs_f64() / client.as_secs_f64(),
        client.as_secs_f64()
    );
    verdict(
        "the whole catalogue within 3 minutes",
        wall < TARGET,
        "the slowest scenarios wait on client timeouts and retry backoffs",
    );
}
