//! The result of one scenario, and the table, JSON and JUnit views of many.

use std::fmt::{self, Write as _};
use std::path::{Path, PathBuf};
use std::time::Duration;

#[cfg(feature = "junit")]
use quick_junit::{NonSuccessKind, TestCase, TestCaseStatus, TestSuite};

use crate::runner::Observed;
use crate::scenario::Mismatch;
use crate::scenario::{LoadErrors, Scenario, name_of};

/// How a scenario ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Verdict {
    /// Every expectation held.
    Passed,
    /// It ran, and an expectation did not hold.
    Failed,
    /// It could not run: a bad file, a fault or client that would not start.
    Broken,
    /// This machine cannot give it what it needs (a private DNS namespace);
    /// `reason` says what is missing.
    Skipped,
    /// `outage run` was stopped by a signal before it finished; `reason`
    /// says which, and whether it had started.
    Interrupted,
}

impl Verdict {
    /// The word in the table and at the head of the full account.
    pub(crate) fn word(self) -> &'static str {
        match self {
            Verdict::Passed => "PASS",
            Verdict::Failed => "FAIL",
            Verdict::Broken => "BROKEN",
            Verdict::Skipped => "SKIP",
            Verdict::Interrupted => "INTERRUPTED",
        }
    }
}

/// One scenario's result.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Report {
    /// The scenario's name.
    pub name: String,
    /// Its file.
    pub path: PathBuf,
    /// What it teaches.
    pub description: String,
    /// The fault's name.
    pub fault: String,
    /// The client's label.
    pub client: String,
    /// The seed of the fault's randomness, which replays the same faults.
    pub seed: Option<u64>,
    /// What the client does here that its users would not expect, when the
    /// scenario says (`surprise`).
    pub surprise: Option<String>,
    /// How it ended.
    pub verdict: Verdict,
    /// Why it did not pass, in one line.
    pub reason: String,
    /// The expectations that did not hold.
    pub mismatches: Vec<Mismatch>,
    /// What the run observed, when it ran.
    pub observed: Option<Observed>,
    /// How long an interrupted scenario had run; its reason says so too.
    #[serde(skip)]
    ran: Duration,
}

impl Report {
    pub(crate) fn unloadable(path: &Path, errors: LoadErrors) -> Report {
        Report {
            name: name_of(path),
            path: path.to_owned(),
            description: String::new(),
            fault: String::new(),
            client: String::new(),
            seed: None,
            surprise: None,
            verdict: Verdict::Broken,
            reason: errors.to_string(),
            mismatches: Vec::new(),
            observed: None,
            ran: Duration::ZERO,
        }
    }

    pub(crate) fn broken(scenario: &Scenario, reason: String) -> Report {
        Report {
            verdict: Verdict::Broken,
            reason,
            ..Report::of(scenario)
        }
    }

    pub(crate) fn skipped(scenario: &Scenario, reason: String) -> Report {
        Report {
            verdict: Verdict::Skipped,
            reason: format!("skipped: {reason}"),
            ..Report::of(scenario)
        }
    }

    /// A scenario stopped by `cause` (such as "SIGINT"), after running for
    /// `ran`, or before it started.
    pub(crate) fn interrupted(scenario: &Scenario, cause: &str, ran: Option<Duration>) -> Report {
        let reason = match ran {
            Some(ran) => format!(
                "interrupted by {cause} after {:.2}s of running; its client and server were stopped",
                ran.as_secs_f64()
            ),
            None => format!("interrupted by {cause} before it started"),
        };
        Report {
            verdict: Verdict::Interrupted,
            reason,
            ran: ran.unwrap_or_default(),
            ..Report::of(scenario)
        }
    }

    pub(crate) fn checked(
        scenario: &Scenario,
        observed: Observed,
        mismatches: Vec<Mismatch>,
    ) -> Report {
        let (verdict, reason) = match mismatches.first() {
            None => (Verdict::Passed, String::new()),
            Some(first) => (Verdict::Failed, first.to_string()),
        };
        Report {
            verdict,
            reason,
            mismatches,
            observed: Some(observed),
            ..Report::of(scenario)
        }
    }

    fn of(scenario: &Scenario) -> Report {
        Report {
            name: scenario.name(),
            path: scenario.path.clone(),
            description: scenario.description.clone(),
            fault: scenario.fault.name().to_owned(),
            client: scenario.client_label(),
            seed: scenario.fault.seed(),
            surprise: scenario.surprise.clone(),
            verdict: Verdict::Passed,
            reason: String::new(),
            mismatches: Vec::new(),
            observed: None,
            ran: Duration::ZERO,
        }
    }

    /// True when every expectation held.
    pub fn passed(&self) -> bool {
        self.verdict == Verdict::Passed
    }

    /// How long the client ran, or an interrupted scenario had run.
    pub fn took(&self) -> Duration {
        self.observed.as_ref().map_or(self.ran, |o| o.took)
    }
}

