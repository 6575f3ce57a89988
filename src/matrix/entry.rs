//! One scenario's result as the matrix reads it: the few fields of a
//! [`Report`] it shows, read from the report's JSON whether the scenario was
//! just run or its results were saved by `outage run --format json`.
//!
//! Reading JSON in both cases keeps one path: a report just made is turned
//! into the same JSON a results file holds, and read back.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::runner::Report;
pub use crate::runner::Verdict;
use crate::scenario::{Expect, Scenario};

/// One scenario's result, or what its file expects.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Entry {
    /// The scenario's name: its path without `scenarios/` and `.toml`.
    pub name: String,
    /// Its file.
    pub path: PathBuf,
    /// What it teaches.
    #[serde(default)]
    pub description: String,
    /// The fault's name.
    #[serde(default)]
    pub fault: String,
    /// The client's label.
    #[serde(default)]
    pub client: String,
    /// How it ended; `None` for an expectation, which did not run.
    pub verdict: Option<Verdict>,
    /// Why it did not pass, in one line.
    #[serde(default)]
    pub reason: String,
    /// The expectations that did not hold.
    #[serde(default)]
    pub mismatches: Vec<Missed>,
    /// What is surprising about what the client does, when the scenario says.
    #[serde(default)]
    pub surprise: Option<String>,
    /// What the run observed, when it ran.
    #[serde(default)]
    pub observed: Option<Seen>,
}

/// An expectation that did not hold, as in [`crate::scenario::Mismatch`].
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Missed {
    /// What was checked.
    pub what: String,
    /// What was expected.
    pub expected: String,
    /// What happened.
    pub got: String,
}

impl Entry {
    /// Why it did not pass: every expectation that did not hold, or the
    /// reason it did not run.
    pub fn why(&self) -> String {
        if self.mismatches.is_empty() {
            return self.reason.clone();
        }
        self.mismatches
            .iter()
            .map(|m| format!("{}: expected {}, got {}", m.what, m.expected, m.got))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// What a run observed: how the client ended, and the journal's attempts.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Seen {
    /// How the client ended.
    pub outcome: Outcome,
    /// The journal, each attempt as a span of time.
    #[serde(default)]
    pub attempts: Vec<Span>,
}

/// How the client ended.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
pub enum Outcome {
    /// It got a response and did not raise.
    Response {
        /// The status.
        status: u16,
    },
    /// It raised an error.
    Error {
        /// The client's own name for the error.
        #[serde(default)]
        native: Option<String>,
        /// The neutral class, such as `reset`.
        #[serde(default)]
        class: Option<String>,
    },
    /// It exited without saying what happened.
    Exited,
    /// It was still running at the deadline, and was killed.
    Killed,
}

/// One attempt in the journal, in seconds since the server started.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Span {
    /// When it started.
    pub started: f64,
    /// When it ended, if it did.
    #[serde(default)]
    pub ended: Option<f64>,
    /// How it ended, such as `server-rst` (an [`crate::Ending`] in kebab-case).
    #[serde(default)]
    pub ending: Option<String>,
}

/// Why a results file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ResultsError {
    /// The file could not be read.
    #[error("cannot read {path}: {error}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        error: std::io::Error,
    },
    /// The file is not what `outage run --format json` writes.
    #[error(
        "{path} is not a results file of `outage run --format json`: {error}; \
         write one with `outage run --format json > FILE`"
    )]
    Json {
        /// The file.
        path: PathBuf,
        /// What is wrong, with its line and column.
        error: serde_json::Error,
    },
}

/// Reads a results file written by `outage run --format json`.
pub fn read_results(path: &Path) -> Result<Vec<Entry>, ResultsError> {
    let text = std::fs::read_to_string(path).map_err(|error| ResultsError::Read {
        path: path.to_owned(),
        error,
    })?;
    serde_json::from_str(&text).map_err(|error| ResultsError::Json {
        path: path.to_owned(),
        error,
    })
}

/// The entries of reports just made, read from their JSON as a results file
/// would be.
pub fn from_reports(reports: &[Report]) -> Vec<Entry> {
    reports
        .iter()
        .map(|report| {
            // A report's JSON always has the fields an entry reads: the two
            // are tested together, so a failure here is a bug, shown as a
            // broken entry rather than a panic.
            serde_json::to_value(report)
                .and_then(serde_json::from_value)
                .unwrap_or_else(|error| Entry::unreadable(report, &error))
        })
        .collect()
}

impl Entry {
    /// What a scenario file expects, as an entry that did not run.
    pub fn expected(scenario: &Scenario) -> Entry {
        Entry {
            name: scenario.name(),
            path: scenario.path.clone(),
            description: scenario.description.clone(),
            fault: scenario.fault.name().to_owned(),
            client: scenario.client_label(),
            verdict: None,
            reason: String::new(),
            mismatches: Vec::new(),
            surprise: scenario.surprise.clone(),
            observed: Some(Seen {
                outcome: expected_outcome(&scenario.expect),
                attempts: Vec::new(),
            }),
        }
    }

    fn unreadable(report: &Report, error: &serde_json::Error) -> Entry {
        Entry {
            name: report.name.clone(),
            path: report.path.clone(),
            description: report.description.clone(),
            fault: report.fault.clone(),
            client: report.client.clone(),
            verdict: Some(Verdict::Broken),
            reason: format!("its report could not be read: {error}"),
            mismatches: Vec::new(),
            surprise: None,
            observed: None,
        }
    }
}

/// The outcome an expectation describes: an error when it names one, else a
/// status, else a hang, else an exit judged by its code or output.
fn expected_outcome(expect: &Expect) -> Outcome {
    if expect.error.is_some() || !expect.class.is_empty() {
        Outcome::Error {
            native: expect.error.clone(),
            class: expect.classes(),
        }
    } else if let Some(status) = expect.status {
        Outcome::Response { status }
    } else if expect.hangs {
        Outcome::Killed
    } else {
        Outcome::Exited
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_results_file_of_an_older_outage_without_surprise_is_read() {
        let json = r#"[{"name": "transport/reset-curl", "path": "scenarios/transport/reset-curl.toml",
            "description": "d", "fault": "reset", "client": "curl_get.sh", "seed": null,
            "verdict": "passed", "reason": "", "mismatches": [],
            "observed": {"outcome": {"outcome": "error", "native": "CURLE_RECV_ERROR",
                "is_a": [], "class": "reset", "message": "m", "status": null},
                "attempts": [{"started": 0.5, "ended": 0.75, "ending": "server-rst"}]}}]"#;
        let entries: Vec<Entry> = serde_json::from_str(json).expect("a results file");
        assert_eq!(entries[0].surprise, None);
        assert_eq!(entries[0].verdict, Some(Verdict::Passed));
        let seen = entries[0].observed.as_ref().expect("observed");
        assert_eq!(
            seen.outcome,
            Outcome::Error {
                native: Some("CURLE_RECV_ERROR".to_owned()),
                class: Some("reset".to_owned())
            }
        );
        assert_eq!(seen.attempts[0].ending.as_deref(), Some("server-rst"));
    }

    #[test]
    fn a_bad_results_file_is_named_with_what_is_wrong() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let path = dir.path().join("results.json");
        std::fs::write(&path, "[{\"name\": 3}]").expect("written");
        let error = read_results(&path).expect_err("not results").to_string();
        assert!(error.starts_with(&format!("{} is not a results file", path.display())));
        assert!(error.contains("line 1 column"), "{error}");
        let missing = read_results(&dir.path().join("none.json")).expect_err("missing");
        assert!(missing.to_string().starts_with("cannot read "), "{missing}");
    }
}
