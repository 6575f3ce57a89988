//! The grid: one row per fault variant, one column per client, one cell per
//! scenario holding what each run saw.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::matrix::entry::{Entry, Outcome, Span, Verdict};

/// Words that end a scenario's file name to say which client it runs, beside
/// the client's own label (`curl_get.sh` ends `-curl`).
const CLIENT_WORDS: &[&str] = &[
    "reqwest", "requests", "urllib3", "httpx", "aiohttp", "curl", "fetch", "node", "go", "java",
];

/// Every fault variant against every client.
#[derive(Debug, Clone, PartialEq)]
pub struct Matrix {
    /// The clients, reqwest first, then in alphabetical order.
    pub clients: Vec<String>,
    /// The rows, by folder, then by key.
    pub rows: Vec<Row>,
    /// How many runs each cell may hold; 0 when the matrix shows what the
    /// scenario files expect.
    pub runs: usize,
}

/// One fault variant: the scenarios of one file stem, less the client.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// The file stem less the client suffix, such as `tls/reset-behind-tls`.
    pub key: String,
    /// The folder it is in, such as `tls`.
    pub folder: String,
    /// The fault's name.
    pub fault: String,
    /// The cells by client label; a client may have more than one scenario.
    pub cells: BTreeMap<String, Vec<Cell>>,
}

/// One scenario, and what it showed in each run.
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    /// The scenario's name.
    pub name: String,
    /// Its file.
    pub path: PathBuf,
    /// What it teaches.
    pub description: String,
    /// What is surprising about it, when the scenario says.
    pub surprise: Option<String>,
    /// One per run, in run order.
    pub sightings: Vec<Sighting>,
}

/// What one run of a scenario showed.
#[derive(Debug, Clone, PartialEq)]
pub struct Sighting {
    /// How it ended; `None` for an expectation.
    pub verdict: Option<Verdict>,
    /// What the client did.
    pub what: What,
    /// Why it did not pass.
    pub reason: String,
    /// The journal.
    pub attempts: Vec<Span>,
}

/// What the client did, as compared across runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum What {
    /// It raised an error.
    Raised {
        /// The client's name for it.
        native: Option<String>,
        /// Its neutral class.
        class: Option<String>,
    },
    /// It got a response with this status.
    Status(u16),
    /// It was still running at the deadline.
    Hung,
    /// It exited without saying what happened.
    Exited,
    /// It did not run.
    NotRun,
}

impl Matrix {
    /// The matrix of `runs`, each the entries of one run of the catalogue.
    pub fn of_runs(runs: &[Vec<Entry>]) -> Matrix {
        let mut matrix = Matrix::of(runs.iter().flatten());
        matrix.runs = runs.len();
        matrix
    }

    /// The matrix of what scenario files expect (entries from [`Entry::expected`]).
    pub fn of_expectations(entries: &[Entry]) -> Matrix {
        Matrix::of(entries.iter())
    }

    fn of<'a>(entries: impl Iterator<Item = &'a Entry>) -> Matrix {
        let mut rows: BTreeMap<(String, String), Row> = BTreeMap::new();
        for entry in entries {
            let client = column(entry);
            let key = row_key(&entry.name, &client);
            let folder = key
                .rsplit_once('/')
                .map_or("", |(folder, _)| folder)
                .to_owned();
            let row = rows
                .entry((folder.clone(), key.clone()))
                .or_insert_with(|| Row {
                    folder,
                    key,
                    fault: entry.fault.clone(),
                    cells: BTreeMap::new(),
                });
            let cells = row.cells.entry(client).or_default();
            match cells.iter_mut().find(|cell| cell.path == entry.path) {
                Some(cell) => cell.add(entry),
                None => cells.push(Cell::new(entry)),
            }
        }
        let rows: Vec<Row> = rows.into_values().collect();
        Matrix {
            clients: clients(&rows),
            rows,
            runs: 0,
        }
    }

    /// Every cell, row by row, each row's in column order.
    pub fn cells(&self) -> impl Iterator<Item = &Cell> {
        self.rows.iter().flat_map(|row| {
            self.clients
                .iter()
                .filter_map(|client| row.cells.get(client))
                .flatten()
        })
    }

    /// Every run of a scenario that did not pass: its cell, the run's number
    /// (from 1), its verdict and why.
    pub fn not_passed(&self) -> impl Iterator<Item = (&Cell, usize, Verdict, &str)> {
        self.cells().flat_map(|cell| {
            cell.sightings
                .iter()
                .enumerate()
                .filter_map(move |(run, sighting)| {
                    let verdict = sighting.verdict.filter(|v| *v != Verdict::Passed)?;
                    Some((cell, run + 1, verdict, sighting.reason.as_str()))
                })
        })
    }

    /// The clients that have a cell in one of `rows`, in column order.
    pub fn clients_in(&self, rows: &[&Row]) -> Vec<&String> {
        self.clients
            .iter()
            .filter(|client| rows.iter().any(|row| row.cells.contains_key(*client)))
            .collect()
    }

    /// The folders, in order, each with its rows.
    pub fn folders(&self) -> Vec<(&str, Vec<&Row>)> {
        let mut folders: Vec<(&str, Vec<&Row>)> = Vec::new();
        for row in &self.rows {
            match folders.last_mut() {
                Some((folder, rows)) if *folder == row.folder => rows.push(row),
                _ => folders.push((&row.folder, vec![row])),
            }
        }
        folders
    }
}

