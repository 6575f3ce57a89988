//! The scenario catalogue, one test per file, and the runner's own checks:
//! broken files give located errors, wrong clients make scenarios fail.

use std::path::{Path, PathBuf};

use outage::runner::{self, Verdict};
use outage::scenario;
use rstest::rstest;

mod upstream;

#[rstest]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catalogue_scenario_passes(#[files("scenarios/**/*.toml")] path: PathBuf) {
    let relative = path
        .strip_prefix(env!("CARGO_MANIFEST_DIR"))
        .unwrap_or(&path);
    let report = runner::run_file(relative).await;
    if report.verdict == Verdict::Skipped {
        crate::support::skip(&format!("{}: {}", report.name, report.reason));
        return;
    }
    assert!(report.passed(), "{report}");
}

/// The errors a broken scenario file gives when it is about to run, one
/// per line.
fn load_errors(file: &str) -> String {
    let path = Path::new("fixtures/scenarios/invalid").join(file);
    let checked =
        scenario::load(&path).map(|s| runner::preflight::check(&s).map_err(|e| e.to_string()));
    match checked {
        Ok(Ok(())) => panic!("{} loaded, but it is broken", path.display()),
        Ok(Err(unready)) => unready,
        Err(errors) => errors.to_string(),
    }
}

#[rstest]
#[case::unknown_key("unknown_key.toml", "\
fixtures/scenarios/invalid/unknown_key.toml:4:1: unknown key \"retries\"; expected one of description, fault, tls, http2, host, dns, client, expect, surprise, upstream
fixtures/scenarios/invalid/unknown_key.toml:7:1: unknown key \"clas\" in [expect]; did you mean \"class\"?; expected one of error, class, status, attempts, gaps, duration, exit, output, hangs")]
#[case::unknown_fault(
    "unknown_fault.toml",
    "\
fixtures/scenarios/invalid/unknown_fault.toml:2:18: unknown fault \"rest\"; did you mean \"reset\"?; expected one of {FAULTS}"
)]
#[case::empty_class_list(
    "empty_class_list.toml",
    "\
fixtures/scenarios/invalid/empty_class_list.toml:4:20: `class` is an empty list; give a class, or a list of the classes a racing client may land in"
)]
#[case::missing_command(
    "missing_command.toml",
    "\
fixtures/scenarios/invalid/missing_command.toml:3:18: command \"no-such-client-program\" not found on PATH; install it or fix the name"
)]
#[case::empty_label(
    "empty_label.toml",
    "\
fixtures/scenarios/invalid/empty_label.toml:3:50: `label` names the client in reports: give one line of 1 to 40 characters, such as \"httpx\""
)]
#[case::retry_on_a_status_never_an_error(
    "retry_on_a_status_never_an_error.toml",
    "\
fixtures/scenarios/invalid/retry_on_a_status_never_an_error.toml:3:68: retry.on names http-status(503), but without error-for-status = true a status is a response, never an error to retry (as with reqwest's own error_for_status()); add error-for-status = true"
)]
#[case::expects_nothing(
    "expects_nothing.toml",
    "\
fixtures/scenarios/invalid/expects_nothing.toml:4:10: [expect] is empty; a scenario that expects nothing can never fail"
)]
#[case::tls_not_a_bool(
    "tls_not_a_bool.toml",
    "\
fixtures/scenarios/invalid/tls_not_a_bool.toml:3:7: `tls` must be true (serve the fault behind TLS) or false, found a string"
)]
#[case::http2_with_upstream(
    "http2_with_upstream.toml",
    "\
fixtures/scenarios/invalid/http2_with_upstream.toml:3:9: http2 = true, but a fault in front of an upstream is served over HTTP/1.1 only; remove the upstream, or serve an HTTP/1.1 fault"
)]
#[case::class_misspelt(
    "class_misspelt.toml",
    "\
fixtures/scenarios/invalid/class_misspelt.toml:6:9: unknown error class \"go-away\"; did you mean \"goaway\"?; expected one of refused, connect-timeout, dns, reset, empty-reply, read-timeout, timeout, incomplete-body, malformed-response, too-many-redirects, stream-refused, goaway, decode, invalid-url, other, http-status(CODE), stream-reset(HTTP/2 CODE) or tls(KIND)"
)]
#[case::http2_off_for_an_h2_fault(
    "http2_off_for_an_h2_fault.toml",
    "\
fixtures/scenarios/invalid/http2_off_for_an_h2_fault.toml:3:9: http2 = false does not apply to \"h2-reset-stream\": it acts on HTTP/2, so its server always speaks it; remove http2 = false"
)]
#[case::h2_fault_with_upstream(
    "h2_fault_with_upstream.toml",
    "\
fixtures/scenarios/invalid/h2_fault_with_upstream.toml:2:9: \"h2-refused-stream\" acts on HTTP/2, but a fault in front of an upstream is served over HTTP/1.1 only; remove the upstream, or serve an HTTP/1.1 fault"
)]
#[case::route_acts_before_request(
    "route_acts_before_request.toml",
    "\
fixtures/scenarios/invalid/route_acts_before_request.toml:8:3: invalid route 1: \"/api/*\": \"hang-on-accept\" acts before a request is read, but a route is chosen from the request's path; use \"hang\" or \"reset\" instead"
)]
#[case::route_unknown_fault(
    "route_unknown_fault.toml",
    "\
fixtures/scenarios/invalid/route_unknown_fault.toml:8:30: unknown fault \"hnag\"; did you mean \"hang\"?; expected one of {FAULTS}"
)]
#[case::reqwest_path_without_slash(
    "reqwest_path_without_slash.toml",
    "\
fixtures/scenarios/invalid/reqwest_path_without_slash.toml:3:22: reqwest path \"health\" must start with \"/\", such as \"/api/users\""
)]
#[case::not_toml(
    "not_toml.toml",
    "\
fixtures/scenarios/invalid/not_toml.toml:1:38: not valid TOML: invalid basic string, expected `\"`"
)]
#[case::unknown_dns_fault(
    "unknown_dns_fault.toml",
    "\
fixtures/scenarios/invalid/unknown_dns_fault.toml:7:21: unknown DNS fault \"nxdomian\"; did you mean \"nxdomain\"?; expected one of server, nxdomain, servfail, no-answer, slow"
)]
#[case::dns_without_host(
    "dns_without_host.toml",
    "\
fixtures/scenarios/invalid/dns_without_host.toml:5:1: [dns] needs `host`, the name the client's URL uses; add host = \"api.outage.test\""
)]
#[case::bad_host_name(
    "bad_host_name.toml",
    "\
fixtures/scenarios/invalid/bad_host_name.toml:3:8: host \"api.outage.test:8080\" is not a host name; use letters, digits, hyphens and dots, such as \"api.outage.test\"
fixtures/scenarios/invalid/bad_host_name.toml:7:1: in [dns]: \"api outage.test\" is not a host name; use letters, digits, hyphens and dots, such as \"api.outage.test\"
fixtures/scenarios/invalid/bad_host_name.toml:8:22: unknown field `dealy`, expected `delay`; did you mean \"delay\"?"
)]
#[case::inverted_range(
    "inverted_range.toml",
    "\
fixtures/scenarios/invalid/inverted_range.toml:3:55: retry: backoff \"2s\" is more than max-backoff \"500ms\", so every wait is max-backoff; swap them
fixtures/scenarios/invalid/inverted_range.toml:6:12: attempts: min 5 is more than max 2, so no count can match; swap them
fixtures/scenarios/invalid/inverted_range.toml:7:20: duration: min \"3s\" is more than max \"1s\", so no run can match; swap them
fixtures/scenarios/invalid/inverted_range.toml:10:7: gaps: min \"1s\" is more than max \"100ms\", so no gap can match; swap them
fixtures/scenarios/invalid/inverted_range.toml:12:24: gaps.exponential: base \"1s\" is more than cap \"200ms\", so every gap is the cap; swap them"
)]
#[case::zero_timeout(
    "zero_timeout.toml",
    "\
fixtures/scenarios/invalid/zero_timeout.toml:3:39: read-timeout \"0s\" fails every request before it is sent; give a time such as \"2s\", or leave it out for none
fixtures/scenarios/invalid/zero_timeout.toml:3:57: timeout \"0s\" kills the client before it starts; give the time it may run, such as \"10s\""
)]
#[case::duration_too_long(
    "duration_too_long.toml",
    "\
fixtures/scenarios/invalid/duration_too_long.toml:3:40: total-timeout \"500000000000y\" is longer than any scenario may run; give at most \"1h\"
fixtures/scenarios/invalid/duration_too_long.toml:3:69: timeout \"2h\" is longer than any scenario may run; give at most \"1h\"
fixtures/scenarios/invalid/duration_too_long.toml:7:20: duration max \"1000y\" is longer than any scenario may run; give at most \"1h\""
)]
#[case::tls_on_a_listener_fault(
    "tls_on_a_listener_fault.toml",
    "\
fixtures/scenarios/invalid/tls_on_a_listener_fault.toml:3:7: tls = true does not apply to \"refuse\": it never accepts a connection, so there is nothing to put behind TLS; remove tls = true"
)]
#[case::tls_on_a_tls_fault(
    "tls_on_a_tls_fault.toml",
    "\
fixtures/scenarios/invalid/tls_on_a_tls_fault.toml:3:7: tls = true does not apply to \"tls-expired\": it is a TLS fault, served on an https URL already; remove tls = true"
)]
#[case::ca_without_tls(
    "ca_without_tls.toml",
    "\
fixtures/scenarios/invalid/ca_without_tls.toml:3:39: run argument \"{ca}\" names the server's CA, but \"reset\" serves plain HTTP and has none; add tls = true to serve it behind TLS, or drop the argument"
)]
#[case::key_nested_too_deep(
    "key_nested_too_deep.toml",
    "\
fixtures/scenarios/invalid/key_nested_too_deep.toml:3:1: key \"expect.expect.expect…\" has 100 dotted parts, more than TOML parsing allows (80); a scenario's keys have at most 3, such as [expect.gaps.exponential]"
)]
#[case::not_utf8(
    "not_utf8.toml",
    "\
fixtures/scenarios/invalid/not_utf8.toml:1:39: not UTF-8 text: byte 0xE9 cannot start a character here; a scenario file is TOML, which is UTF-8: check that this is the right file"
)]
#[case::upstream_not_a_string_or_table(
    "upstream_not_a_string_or_table.toml",
    "\
fixtures/scenarios/invalid/upstream_not_a_string_or_table.toml:3:12: `upstream` must be the service's address, such as \"127.0.0.1:8080\", or { run = [...] } to start it, found a integer"
)]
#[case::upstream_not_an_address(
    "upstream_not_an_address.toml",
    "\
fixtures/scenarios/invalid/upstream_not_an_address.toml:3:12: upstream \"localhost\" is not host:port with a port from 1 to 65535; give the service's address, such as \"127.0.0.1:8080\""
)]
#[case::upstream_without_run(
    "upstream_without_run.toml",
    "\
fixtures/scenarios/invalid/upstream_without_run.toml:3:12: `upstream` needs `run`, the command that starts the service, such as run = [\"python3\", \"-m\", \"http.server\", \"{port}\"]"
)]
#[case::upstream_run_empty(
    "upstream_run_empty.toml",
    "\
fixtures/scenarios/invalid/upstream_run_empty.toml:3:20: `run` in `upstream` is empty; give the program that serves and its arguments, \"{port}\" among them"
)]
#[case::upstream_run_not_a_list(
    "upstream_run_not_a_list.toml",
    "\
fixtures/scenarios/invalid/upstream_run_not_a_list.toml:3:53: invalid type: integer `8080`, expected a string"
)]
#[case::upstream_run_without_port(
    "upstream_run_without_port.toml",
    "\
fixtures/scenarios/invalid/upstream_run_without_port.toml:3:20: `run` in `upstream` never says where to listen; give \"{port}\" among its arguments, the free loopback port the fault forwards to"
)]
#[case::upstream_unknown_key(
    "upstream_unknown_key.toml",
    "\
fixtures/scenarios/invalid/upstream_unknown_key.toml:3:64: unknown key \"bad-gateway\" in [upstream]; expected one of run"
)]
#[case::missing_upstream_command(
    "missing_upstream_command.toml",
    "\
fixtures/scenarios/invalid/missing_upstream_command.toml:3:20: command \"no-such-upstream-program\" not found on PATH; install it or fix the name"
)]
fn broken_file_gives_every_error_with_its_location(#[case] file: &str, #[case] expected: &str) {
    // `{FAULTS}` stands for every fault's name, in the catalogue's order.
    let expected = expected.replace("{FAULTS}", &outage::fault::names().join(", "));
    assert_eq!(load_errors(file), expected);
}

