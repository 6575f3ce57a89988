//! What a scenario expects, and the check of what was observed against it.

use std::fmt;
use std::time::Duration;

use serde::Deserialize;

use crate::ErrorClass;
use crate::duration;
use crate::runner::{Observed, Outcome};

/// What must happen. Every field is optional; a scenario must give at least one.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Expect {
    /// The client's own error name, matched against its whole hierarchy.
    pub error: Option<String>,
    /// The neutral error class.
    pub class: Option<ErrorClass>,
    /// The response status (also the status an HTTP error carried).
    pub status: Option<u16>,
    /// Attempts the server saw.
    pub attempts: Option<Count>,
    /// Time between the starts of consecutive attempts.
    pub gaps: Option<Gaps>,
    /// How long the client ran.
    pub duration: Option<Bounds>,
    /// The client's exit code.
    pub exit: Option<i32>,
    /// Texts the client's output must contain.
    pub output: Vec<String>,
    /// The client must still be running at the deadline.
    pub hangs: bool,
}

/// An exact count, or bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Count {
    /// Exactly this many.
    Exactly(u64),
    /// At least `min` (when given) and at most `max` (when given).
    Between { min: Option<u64>, max: Option<u64> },
}

impl Count {
    fn admits(self, n: u64) -> bool {
        match self {
            Count::Exactly(want) => n == want,
            Count::Between { min, max } => min.is_none_or(|m| n >= m) && max.is_none_or(|m| n <= m),
        }
    }
}

impl fmt::Display for Count {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Count::Exactly(n) => write!(f, "{n}"),
            Count::Between {
                min: Some(a),
                max: Some(b),
            } => write!(f, "{a} to {b}"),
            Count::Between {
                min: Some(a),
                max: None,
            } => write!(f, "at least {a}"),
            Count::Between {
                min: None,
                max: Some(b),
            } => write!(f, "at most {b}"),
            Count::Between {
                min: None,
                max: None,
            } => write!(f, "any number"),
        }
    }
}

/// Bounds on a duration.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bounds {
    /// No shorter than this.
    #[serde(default, with = "duration::option")]
    pub min: Option<Duration>,
    /// No longer than this.
    #[serde(default, with = "duration::option")]
    pub max: Option<Duration>,
}

impl Bounds {
    fn admits(self, d: Duration) -> bool {
        self.min.is_none_or(|m| d >= m) && self.max.is_none_or(|m| d <= m)
    }
}

impl fmt::Display for Bounds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.min, self.max) {
            (Some(a), Some(b)) => write!(f, "{} to {}", secs(a), secs(b)),
            (Some(a), None) => write!(f, "at least {}", secs(a)),
            (None, Some(b)) => write!(f, "at most {}", secs(b)),
            (None, None) => write!(f, "any time"),
        }
    }
}

/// The schedule of gaps between attempts.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Gaps {
    /// Exactly these gaps, in order.
    #[serde(default, with = "duration::list")]
    pub exactly: Vec<Duration>,
    /// Gaps growing exponentially.
    #[serde(default)]
    pub exponential: Option<Exponential>,
    /// No gap shorter than this.
    #[serde(default, with = "duration::option")]
    pub min: Option<Duration>,
    /// No gap longer than this.
    #[serde(default, with = "duration::option")]
    pub max: Option<Duration>,
    /// How far each gap may be from `exactly` or `exponential` (default 100ms).
    #[serde(default = "Gaps::default_tolerance", with = "duration")]
    pub tolerance: Duration,
}

impl Gaps {
    fn default_tolerance() -> Duration {
        Duration::from_millis(100)
    }

    /// The gaps a schedule names for `n` observed gaps, if it names any.
    fn schedule(&self, n: usize) -> Option<Vec<Duration>> {
        if !self.exactly.is_empty() {
            return Some(self.exactly.clone());
        }
        self.exponential.map(|e| (0..n).map(|i| e.gap(i)).collect())
    }
}

/// `base`, `base × factor`, `base × factor²` … each at most `cap`.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Exponential {
    /// The first gap.
    #[serde(with = "duration")]
    pub base: Duration,
    /// Growth per gap (default 2).
    #[serde(default = "Exponential::default_factor")]
    pub factor: f64,
    /// The longest gap.
    #[serde(default, with = "duration::option")]
    pub cap: Option<Duration>,
}

