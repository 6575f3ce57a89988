//! Scenarios: one TOML file each, naming a fault, a client under test, and
//! what must happen.
//!
//! Loading has two layers. `raw` reads the file as spanned TOML, one key at
//! a time, and `validate` checks each key on its own, so every mistake in a
//! file is reported at once with its line and column. What comes out is a
//! [`Scenario`] with real [`Duration`]s, [`Fault`]s and [`ErrorClass`]es;
//! nothing downstream sees raw strings. Loading never looks at the machine:
//! whether a client's program is installed is the runner's pre-flight check.
//!
//! `files` finds scenario files in folders and reads one (only a regular file,
//! only up to a bound); `load` parses it and assembles the scenario from
//! `raw` and `validate`; `checks` holds the checks across keys and of
//! ranges; `upstream` reads the real service behind the fault; `error`
//! locates each error by line and column; `deep` finds a key nested too
//! deep to parse.

mod checks;
mod claims;
mod deep;
mod error;
pub(crate) mod expect;
mod files;
mod load;
mod observed;
mod raw;
mod upstream;
mod validate;

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

pub use crate::schedule::{Bounds, Count, Exponential, Gaps, Mismatch};
pub use checks::MAX_DURATION;
pub use claims::contradictions;
pub use error::{LoadError, LoadErrors, Place, SHOWN_ERRORS};
pub use expect::Expect;
pub use files::{MAX_FILE_BYTES, discover};
pub use load::{load, parse};
pub use observed::{ClientError, Observed, Outcome};
pub use upstream::Upstream;

use crate::dns::{DnsFault, Names};
use crate::{ErrorClass, Fault};

/// The hard deadline for a client when the scenario gives none.
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(10);

/// One scenario, loaded and checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    /// The file it came from.
    pub path: PathBuf,
    /// What it teaches.
    pub description: String,
    /// The fault the client meets.
    pub fault: Fault,
    /// Serve the fault behind TLS, on an `https` URL (`tls = true`).
    pub tls: bool,
    /// Serve HTTP/2 as well (`http2 = true`; the `h2-*` faults always do),
    /// and have the built-in client speak it.
    pub http2: bool,
    /// The client under test.
    pub client: Client,
    /// Where the client is written in the file, for the runner's checks
    /// of the machine (is the program installed?).
    pub client_at: Place,
    /// The client's name in reports, when the file gives one (`label`).
    pub label: Option<String>,
    /// A command that builds the client's program (`build`), run once per
    /// process before the first scenario that gives it.
    pub build: Option<Vec<String>>,
    /// What the client does here that its users would not expect, when the
    /// file says (`surprise`).
    pub surprise: Option<String>,
    /// The name the client's URL uses, and what looking names up does.
    pub dns: Option<Dns>,
    /// The real service the fault stands in front of, when there is one
    /// (`upstream`): the fault then acts on the real exchange.
    pub upstream: Option<Upstream>,
    /// When the client is killed and the scenario fails.
    pub deadline: Duration,
    /// What must happen.
    pub expect: Expect,
}

impl Scenario {
    /// The client's name in reports: its `label`, or else `reqwest` or the
    /// probe's file name.
    pub fn client_label(&self) -> String {
        self.label.clone().unwrap_or_else(|| self.client.label())
    }

    /// The scenario's name: its path without the `.toml` extension.
    pub fn name(&self) -> String {
        name_of(&self.path)
    }
}

/// A scenario's name from its path: without a leading `scenarios/` and the extension.
pub fn name_of(path: &Path) -> String {
    let path = path.strip_prefix("scenarios").unwrap_or(path);
    path.with_extension("").to_string_lossy().into_owned()
}

/// A scenario's DNS: its `host` and its `[dns]` table.
#[derive(Debug, Clone, PartialEq)]
pub struct Dns {
    /// The name `{url}` and `{host}` use instead of the server's address.
    pub host: String,
    /// Names and what looking each up does; any other name is NXDOMAIN.
    pub names: BTreeMap<String, DnsFault>,
}