#[test]
fn loading_never_looks_at_the_machine_the_runner_does() {
    let path = Path::new("fixtures/scenarios/invalid/missing_command.toml");
    let scenario = scenario::load(path).expect("a program not installed is no error in the file");
    let unready = runner::preflight::check(&scenario).expect_err("the program is not installed");
    assert!(
        matches!(unready, runner::preflight::Unready::NotInstalled(_)),
        "{unready:?}"
    );
    assert_eq!(
        unready.to_string(),
        "fixtures/scenarios/invalid/missing_command.toml:3:18: command \"no-such-client-program\" not found on PATH; install it or fix the name"
    );
}

#[test]
fn bad_durations_are_located_and_say_what_a_duration_looks_like() {
    let errors = load_errors("bad_duration.toml");
    let lines: Vec<&str> = errors.lines().collect();
    assert_eq!(lines.len(), 3, "{errors}");
    assert!(
        lines[0].starts_with("fixtures/scenarios/invalid/bad_duration.toml:2:"),
        "{errors}"
    );
    assert!(lines[0].contains("\"soon\""), "{errors}");
    assert!(
        lines[1].contains("bad duration \"5\"; write a number and a unit"),
        "{errors}"
    );
    assert!(lines[2].contains("bad duration \"forever\""), "{errors}");
}

