//! Retry schedules: how many attempts, how far apart, and how long in all,
//! checked against a [`Journal`].
//!
//! Scenario files use the same types under `[expect]`; a Rust test uses
//! [`Retries`] and [`Journal::check_retries`](crate::Journal::check_retries).
//!
//! # Example
//!
//! ```
//! # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use std::time::Duration;
//! use outage::schedule::Retries;
//! use outage::{Fault, FaultServer};
//!
//! let server = FaultServer::start(Fault::sequence([Fault::reset(), Fault::reset(), Fault::ok()])).await?;
//! // No idle connections kept: each attempt's connection closes after its
//! // answer, so the journal sees every attempt end. (With a pooled client,
//! // the last attempt ends when the client is dropped.)
//! let client = reqwest::Client::builder().pool_max_idle_per_host(0).build()?;
//! let mut wait = Duration::from_secs(1);
//! while client.get(server.url()).send().await.is_err() {
//!     tokio::time::sleep(wait).await;
//!     wait *= 2;
//! }
//! drop(client);
//! server.journal().settled(3, Duration::from_secs(5)).await?;
//! let expected = Retries::new().attempts(3).exponential(Duration::from_secs(1), 2.0).tolerance(Duration::ZERO);
//! server.journal().check_retries(&expected)?;
//! # Ok(()) }
//! ```

use std::fmt;
use std::time::Duration;

use serde::Deserialize;

use crate::duration;
use crate::{Attempt, Journal};

/// An exact count, or bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Count {
    /// Exactly this many.
    Exactly(u64),
    /// At least `min` (when given) and at most `max` (when given).
    Between {
        /// The least allowed.
        min: Option<u64>,
        /// The most allowed.
        max: Option<u64>,
    },
}

impl Count {
    /// True when `n` is allowed.
    pub fn admits(self, n: u64) -> bool {
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
    /// True when `d` lies within the bounds.
    pub fn admits(self, d: Duration) -> bool {
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

/// How a client randomises each wait `d` of its schedule.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Jitter {
    /// Exactly `d`.
    #[default]
    None,
    /// Anywhere from 0 to `d` ("full jitter").
    Full,
    /// Anywhere from `d/2` to `d` ("equal jitter").
    Equal,
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

    /// Gap `i`, counting from 0.
    pub fn gap(self, i: usize) -> Duration {
        let secs = self.base.as_secs_f64() * self.factor.powi(i.min(1000) as i32);
        let gap = Duration::try_from_secs_f64(secs).unwrap_or(Duration::MAX);
        self.cap.map_or(gap, |cap| gap.min(cap))
    }
}

/// The schedule of gaps between the starts of consecutive attempts.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Gaps {
    /// Exactly these gaps, in order.
    #[serde(default, with = "duration::list")]
    pub exactly: Vec<Duration>,
    /// Gaps growing exponentially.
    #[serde(default)]
    pub exponential: Option<Exponential>,
    /// How the client randomises each gap of `exactly` or `exponential`.
    #[serde(default)]
    pub jitter: Jitter,
    /// No gap shorter than this.
    #[serde(default, with = "duration::option")]
    pub min: Option<Duration>,
    /// No gap longer than this.
    #[serde(default, with = "duration::option")]
    pub max: Option<Duration>,
    /// How far each gap may stray outside its bounds (default 100ms).
    #[serde(default = "Gaps::default_tolerance", with = "duration")]
    pub tolerance: Duration,
}

impl fmt::Display for Gaps {
    /// The schedule in words: `1.000s 2.000s`, `0.100s ×2 up to 1.000s, full
    /// jitter`, `at least 0.100s`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        if !self.exactly.is_empty() {
            parts.push(
                self.exactly
                    .iter()
                    .map(|g| secs(*g))
                    .collect::<Vec<_>>()
                    .join(" "),
            );
        }
        if let Some(exponential) = self.exponential {
            let mut growth = format!("{} ×{}", secs(exponential.base), exponential.factor);
            if let Some(cap) = exponential.cap {
                growth.push_str(&format!(" up to {}", secs(cap)));
            }
            parts.push(growth);
        }
        match self.jitter {
            Jitter::None => {}
            Jitter::Full => parts.push("full jitter".to_owned()),
            Jitter::Equal => parts.push("equal jitter".to_owned()),
        }
        if let Some(min) = self.min {
            parts.push(format!("at least {}", secs(min)));
        }
        if let Some(max) = self.max {
            parts.push(format!("at most {}", secs(max)));
        }
        f.write_str(&parts.join(", "))
    }
}

