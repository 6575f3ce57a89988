//! `outage serve`: one fault on loopback until SIGINT or SIGTERM.
//!
//! The contract other tools rely on: the base URL alone on the first line of
//! stdout, flushed at once; one line per attempt on stderr as it ends; exit 0
//! after a signal. With `--write-ca FILE`, the file is complete before the
//! URL is printed, so a script may read it as soon as it has the URL. With
//! `--journal FILE`, one JSON line per attempt goes to FILE.
//!
//! Neither stderr nor the journal file can stall the server: each has a
//! writer thread fed through a queue of [`QUEUE_LINES`] lines, and a line
//! that finds the queue full is dropped and counted. A parent that never
//! reads stderr loses lines, not the server.

mod outlet;

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use tokio::signal::unix::{Signal, SignalKind, signal};

use crate::fault::Fault;
use crate::{FaultServer, ServerError};

use outlet::{Outlet, QUEUE_LINES};

/// How long shutdown may take before the process exits anyway.
pub(crate) const SHUTDOWN_GRACE: Duration = Duration::from_secs(3);

/// How long the lines still queued may take to reach stderr and the journal
/// file at exit; a reader that has stopped reading does not hold the exit up.
const DRAIN_GRACE: Duration = Duration::from_secs(1);

/// How `outage serve` serves its fault.
pub(crate) struct Settings {
    /// The port to listen on; 0 for any free port.
    pub(crate) port: u16,
    /// Serve the fault behind TLS.
    pub(crate) tls: bool,
    /// Serve HTTP/2 as well.
    pub(crate) http2: bool,
    /// Where to write the CA certificate of an https server.
    pub(crate) write_ca: Option<PathBuf>,
    /// Where to write one JSON line per attempt.
    pub(crate) journal: Option<PathBuf>,
    /// For `outage proxy --upstream`: the real service, and whether an
    /// unreachable one is answered 502.
    pub(crate) upstream: Option<(String, bool)>,
}

/// Serves `fault` as `settings` say until a signal arrives.
pub(crate) fn serve(fault: Fault, settings: Settings) -> Result<ExitCode> {
    if let Some(why) = fault.why_not_behind_tls().filter(|_| settings.tls) {
        bail!(
            "--tls does not apply to {:?}: {why}; leave out --tls",
            fault.name()
        );
    }
    block_on(run(fault, settings))
}

/// Runs `serving` on a multi-threaded runtime, and does not wait for stray
/// blocking work once it is done.
pub(crate) fn block_on(serving: impl Future<Output = Result<ExitCode>>) -> Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let result = runtime.block_on(serving);
    runtime.shutdown_timeout(Duration::from_millis(500));
    result
}

/// SIGINT and SIGTERM, listened for before the URL is printed: a caller may
/// signal as soon as it has read it.
pub(crate) struct StopSignals {
    interrupt: Signal,
    terminate: Signal,
}

impl StopSignals {
    /// Starts listening for both signals.
    pub(crate) fn listen() -> Result<StopSignals> {
        Ok(StopSignals {
            interrupt: signal(SignalKind::interrupt()).context("cannot listen for SIGINT")?,
            terminate: signal(SignalKind::terminate()).context("cannot listen for SIGTERM")?,
        })
    }

    /// Resolves when either signal arrives.
    pub(crate) async fn received(&mut self) {
        tokio::select! {
            _ = self.interrupt.recv() => {}
            _ = self.terminate.recv() => {}
        }
    }
}

/// Prints `url` alone on stdout's first line, flushed at once.
pub(crate) fn print_url(url: &str) -> Result<()> {
    let mut stdout = io::stdout().lock();
    writeln!(stdout, "{url}")
        .and_then(|()| stdout.flush())
        .context("cannot write the url to stdout")
}

async fn run(fault: Fault, settings: Settings) -> Result<ExitCode> {
    let port = settings.port;
    let mut signals = StopSignals::listen()?;
    let stderr = Outlet::start("stderr", io::stderr());
    let journal = match &settings.journal {
        Some(file) => {
            let opened = std::fs::File::create(file)
                .with_context(|| format!("cannot create the journal file {}", file.display()))?;
            Some(Outlet::start("journal", io::BufWriter::new(opened)))
        }
        None => None,
    };
    stderr.on_panic();
    let (lines, json) = (stderr.clone(), journal.clone());
    let mut builder = FaultServer::builder(fault);
    if let Some((upstream, bad_gateway)) = &settings.upstream {
        builder = builder.upstream(upstream).bad_gateway(*bad_gateway);
    }
    let server = builder
        .port(port)
        .tls(settings.tls)
        .http2(settings.http2)
        .on_attempt(move |attempt| {
            lines.send(format!("{attempt}\n"));
            if let Some(json) = &json {
                // An attempt is plain data: serializing it cannot fail.
                if let Ok(line) = serde_json::to_string(attempt) {
                    json.send(line + "\n");
                }
            }
        })
        .start()
        .await
        .map_err(|error| start_error(error, port))?;
    if let (Some(file), Some(pem)) = (&settings.write_ca, server.ca_pem()) {
        std::fs::write(file, pem)
            .with_context(|| format!("cannot write the CA certificate to {}", file.display()))?;
    }
    print_url(&server.url())?;
    if let Some(serving) = server.serving_addr() {
        stderr.send(format!("healthy server actually listens on {serving}\n"));
    }
    signals.received().await;
    if tokio::time::timeout(SHUTDOWN_GRACE, server.shutdown())
        .await
        .is_err()
    {
        stderr.send(format!(
            "outage: connections still open after {SHUTDOWN_GRACE:?}; exiting anyway\n"
        ));
    }
    if let (Some(journal), Some(file)) = (journal, &settings.journal) {
        let closed = journal.close(DRAIN_GRACE);
        if closed.dropped > 0 {
            stderr.send(format!(
                "outage: {} attempt lines dropped from the journal file: it was written \
                 slower than attempts ended (a queue holds {QUEUE_LINES} lines)\n",
                closed.dropped
            ));
        }
        if let Some(error) = closed.error {
            stderr.send(format!(
                "outage: {} attempt lines could not be written to the journal file {}: {error}\n",
                closed.failed,
                file.display()
            ));
        }
    }
    stderr.close(DRAIN_GRACE);
    Ok(ExitCode::SUCCESS)
}

/// Adds what to do next to a server that could not start, where the error
/// does not say it already.
fn start_error(error: ServerError, port: u16) -> anyhow::Error {
    let hint = match &error {
        ServerError::Bind { .. } if port != 0 => {
            "; pick another --port, or leave it out to let the OS choose a free one"
        }
        ServerError::Listener {
            fault: "blackhole", ..
        } => "; use `hang-on-accept` for a connection that stalls after connecting",
        ServerError::Bind { .. }
        | ServerError::Listener { .. }
        | ServerError::InvalidFault(_)
        | ServerError::Certificates(_)
        | ServerError::Upstream { .. } => "",
    };
    anyhow::anyhow!("{error}{hint}")
}