impl Cell {
    fn new(entry: &Entry) -> Cell {
        let mut cell = Cell {
            name: entry.name.clone(),
            path: entry.path.clone(),
            description: entry.description.clone(),
            surprise: None,
            sightings: Vec::new(),
        };
        cell.add(entry);
        cell
    }

    fn add(&mut self, entry: &Entry) {
        self.surprise = self.surprise.take().or_else(|| entry.surprise.clone());
        let seen = entry.observed.as_ref();
        self.sightings.push(Sighting {
            verdict: entry.verdict,
            what: seen.map_or(What::NotRun, |seen| What::of(&seen.outcome)),
            reason: entry.why(),
            attempts: seen.map(|seen| seen.attempts.clone()).unwrap_or_default(),
        });
    }

    /// Each different thing the client did, with how many runs did it, in
    /// the order first seen.
    pub fn outcomes(&self) -> Vec<(&What, usize)> {
        let mut found: Vec<(&What, usize)> = Vec::new();
        for sighting in &self.sightings {
            match found.iter_mut().find(|(what, _)| **what == sighting.what) {
                Some((_, count)) => *count += 1,
                None => found.push((&sighting.what, 1)),
            }
        }
        found
    }

    /// Whether every run did the same; `None` with fewer than two runs.
    pub fn stable(&self) -> Option<bool> {
        (self.sightings.len() > 1).then(|| self.outcomes().len() == 1)
    }

    /// Each verdict other than a pass, with how many runs had it.
    pub fn not_passed(&self) -> Vec<(Verdict, usize)> {
        let mut found: Vec<(Verdict, usize)> = Vec::new();
        let verdicts = self.sightings.iter().filter_map(|s| s.verdict);
        for verdict in verdicts.filter(|v| *v != Verdict::Passed) {
            match found.iter_mut().find(|(seen, _)| *seen == verdict) {
                Some((_, count)) => *count += 1,
                None => found.push((verdict, 1)),
            }
        }
        found
    }
}

impl What {
    fn of(outcome: &Outcome) -> What {
        match outcome {
            Outcome::Response { status } => What::Status(*status),
            Outcome::Error { native, class } => What::Raised {
                native: native.clone(),
                class: class.clone(),
            },
            Outcome::Exited => What::Exited,
            Outcome::Killed => What::Hung,
        }
    }
}

/// The column of an entry: its client's label.
fn column(entry: &Entry) -> String {
    if entry.client.is_empty() {
        "(no client)".to_owned()
    } else {
        entry.client.clone()
    }
}

/// A scenario's row: its name less a last `-CLIENT`, where CLIENT is the
/// client's label, the label up to its first `_` or `.`, or a client's
/// usual name; the whole name when it ends otherwise.
fn row_key(name: &str, client: &str) -> String {
    let short = client.split(['_', '.']).next().unwrap_or(client);
    let words = [client, short]
        .into_iter()
        .chain(CLIENT_WORDS.iter().copied());
    words
        .filter(|word| !word.is_empty())
        .find_map(|word| {
            let rest = name.strip_suffix(word)?.strip_suffix('-')?;
            (!rest.is_empty() && !rest.ends_with('/')).then_some(rest)
        })
        .unwrap_or(name)
        .to_owned()
}