impl Gaps {
    fn default_tolerance() -> Duration {
        Duration::from_millis(100)
    }

    /// The bounds on each of `n` observed gaps that a schedule names, if it names one.
    fn schedule(&self, n: usize) -> Option<Vec<(Duration, Duration)>> {
        let planned: Vec<Duration> = if !self.exactly.is_empty() {
            self.exactly.clone()
        } else {
            let exponential = self.exponential?;
            (0..n).map(|i| exponential.gap(i)).collect()
        };
        let range = |d: Duration| match self.jitter {
            Jitter::None => (d, d),
            Jitter::Full => (Duration::ZERO, d),
            Jitter::Equal => (d / 2, d),
        };
        Some(planned.into_iter().map(range).collect())
    }

    /// Every way `got` breaks the schedule.
    pub fn check(&self, got: &[Duration]) -> Vec<Mismatch> {
        let mut found = Vec::new();
        if let Some(schedule) = self.schedule(got.len()) {
            let fits = |(&(lo, hi), gap): (&(Duration, Duration), &Duration)| {
                gap.saturating_add(self.tolerance) >= lo
                    && *gap <= hi.saturating_add(self.tolerance)
            };
            if schedule.len() != got.len() || !schedule.iter().zip(got).all(fits) {
                let expected = schedule
                    .iter()
                    .map(|&(lo, hi)| span(lo, hi))
                    .collect::<Vec<_>>();
                found.push(Mismatch {
                    what: "gaps",
                    expected: format!("{}  (each ±{})", columns(&expected), secs(self.tolerance)),
                    got: columns(&got.iter().map(|g| secs(*g)).collect::<Vec<_>>()),
                });
            }
        }
        let all = columns(&got.iter().map(|g| secs(*g)).collect::<Vec<_>>());
        if let Some(min) = self.min
            && got.iter().any(|g| *g < min)
        {
            found.push(Mismatch {
                what: "gaps",
                expected: format!("every gap at least {}", secs(min)),
                got: all.clone(),
            });
        }
        if let Some(max) = self.max
            && got.iter().any(|g| *g > max)
        {
            found.push(Mismatch {
                what: "gaps",
                expected: format!("every gap at most {}", secs(max)),
                got: all,
            });
        }
        found
    }
}

/// One expectation that did not hold.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Mismatch {
    /// What was checked.
    pub what: &'static str,
    /// What was expected.
    pub expected: String,
    /// What happened.
    pub got: String,
}

impl fmt::Display for Mismatch {
    /// On one line; with `{:#}`, as a block of three indented lines, the
    /// expected value above the one got, so that schedules line up.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Mismatch {
            what,
            expected,
            got,
        } = self;
        if f.alternate() {
            writeln!(f, "  {what}:\n    expected {expected}\n    got      {got}")
        } else {
            write!(f, "{what}: expected {expected}, got {got}")
        }
    }
}

/// What a retrying client must have done, as the server saw it: built from
/// [`Retries::new`] with a setter for each expectation.
#[derive(Debug, Clone, Default, PartialEq)]
#[must_use = "a retry expectation does nothing until checked with Journal::check_retries"]
#[non_exhaustive]
pub struct Retries {
    /// Attempts the server saw.
    pub attempts: Option<Count>,
    /// The gaps between them.
    pub gaps: Option<Gaps>,
    /// The longest time from the first attempt's start to the last one's.
    pub within: Option<Duration>,
    /// Non-idempotent requests (POST, PATCH) must reach the server only once:
    /// after its body was sent, a retry may repeat what the server already did.
    pub non_idempotent_once: bool,
}

impl Retries {
    /// No expectation yet.
    pub fn new() -> Self {
        Retries::default()
    }

    /// Exactly `n` attempts.
    pub fn attempts(mut self, n: u64) -> Self {
        self.attempts = Some(Count::Exactly(n));
        self
    }

