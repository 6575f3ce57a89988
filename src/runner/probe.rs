//! The probe protocol: the last stdout line of a client that is a JSON object
//! with an `outcome` key says what happened.
//!
//! ```text
//! {"outcome": "error", "native": "requests.exceptions.ConnectTimeout",
//!  "is_a": ["requests.exceptions.ConnectTimeout", "requests.exceptions.ConnectionError", ...],
//!  "class": "connect-timeout", "message": "...", "status": null}
//! {"outcome": "response", "status": 200}
//! {"outcome": "skipped", "message": "httpx is not installed for /usr/bin/python3"}
//! ```
//!
//! `skipped` says the client cannot run on this machine (a library it needs
//! is not installed): the scenario is skipped with the message as its reason.
//!
//! Any other output is the client's own and is ignored, even a line that
//! looks like JSON. A line with an `outcome` key that breaks the protocol (an
//! unknown outcome or class, a value of the wrong type, a response without
//! its status) is an error, never dropped: a probe that reports wrongly must
//! not pass for one that reports nothing.

use std::fmt;

use serde::Deserialize;

use crate::ErrorClass;
use crate::runner::{ClientError, Outcome};

/// The most of a malformed probe line an error quotes.
const QUOTED: usize = 300;

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
enum Kind {
    Response,
    Error,
    Skipped,
}

#[derive(Deserialize)]
struct Line {
    outcome: Kind,
    #[serde(default)]
    native: Option<String>,
    #[serde(default)]
    is_a: Vec<String>,
    #[serde(default)]
    class: Option<String>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    status: Option<u16>,
}

/// A probe line that breaks the protocol: the line, and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadProbeLine {
    /// The line, as printed.
    pub line: String,
    /// What is wrong with it.
    pub reason: String,
}

impl fmt::Display for BadProbeLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut end = self.line.len().min(QUOTED);
        while !self.line.is_char_boundary(end) {
            end -= 1;
        }
        let more = if end < self.line.len() { " ..." } else { "" };
        write!(
            f,
            "the client's probe line is malformed: {}; fix the probe that printed\n  {}{more}",
            self.reason,
            &self.line[..end]
        )
    }
}

/// The outcome the last probe line in `stdout` reports: `None` when no line
/// is a probe line, an error when the last one breaks the protocol.
pub fn parse(stdout: &str) -> Result<Option<Outcome>, BadProbeLine> {
    let Some(line) = stdout.lines().rev().find(|line| is_probe_line(line)) else {
        return Ok(None);
    };
    let bad = |reason: String| BadProbeLine {
        line: line.trim().to_owned(),
        reason,
    };
    let parsed: Line = serde_json::from_str(line).map_err(|e| bad(e.to_string()))?;
    let outcome = match parsed.outcome {
        Kind::Skipped => Outcome::Unavailable {
            reason: parsed
                .message
                .unwrap_or_else(|| "the probe says its client cannot run here".to_owned()),
        },
        Kind::Response => Outcome::Response {
            status: parsed
                .status
                .ok_or_else(|| bad("a response needs its `status`".to_owned()))?,
        },
        Kind::Error => Outcome::Error(ClientError {
            native: parsed.native,
            is_a: parsed.is_a,
            class: parsed
                .class
                .as_deref()
                .map(str::parse::<ErrorClass>)
                .transpose()
                .map_err(|e| bad(e.to_string()))?,
            message: parsed.message.unwrap_or_default(),
            status: parsed.status,
        }),
    };
    Ok(Some(outcome))
}

/// True for a line that is a JSON object with an `outcome` key.
fn is_probe_line(line: &str) -> bool {
    line.trim_start().starts_with('{')
        && serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(line)
            .is_ok_and(|object| object.contains_key("outcome"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_skipped_line_says_why_the_client_cannot_run() {
        let stdout = r#"{"outcome": "skipped", "message": "httpx is not installed"}"#;
        assert_eq!(
            parse(stdout),
            Ok(Some(Outcome::Unavailable {
                reason: "httpx is not installed".to_owned()
            }))
        );
    }

    #[test]
    fn the_last_probe_line_wins_and_other_output_is_ignored() {
        let stdout = "starting\n{\"outcome\": \"response\", \"status\": 503}\nnoise {\n\
                      {\"outcome\": \"error\", \"native\": \"x.Y\", \"is_a\": [\"x.Y\", \"x.Base\"], \"class\": \"reset\", \"message\": \"boom\", \"status\": null}\n\
                      {\"progress\": 1}\n";
        let Ok(Some(Outcome::Error(error))) = parse(stdout) else {
            panic!("no error parsed")
        };
        assert!(error.is_a("x.Base"));
        assert_eq!(error.class, Some(ErrorClass::Reset));
    }

    #[test]
    fn no_probe_line_means_no_outcome() {
        assert_eq!(
            parse("hello\n{\"not\": \"a probe\"}\n{broken json\n"),
            Ok(None)
        );
    }

    #[test]
    fn a_probe_line_that_breaks_the_protocol_is_quoted_with_what_is_wrong() {
        let cases = [
            (r#"{"outcome": "eror"}"#, "unknown variant `eror`"),
            (
                r#"{"outcome": "response", "status": "200"}"#,
                "invalid type: string \"200\"",
            ),
            (
                r#"{"outcome": "response"}"#,
                "a response needs its `status`",
            ),
            (
                r#"{"outcome": "error", "class": "resett"}"#,
                "unknown error class \"resett\"",
            ),
        ];
        for (line, reason) in cases {
            let bad = parse(&format!("ok so far\n{line}\n")).unwrap_err();
            assert!(bad.reason.contains(reason), "{line}: {}", bad.reason);
            let shown = bad.to_string();
            assert!(shown.ends_with(&format!("\n  {line}")), "{shown}");
        }
    }

    #[test]
    fn a_long_malformed_line_is_quoted_in_part() {
        let line = format!("{{\"outcome\": 1, \"message\": \"{}\"}}", "é".repeat(1000));
        let shown = parse(&line).unwrap_err().to_string();
        assert!(shown.ends_with(" ..."), "{shown}");
        assert!(shown.len() < 600, "{} bytes", shown.len());
    }
}
