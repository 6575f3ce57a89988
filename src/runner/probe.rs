//! The probe protocol: the last stdout line of a client that is a JSON object
//! with an `outcome` key says what happened.
//!
//! ```text
//! {"outcome": "error", "native": "requests.exceptions.ConnectTimeout",
//!  "is_a": ["requests.exceptions.ConnectTimeout", "requests.exceptions.ConnectionError", ...],
//!  "class": "connect-timeout", "message": "...", "status": null}
//! {"outcome": "response", "status": 200}
//! ```

use serde::Deserialize;

use crate::runner::{ClientError, Outcome};

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
enum Kind {
    Response,
    Error,
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

/// The outcome the last probe line in `stdout` reports, if there is one.
pub fn parse(stdout: &str) -> Option<Outcome> {
    stdout
        .lines()
        .rev()
        .filter(|l| l.trim_start().starts_with('{'))
        .find_map(|line| {
            let line: Line = serde_json::from_str(line).ok()?;
            Some(match line.outcome {
                Kind::Response => Outcome::Response {
                    status: line.status.unwrap_or(0),
                },
                Kind::Error => Outcome::Error(ClientError {
                    native: line.native,
                    is_a: line.is_a,
                    class: line.class.as_deref().and_then(|c| c.parse().ok()),
                    message: line.message.unwrap_or_default(),
                    status: line.status,
                }),
            })
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorClass;

    #[test]
    fn the_last_probe_line_wins_and_other_output_is_ignored() {
        let stdout = "starting\n{\"outcome\": \"response\", \"status\": 503}\nnoise {\n\
                      {\"outcome\": \"error\", \"native\": \"x.Y\", \"is_a\": [\"x.Y\", \"x.Base\"], \"class\": \"reset\", \"message\": \"boom\", \"status\": null}\n";
        let Some(Outcome::Error(error)) = parse(stdout) else {
            panic!("no error parsed")
        };
        assert!(error.is_a("x.Base"));
        assert_eq!(error.class, Some(ErrorClass::Reset));
    }

    #[test]
    fn no_probe_line_means_no_outcome() {
        assert_eq!(parse("hello\n{\"not\": \"a probe\"}\n{broken json\n"), None);
    }
}
