//! A scenario's `upstream = { run = [...] }`: the service is started, the
//! fault forwards to it, and it is killed with its whole tree however the
//! scenario ends.

use std::path::{Path, PathBuf};
use std::time::Duration;

use outage::UpstreamConnection;
use outage::runner::{self, Report, Verdict};
use tokio::time::Instant;

use super::processes_with;

/// An upstream that serves `fixtures/upstream` and leaves a child behind
/// (`sleep` with `marker` in its command line) for the tree kill to find.
fn upstream_leaving(marker: &str) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/upstream");
    let script = format!(
        "sleep {marker} & exec python3 -m http.server \"$0\" --bind 127.0.0.1 --directory {}",
        root.display()
    );
    format!("upstream = {{ run = [\"sh\", \"-c\", {script:?}, \"{{port}}\"] }}")
}

/// Writes a scenario of `lines` in a new folder, and the folder with it.
fn scenario(lines: &[&str]) -> (tempfile::TempDir, PathBuf) {
    let folder = tempfile::tempdir().expect("a temporary folder");
    let path = folder.path().join("upstream.toml");
    let text = format!(
        "description = \"x\"\nfault = \"ok\"\n{}\n",
        lines.join("\n")
    );
    std::fs::write(&path, text).expect("the scenario is written");
    (folder, path)
}

/// The upstream's address, from the first attempt's upstream leg.
fn upstream_address(report: &Report) -> String {
    let observed = report.observed.as_ref().expect("the scenario ran");
    let leg = observed.attempts[0]
        .upstream
        .as_ref()
        .expect("an upstream leg");
    leg.address.clone()
}

/// Asserts that nothing with `marker` in its command line is left, and that
/// nothing listens at `address` any more, allowing the kernel a moment.
async fn assert_gone(marker: &str, address: Option<&str>) {
    let deadline = Instant::now() + Duration::from_secs(2);
    while !processes_with(marker).is_empty() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        processes_with(marker),
        Vec::<String>::new(),
        "a process outlived the scenario"
    );
    if let Some(address) = address {
        let connected = tokio::net::TcpStream::connect(address).await;
        assert!(connected.is_err(), "{address} still accepts connections");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_started_upstream_is_reached_then_killed_with_its_tree() {
    let marker = "31.41001";
    let (_folder, path) = scenario(&[
        &upstream_leaving(marker),
        "client = { reqwest = { path = \"/item.txt\", total-timeout = \"3s\" } }",
        "[expect]\nstatus = 200\nattempts = 1",
    ]);
    let report = runner::run_file(&path).await;
    assert!(report.passed(), "{report}");
    let leg = report
        .observed
        .as_ref()
        .and_then(|o| o.attempts[0].upstream.clone());
    assert!(
        matches!(
            leg.map(|l| l.connection),
            Some(UpstreamConnection::Opened(_))
        ),
        "{report}"
    );
    assert_gone(marker, Some(&upstream_address(&report))).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_killed_at_its_deadline_leaves_no_upstream_behind() {
    let marker = "31.41002";
    // The client fetches through the fault, then hangs until it is killed.
    let client = "import sys, time, urllib.request; \
                  urllib.request.urlopen(sys.argv[1] + '/item.txt').read(); time.sleep(30)";
    let client = format!(
        "client = {{ run = [\"python3\", \"-c\", {client:?}, \"{{url}}\"], timeout = \"1500ms\" }}"
    );
    let (_folder, path) = scenario(&[
        &upstream_leaving(marker),
        &client,
        "[expect]\nhangs = true\nattempts = 1",
    ]);
    let report = runner::run_file(&path).await;
    assert!(report.passed(), "{report}");
    assert_gone(marker, Some(&upstream_address(&report))).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_run_leaves_no_upstream_behind() {
    let marker = "31.41003";
    let (_folder, path) = scenario(&[
        &upstream_leaving(marker),
        "client = { run = [\"sleep\", \"30\"], timeout = \"20s\" }",
        "[expect]\nhangs = true",
    ]);
    let started = marker.to_owned();
    // Interrupted once the upstream's child is running, so mid-scenario.
    let stop = async move {
        while processes_with(&started).is_empty() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        "SIGINT".to_owned()
    };
    let reports = runner::run_files_until(vec![path], 1, |_| {}, stop).await;
    assert_eq!(reports[0].verdict, Verdict::Interrupted, "{}", reports[0]);
    assert_gone(marker, None).await;
}

#[tokio::test]
async fn an_upstream_that_exits_before_listening_breaks_the_scenario_with_its_stderr() {
    let (_folder, path) = scenario(&[
        "upstream = { run = [\"sh\", \"-c\", \"echo no such directory >&2; exit 3\", \"{port}\"] }",
        "client = { reqwest = {} }",
        "[expect]\nstatus = 200",
    ]);
    let report = runner::run_file(&path).await;
    assert_eq!(report.verdict, Verdict::Broken, "{report}");
    assert!(
        report.reason.starts_with("the upstream did not start: \"sh\" exited (exit status: 3) before listening on 127.0.0.1:"),
        "{}",
        report.reason
    );
    assert!(
        report
            .reason
            .ends_with("; its stderr ends:\n  no such directory"),
        "{}",
        report.reason
    );
}
