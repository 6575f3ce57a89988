//! Nothing leaves loopback: the DNS scenarios run with the machine's
//! nameserver replaced by a canary, and optionally under a packet capture.
//!
//! `outage run` is started in a mount namespace of the test's own, whose
//! `/etc/resolv.conf` names a canary responder. Any lookup that escaped the
//! scenario's own resolver, in process or in the client's namespace, would
//! reach the canary, so its journal must stay empty, while each program's
//! responder must have answered its lookups.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use outage::dns::{DnsResponder, Names, ResponderError};
use serde_json::Value;
use tokio::process::Command;

use crate::support::skip;

/// The scenarios checked: the DNS catalogue and the tutorial's example 1.
const SCENARIOS: [&str; 2] = [
    "scenarios/dns",
    "scenarios/teaching/example1-server-not-reachable.toml",
];

/// Runs `outage run --format json` on [`SCENARIOS`] where `/etc/resolv.conf`
/// is `resolv`; `None` when this machine cannot give it a mount namespace.
async fn run_outage_with_resolv_conf(resolv: &Path) -> Option<(bool, Vec<Value>)> {
    // Two at a time: the catalogue runs these scenarios too, and the rest of
    // the suite has timing-sensitive tests that a burst of clients would slow.
    let script = "mount --bind \"$0\" /etc/resolv.conf && exec \"$@\"";
    let mut command = Command::new("unshare");
    command
        .args(["--mount", "--propagation", "private", "sh", "-c", script])
        .arg(resolv)
        .args([
            env!("CARGO_BIN_EXE_outage"),
            "run",
            "--format",
            "json",
            "--jobs",
            "2",
        ])
        .args(SCENARIOS)
        // A proxy would look names up itself, past the responder: the runner
        // must take these away from DNS clients (requests honours them).
        .env("http_proxy", "http://127.0.0.1:9")
        .env("HTTP_PROXY", "http://127.0.0.1:9")
        .stdin(Stdio::null())
        .kill_on_drop(true);
    let output = tokio::time::timeout(Duration::from_secs(120), command.output())
        .await
        .expect("the DNS scenarios finish within 120s");
    let output = match output {
        Ok(output) => output,
        Err(e) => {
            skip(&format!("offline check: cannot run unshare: {e}"));
            return None;
        }
    };
    let stderr = String::from_utf8_lossy(&output.stderr);
    if stderr.contains("unshare failed") || stderr.contains("mount:") {
        skip(&format!(
            "offline check: no mount namespace for the test: {stderr}"
        ));
        return None;
    }
    let reports: Vec<Value> = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("outage printed no JSON ({e}); stderr:\n{stderr}"));
    Some((output.status.success(), reports))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dns_scenarios_never_ask_the_machines_nameserver() {
    let canary = match DnsResponder::start(Names::new([127, 0, 0, 1].into())).await {
        Ok(canary) => canary,
        Err(e @ ResponderError::Denied(_)) => return skip(&format!("offline check: {e}")),
        Err(e) => panic!("{e}"),
    };
    let dir = std::env::temp_dir().join(format!("outage-offline-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary folder");
    let resolv = dir.join("resolv.conf");
    std::fs::write(&resolv, format!("nameserver {}\n", canary.ip())).expect("written");
    let capture = crate::capture::Capture::start(&dir).await;

    let ran = run_outage_with_resolv_conf(&resolv).await;
    let captured = match capture {
        Some(capture) => Some(capture.stop().await),
        None => None,
    };
    let _ = std::fs::remove_dir_all(&dir);
    let Some((passed, reports)) = ran else { return };

    let escaped: Vec<String> = canary
        .queries()
        .iter()
        .map(|q| format!("{} {}", q.record_type, q.name))
        .collect();
    assert_eq!(
        escaped,
        Vec::<String>::new(),
        "lookups reached the machine's nameserver (here a canary)"
    );
    for report in &reports {
        let name = report["name"].as_str().unwrap_or("?");
        assert_eq!(report["verdict"], "passed", "{name}: {}", report["reason"]);
        if report["client"] != "reqwest" {
            let lookups = report["observed"]["lookups"].as_array().map_or(0, Vec::len);
            assert!(lookups > 0, "{name}: its responder answered no lookup");
        }
    }
    assert!(
        reports.len() >= 20,
        "the DNS catalogue ran: {} reports",
        reports.len()
    );
    assert!(passed, "outage run failed");
    if let Some(packets) = captured {
        let packets = packets.expect("the capture can be read");
        assert!(
            packets.loopback > 0,
            "the capture saw the responders' own traffic"
        );
        assert_eq!(
            packets.outside,
            Vec::<String>::new(),
            "DNS packets left loopback"
        );
    }
}