impl fmt::Display for Report {
    /// The full account: expected against got, the client's output, the journal.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verdict = self.verdict.word();
        if self.client.is_empty() {
            writeln!(f, "{verdict} {}", self.name)?;
        } else {
            let took = self.took().as_secs_f64();
            writeln!(
                f,
                "{verdict} {} ({} against {}, {took:.2}s)",
                self.name, self.client, self.fault
            )?;
        }
        if !self.description.is_empty() {
            writeln!(f, "  {}", self.description)?;
        }
        if matches!(
            self.verdict,
            Verdict::Broken | Verdict::Skipped | Verdict::Interrupted
        ) {
            for line in self.reason.lines() {
                writeln!(f, "  {line}")?;
            }
        }
        for mismatch in &self.mismatches {
            write!(f, "{mismatch:#}")?;
        }
        let Some(observed) = &self.observed else {
            return Ok(());
        };
        if self.verdict != Verdict::Passed {
            if let Some(seed) = self.seed {
                writeln!(f, "  seed: {seed} (the same seed replays the same faults)")?;
            }
            writeln!(
                f,
                "  client: {}{}",
                observed.outcome,
                observed
                    .exit
                    .map(|c| format!(", exit {c}"))
                    .unwrap_or_default()
            )?;
            if !observed.output.trim().is_empty() {
                writeln!(f, "  client output:")?;
                for line in observed.output.lines().take(40) {
                    writeln!(f, "    | {line}")?;
                }
            }
            let count = observed.attempt_count;
            let plural = if count == 1 { "" } else { "s" };
            writeln!(f, "  journal ({count} attempt{plural}):")?;
            for attempt in &observed.attempts {
                writeln!(f, "    {attempt}")?;
            }
            if !observed.lookups.is_empty() {
                writeln!(f, "  DNS queries ({}):", observed.lookups.len())?;
                for query in &observed.lookups {
                    writeln!(
                        f,
                        "    {} {}: {}",
                        query.record_type, query.name, query.answer
                    )?;
                }
            }
        }
        Ok(())
    }
}

/// The human table: scenario, result, duration, reason.
pub fn table(reports: &[Report]) -> String {
    let width = reports
        .iter()
        .map(|r| r.name.len())
        .max()
        .unwrap_or(8)
        .max(8);
    // INTERRUPTED is wider than the other words; the column grows only
    // when the table has one.
    let result_width = if reports.iter().any(|r| r.verdict == Verdict::Interrupted) {
        11
    } else {
        6
    };
    let mut out = format!(
        "{:<width$}  {:<result_width$}  {:>7}  reason\n",
        "scenario", "result", "time"
    );
    for report in reports {
        let result = match report.verdict {
            Verdict::Passed => "pass",
            verdict => verdict.word(),
        };
        let reason = report.reason.lines().next().unwrap_or("");
        let _ = writeln!(
            out,
            "{:<width$}  {result:<result_width$}  {:>6.2}s  {reason}",
            report.name,
            report.took().as_secs_f64()
        );
    }
    let count = |v| reports.iter().filter(|r| r.verdict == v).count();
    let _ = writeln!(
        out,
        "\n{} passed, {} failed, {} broken{}",
        count(Verdict::Passed),
        count(Verdict::Failed),
        count(Verdict::Broken),
        [
            (Verdict::Skipped, "skipped"),
            (Verdict::Interrupted, "interrupted")
        ]
        .into_iter()
        .filter(|(verdict, _)| count(*verdict) > 0)
        .map(|(verdict, word)| format!(", {} {word}", count(verdict)))
        .collect::<String>()
    );
    out
}

/// A JUnit XML document with one test case per scenario.
#[cfg(feature = "junit")]
#[cfg_attr(docsrs, doc(cfg(feature = "junit")))]
pub fn junit(reports: &[Report]) -> String {
    let mut suite = TestSuite::new("outage scenarios");
    for report in reports {
        let status = match report.verdict {
            Verdict::Passed => TestCaseStatus::success(),
            Verdict::Skipped => {
                let mut status = TestCaseStatus::skipped();
                status.set_message(report.reason.clone());
                status
            }
            Verdict::Failed | Verdict::Broken | Verdict::Interrupted => {
                let kind = if report.verdict == Verdict::Failed {
                    NonSuccessKind::Failure
                } else {
                    NonSuccessKind::Error
                };
                let mut status = TestCaseStatus::non_success(kind);
                status
                    .set_message(report.reason.lines().next().unwrap_or(""))
                    .set_description(report.to_string());
                if report.verdict == Verdict::Interrupted {
                    status.set_type("interrupted");
                }
                status
            }
        };
        let mut case = TestCase::new(report.name.clone(), status);
        case.set_classname(report.client.clone())
            .set_time(report.took());
        suite.add_test_case(case);
    }
    let mut document = quick_junit::Report::new("outage");
    document.add_test_suite(suite);
    // Serializing our own plain strings cannot fail.
    document.to_string().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn skipped() -> Report {
        let text = "description = \"d\"\nfault = \"ok\"\nhost = \"api.outage.test\"\n\
                    client = { reqwest = {} }\n[expect]\nstatus = 200\n";
        let scenario =
            crate::scenario::parse(Path::new("dns/x.toml"), text).expect("a valid scenario");
        Report::skipped(&scenario, "no mount namespace here".to_owned())
    }

    #[test]
    fn a_skipped_scenario_shows_its_reason_in_every_view_and_never_passes() {
        let report = skipped();
        assert!(!report.passed());
        assert_eq!(
            table(std::slice::from_ref(&report)),
            "scenario  result     time  reason\n\
             dns/x     SKIP      0.00s  skipped: no mount namespace here\n\
             \n0 passed, 0 failed, 0 broken, 1 skipped\n"
        );
        let junit = junit(&[report]);
        assert!(
            junit.contains("<skipped message=\"skipped: no mount namespace here\"/>"),
            "{junit}"
        );
    }
}
