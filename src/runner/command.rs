//! Any program as the client under test, in its own process group so that a
//! hung client and everything it started can be killed at the deadline.

use std::net::SocketAddr;
use std::process::Stdio;
use std::time::Duration;

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::process::Command;

use crate::runner::private_dns::PrivateDns;
use crate::runner::{Outcome, probe};

/// Most output kept from each of a client's streams.
const OUTPUT_LIMIT: u64 = 1 << 20;

/// How long to wait for a client's pipes to close after it has exited.
const PIPE_GRACE: Duration = Duration::from_secs(2);

/// What a program did: its outcome, exit code and output.
pub(crate) struct Ran {
    pub(crate) outcome: Outcome,
    pub(crate) exit: Option<i32>,
    pub(crate) output: String,
}

/// `run` with `{url}`, `{addr}`, `{host}` and `{port}` replaced; `{host}` is
/// the scenario's host name when it has one, else the server's address.
pub(crate) fn substitute(
    run: &[String],
    url: &str,
    addr: SocketAddr,
    host: Option<&str>,
) -> Vec<String> {
    let host = host.map_or_else(|| addr.ip().to_string(), str::to_owned);
    run.iter()
        .map(|arg| {
            arg.replace("{url}", url)
                .replace("{addr}", &addr.to_string())
                .replace("{host}", &host)
                .replace("{port}", &addr.port().to_string())
        })
        .collect()
}

/// Runs `args` with `OUTAGE_URL` set, kills its process group at `deadline`.
/// With `dns`, the program starts in that private DNS namespace.
pub(crate) async fn run(
    args: &[String],
    url: &str,
    deadline: Duration,
    dns: Option<&PrivateDns>,
) -> Result<Ran, String> {
    let (program, rest) = args.split_first().ok_or("the client command is empty")?;
    let mut command = Command::new(program);
    if let Some(dns) = dns {
        dns.confine(&mut command);
    }
    let mut child = command
        .args(rest)
        .env("OUTAGE_URL", url)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("cannot start {program:?}: {e}"))?;
    let group = child.id().map(|id| Pid::from_raw(id as i32));
    let stdout = tokio::spawn(collect(child.stdout.take()));
    let stderr = tokio::spawn(collect(child.stderr.take()));
    let waited = tokio::time::timeout(deadline, child.wait()).await;
    // Whatever the client started lives on in its group: end it all, so that
    // nothing outlives the scenario or holds the output pipes open.
    if let Some(group) = group {
        let _ = killpg(group, Signal::SIGKILL);
    }
    let exit = match waited {
        Ok(Ok(status)) => status.code(),
        Ok(Err(e)) => return Err(format!("cannot wait for {program:?}: {e}")),
        Err(_) => {
            let _ = child.wait().await;
            None
        }
    };
    let stdout = tokio::time::timeout(PIPE_GRACE, stdout)
        .await
        .ok()
        .and_then(Result::ok)
        .unwrap_or_default();
    let stderr = tokio::time::timeout(PIPE_GRACE, stderr)
        .await
        .ok()
        .and_then(Result::ok)
        .unwrap_or_default();
    let outcome = match waited {
        Err(_) => Outcome::Killed { after: deadline },
        Ok(_) => probe::parse(&stdout).unwrap_or(Outcome::Exited),
    };
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

async fn collect(pipe: Option<impl AsyncRead + Unpin>) -> String {
    let mut bytes = Vec::new();
    if let Some(pipe) = pipe {
        let _ = pipe.take(OUTPUT_LIMIT).read_to_end(&mut bytes).await;
    }
    String::from_utf8_lossy(&bytes).into_owned()
}