#[test]
fn every_error_in_a_file_is_reported_at_once() {
    let errors = load_errors("every_error_at_once.toml");
    let expected = [
        "every_error_at_once.toml: missing \"description\"",
        "every_error_at_once.toml:1:9: invalid truncate fault: truncate sends 20 bytes of a 10-byte body",
        "every_error_at_once.toml:2:",
        "unknown key \"colour\" in [client]",
        "every_error_at_once.toml:5:",
        "every_error_at_once.toml:6:10:",
    ];
    for part in expected {
        assert!(errors.contains(part), "missing {part:?} in:\n{errors}");
    }
}

#[tokio::test]
async fn a_broken_file_among_good_ones_stops_nothing() {
    let files = vec![
        PathBuf::from("fixtures/scenarios/invalid/unknown_fault.toml"),
        PathBuf::from("scenarios/http/ok-reqwest.toml"),
    ];
    let reports = runner::run_files(files, 2, |_| {}).await;
    let verdicts: Vec<Verdict> = reports.iter().map(|r| r.verdict).collect();
    assert_eq!(verdicts, [Verdict::Broken, Verdict::Passed]);
}

/// Deliberately wrong clients: each scenario must fail, and its report must
/// say why in the words a user would need.
#[rstest]
#[case::retries_without_delay(
    "retry-without-delay.toml",
    "gaps:\n    expected every gap at least 0.100s\n    got      0.0"
)]
#[case::retries_a_400("retries-a-400.toml", "attempts:\n    expected 1\n    got      4")]
#[case::claims_a_reset_against_a_fin(
    "claims-reset-against-a-fin.toml",
    "claim against the journal:\n    expected a connection ended with an RST, as the client reports reset\n    \
     got      none in the journal: attempt #0 sent 0 bytes (no status line), then server closed (FIN)"
)]
#[case::claims_an_empty_reply_against_garbage(
    "claims-empty-reply-against-garbage.toml",
    "as the client reports empty-reply\n    \
     got      none in the journal: attempt #0 sent 256 bytes (no status line), then server closed (FIN)"
)]
#[case::claims_a_status_never_sent(
    "claims-a-status-never-sent.toml",
    "expected a status line 503 from the server, as the client reports status 503\n"
)]
#[case::swallows_the_error(
    "swallows-the-error.toml",
    "class:\n    expected reset\n    got      a response with status 200"
)]
#[case::flaky_without_retries(
    "flaky-without-retries.toml",
    "seed: 6 (the same seed replays the same faults)"
)]
#[case::has_no_timeout(
    "no-timeout.toml",
    "finish:\n    expected the client to finish\n    got      no result: still running at the 2s deadline, killed"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_client_fails_its_scenario_with_a_useful_report(
    #[case] file: &str,
    #[case] expected: &str,
) {
    let path = Path::new("fixtures/scenarios/must-fail").join(file);
    let report = runner::run_file(&path).await;
    assert_eq!(report.verdict, Verdict::Failed, "{report}");
    let text = report.to_string();
    assert!(
        text.contains(expected),
        "the report lacks {expected:?}:\n{text}"
    );
    assert!(
        text.contains("journal ("),
        "the report shows the journal:\n{text}"
    );
}