impl Exponential {
    fn default_factor() -> f64 {
        2.0
    }

    fn gap(self, i: usize) -> Duration {
        let secs = self.base.as_secs_f64() * self.factor.powi(i.min(1000) as i32);
        let gap = Duration::try_from_secs_f64(secs).unwrap_or(Duration::MAX);
        self.cap.map_or(gap, |cap| gap.min(cap))
    }
}

/// One expectation that did not hold.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Mismatch {
    /// What was checked.
    pub what: &'static str,
    /// What the scenario expected.
    pub expected: String,
    /// What happened.
    pub got: String,
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: expected {}, got {}",
            self.what, self.expected, self.got
        )
    }
}

fn secs(d: Duration) -> String {
    format!("{:.3}s", d.as_secs_f64())
}

fn list(gaps: &[Duration]) -> String {
    if gaps.is_empty() {
        return "none".to_owned();
    }
    gaps.iter().map(|g| secs(*g)).collect::<Vec<_>>().join(", ")
}

impl Expect {
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
            | (false, Outcome::Response { .. } | Outcome::Error(_) | Outcome::Exited) => {}
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
        if let Some(class) = self.class
            && !matches!(outcome, Outcome::Error(e) if e.class == Some(class))
        {
            miss("class", class.to_string(), outcome.to_string());
        }
        if let Some(status) = self.status {
            let got = match outcome {
                Outcome::Response { status } => Some(*status),
                Outcome::Error(e) if self.error.is_some() || self.class.is_some() => e.status,
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
        if let Some(count) = self.attempts
            && !count.admits(observed.attempt_count)
        {
            miss(
                "attempts",
                count.to_string(),
                observed.attempt_count.to_string(),
            );
        }
        if let Some(gaps) = &self.gaps {
            gaps.check(&observed.gaps, &mut miss);
        }
        if let Some(bounds) = self.duration
            && !bounds.admits(observed.took)
        {
            miss("duration", bounds.to_string(), secs(observed.took));
        }
        found
    }
}

impl Gaps {
    fn check(&self, got: &[Duration], miss: &mut impl FnMut(&'static str, String, String)) {
        if let Some(schedule) = self.schedule(got.len()) {
            let close = |(want, got): (&Duration, &Duration)| want.abs_diff(*got) <= self.tolerance;
            if schedule.len() != got.len() || !schedule.iter().zip(got).all(close) {
                miss(
                    "gaps",
                    format!("{} (each ±{})", list(&schedule), secs(self.tolerance)),
                    list(got),
                );
            }
        }
        if let Some(min) = self.min
            && got.iter().any(|g| *g < min)
        {
            miss(
                "gaps",
                format!("every gap at least {}", secs(min)),
                list(got),
            );
        }
        if let Some(max) = self.max
            && got.iter().any(|g| *g > max)
        {
            miss(
                "gaps",
                format!("every gap at most {}", secs(max)),
                list(got),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runner::ClientError;

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
            class: Some(ErrorClass::Timeout),
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
            gaps: Some(gaps),
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
            "0.100s, 0.200s, 0.300s (each ±0.020s)"
        );
        assert_eq!(mismatches[0].got, "0.005s, 0.006s, 0.007s");
    }

    #[test]
    fn counts_bounds_exit_and_output_are_checked() {
        let seen = observed(Outcome::Response { status: 200 }, &[100, 100]);
        let expect = Expect {
            status: Some(200),
            attempts: Some(Count::Between {
                min: Some(4),
                max: None,
            }),
            duration: Some(Bounds {
                min: None,
                max: Some(ms(100)),
            }),
            exit: Some(0),
            output: vec!["Attempt 1 failed".to_owned(), "Success".to_owned()],
            gaps: Some(Gaps {
                min: Some(ms(150)),
                ..Gaps::default()
            }),
            ..Expect::default()
        };
        assert_eq!(
            whats(&expect, &seen),
            ["exit", "output", "attempts", "gaps", "duration"]
        );
    }
}
