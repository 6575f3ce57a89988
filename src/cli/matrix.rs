//! `outage matrix`: every fault against every client, from runs of the
//! scenarios, from saved results, or from what the scenario files expect;
//! as Markdown, HTML, or both.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::Args;

use crate::cli::run::{self, Selection, folder_of, writable};
use crate::cli::signals::Signals;
use crate::matrix::{self, Entry, Matrix};
use crate::scenario;

#[derive(Debug, Args)]
pub(crate) struct MatrixArgs {
    /// Which scenarios, and how many at once.
    #[command(flatten)]
    selection: Selection,
    /// Run the scenarios N times, and say of each cell whether every run
    /// raised the same error of the same class.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    runs: u32,
    /// Read the results of `outage run --format json` from RESULTS.json
    /// instead of running the scenarios; give it once per run.
    #[arg(long, value_name = "RESULTS.json", conflicts_with_all = ["runs", "expected", "paths", "jobs", "filter"])]
    from: Vec<PathBuf>,
    /// Show what the scenario files expect (their `[expect]` tables)
    /// without running a client: the same every time, for a committed document.
    #[arg(long, conflicts_with_all = ["runs", "jobs"])]
    expected: bool,
    /// Write the matrix as Markdown to FILE. With neither --markdown nor
    /// --html, the Markdown is printed.
    #[arg(long, value_name = "FILE")]
    markdown: Option<PathBuf>,
    /// Write the matrix as one self-contained HTML page to FILE, with a
    /// timeline of each retry scenario.
    #[arg(long, value_name = "FILE")]
    html: Option<PathBuf>,
}

pub(crate) fn matrix(args: MatrixArgs) -> Result<ExitCode> {
    let (matrix, code) = if args.expected {
        (
            Matrix::of_expectations(&expected(&args.selection)?),
            ExitCode::SUCCESS,
        )
    } else if !args.from.is_empty() {
        (Matrix::of_runs(&read(&args.from)?), ExitCode::SUCCESS)
    } else {
        ran(&args)?
    };
    write(&matrix, &args)?;
    Ok(code)
}

/// Runs the scenarios `--runs` times: the matrix, and the exit code of
/// `outage run` over every run (or the signal's, when one came).
fn ran(args: &MatrixArgs) -> Result<(Matrix, ExitCode)> {
    // Signals first, before any other thread starts.
    let signals = Signals::listen()?;
    let files = args.selection.files()?;
    // Found out now, not after every scenario has run.
    if let Some(path) = &args.markdown {
        writable(path, "the Markdown matrix", "--markdown")?;
    }
    if let Some(path) = &args.html {
        writable(path, "the HTML matrix", "--html")?;
    }
    let runs = args.selection.run(files, args.runs as usize, &signals)?;
    let code = match signals.exit_code() {
        Some(code) => ExitCode::from(code),
        None => run::exit_code(&runs.concat()),
    };
    let entries: Vec<Vec<Entry>> = runs.iter().map(|run| matrix::from_reports(run)).collect();
    Ok((Matrix::of_runs(&entries), code))
}

/// What the selected scenario files expect.
fn expected(selection: &Selection) -> Result<Vec<Entry>> {
    let files = selection.files()?;
    files
        .iter()
        .map(|path| match scenario::load(path) {
            Ok(scenario) => Ok(Entry::expected(&scenario)),
            Err(errors) => bail!("{errors}"),
        })
        .collect()
}

/// The results files, one run each.
fn read(files: &[PathBuf]) -> Result<Vec<Vec<Entry>>> {
    files
        .iter()
        .map(|path| Ok(matrix::read_results(path)?))
        .collect()
}

/// Writes the files asked for, saying so on stderr, or prints the Markdown.
fn write(matrix: &Matrix, args: &MatrixArgs) -> Result<()> {
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    let size = format!(
        "{} by {}",
        plural(matrix.rows.len(), "fault variant"),
        plural(matrix.clients.len(), "client")
    );
    if let Some(path) = &args.markdown {
        std::fs::write(path, matrix::markdown(matrix, folder_of(path)))
            .with_context(|| format!("cannot write the Markdown matrix to {}", path.display()))?;
        eprintln!("outage: wrote {}: {size}", path.display());
    }
    if let Some(path) = &args.html {
        std::fs::write(path, matrix::html(matrix, folder_of(path)))
            .with_context(|| format!("cannot write the HTML matrix to {}", path.display()))?;
        eprintln!("outage: wrote {}: {size}", path.display());
    }
    if args.markdown.is_none() && args.html.is_none() {
        let markdown = matrix::markdown(matrix, std::path::Path::new(""));
        crate::cli::finish(std::io::Write::write_all(
            &mut std::io::stdout().lock(),
            markdown.as_bytes(),
        ))?;
    }
    Ok(())
}
