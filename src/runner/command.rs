//! Any program as the client under test, started under a supervisor so that
//! everything it starts can be killed when it exits or at the deadline.

use std::io::Write;
use std::net::SocketAddr;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use nix::unistd::Pid;
use tokio::process::{Child, Command};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::runner::private_dns::PrivateDns;
use crate::runner::{Outcome, output, probe, supervisor, tree};

/// What a program did: its outcome, exit code and output.
pub(crate) struct Ran {
    pub(crate) outcome: Outcome,
    pub(crate) exit: Option<i32>,
    pub(crate) output: String,
}

/// What a client command is told about the server it meets.
pub(crate) struct Target<'a> {
    /// The server's base URL.
    pub(crate) url: &'a str,
    /// The address the URL points at.
    pub(crate) addr: SocketAddr,
    /// The host name the URL uses, when the scenario resolves one.
    pub(crate) host: Option<&'a str>,
    /// The file holding the server's CA certificate, for an https server.
    pub(crate) ca: Option<&'a Path>,
}

/// `run` with `{url}`, `{addr}`, `{host}`, `{port}` and `{ca}` replaced;
/// `{host}` is the scenario's host name when it has one, else the server's
/// address.
pub(crate) fn substitute(run: &[String], target: &Target) -> Result<Vec<String>, String> {
    let ca = target.ca.map(|ca| ca.to_string_lossy().into_owned());
    let host = target
        .host
        .map_or_else(|| target.addr.ip().to_string(), str::to_owned);
    run.iter()
        .map(|arg| {
            let arg = arg
                .replace("{url}", target.url)
                .replace("{addr}", &target.addr.to_string())
                .replace("{host}", &host)
                .replace("{port}", &target.addr.port().to_string());
            match &ca {
                Some(ca) => Ok(arg.replace("{ca}", ca)),
                None if arg.contains("{ca}") => Err(
                    "`run` uses {ca}, but the fault serves plain HTTP and has no CA; \
                     add `tls = true` to serve it behind TLS"
                        .to_owned(),
                ),
                None => Ok(arg),
            }
        })
        .collect()
}

/// An https server's CA certificate in a temporary file, for clients that
/// read their trust from a file; removed when dropped. The file has a random
/// name, is created exclusively and readable by its owner only, so no other
/// user can plant or swap it.
pub(crate) struct CaFile(tempfile::NamedTempFile);

impl CaFile {
    /// Writes `pem` to a new file in the temporary directory.
    pub(crate) fn write(pem: &str) -> Result<CaFile, String> {
        let cannot = |e: std::io::Error| format!("cannot write the CA file: {e}");
        let mut file = tempfile::Builder::new()
            .prefix("outage-ca-")
            .suffix(".pem")
            .tempfile()
            .map_err(cannot)?;
        file.write_all(pem.as_bytes()).map_err(cannot)?;
        Ok(CaFile(file))
    }

    pub(crate) fn path(&self) -> &Path {
        self.0.path()
    }
}

/// How long a client's output pipes may stay open once its whole tree has
/// been killed. Only a process stuck in the kernel holds them that long.
const PIPE_GRACE: Duration = Duration::from_millis(500);

/// A started client: its supervisor, whose whole tree is killed when this is
/// dropped, also when the run is cancelled half way.
struct Supervised {
    child: Child,
    supervisor: Option<Pid>,
}

impl Supervised {
    /// Kills the client's whole tree and reaps the supervisor.
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

/// Runs `args` with `OUTAGE_URL` (and `OUTAGE_CA` for an https server) set,
/// under a supervisor ([`super::supervisor`]), and kills everything it
/// started when it exits or at `deadline`, whichever comes first. With
/// `dns`, the program starts in that private DNS namespace.
pub(crate) async fn run(
    args: &[String],
    target: &Target<'_>,
    deadline: Duration,
    dns: Option<&PrivateDns>,
) -> Result<Ran, String> {
    let (program, rest) = args.split_first().ok_or("the client command is empty")?;
    // A temporary folder of the client's own, removed once its whole tree
    // has been ended: a client killed at its deadline cannot clean up after
    // itself, so nothing it left in `TMPDIR` may outlive the scenario.
    let scratch = off_the_workers(|| tempfile::Builder::new().prefix("outage-client-").tempdir())
        .await
        .map_err(|e| format!("cannot make a temporary folder for {program:?}: {e}"))?;
    let mut command = Command::new(program);
    for variable in ["TMPDIR", "TMP", "TEMP"] {
        command.env(variable, scratch.path());
    }
    if let Some(ca) = target.ca {
        command.env("OUTAGE_CA", ca);
    }
    if let Some(dns) = dns {
        dns.confine(&mut command);
    }
    command
        .args(rest)
        .env("OUTAGE_URL", target.url)
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
    // Declared after `scratch`, so dropped before it: the tree ends first.
    let client = Supervised { child, supervisor };
    let exited = tokio::time::timeout(deadline, report.client_exit()).await;
    // Whatever the client started is still below its supervisor, wherever
    // it moved: end it all, so nothing outlives the scenario or holds the
    // output pipes open.
    client.end().await;
    let (stdout, stderr) = ended(stdout, stderr, stop).await;
    let outcome = match exited {
        Err(_) => Outcome::Killed { after: deadline },
        Ok(_) => probe::parse(&stdout)
            .map_err(|bad| bad.to_string())?
            .unwrap_or(Outcome::Exited),
    };
    off_the_workers(move || drop(scratch)).await;
    let exit = exited.ok().flatten().and_then(|status| status.code());
    let output = if stderr.is_empty() {
        stdout
    } else {
        format!("{stdout}{stderr}")
    };
    Ok(Ran {
        outcome,
        exit,
        output,
    })
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

/// Runs `work`, which touches the disk, on tokio's blocking pool rather than
/// on the workers the fault servers answer on: under heavy disk load a
/// file's creation or removal can take a second.
pub(crate) async fn off_the_workers<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> T {
    match tokio::task::spawn_blocking(work).await {
        Ok(done) => done,
        Err(failed) => std::panic::resume_unwind(failed.into_panic()),
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn target(ca: Option<&Path>) -> Target<'_> {
        Target {
            url: "https://127.0.0.1:4000",
            addr: SocketAddr::from(([127, 0, 0, 1], 4000)),
            host: None,
            ca,
        }
    }

    fn run(args: &[&str]) -> Vec<String> {
        args.iter().map(|arg| arg.to_string()).collect()
    }

    #[test]
    fn the_ca_placeholder_is_the_ca_file() {
        let ca = Path::new("/tmp/ca.pem");
        let args = substitute(
            &run(&["curl", "--cacert", "{ca}", "{url}"]),
            &target(Some(ca)),
        );
        assert_eq!(
            args,
            Ok(run(&[
                "curl",
                "--cacert",
                "/tmp/ca.pem",
                "https://127.0.0.1:4000"
            ]))
        );
    }

    #[test]
    fn the_ca_placeholder_without_tls_says_to_add_it() {
        let error = substitute(&run(&["curl", "--cacert", "{ca}"]), &target(None)).unwrap_err();
        assert_eq!(
            error,
            "`run` uses {ca}, but the fault serves plain HTTP and has no CA; \
             add `tls = true` to serve it behind TLS"
        );
    }

    #[test]
    fn a_ca_file_holds_the_pem_until_dropped() {
        let file = CaFile::write("-----BEGIN CERTIFICATE-----\n").unwrap();
        let path = file.path().to_owned();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "-----BEGIN CERTIFICATE-----\n"
        );
        drop(file);
        assert!(!path.exists());
    }
}