impl Dns {
    /// The table, with `server` the address [`DnsFault::Server`] resolves to.
    pub fn names(&self, server: IpAddr) -> Names {
        self.names
            .iter()
            .fold(Names::new(server), |names, (name, fault)| {
                names.with(name, fault.clone())
            })
    }

    /// The fault server's `url`, with `host` in place of its address `ip`:
    /// the scheme, port and path stay as the server gives them.
    pub fn url(&self, url: &str, ip: IpAddr) -> String {
        url.replacen(&ip.to_string(), &self.host, 1)
    }
}

/// The client under test.
#[derive(Debug, Clone, PartialEq)]
pub enum Client {
    /// reqwest, in process.
    Reqwest(ReqwestSettings),
    /// Any program, speaking the probe protocol or judged by its exit code.
    Command(Vec<String>),
}

impl Client {
    /// A short name for reports: `reqwest`, or the probe's file name.
    pub fn label(&self) -> String {
        match self {
            Client::Reqwest(_) => "reqwest".to_owned(),
            Client::Command(run) => run
                .iter()
                .find(|arg| arg.contains('/'))
                .or(run.first())
                .map(|arg| {
                    Path::new(arg)
                        .file_name()
                        .map_or(arg.clone(), |f| f.to_string_lossy().into_owned())
                })
                .unwrap_or_default(),
        }
    }
}

/// Settings of the built-in reqwest client. Every timeout is off unless given.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ReqwestSettings {
    /// The path and query to request, such as `/api/users?page=2` (default: `/`).
    #[serde(default)]
    pub path: Option<String>,
    /// Time allowed for the TCP connect.
    #[serde(default, with = "crate::duration::option")]
    pub connect_timeout: Option<Duration>,
    /// Time allowed for each read.
    #[serde(default, with = "crate::duration::option")]
    pub read_timeout: Option<Duration>,
    /// Time allowed for the whole request, body included.
    #[serde(default, with = "crate::duration::option")]
    pub total_timeout: Option<Duration>,
    /// Turn 4xx and 5xx responses into errors, as `error_for_status` does.
    #[serde(default)]
    pub error_for_status: bool,
    /// Retry failed attempts.
    #[serde(default)]
    pub retry: Option<RetryPolicy>,
}

/// When and how the built-in client retries.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RetryPolicy {
    /// Retries after the first attempt.
    pub times: u32,
    /// Wait before the first retry.
    #[serde(with = "crate::duration")]
    pub backoff: Duration,
    /// Each wait is the previous one times this.
    #[serde(default = "RetryPolicy::default_factor")]
    pub factor: f64,
    /// No wait is longer than this.
    #[serde(default, with = "crate::duration::option")]
    pub max_backoff: Option<Duration>,
    /// The error classes worth retrying.
    #[serde(default = "RetryPolicy::default_on")]
    pub on: Vec<ErrorClass>,
    /// Wait as long as a `Retry-After` header asks instead of the backoff.
    #[serde(default)]
    pub respect_retry_after: bool,
}

impl RetryPolicy {
    fn default_factor() -> f64 {
        2.0
    }

    /// Transport failures that happen before a request is processed, and the
    /// statuses that mean "try again later".
    fn default_on() -> Vec<ErrorClass> {
        use ErrorClass::*;
        vec![
            Refused,
            ConnectTimeout,
            Reset,
            EmptyReply,
            HttpStatus(429),
            HttpStatus(502),
            HttpStatus(503),
            HttpStatus(504),
        ]
    }

    /// The wait before retry `n` (from 0), before any `Retry-After`.
    pub fn backoff_for(&self, n: u32) -> Duration {
        let secs = self.backoff.as_secs_f64() * self.factor.powi(n.min(1000) as i32);
        let wait = Duration::try_from_secs_f64(secs).unwrap_or(Duration::MAX);
        self.max_backoff.map_or(wait, |cap| wait.min(cap))
    }
}
