//! What a scenario expects, and the check of what was observed against it.

use crate::ErrorClass;
use crate::Retries;
use crate::scenario::{Observed, Outcome};
use crate::schedule::{Bounds, Mismatch, secs};

/// What must happen. Every field is optional; a scenario must give at least one.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Expect {
    /// The client's own error name, matched against its whole hierarchy.
    pub error: Option<String>,
    /// The neutral error class: any one of these, for a client whose class
    /// depends on a race it cannot control; empty when not expected.
    pub class: Vec<ErrorClass>,
    /// The response status (also the status an HTTP error carried).
    pub status: Option<u16>,
    /// Attempts the server saw, and the time between the starts of
    /// consecutive attempts: the library's own retry expectation.
    pub retries: Retries,
    /// How long the client ran.
    pub duration: Option<Bounds>,
    /// The client's exit code.
    pub exit: Option<i32>,
    /// Texts the client's output must contain.
    pub output: Vec<String>,
    /// The client must still be running at the deadline.
    pub hangs: bool,
}

impl Expect {
    /// The expected classes, in words (`reset or empty-reply`), when any.
    pub fn classes(&self) -> Option<String> {
        let names: Vec<String> = self.class.iter().map(ErrorClass::to_string).collect();
        (!names.is_empty()).then(|| names.join(" or "))
    }

    /// True when the scenario expects nothing at all, which could never fail.
    pub fn is_empty(&self) -> bool {
        *self == Expect::default()
    }