    /// Between `min` and `max` attempts.
    pub fn attempts_between(mut self, min: u64, max: u64) -> Self {
        self.attempts = Some(Count::Between {
            min: Some(min),
            max: Some(max),
        });
        self
    }

    /// Gaps of exactly these durations.
    pub fn gaps(mut self, gaps: impl IntoIterator<Item = Duration>) -> Self {
        self.gaps_mut().exactly = gaps.into_iter().collect();
        self
    }

    /// Gaps of `base`, `base × factor`, `base × factor²` …
    pub fn exponential(mut self, base: Duration, factor: f64) -> Self {
        self.gaps_mut().exponential = Some(Exponential {
            base,
            factor,
            cap: None,
        });
        self
    }

    /// No gap of the exponential schedule longer than `cap`.
    pub fn cap(mut self, cap: Duration) -> Self {
        if let Some(exponential) = &mut self.gaps_mut().exponential {
            exponential.cap = Some(cap);
        }
        self
    }

    /// Each gap randomised as `jitter` says.
    pub fn jitter(mut self, jitter: Jitter) -> Self {
        self.gaps_mut().jitter = jitter;
        self
    }

    /// How far each gap may stray: 100ms unless set, on a real clock and on
    /// tokio's paused clock alike. In virtual time, where a client's waits
    /// are exact, set it to `Duration::ZERO` to check them exactly.
    pub fn tolerance(mut self, tolerance: Duration) -> Self {
        self.gaps_mut().tolerance = tolerance;
        self
    }

    /// Every gap at least `min`: the client does wait between attempts.
    pub fn min_gap(mut self, min: Duration) -> Self {
        self.gaps_mut().min = Some(min);
        self
    }

    /// All attempts start within `total` of the first.
    pub fn within(mut self, total: Duration) -> Self {
        self.within = Some(total);
        self
    }

    /// The one POST or PATCH the client sends reaches the server only once.
    /// (Every POST and PATCH in the journal counts, so use it in a test whose
    /// client sends one.)
    pub fn non_idempotent_once(mut self) -> Self {
        self.non_idempotent_once = true;
        self
    }

    fn gaps_mut(&mut self) -> &mut Gaps {
        self.gaps.get_or_insert_with(|| Gaps {
            tolerance: Gaps::default_tolerance(),
            ..Gaps::default()
        })
    }
}

/// A journal that broke a retry expectation, with every way it broke it.
/// Its `Debug` is its table, so `?` and `.unwrap()` print it readably.
#[derive(Clone, PartialEq, Eq, thiserror::Error)]
pub struct RetryMismatch(pub Vec<Mismatch>);

impl fmt::Debug for RetryMismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for RetryMismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "the retries did not go as expected")?;
        self.0
            .iter()
            .try_for_each(|mismatch| write!(f, "{mismatch:#}"))
    }
}

impl Journal {
    /// Panics with the table of every mismatch unless the attempts meet
    /// `expected`, as wiremock's `verify` does.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use outage::{Fault, FaultServer, Retries};
    /// let server = FaultServer::start(Fault::ok()).await?;
    /// reqwest::get(server.url()).await?;
    /// server.journal().settled(1, std::time::Duration::from_secs(5)).await?;
    /// server.journal().assert_retries(&Retries::new().attempts(1));
    /// # Ok(()) }
    /// ```
    #[track_caller]
    pub fn assert_retries(&self, expected: &Retries) {
        if let Err(mismatch) = self.check_retries(expected) {
            panic!("{mismatch}");
        }
    }

    /// Checks the attempts against `expected`. The error shows the expected
    /// schedule above the observed one, gap under gap.
    pub fn check_retries(&self, expected: &Retries) -> Result<(), RetryMismatch> {
        let found = expected.check(self.count(), &self.gaps(), || self.attempts());
        if found.is_empty() {
            Ok(())
        } else {
            Err(RetryMismatch(found))
        }
    }
}

