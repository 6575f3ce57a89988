//! What a scenario run observed: the client's outcome, its output, and the
//! server's journal.

use std::fmt;
use std::time::Duration;

use crate::dns::Query;
use crate::{Attempt, ErrorClass};

/// How the client under test ended.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Outcome {
    /// It got a response and did not raise.
    Response {
        /// The response status.
        status: u16,
    },
    /// It raised an error.
    Error(ClientError),
    /// It exited without saying what happened (no probe line); only its exit
    /// code and output tell.
    Exited,
    /// Its probe said the client cannot run on this machine (a library not
    /// installed): the scenario is skipped.
    Unavailable {
        /// Why, in the probe's words.
        reason: String,
    },
    /// It was still running at the deadline, and was killed.
    Killed {
        /// The deadline; in JSON, in seconds.
        #[serde(serialize_with = "crate::duration::seconds")]
        after: Duration,
    },
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Response { status } => write!(f, "a response with status {status}"),
            Outcome::Error(error) => write!(f, "{error}"),
            Outcome::Exited => write!(f, "an exit without a probe line"),
            Outcome::Unavailable { reason } => write!(f, "no run: {reason}"),
            Outcome::Killed { after } => write!(
                f,
                "no result: still running at the {after:?} deadline, killed"
            ),
        }
    }
}

/// An error as the client under test reported it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ClientError {
    /// The client's own name for the error.
    pub native: Option<String>,
    /// Every name the error also is in the client's hierarchy.
    pub is_a: Vec<String>,
    /// The neutral class.
    pub class: Option<ErrorClass>,
    /// The client's message.
    pub message: String,
    /// The status carried by an HTTP error.
    pub status: Option<u16>,
}

impl ClientError {
    /// True when the error is a `name`: its own name, or one in its hierarchy.
    pub fn is_a(&self, name: &str) -> bool {
        self.native.as_deref() == Some(name) || self.is_a.iter().any(|n| n == name)
    }
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "error {}", self.native.as_deref().unwrap_or("(unnamed)"))?;
        if let Some(class) = self.class {
            write!(f, " [{class}]")?;
        }
        if !self.message.is_empty() {
            write!(f, ": {}", self.message)?;
        }
        Ok(())
    }
}

/// Everything a run of one scenario observed.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Observed {
    /// How the client ended.
    pub outcome: Outcome,
    /// Its exit code, for a program.
    pub exit: Option<i32>,
    /// Its standard output and standard error, for a program.
    pub output: String,
    /// How long it ran; in JSON, in seconds.
    #[serde(serialize_with = "crate::duration::seconds")]
    pub took: Duration,
    /// Attempts the server saw, counting any the journal no longer stores.
    pub attempt_count: u64,
    /// Gaps between the starts of consecutive attempts.
    #[serde(with = "gaps")]
    pub gaps: Vec<Duration>,
    /// The journal.
    pub attempts: Vec<Attempt>,
    /// The DNS queries a program's responder answered, for scenarios with `host`.
    pub lookups: Vec<Query>,
}

mod gaps {
    use std::time::Duration;

    pub(super) fn serialize<S: serde::Serializer>(
        gaps: &[Duration],
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(
            gaps.iter()
                .map(|g| humantime::format_duration(*g).to_string()),
        )
    }
}
