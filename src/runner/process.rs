//! The one way the runner starts a program, a client or an upstream service:
//! under a supervisor ([`super::supervisor`]), with a temporary folder of its
//! own and its output collected within a bound, so that its whole tree can be
//! killed when it is done, and also when the run is dropped half way.

use std::process::Stdio;
use std::time::Duration;

use nix::unistd::Pid;
use tokio::process::{Child, Command};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::runner::command::off_the_workers;
use crate::runner::{output, supervisor, tree};

/// How long a program's output pipes may stay open once its whole tree has
/// been killed. Only a process stuck in the kernel holds them that long.
const PIPE_GRACE: Duration = Duration::from_millis(500);

/// A started program: its supervisor, whose whole tree is killed when this
/// is dropped, and its output as it arrives.
pub(crate) struct Running {
    tree: Supervised,
    stdout: JoinHandle<output::Kept>,
    stderr: JoinHandle<output::Kept>,
    stop: CancellationToken,
    /// Declared after `tree`, so dropped after it: the tree ends first, and
    /// nothing it left in `TMPDIR` outlives it.
    scratch: tempfile::TempDir,
}

/// Starts `command`, which runs `program`, under a supervisor, with `TMPDIR`
/// a new folder of its own: a program killed at its deadline cannot clean up
/// after itself. Returns the running program and the supervisor's report of
/// its exit.
pub(crate) async fn start(
    program: &str,
    mut command: Command,
) -> Result<(Running, supervisor::Report), String> {
    let scratch = off_the_workers(|| tempfile::Builder::new().prefix("outage-program-").tempdir())
        .await
        .map_err(|e| format!("cannot make a temporary folder for {program:?}: {e}"))?;
    for variable in ["TMPDIR", "TMP", "TEMP"] {
        command.env(variable, scratch.path());
    }
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let mut report = supervisor::Report::supervise(&mut command)
        .map_err(|e| format!("cannot prepare to start {program:?}: {e}"))?;
    let mut child = command.spawn().map_err(|e| cannot_start(program, &e))?;
    report.started();
    let stop = CancellationToken::new();
    let stdout = tokio::spawn(output::collect(child.stdout.take(), stop.clone()));
    let stderr = tokio::spawn(output::collect(child.stderr.take(), stop.clone()));
    let supervisor = child.id().map(|id| Pid::from_raw(id as i32));
    let running = Running {
        tree: Supervised { child, supervisor },
        stdout,
        stderr,
        stop,
        scratch,
    };
    Ok((running, report))
}

impl Running {
    /// Kills the program's whole tree, then returns its standard output and
    /// standard error, once their pipes have closed or after [`PIPE_GRACE`]
    /// with what was read by then.
    pub(crate) async fn end(self) -> (String, String) {
        let Running {
            tree,
            stdout,
            stderr,
            stop,
            scratch,
        } = self;
        // Whatever the program started is still below its supervisor,
        // wherever it moved: end it all, so nothing outlives the scenario
        // or holds the output pipes open.
        tree.end().await;
        let output = ended(stdout, stderr, stop).await;
        off_the_workers(move || drop(scratch)).await;
        output
    }
}

/// A program's supervisor, whose whole tree is killed when this is dropped.
struct Supervised {
    child: Child,
    supervisor: Option<Pid>,
}

impl Supervised {
    /// Kills the whole tree and reaps the supervisor.
    async fn end(mut self) {
        if let Some(supervisor) = self.supervisor.take() {
            tree::kill_tree(supervisor).await;
        }
        // The supervisor was killed, or exited on its own; either way this
        // returns at once.
        let _ = self.child.wait().await;
    }
}

impl Drop for Supervised {
    fn drop(&mut self) {
        if let Some(supervisor) = self.supervisor {
            tree::kill_tree_now(supervisor);
        }
    }
}

/// The output of both streams, once their pipes have closed, or after
/// [`PIPE_GRACE`] with what was read by then.
async fn ended(
    stdout: JoinHandle<output::Kept>,
    stderr: JoinHandle<output::Kept>,
    stop: CancellationToken,
) -> (String, String) {
    let both = async { (stdout.await, stderr.await) };
    tokio::pin!(both);
    let (stdout, stderr) = match tokio::time::timeout(PIPE_GRACE, &mut both).await {
        Ok(both) => both,
        Err(_) => {
            stop.cancel();
            both.await
        }
    };
    let text = |kept: Result<output::Kept, _>| kept.map(output::Kept::text).unwrap_or_default();
    (text(stdout), text(stderr))
}

/// Why `program` did not start, and what to do about it.
fn cannot_start(program: &str, error: &std::io::Error) -> String {
    match error.kind() {
        std::io::ErrorKind::PermissionDenied => format!(
            "cannot start {program:?}: it is not executable ({error}); \
             make it executable with `chmod +x {program}`, or name its interpreter first in `run`"
        ),
        _ => format!("cannot start {program:?}: {error}"),
    }
}