/// The clients of `rows`: reqwest first, then in alphabetical order.
fn clients(rows: &[Row]) -> Vec<String> {
    let mut clients: Vec<String> = rows
        .iter()
        .flat_map(|row| row.cells.keys().cloned())
        .collect();
    clients.sort_by(|a, b| (a != "reqwest", a).cmp(&(b != "reqwest", b)));
    clients.dedup();
    clients
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::matrix::entry::Seen;

    /// A passed entry of `name` run by `client` that raised `native` of `class`.
    pub(crate) fn raised(name: &str, client: &str, native: &str, class: &str) -> Entry {
        Entry {
            name: name.to_owned(),
            path: PathBuf::from(format!("scenarios/{name}.toml")),
            description: format!("What {name} teaches. And more."),
            fault: name
                .rsplit('/')
                .flat_map(|last| last.split('-'))
                .next()
                .unwrap_or(name)
                .to_owned(),
            client: client.to_owned(),
            verdict: Some(Verdict::Passed),
            reason: String::new(),
            mismatches: Vec::new(),
            surprise: None,
            observed: Some(Seen {
                outcome: Outcome::Error {
                    native: Some(native.to_owned()),
                    class: Some(class.to_owned()),
                },
                attempts: Vec::new(),
            }),
        }
    }

    #[test]
    fn each_variant_of_a_fault_is_a_row_and_the_client_suffix_is_not_part_of_it() {
        let runs = [vec![
            raised(
                "transport/reset-curl",
                "curl_get.sh",
                "CURLE_RECV_ERROR",
                "reset",
            ),
            raised(
                "transport/reset-reqwest",
                "reqwest",
                "reqwest::Error",
                "reset",
            ),
            raised(
                "stream/reset-mid-body-requests",
                "requests_get.py",
                "E",
                "incomplete-body",
            ),
            raised(
                "tls/reset-behind-tls-requests",
                "requests_get.py",
                "E",
                "reset",
            ),
            raised(
                "retry/gives-up-urllib3",
                "requests_get.py",
                "E",
                "http-status(503)",
            ),
            raised(
                "retry/exponential-backoff-client",
                "retry_backoff.py",
                "E",
                "reset",
            ),
        ]];
        let matrix = Matrix::of_runs(&runs);
        let keys: Vec<&str> = matrix.rows.iter().map(|row| row.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "retry/exponential-backoff-client",
                "retry/gives-up",
                "stream/reset-mid-body",
                "tls/reset-behind-tls",
                "transport/reset",
            ]
        );
        assert_eq!(
            matrix.clients,
            [
                "reqwest",
                "curl_get.sh",
                "requests_get.py",
                "retry_backoff.py"
            ]
        );
        let reset = &matrix.rows[4];
        assert_eq!(
            (reset.folder.as_str(), reset.fault.as_str()),
            ("transport", "reset")
        );
        assert_eq!(reset.cells.len(), 2);
        let folders: Vec<&str> = matrix.folders().iter().map(|(f, _)| *f).collect();
        assert_eq!(folders, ["retry", "stream", "tls", "transport"]);
    }

    #[test]
    fn a_cell_is_stable_when_every_run_raised_the_same_error_of_the_same_class() {
        let once = raised(
            "transport/reset-curl",
            "curl_get.sh",
            "CURLE_RECV_ERROR",
            "reset",
        );
        let other = raised(
            "transport/reset-curl",
            "curl_get.sh",
            "CURLE_GOT_NOTHING",
            "reset",
        );
        let cell =
            |runs: &[Vec<Entry>]| Matrix::of_runs(runs).rows[0].cells["curl_get.sh"][0].clone();
        assert_eq!(cell(&[vec![once.clone()]]).stable(), None);
        assert_eq!(
            cell(&[vec![once.clone()], vec![once.clone()]]).stable(),
            Some(true)
        );
        let unstable = cell(&[vec![once.clone()], vec![other], vec![once]]);
        assert_eq!(unstable.stable(), Some(false));
        let outcomes: Vec<usize> = unstable.outcomes().iter().map(|(_, n)| *n).collect();
        assert_eq!(outcomes, [2, 1]);
    }

    #[test]
    fn a_surprise_in_any_run_marks_the_cell_and_failures_are_counted() {
        let plain = raised("http/ok-requests", "requests_get.py", "E", "reset");
        let surprising = Entry {
            surprise: Some("it retries a POST".to_owned()),
            verdict: Some(Verdict::Failed),
            ..plain.clone()
        };
        let matrix = Matrix::of_runs(&[vec![plain], vec![surprising]]);
        let cell = &matrix.rows[0].cells["requests_get.py"][0];
        assert_eq!(cell.surprise.as_deref(), Some("it retries a POST"));
        assert_eq!(cell.not_passed(), [(Verdict::Failed, 1)]);
        assert_eq!(matrix.runs, 2);
    }
}
