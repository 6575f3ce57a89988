//! Toxiproxy's own client libraries, unchanged, driving `outage proxy` as a
//! process: PyPI's `toxiproxy-python` and npm's `toxiproxy-node-client`,
//! pinned and installed by `make clients`. Each library's program under
//! `fixtures/toxiproxy-clients/` gets the API's URL and an echo server's
//! address, and checks through the library what it can do (its header lists
//! the calls, and those the library lacks). A library that is not installed
//! is SKIPPED, loudly, as the catalogue's probes are.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use rstest::rstest;
use tokio::process::Command;
use tokio::time::timeout;

use crate::cli::Outage;
use crate::support::{echo_upstream, skip};

/// The longest a client's whole program may run: a few seconds of checks,
/// with room for an interpreter that starts slowly on busy cores.
const CLIENT_BOUND: Duration = Duration::from_secs(60);

/// The exit code a program gives when its library is not installed.
const NOT_INSTALLED: i32 = 77;

/// Proxy settings a client's HTTP library would follow away from loopback.
const PROXY_VARIABLES: [&str; 8] = [
    "http_proxy",
    "HTTP_PROXY",
    "https_proxy",
    "HTTPS_PROXY",
    "all_proxy",
    "ALL_PROXY",
    "no_proxy",
    "NO_PROXY",
];

#[rstest]
#[case::python(".venv/bin/python", "fixtures/toxiproxy-clients/python/drive.py")]
#[case::node("node", "fixtures/toxiproxy-clients/node/drive.mjs")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn toxiproxys_own_client_drives_outage_proxy_unchanged(
    #[case] interpreter: &str,
    #[case] program: &str,
) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    // A path with a slash is the project's own (.venv), a bare name is on PATH.
    let interpreter = match interpreter.contains('/') {
        true => root.join(interpreter).into_os_string(),
        false => interpreter.into(),
    };
    let upstream = echo_upstream().await;
    // Reading the URL blocks this thread; the echo server runs on the other worker.
    let mut outage = Outage::spawn(&["proxy", "--port", "0"]);
    let url = outage.first_line();

    let mut command = Command::new(&interpreter);
    command
        .arg(root.join(program))
        .args([url.as_str(), &upstream.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // The child goes with the future that owns it, when the bound runs out.
        .kill_on_drop(true);
    for variable in PROXY_VARIABLES {
        command.env_remove(variable);
    }
    let child = match command.spawn() {
        Ok(child) => child,
        Err(e) => {
            return skip(&format!(
                "{program}: {} does not start ({e}); `make clients` installs it",
                interpreter.to_string_lossy()
            ));
        }
    };
    let output = timeout(CLIENT_BOUND, child.wait_with_output())
        .await
        .unwrap_or_else(|_| panic!("{program} did not finish within {CLIENT_BOUND:?}; killed"))
        .expect("the client's output can be read");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    if output.status.code() == Some(NOT_INSTALLED) {
        return skip(&format!("{program}: {}", stdout.trim()));
    }
    assert!(
        output.status.success(),
        "{program} against {url} ({}), upstream {upstream}:\n--- stdout\n{stdout}--- stderr\n{stderr}",
        output.status
    );
}