#[tokio::test]
async fn a_label_names_the_client_in_the_report() {
    let folder = tempfile::tempdir().expect("a temporary folder");
    let path = folder.path().join("labelled.toml");
    let text = "description = \"x\"\nfault = \"ok\"\n\
        client = { run = [\"sh\", \"-c\", \"exit 0\"], label = \"shell probe\" }\n\
        [expect]\nexit = 0\n";
    std::fs::write(&path, text).expect("the scenario is written");
    let report = runner::run_file(&path).await;
    assert!(report.passed(), "{report}");
    assert_eq!(report.client, "shell probe");
}

#[tokio::test]
async fn a_malformed_probe_line_breaks_the_scenario_and_is_quoted() {
    let path = Path::new("fixtures/scenarios/broken/misspelled-class.toml");
    let report = runner::run_file(path).await;
    assert_eq!(report.verdict, Verdict::Broken, "{report}");
    assert!(
        report.reason.starts_with(
            "the client's probe line is malformed: unknown error class \"resett\"; did you mean \"reset\"?; expected one of"
        ),
        "{}",
        report.reason
    );
    assert!(
        report
            .reason
            .ends_with("\n  {\"outcome\": \"error\", \"class\": \"resett\"}"),
        "{}",
        report.reason
    );
}

/// Processes whose command line contains `marker`.
fn processes_with(marker: &str) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|entry| std::fs::read(entry.ok()?.path().join("cmdline")).ok())
        .map(|cmdline| String::from_utf8_lossy(&cmdline).replace('\0', " "))
        .filter(|cmdline| cmdline.contains(marker))
        .collect()
}

