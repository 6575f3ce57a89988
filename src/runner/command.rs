//! Any program as the client under test, started under a supervisor so that
//! everything it starts can be killed when it exits or at the deadline
//! ([`super::process`]).

use std::io::Write;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use tokio::process::Command;

use crate::runner::private_dns::PrivateDns;
use crate::runner::{Outcome, probe, process};

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

/// Runs `args` with `OUTAGE_URL` (and `OUTAGE_CA` for an https server) set,
/// under a supervisor ([`super::process`]), and kills everything it
/// started when it exits or at `deadline`, whichever comes first. With
/// `dns`, the program starts in that private DNS namespace.
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
    command.args(rest).env("OUTAGE_URL", target.url);
    let (client, report) = process::start(program, command).await?;
    let exited = tokio::time::timeout(deadline, report.exited()).await;
    let (stdout, stderr) = client.end().await;
    let outcome = match exited {
        Err(_) => Outcome::Killed { after: deadline },
        Ok(_) => probe::parse(&stdout)
            .map_err(|bad| bad.to_string())?
            .unwrap_or(Outcome::Exited),
    };
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
