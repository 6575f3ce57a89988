//! The exception matrix committed as docs/matrix.md is the one the scenario
//! files give today.

use std::path::{Path, PathBuf};

use outage::matrix::{self, Entry, Matrix};
use outage::scenario;

#[test]
fn docs_matrix_md_is_what_the_scenario_files_expect() {
    let files = scenario::discover(&[PathBuf::from("scenarios")]).expect("the catalogue lists");
    let entries: Vec<Entry> = files
        .iter()
        .map(|path| match scenario::load(path) {
            Ok(scenario) => Entry::expected(&scenario),
            Err(errors) => panic!("{errors}"),
        })
        .collect();
    let rendered = matrix::markdown(&Matrix::of_expectations(&entries), Path::new("docs"));
    let committed = std::fs::read_to_string("docs/matrix.md").unwrap_or_default();
    assert!(
        rendered == committed,
        "docs/matrix.md is stale: run `make matrix`"
    );
}

#[cfg(feature = "cli")]
mod command {
    use crate::cli::outage;

    #[test]
    fn a_results_file_that_is_not_json_results_is_named_with_what_is_wrong() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let bad = dir.path().join("results.json");
        std::fs::write(&bad, "[{\"name\": \"x\"}]").expect("written");
        let markdown = dir.path().join("matrix.md");
        let (status, stdout, stderr) = outage(&[
            "matrix",
            "--from",
            bad.to_str().expect("a UTF-8 path"),
            "--markdown",
            markdown.to_str().expect("a UTF-8 path"),
        ]);
        assert_eq!(status.code(), Some(2), "{stderr}");
        assert_eq!(stdout, "");
        assert_eq!(
            stderr,
            format!(
                "outage: {} is not a results file of `outage run --format json`: missing field \
                 `path` at line 1 column 14; write one with `outage run --format json > FILE`",
                bad.display()
            )
        );
        assert!(!markdown.exists(), "a matrix was written from a bad file");
    }

    #[test]
    fn two_results_files_are_two_runs_and_a_cell_the_same_in_both_is_stable() {
        let fixture = "fixtures/matrix/results.json";
        let (status, stdout, stderr) = outage(&["matrix", "--from", fixture, "--from", fixture]);
        assert_eq!(status.code(), Some(0), "{stderr}");
        assert!(
            stdout.contains(
                "| reset | `reset` | [`reqwest::Error` · reset](scenarios/transport/reset-reqwest.toml) \
                 stable, 2 runs |"
            ),
            "{stdout}"
        );
    }

    #[test]
    fn run_writes_an_html_report_beside_its_table() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let page = dir.path().join("report.html");
        let (status, stdout, stderr) = outage(&[
            "run",
            "scenarios/transport/reset-reqwest.toml",
            "--html",
            page.to_str().expect("a UTF-8 path"),
        ]);
        assert_eq!(status.code(), Some(0), "{stderr}");
        assert!(stdout.contains("transport/reset-reqwest"), "{stdout}");
        let page = std::fs::read_to_string(&page).expect("the report");
        assert!(page.starts_with("<!DOCTYPE html>"));
        assert!(page.contains("<code>reqwest::Error</code>"), "{page}");
    }

    #[test]
    fn matrix_runs_the_scenarios_as_often_as_asked() {
        let (status, stdout, stderr) = outage(&[
            "matrix",
            "--runs",
            "2",
            "scenarios/transport/reset-reqwest.toml",
        ]);
        assert_eq!(status.code(), Some(0), "{stderr}");
        assert!(stdout.contains("stable, 2 runs"), "{stdout}");
    }
}
