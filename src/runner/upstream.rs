//! The real service behind a scenario's fault: the address the file gives,
//! or a program started for the scenario ([`super::process`]) on a free
//! loopback port, ready once it accepts a connection, and killed with its
//! whole tree when the scenario ends (also when the run is dropped half way).

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use tokio::net::TcpStream;
use tokio::process::Command;

use crate::runner::process::{self, Running};
use crate::scenario::Upstream;

/// How long a started service may take to listen on its port.
const READY_WITHIN: Duration = Duration::from_secs(10);

/// How often the port is tried while the service starts.
const POLL: Duration = Duration::from_millis(20);

/// The most lines of a service's output a report quotes.
const TAIL_LINES: usize = 5;

/// A scenario's upstream, for as long as the scenario runs.
pub(crate) struct Service {
    /// `host:port`, where the fault server forwards.
    address: String,
    /// The program the runner started, when it started one.
    running: Option<Running>,
}

impl Service {
    /// The service `upstream` names, started and listening when it is a
    /// command; why it is not, quoting the end of its output, otherwise.
    pub(crate) async fn start(upstream: &Upstream) -> Result<Service, String> {
        let run = match upstream {
            Upstream::Address(address) => {
                return Ok(Service {
                    address: address.clone(),
                    running: None,
                });
            }
            Upstream::Run { run, .. } => run,
        };
        let port = free_port()?;
        let args: Vec<String> = run
            .iter()
            .map(|arg| arg.replace("{port}", &port.to_string()))
            .collect();
        let (program, rest) = args.split_first().ok_or("the upstream command is empty")?;
        let mut command = Command::new(program);
        command.args(rest);
        let (running, report) = process::start(program, command).await?;
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        let why_not = tokio::select! {
            status = report.exited() => {
                let status = status.map_or("was killed".to_owned(), |s| format!("exited ({s})"));
                format!("{program:?} {status} before listening on {addr}")
            }
            ready = tokio::time::timeout(READY_WITHIN, listening(addr)) => match ready {
                Ok(()) => return Ok(Service { address: addr.to_string(), running: Some(running) }),
                Err(_) => format!(
                    "{program:?} was not listening on {addr} after {}s",
                    READY_WITHIN.as_secs()
                ),
            },
        };
        let (stdout, stderr) = running.end().await;
        Err(format!(
            "the upstream did not start: {why_not}{}",
            tail(&stdout, &stderr)
        ))
    }

    /// Where the fault server forwards: `host:port`.
    pub(crate) fn address(&self) -> &str {
        &self.address
    }

    /// Kills the started service with its whole tree; nothing for an address.
    pub(crate) async fn end(self) {
        if let Some(running) = self.running {
            running.end().await;
        }
    }
}

/// A loopback port free a moment ago: bound, read, released. Another
/// process could take it before the service binds it; the service then
/// fails to listen and the scenario says so.
fn free_port() -> Result<u16, String> {
    std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .map_err(|e| format!("cannot find a free loopback port for the upstream: {e}"))
}

/// Returns once something accepts a connection at `addr`.
async fn listening(addr: SocketAddr) {
    while TcpStream::connect(addr).await.is_err() {
        tokio::time::sleep(POLL).await;
    }
}

/// The last lines of the service's standard error (or of its standard
/// output, when it wrote nothing there), indented under a heading.
fn tail(stdout: &str, stderr: &str) -> String {
    let (name, text) = match stderr.trim() {
        "" => ("output", stdout.trim()),
        stderr => ("stderr", stderr),
    };
    if text.is_empty() {
        return "; it wrote nothing".to_owned();
    }
    let lines: Vec<&str> = text.lines().collect();
    let last = &lines[lines.len().saturating_sub(TAIL_LINES)..];
    format!("; its {name} ends:\n  {}", last.join("\n  "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tail_is_the_last_lines_of_stderr_or_else_of_stdout() {
        let stderr = "1\n2\n3\n4\n5\n6\n";
        assert_eq!(
            tail("out", stderr),
            "; its stderr ends:\n  2\n  3\n  4\n  5\n  6"
        );
        assert_eq!(tail("only out\n", ""), "; its output ends:\n  only out");
        assert_eq!(tail("", " \n"), "; it wrote nothing");
    }
}
