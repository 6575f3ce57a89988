//! Any program as the client under test, in its own process group so that a
//! hung client and everything it started can be killed at the deadline.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
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
/// read their trust from a file; removed when dropped.
pub(crate) struct CaFile(PathBuf);

impl CaFile {
    /// Writes `pem` to a new file in the temporary directory.
    pub(crate) fn write(pem: &str) -> Result<CaFile, String> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let name = format!(
            "outage-ca-{}-{}.pem",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let path = std::env::temp_dir().join(name);
        std::fs::write(&path, pem)
            .map_err(|e| format!("cannot write the CA file {}: {e}", path.display()))?;
        Ok(CaFile(path))
    }

    pub(crate) fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for CaFile {
    fn drop(&mut self) {
        // Nothing to do if it is already gone.
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Runs `args` with `OUTAGE_URL` (and `OUTAGE_CA` for an https server) set,
/// kills its process group at `deadline`. With `dns`, the program starts in
/// that private DNS namespace.
pub(crate) async fn run(
    args: &[String],
    target: &Target<'_>,
    deadline: Duration,
    dns: Option<&PrivateDns>,
) -> Result<Ran, String> {
    let (program, rest) = args.split_first().ok_or("the client command is empty")?;
    let mut command = Command::new(program);
    if let Some(ca) = target.ca {
        command.env("OUTAGE_CA", ca);
    }
    if let Some(dns) = dns {
        dns.confine(&mut command);
    }
    let mut child = command
        .args(rest)
        .env("OUTAGE_URL", target.url)
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