    /// Every expectation that `observed` breaks.
    pub fn check(&self, observed: &Observed) -> Vec<Mismatch> {
        let mut found = Vec::new();
        let mut miss = |what, expected: String, got: String| {
            found.push(Mismatch {
                what,
                expected,
                got,
            })
        };
        let outcome = &observed.outcome;
        match (self.hangs, outcome) {
            (true, Outcome::Killed { .. })
            | (
                false,
                Outcome::Response { .. }
                | Outcome::Error(_)
                | Outcome::Exited
                | Outcome::Unavailable { .. },
            ) => {}
            (true, _) => miss(
                "hang",
                "the client still running at the deadline".into(),
                outcome.to_string(),
            ),
            (false, Outcome::Killed { .. }) => {
                miss("finish", "the client to finish".into(), outcome.to_string())
            }
        }
        if let Some(name) = &self.error
            && !matches!(outcome, Outcome::Error(e) if e.is_a(name))
        {
            miss(
                "error",
                format!("an error that is a {name}"),
                outcome.to_string(),
            );
        }
        if let Some(classes) = self.classes()
            && !matches!(outcome, Outcome::Error(e) if e.class.is_some_and(|c| self.class.contains(&c)))
        {
            let got = match outcome {
                Outcome::Error(e) => format!(
                    "{}, from {}",
                    e.class
                        .map_or("no class".to_owned(), |class| class.to_string()),
                    e.native.as_deref().unwrap_or("an unnamed error")
                ),
                other => other.to_string(),
            };
            miss("class", classes, got);
        }
        if let Some(status) = self.status {
            let got = match outcome {
                Outcome::Response { status } => Some(*status),
                Outcome::Error(e) if self.error.is_some() || !self.class.is_empty() => e.status,
                _ => None,
            };
            if got != Some(status) {
                miss("status", format!("status {status}"), outcome.to_string());
            }
        }
        if let Some(code) = self.exit
            && observed.exit != Some(code)
        {
            let got = observed
                .exit
                .map_or("no exit code".to_owned(), |c| format!("exit {c}"));
            miss("exit", format!("exit {code}"), got);
        }
        for text in &self.output {
            if !observed.output.contains(text.as_str()) {
                miss(
                    "output",
                    format!("output containing {text:?}"),
                    "output without it".into(),
                );
            }
        }
        let retries = self
            .retries
            .check(observed.attempt_count, &observed.gaps, || {
                observed.attempts.clone()
            });
        for mismatch in retries {
            miss(mismatch.what, mismatch.expected, mismatch.got);
        }
        if let Some(bounds) = self.duration
            && !bounds.admits(observed.took)
        {
            miss("duration", bounds.to_string(), secs(observed.took));
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::runner::ClientError;
    use crate::schedule::{Count, Exponential, Gaps};

    fn ms(ms: u64) -> Duration {
        Duration::from_millis(ms)
    }

    fn observed(outcome: Outcome, gaps: &[u64]) -> Observed {
        Observed {
            outcome,
            exit: Some(1),
            output: "Attempt 1 failed".to_owned(),
            took: ms(500),
            attempt_count: gaps.len() as u64 + 1,
            gaps: gaps.iter().map(|g| ms(*g)).collect(),
            attempts: Vec::new(),
            lookups: Vec::new(),
        }
    }

    fn connect_timeout() -> Outcome {
        Outcome::Error(ClientError {
            native: Some("requests.exceptions.ConnectTimeout".to_owned()),
            is_a: vec![
                "requests.exceptions.ConnectionError".to_owned(),
                "requests.exceptions.Timeout".to_owned(),
            ],
            class: Some(ErrorClass::ConnectTimeout),
            message: String::new(),
            status: None,
        })
    }

    fn whats(expect: &Expect, observed: &Observed) -> Vec<&'static str> {
        expect.check(observed).iter().map(|m| m.what).collect()
    }

    #[test]
    fn a_native_error_matches_anything_in_its_hierarchy() {
        let seen = observed(connect_timeout(), &[]);
        for name in [
            "requests.exceptions.ConnectTimeout",
            "requests.exceptions.ConnectionError",
            "requests.exceptions.Timeout",
        ] {
            let expect = Expect {
                error: Some(name.to_owned()),
                ..Expect::default()
            };
            assert!(expect.check(&seen).is_empty(), "{name}");
        }
        let expect = Expect {
            error: Some("requests.exceptions.HTTPError".to_owned()),
            ..Expect::default()
        };
        assert_eq!(whats(&expect, &seen), ["error"]);
    }

    #[test]
    fn a_killed_client_fails_unless_it_was_expected_to_hang() {
        let killed = observed(Outcome::Killed { after: ms(3000) }, &[]);
        let hangs = Expect {
            hangs: true,
            ..Expect::default()
        };
        assert!(hangs.check(&killed).is_empty());
        let class = Expect {
            class: vec![ErrorClass::Timeout],
            ..Expect::default()
        };
        assert_eq!(whats(&class, &killed), ["finish", "class"]);
        assert_eq!(whats(&hangs, &observed(connect_timeout(), &[])), ["hang"]);
    }

    #[test]
    fn gaps_follow_an_exponential_schedule_within_the_tolerance() {
        let gaps = Gaps {
            exponential: Some(Exponential {
                base: ms(100),
                factor: 2.0,
                cap: Some(ms(300)),
            }),
            tolerance: ms(20),
            ..Gaps::default()
        };
        let expect = Expect {
            retries: Retries {
                gaps: Some(gaps),
                ..Retries::default()
            },
            ..Expect::default()
        };
        assert!(
            expect
                .check(&observed(connect_timeout(), &[110, 190, 300, 305]))
                .is_empty()
        );
        let mismatches = expect.check(&observed(connect_timeout(), &[5, 6, 7]));
        assert_eq!(mismatches.len(), 1);
        assert_eq!(
            mismatches[0].expected,
            "0.100s        0.200s        0.300s  (each ±0.020s)"
        );
        assert_eq!(mismatches[0].got, "0.005s        0.006s        0.007s");
    }

    #[test]
    fn counts_bounds_exit_and_output_are_checked() {
        let seen = observed(Outcome::Response { status: 200 }, &[100, 100]);
        let expect = Expect {
            status: Some(200),
            retries: Retries {
                attempts: Some(Count::Between {
                    min: Some(4),
                    max: None,
                }),
                gaps: Some(Gaps {
                    min: Some(ms(150)),
                    ..Gaps::default()
                }),
                ..Retries::default()
            },
            duration: Some(Bounds {
                min: None,
                max: Some(ms(100)),
            }),
            exit: Some(0),
            output: vec!["Attempt 1 failed".to_owned(), "Success".to_owned()],
            ..Expect::default()
        };
        assert_eq!(
            whats(&expect, &seen),
            ["exit", "output", "attempts", "gaps", "duration"]
        );
    }

    #[test]
    fn a_class_list_passes_on_any_of_its_classes() {
        let either = Expect {
            class: vec![ErrorClass::Reset, ErrorClass::ConnectTimeout],
            ..Expect::default()
        };
        assert!(either.check(&observed(connect_timeout(), &[])).is_empty());
        let neither = Expect {
            class: vec![ErrorClass::Reset, ErrorClass::EmptyReply],
            ..Expect::default()
        };
        let missed = neither.check(&observed(connect_timeout(), &[]));
        assert_eq!(missed[0].expected, "reset or empty-reply");
    }
}
