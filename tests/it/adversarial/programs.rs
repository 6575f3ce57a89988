//! Hostile client programs under `outage run`: floods, ignored signals,
//! escapes from the process group, closed pipes, no exit; and `outage run`
//! itself interrupted at several moments. Each test ends with
//! [`Sandbox::assert_clean`]: no process and no temporary file left behind.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::thread;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use rstest::rstest;

use super::guard::Sandbox;

/// The longest any single wait in these tests may take.
const BOUND: Duration = Duration::from_secs(10);

/// A client that gets the server's 200 and says so: its claim must be one
/// the journal bears out.
const GETS_200: &str = r#"curl -s -o /dev/null --max-time 5 "$OUTAGE_URL"
echo '{"outcome": "response", "status": 200}'"#;

/// A bash script named after the sandbox's marker, so that it and every
/// process it starts without renaming itself carry the marker.
fn script(sandbox: &Sandbox, body: &str) -> PathBuf {
    let path = sandbox
        .files()
        .join(format!("{}-{}.sh", sandbox.marker(), body.len()));
    std::fs::write(&path, body).expect("the script is written");
    path
}

/// A scenario file `name.toml` in the sandbox's files.
fn scenario(sandbox: &Sandbox, name: &str, toml: &str) -> PathBuf {
    let path = sandbox.files().join(format!("{name}.toml"));
    std::fs::write(&path, toml).expect("the scenario is written");
    path
}

/// A scenario that runs `script` against `fault`, with `expect` below it.
fn scenario_running(
    sandbox: &Sandbox,
    name: &str,
    fault: &str,
    script: &Path,
    timeout: &str,
    expect: &str,
) -> PathBuf {
    let tls = if fault.starts_with("tls") {
        "tls = true\n"
    } else {
        ""
    };
    let ca = if tls.is_empty() { "" } else { ", '{ca}'" };
    scenario(
        sandbox,
        name,
        &format!(
            "description = \"{name}\"\nfault = \"{}\"\n{tls}\
             client = {{ run = ['bash', '{}', '{{url}}'{ca}], timeout = \"{timeout}\" }}\n\
             [expect]\n{expect}\n",
            fault.trim_start_matches("tls+"),
            script.display(),
        ),
    )
}

/// A running `outage run`, its output read to the end on threads.
struct Run {
    child: Child,
    /// The whole of stdout, once it closes.
    stdout: Receiver<String>,
    /// Each line of stderr, as it comes.
    stderr: Receiver<String>,
    started: Instant,
}

impl Run {
    fn start(sandbox: &Sandbox, args: &[&str]) -> Run {
        let mut child = sandbox
            .outage(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("outage starts");
        let stdout = read_to_end(child.stdout.take().expect("stdout is piped"));
        let stderr = read_lines(child.stderr.take().expect("stderr is piped"));
        Run {
            child,
            stdout,
            stderr,
            started: Instant::now(),
        }
    }

    fn pid(&self) -> Pid {
        Pid::from_raw(self.child.id() as i32)
    }

    /// Waits for the exit; returns its status, how long the run took, and
    /// its stdout and stderr.
    fn finish(mut self) -> (ExitStatus, Duration, String, String) {
        let status = wait_for(BOUND, || {
            self.child.try_wait().expect("outage can be waited for")
        })
        .unwrap_or_else(|| panic!("outage did not exit within {BOUND:?}"));
        let took = self.started.elapsed();
        let stdout = self.stdout.recv_timeout(BOUND).expect("stdout ends");
        let mut stderr = String::new();
        while let Ok(line) = self.stderr.recv_timeout(BOUND) {
            stderr.push_str(&line);
            stderr.push('\n');
        }
        (status, took, stdout, stderr)
    }

    /// Waits for a line of stderr that contains `needle`.
    fn stderr_line(&self, needle: &str) -> String {
        let deadline = Instant::now() + BOUND;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.stderr.recv_timeout(left) {
                Ok(line) if line.contains(needle) => return line,
                Ok(_) => {}
                Err(e) => panic!("no stderr line contains {needle:?} ({e:?})"),
            }
        }
    }
}

