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