impl Retries {
    /// Every way the attempts broke this expectation: `count` attempts in
    /// all, `gaps` between their starts, and the attempts journaled (asked
    /// for only when the requests' methods matter).
    pub(crate) fn check(
        &self,
        count: u64,
        gaps: &[Duration],
        attempts: impl FnOnce() -> Vec<Attempt>,
    ) -> Vec<Mismatch> {
        let mut found = Vec::new();
        if let Some(expected) = self.attempts
            && !expected.admits(count)
        {
            found.push(Mismatch {
                what: "attempts",
                expected: expected.to_string(),
                got: count.to_string(),
            });
        }
        if let Some(schedule) = &self.gaps {
            found.extend(schedule.check(gaps));
        }
        let total: Duration = gaps.iter().sum();
        if let Some(within) = self.within
            && total > within
        {
            found.push(Mismatch {
                what: "total time",
                expected: format!("at most {}", secs(within)),
                got: secs(total),
            });
        }
        if self.non_idempotent_once {
            let attempts = attempts();
            let sent = attempts
                .iter()
                .filter_map(|a| a.request.as_ref().map(|r| r.method()))
                .filter(|method| *method == "POST" || *method == "PATCH")
                .collect::<Vec<_>>();
            if sent.len() > 1 {
                found.push(Mismatch {
                    what: "non-idempotent retries",
                    expected: "each POST or PATCH sent once".to_owned(),
                    got: format!("{} sent {} times", sent[0], sent.len()),
                });
            }
        }
        found
    }
}

/// A duration in seconds with millisecond precision, as reports show them.
pub(crate) fn secs(d: Duration) -> String {
    format!("{:.3}s", d.as_secs_f64())
}

fn span(lo: Duration, hi: Duration) -> String {
    if lo == hi {
        secs(lo)
    } else {
        format!("{}-{}", secs(lo), secs(hi))
    }
}

/// Values in fixed-width columns, so an expected schedule printed above an
/// observed one lines up gap under gap.
fn columns(values: &[String]) -> String {
    if values.is_empty() {
        return "none".to_owned();
    }
    let width = values.iter().map(String::len).max().unwrap_or(0).max(13);
    values
        .iter()
        .map(|v| format!("{v:<width$}"))
        .collect::<Vec<_>>()
        .join(" ")
        .trim_end()
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(ms: u64) -> Duration {
        Duration::from_millis(ms)
    }

    #[test]
    fn full_and_equal_jitter_bound_each_gap() {
        let full = Gaps {
            exponential: Some(Exponential {
                base: ms(100),
                factor: 2.0,
                cap: None,
            }),
            jitter: Jitter::Full,
            tolerance: ms(5),
            ..Gaps::default()
        };
        assert!(full.check(&[ms(0), ms(150), ms(399)]).is_empty());
        assert_eq!(full.check(&[ms(0), ms(250)]).len(), 1);
        let equal = Gaps {
            jitter: Jitter::Equal,
            ..full
        };
        assert!(equal.check(&[ms(50), ms(100), ms(400)]).is_empty());
        assert_eq!(
            equal.check(&[ms(10), ms(100)]).len(),
            1,
            "10ms is below half of 100ms"
        );
    }

    #[test]
    fn bounds_near_the_largest_duration_never_overflow() {
        let huge_tolerance = Gaps {
            exactly: vec![ms(1000)],
            tolerance: Duration::MAX,
            ..Gaps::default()
        };
        assert!(huge_tolerance.check(&[ms(5)]).is_empty());
        let huge_gaps = Gaps {
            exponential: Some(Exponential {
                base: ms(100),
                factor: 1e300,
                cap: None,
            }),
            jitter: Jitter::Full,
            ..Gaps::default()
        };
        assert!(huge_gaps.check(&[ms(100), ms(250)]).is_empty());
    }

    #[test]
    fn a_broken_schedule_prints_expected_above_observed_gap_under_gap() {
        let gaps = Gaps {
            exactly: vec![ms(1000), ms(2000)],
            tolerance: ms(10),
            ..Gaps::default()
        };
        let mismatch = &gaps.check(&[ms(1000), ms(5)])[0];
        let expected_column = mismatch.expected.find("2.000s").unwrap();
        let got_column = mismatch.got.find("0.005s").unwrap();
        assert_eq!(expected_column, got_column, "{mismatch:?}");
    }
}
