//! The page's section of retry scenarios: a timeline of each, under the
//! schedule its file expects.

use std::fmt::Write as _;
use std::path::Path;

use crate::matrix::grid::Matrix;
use crate::matrix::html::escape;
use crate::matrix::links;
use crate::matrix::timeline::{self, ENDINGS, OPEN, Planned};
use crate::scenario::{self, Count, Scenario};

/// A timeline for each retry scenario: more than one attempt in a run, or
/// attempts or gaps expected.
pub(crate) fn section(out: &mut String, matrix: &Matrix, folder: &Path) {
    let mut drawn = String::new();
    for cell in matrix.cells() {
        let scenario = scenario::load(&cell.path).ok();
        let retrying = cell.sightings.iter().any(|s| s.attempts.len() > 1)
            || scenario.as_ref().is_some_and(expects_retries);
        if !retrying {
            continue;
        }
        // An expectation did not run: it has the expected lane alone.
        let runs: Vec<&[_]> = cell
            .sightings
            .iter()
            .filter(|s| s.verdict.is_some())
            .map(|s| s.attempts.as_slice())
            .collect();
        let first = runs
            .first()
            .and_then(|spans| spans.first())
            .map_or(0.0, |s| s.started);
        let gaps = runs
            .first()
            .map_or(0, |spans| spans.len().saturating_sub(1));
        let planned = scenario.as_ref().and_then(|s| planned(s, first, gaps));
        let _ = writeln!(
            drawn,
            "<section><h3><a href=\"{}\">{}</a></h3><p>{}</p><div class=\"scroll\">{}</div></section>",
            escape(&links::relative(&cell.path, folder)),
            escape(&cell.name),
            escape(&cell.description),
            timeline::svg(&runs, planned.as_ref())
        );
    }
    if drawn.is_empty() {
        return;
    }
    out.push_str("<h2 id=\"retries\">Retries</h2><p>Each attempt the server saw, from its start to its end, in seconds since the server started; above, the gap between consecutive starts.");
    for (_, colour, words) in ENDINGS.iter().chain([&("", OPEN.0, OPEN.1)]) {
        let _ = write!(
            out,
            "<span class=\"key\" style=\"background:{colour}\"></span>{}",
            escape(words)
        );
    }
    out.push_str("</p>\n");
    out.push_str(&drawn);
}

/// True when the scenario expects gaps, or more than one attempt.
fn expects_retries(scenario: &Scenario) -> bool {
    let retries = &scenario.expect.retries;
    retries.gaps.is_some() || !matches!(retries.attempts, None | Some(Count::Exactly(0 | 1)))
}

/// The schedule the scenario expects, from the first run's first start;
/// `gaps` gaps when it expects no exact number of attempts.
fn planned(scenario: &Scenario, first: f64, gaps: usize) -> Option<Planned> {
    let retries = &scenario.expect.retries;
    let count = match retries.attempts {
        Some(Count::Exactly(attempts)) => attempts.saturating_sub(1) as usize,
        _ => gaps,
    };
    Planned::of(retries.gaps.as_ref()?, first, count)
}