#[tokio::test]
async fn the_deadline_kills_the_clients_whole_process_group() {
    let report =
        runner::run_file(Path::new("fixtures/scenarios/deadline/leaves-a-child.toml")).await;
    assert!(report.passed(), "{report}");
    // SIGKILL is delivered before the runner returns; allow the kernel a
    // moment to tear the processes down.
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(2);
    while !processes_with("sleep 31.4159").is_empty() && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(
        processes_with("sleep 31.4159"),
        Vec::<String>::new(),
        "the client's child outlived the scenario"
    );
}

#[rstest]
#[case::a_program(
    "fixtures/scenarios/invalid/missing_command.toml",
    "no-such-client-program"
)]
#[case::a_compiler(
    "fixtures/scenarios/build/uninstalled-compiler.toml",
    "no-such-compiler"
)]
#[case::an_upstream(
    "fixtures/scenarios/invalid/missing_upstream_command.toml",
    "no-such-upstream-program"
)]
#[tokio::test]
async fn a_client_not_installed_is_skipped_with_the_reason(
    #[case] file: &str,
    #[case] program: &str,
) {
    let report = runner::run_file(Path::new(file)).await;
    assert_eq!(report.verdict, Verdict::Skipped, "{report}");
    assert!(!report.passed());
    assert!(
        report
            .reason
            .contains(&format!("command {program:?} not found on PATH")),
        "{report}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_built_client_runs_what_its_build_made() {
    let report = runner::run_file(Path::new("fixtures/scenarios/build/built-probe.toml")).await;
    assert!(report.passed(), "{report}");
    assert_eq!(report.client, "built");
}

#[tokio::test]
async fn a_failed_build_breaks_the_scenario_and_shows_the_output() {
    let report = runner::run_file(Path::new("fixtures/scenarios/build/failing-build.toml")).await;
    assert_eq!(report.verdict, Verdict::Broken, "{report}");
    assert!(
        report
            .reason
            .contains("failed (exit 2): probe.go:3:2: undefined: x\nprobe.go:3:2: undefined: x"),
        "{report}"
    );
}

#[tokio::test]
async fn a_probe_whose_library_is_missing_skips_its_scenario() {
    let folder = tempfile::tempdir().expect("a temporary folder");
    let path = folder.path().join("missing-library.toml");
    let probe = r#"{"outcome": "skipped", "message": "httpx is not installed for python3"}"#;
    let text = format!(
        "description = \"x\"\nfault = \"ok\"\n\
         client = {{ run = [\"sh\", \"-c\", \"echo \\\"$0\\\"\", '{probe}'] }}\n\
         [expect]\nstatus = 200\n"
    );
    std::fs::write(&path, text).expect("the scenario is written");
    let report = runner::run_file(&path).await;
    assert_eq!(report.verdict, Verdict::Skipped, "{report}");
    assert_eq!(report.reason, "skipped: httpx is not installed for python3");
}
