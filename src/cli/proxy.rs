//! `outage proxy`: Toxiproxy's HTTP API, served as `toxiproxy-server`
//! serves it, until SIGINT or SIGTERM.
//!
//! The contract is `outage serve`'s: the API's URL alone on the first line
//! of stdout once it listens (and once the config file's proxies are up),
//! exit 0 after a signal.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, anyhow};
use clap::Args;

use crate::toxiproxy::{ApiError, ToxiproxyApi};

use super::serve::{SHUTDOWN_GRACE, StopSignals, block_on, print_url};

/// The options of `outage proxy`, named as `toxiproxy-server`'s.
#[derive(Debug, Args)]
pub(crate) struct ProxyArgs {
    /// The host the API listens on: an IP, or a name such as `localhost`.
    #[arg(long, value_name = "HOST", default_value = "127.0.0.1")]
    host: String,
    /// The port the API listens on (default 8474), or with `--upstream`,
    /// the proxy (default: one the OS picks); 0 for one the OS picks.
    #[arg(long, value_name = "N")]
    pub(crate) port: Option<u16>,
    /// A Toxiproxy config file, created before the URL is printed: a JSON
    /// array of proxies, `[{"name","listen","upstream","enabled"}]`.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Instead of the API: one HTTP-aware proxy in front of this service
    /// (`HOST:PORT`), applying FAULT to each request, as `outage serve`
    /// serves it (URL on stdout, a line per attempt on stderr).
    #[arg(long, value_name = "HOST:PORT", conflicts_with_all = ["config", "host"])]
    pub(crate) upstream: Option<String>,
    /// With `--upstream`: answer 502 when the upstream cannot be reached
    /// (default: close the client's connection at once, as Toxiproxy does).
    #[arg(long, requires = "upstream")]
    pub(crate) bad_gateway: bool,
    /// With `--upstream`: the fault (default `ok`) and its `--KEY VALUE`
    /// options, then `outage serve`'s `--tls`, `--write-ca FILE`,
    /// `--journal FILE` if wanted.
    #[arg(
        value_name = "FAULT [--KEY VALUE]",
        trailing_var_arg = true,
        allow_hyphen_values = true,
        requires = "upstream"
    )]
    pub(crate) fault: Vec<String>,
}

/// The API's port when none is given, Toxiproxy's.
const API_PORT: u16 = 8474;

/// Serves the API until a signal arrives.
pub(crate) fn proxy(args: ProxyArgs) -> Result<ExitCode> {
    let config = match &args.config {
        Some(file) => {
            let json = std::fs::read(file)
                .with_context(|| format!("cannot read the config file {}", file.display()))?;
            Some((file.as_path(), json))
        }
        None => None,
    };
    block_on(run(&args, config))
}

async fn run(args: &ProxyArgs, config: Option<(&Path, Vec<u8>)>) -> Result<ExitCode> {
    let port = args.port.unwrap_or(API_PORT);
    let mut signals = StopSignals::listen()?;
    let api = ToxiproxyApi::start((args.host.as_str(), port))
        .await
        .with_context(|| {
            let hint = match port {
                0 => "",
                _ => "; pick another --port, or give --port 0 to let the OS choose a free one",
            };
            format!("cannot listen on {}:{}{hint}", args.host, port)
        })?;
    if let Some((file, json)) = config {
        api.populate(&json)
            .await
            .map_err(|error| config_error(file, &error))?;
    }
    print_url(&api.url())?;
    signals.received().await;
    if tokio::time::timeout(SHUTDOWN_GRACE, api.shutdown())
        .await
        .is_err()
    {
        eprintln!("outage: requests still open after {SHUTDOWN_GRACE:?}; exiting anyway");
    }
    Ok(ExitCode::SUCCESS)
}

/// A config file's error, worded for a file rather than a request body.
fn config_error(file: &Path, error: &ApiError) -> anyhow::Error {
    let what = error.message.strip_prefix("bad request body: ");
    let what = what.unwrap_or(&error.message);
    anyhow!("bad config file {}: {what}", file.display())
}