impl Drop for Run {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn read_lines(pipe: impl Read + Send + 'static) -> Receiver<String> {
    let (send, receive) = mpsc::channel();
    thread::spawn(move || {
        for line in std::io::BufRead::lines(std::io::BufReader::new(pipe)) {
            let Ok(line) = line else { break };
            if send.send(line).is_err() {
                break;
            }
        }
    });
    receive
}

fn read_to_end(mut pipe: impl Read + Send + 'static) -> Receiver<String> {
    let (send, receive) = mpsc::channel();
    thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        let _ = send.send(String::from_utf8_lossy(&bytes).into_owned());
    });
    receive
}

/// Polls `ready` until it gives a value or `bound` has passed. Polling is
/// how a bounded wait looks at another process; it is not synchronisation.
fn wait_for<T>(bound: Duration, mut ready: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + bound;
    loop {
        if let Some(value) = ready() {
            return Some(value);
        }
        if Instant::now() > deadline {
            return None;
        }
        thread::sleep(Duration::from_millis(5));
    }
}

/// The one result of a `--format json` run.
fn only_result(stdout: &str) -> serde_json::Value {
    let results: Vec<serde_json::Value> =
        serde_json::from_str(stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {stdout:.2000}"));
    assert_eq!(results.len(), 1, "{stdout:.2000}");
    results.into_iter().next().expect("one result")
}

#[test]
fn a_client_that_floods_its_output_still_has_its_last_probe_line_read() {
    let sandbox = Sandbox::new();
    // 8 MiB without a newline, then the probe line. Before, the runner
    // closed the pipe after 1 MiB: the client died of SIGPIPE, probe unread.
    let client = script(
        &sandbox,
        &format!("head -c 8388608 /dev/zero | tr '\\0' x\necho\n{GETS_200}\n"),
    );
    let file = scenario_running(
        &sandbox,
        "flood",
        "ok",
        &client,
        "20s",
        "status = 200\nexit = 0",
    );
    let run = Run::start(
        &sandbox,
        &["run", "--format", "json", file.to_str().unwrap()],
    );
    let (status, _, stdout, stderr) = run.finish();
    let result = only_result(&stdout);
    assert_eq!(
        result["verdict"], "passed",
        "{stderr}\n{}",
        result["reason"]
    );
    assert_eq!(status.code(), Some(0));
    let output = result["observed"]["output"].as_str().expect("the output");
    assert!(output.len() < 1_100_000, "{} bytes kept", output.len());
    assert!(
        output.contains("bytes of output dropped here"),
        "the cut is marked"
    );
    sandbox.assert_clean();
}

#[rstest]
#[case::in_its_own_session("setsid bash -c \"trap '' TERM; exec -a $M sleep 1e5\" &")]
#[case::by_a_double_fork_and_setsid("(setsid bash -c \"exec -a $M sleep 1e5\" &) ")]
#[case::in_a_group_of_its_own("(set -m; bash -c \"exec -a $M sleep 1e5\" &)")]
fn a_client_that_escapes_its_group_and_ignores_sigterm_is_killed_whole_at_its_deadline(
    #[case] escape: &str,
) {
    let sandbox = Sandbox::new();
    let client = script(
        &sandbox,
        &format!(
            "M={}\ntrap '' TERM\n{escape}\nexec -a $M sleep 1e5\n",
            sandbox.marker()
        ),
    );
    // Before, the grandchild lived on and held the output pipes, and the
    // runner waited two seconds for each: 6s for this 2s deadline.
    let file = scenario_running(&sandbox, "escapes", "hang", &client, "2s", "hangs = true");
    let run = Run::start(&sandbox, &["run", file.to_str().unwrap()]);
    let (status, took, stdout, stderr) = run.finish();
    assert_eq!(status.code(), Some(0), "{stdout}{stderr}");
    assert!(
        took < Duration::from_millis(3500),
        "a 2s deadline took {took:?}"
    );
    sandbox.assert_clean();
}

#[test]
fn a_client_that_exits_leaving_a_daemon_on_its_pipes_is_judged_at_once() {
    let sandbox = Sandbox::new();
    let client = script(
        &sandbox,
        &format!(
            "setsid bash -c 'exec -a {} sleep 1e5' &\n{GETS_200}\n",
            sandbox.marker()
        ),
    );
    // Before, the daemon kept the pipes open: the runner gave up on them
    // after two seconds each, lost the probe line, and left the daemon.
    let file = scenario_running(&sandbox, "daemon", "ok", &client, "10s", "status = 200");
    let run = Run::start(&sandbox, &["run", file.to_str().unwrap()]);
    let (status, took, stdout, stderr) = run.finish();
    assert_eq!(status.code(), Some(0), "{stdout}{stderr}");
    assert!(took < Duration::from_secs(2), "took {took:?}");
    sandbox.assert_clean();
}

#[test]
fn a_client_that_closes_stdout_early_is_judged_by_its_exit_code() {
    let sandbox = Sandbox::new();
    let client = script(
        &sandbox,
        "exec >&-\necho 'stdout is closed' >&2\nsleep 0.2\nexit 3\n",
    );
    let file = scenario_running(
        &sandbox,
        "closes",
        "ok",
        &client,
        "10s",
        "exit = 3\noutput = \"stdout is closed\"",
    );
    let run = Run::start(&sandbox, &["run", file.to_str().unwrap()]);
    let (status, _, stdout, stderr) = run.finish();
    assert_eq!(status.code(), Some(0), "{stdout}{stderr}");
    sandbox.assert_clean();
}

#[test]
fn a_client_that_never_exits_and_forks_children_is_killed_at_its_deadline() {
    let sandbox = Sandbox::new();
    let client = script(
        &sandbox,
        &format!(
            "for i in 1 2 3 4; do bash -c 'exec -a {} sleep 1e5' & done\nwait\n",
            sandbox.marker()
        ),
    );
    let file = scenario_running(&sandbox, "forever", "hang", &client, "1s", "hangs = true");
    let run = Run::start(&sandbox, &["run", file.to_str().unwrap()]);
    let (status, took, stdout, stderr) = run.finish();
    assert_eq!(status.code(), Some(0), "{stdout}{stderr}");
    assert!(
        took < Duration::from_millis(2500),
        "a 1s deadline took {took:?}"
    );
    sandbox.assert_clean();
}

#[test]
fn what_a_client_killed_at_its_deadline_left_in_its_temporary_folder_is_removed() {
    let sandbox = Sandbox::new();
    // As a shell probe does: a temporary file, removed by a trap that a
    // SIGKILL never lets run.
    let client = script(
        &sandbox,
        "scratch=$(mktemp)\ntrap 'rm -f \"$scratch\"' EXIT\nmkdir \"$(mktemp -d)/nested\"\nsleep 1e5\n",
    );
    let file = scenario_running(&sandbox, "scratch", "hang", &client, "1s", "hangs = true");
    let run = Run::start(&sandbox, &["run", file.to_str().unwrap()]);
    let (status, _, stdout, stderr) = run.finish();
    assert_eq!(status.code(), Some(0), "{stdout}{stderr}");
    sandbox.assert_clean();
}

#[test]
fn a_client_program_that_is_not_executable_is_reported_as_such() {
    let sandbox = Sandbox::new();
    let client = sandbox.files().join("client.sh");
    std::fs::write(&client, "#!/bin/sh\necho hi\n").expect("the script is written");
    let toml = format!(
        "description = \"x\"\nfault = \"ok\"\nclient = {{ run = ['{}'] }}\n[expect]\nexit = 0\n",
        client.display()
    );
    let file = scenario(&sandbox, "not-executable", &toml);
    let run = Run::start(&sandbox, &["run", file.to_str().unwrap()]);
    let (status, _, stdout, _) = run.finish();
    assert_eq!(status.code(), Some(2), "{stdout}");
    let client = client.display();
    let expected = format!(
        "{}:3:18: command \"{client}\" is not executable ({client} lacks the execute \
         permission); make it executable with `chmod +x {client}`, or name its interpreter \
         first, as in [\"sh\", \"{client}\"]",
        file.display()
    );
    assert!(stdout.contains(&expected), "{expected}\nnot in\n{stdout}");
}

/// Three scenarios run one at a time: one that passes at once, then two
/// whose clients hang (the first behind TLS, with a CA file).
fn three_scenarios(sandbox: &Sandbox) -> Vec<PathBuf> {
    let quick = script(sandbox, &format!("{GETS_200}\n"));
    let hang = script(
        sandbox,
        &format!("trap '' TERM INT\nexec -a {} sleep 1e5\n", sandbox.marker()),
    );
    vec![
        scenario_running(sandbox, "a-quick", "ok", &quick, "10s", "status = 200"),
        scenario_running(sandbox, "b-hangs", "tls+hang", &hang, "60s", "hangs = true"),
        scenario_running(sandbox, "c-hangs", "hang", &hang, "60s", "hangs = true"),
    ]
}

/// True once `pid` takes SIGINT and SIGTERM itself: it blocks them in its
/// main thread (`SigBlk`) and waits for them on a thread of its own.
fn takes_signals(pid: Pid) -> bool {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let caught = status
        .lines()
        .find_map(|line| line.strip_prefix("SigBlk:"))
        .and_then(|mask| u64::from_str_radix(mask.trim(), 16).ok())
        .unwrap_or(0);
    let bit = |signal: Signal| 1u64 << (signal as i32 - 1);
    caught & bit(Signal::SIGINT) != 0 && caught & bit(Signal::SIGTERM) != 0
}

/// Waits until no signal is pending for `pid` (`ShdPnd` in its status).
fn delivered(pid: Pid) -> bool {
    wait_for(BOUND, || {
        std::fs::read_to_string(format!("/proc/{pid}/status"))
            .ok()
            .filter(|status| status.contains("ShdPnd:\t0000000000000000"))
    })
    .is_some()
}

/// When the signal is sent.
#[derive(Debug, Clone, Copy)]
enum Moment {
    /// As soon as `outage run` takes signals, before any client can be
    /// relied on to have started.
    AtOnce,
    /// While the second scenario's client runs (the first has passed).
    WhileAClientRuns,
}

#[rstest]
#[case::sigint_at_once(Signal::SIGINT, Moment::AtOnce)]
#[case::sigterm_at_once(Signal::SIGTERM, Moment::AtOnce)]
#[case::sigint_while_a_client_runs(Signal::SIGINT, Moment::WhileAClientRuns)]
#[case::sigterm_while_a_client_runs(Signal::SIGTERM, Moment::WhileAClientRuns)]
fn an_interrupted_run_kills_its_clients_and_reports_what_finished(
    #[case] signal: Signal,
    #[case] moment: Moment,
) {
    let sandbox = Sandbox::new();
    let files = three_scenarios(&sandbox);
    let junit = sandbox.files().join("junit.xml");
    let mut args = vec!["run", "--jobs", "1", "--junit", junit.to_str().unwrap()];
    args.extend(files.iter().map(|f| f.to_str().unwrap()));
    let run = Run::start(&sandbox, &args);
    let ready = match moment {
        Moment::AtOnce => wait_for(BOUND, || takes_signals(run.pid()).then_some(())),
        // `exec -a MARKER sleep 1e5` has the command line "MARKER\01e5".
        Moment::WhileAClientRuns => wait_for(BOUND, || {
            let sleeping = format!("{}\u{0}1e5", sandbox.marker());
            (!super::guard::processes_named(&sleeping).is_empty()).then_some(())
        }),
    };
    assert!(ready.is_some(), "{moment:?} never came");
    kill(run.pid(), signal).expect("the signal is sent");
    let (status, _, stdout, stderr) = run.finish();
    let code = 128 + signal as i32;
    assert_eq!(status.code(), Some(code), "{stdout}\n{stderr}");
    let rows: Vec<&str> = stdout.lines().skip(1).take(3).collect();
    let row = |name: &str| {
        rows.iter()
            .find(|row| {
                row.split_whitespace()
                    .next()
                    .is_some_and(|n| n.ends_with(name))
            })
            .unwrap_or_else(|| panic!("no row for {name}:\n{stdout}"))
            .split_whitespace()
            .skip(1)
            .collect::<Vec<_>>()
            .join(" ")
    };
    let name = format!("{signal:?}");
    assert!(
        row("c-hangs").starts_with(&format!(
            "INTERRUPTED 0.00s interrupted by {name} before it started"
        )),
        "{stdout}"
    );
    if let Moment::WhileAClientRuns = moment {
        assert!(row("a-quick").starts_with("pass"), "{stdout}");
        // The time column shows how long it had run, as its reason does.
        let hung = row("b-hangs");
        let words: Vec<&str> = hung.split_whitespace().collect();
        assert_eq!(
            words[..6],
            ["INTERRUPTED", words[1], "interrupted", "by", &name, "after"],
            "{stdout}"
        );
        assert_eq!(words[1], words[6], "{stdout}");
    }
    let xml = std::fs::read_to_string(&junit).expect("the JUnit report is written");
    assert!(xml.contains("type=\"interrupted\""), "{xml}");
    sandbox.assert_clean();
}

/// `outage run --format json` of a scenario whose client printed about a
/// megabyte, which `outage` keeps: a report far larger than a pipe holds.
/// Returns once `outage` has started printing it, with the sender that lets
/// the rest be read.
fn printing_a_big_report(sandbox: &Sandbox) -> (Run, mpsc::Sender<()>) {
    let client = script(
        sandbox,
        &format!("head -c 3000000 /dev/zero | tr '\\0' x\necho\n{GETS_200}\n"),
    );
    let file = scenario_running(sandbox, "big", "ok", &client, "20s", "status = 200");
    let mut child = sandbox
        .outage(&["run", "--format", "json", file.to_str().unwrap()])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("outage starts");
    let mut pipe = child.stdout.take().expect("stdout is piped");
    let (started_printing, printing) = mpsc::channel();
    let (go, gate) = mpsc::channel::<()>();
    let (send, stdout) = mpsc::channel();
    thread::spawn(move || {
        let mut bytes = vec![0u8; 1];
        if pipe.read_exact(&mut bytes).is_ok() {
            let _ = started_printing.send(());
            let _ = gate.recv_timeout(BOUND);
            let _ = pipe.read_to_end(&mut bytes);
        }
        let _ = send.send(String::from_utf8_lossy(&bytes).into_owned());
    });
    let stderr = read_lines(child.stderr.take().expect("stderr is piped"));
    let run = Run {
        child,
        stdout,
        stderr,
        started: Instant::now(),
    };
    printing
        .recv_timeout(BOUND)
        .expect("outage starts printing its report");
    (run, go)
}

#[rstest]
#[case::sigint(Signal::SIGINT)]
#[case::sigterm(Signal::SIGTERM)]
fn a_signal_while_the_report_is_printed_lets_it_finish_then_exits_for_the_signal(
    #[case] signal: Signal,
) {
    let sandbox = Sandbox::new();
    let (run, go) = printing_a_big_report(&sandbox);
    kill(run.pid(), signal).expect("the signal is sent");
    // Let the signal land while the report is still unread.
    assert!(delivered(run.pid()), "the signal is delivered");
    go.send(()).expect("the reader waits");
    let (status, _, stdout, stderr) = run.finish();
    assert_eq!(
        status.code(),
        Some(128 + signal as i32),
        "{stderr}\n{stdout:.2000}"
    );
    let result = only_result(&stdout);
    assert_eq!(result["verdict"], "passed", "{stderr}");
    sandbox.assert_clean();
}

#[test]
fn a_second_signal_exits_at_once_even_with_the_report_unread() {
    let sandbox = Sandbox::new();
    let (run, go) = printing_a_big_report(&sandbox);
    kill(run.pid(), Signal::SIGTERM).expect("the signal is sent");
    run.stderr_line("outage: SIGTERM: stopping the running scenarios");
    kill(run.pid(), Signal::SIGINT).expect("the signal is sent");
    let mut run = run;
    let status = wait_for(BOUND, || {
        run.child.try_wait().expect("outage can be waited for")
    });
    go.send(()).expect("the reader waits");
    assert_eq!(status.and_then(|s| s.code()), Some(130));
    run.stderr_line("outage: SIGINT again: exiting at once");
    sandbox.assert_clean();
}
