//! `outage run`: scenarios in parallel, a table (or JSON, or JUnit) of results.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};

use crate::cli::{FAILED, NOTHING_RAN};
use crate::runner::{self, Report, Verdict};
use crate::scenario;

/// Output formats for `outage run`.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum Format {
    /// A table, then the full account of each scenario that did not pass.
    Table,
    /// One JSON array of every result, with what was observed.
    Json,
}

#[derive(Debug, Args)]
pub(crate) struct RunArgs {
    /// Scenario files, or folders searched for `.toml` files.
    #[arg(default_value = "scenarios")]
    paths: Vec<PathBuf>,
    /// Scenarios run at once (default: the number of cores).
    #[arg(long, short)]
    jobs: Option<usize>,
    /// Only scenarios whose name contains this text.
    #[arg(long)]
    filter: Option<String>,
    /// How to print the results.
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
    /// Also write a JUnit XML report to this file, for CI.
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
}

pub(crate) fn run(args: RunArgs) -> Result<ExitCode> {
    let mut files = scenario::discover(&args.paths).context("cannot list the scenario files")?;
    if let Some(filter) = &args.filter {
        files.retain(|path| scenario::name_of(path).contains(filter.as_str()));
    }
    if files.is_empty() {
        bail!(
            "no scenario files found in {}; give a folder or .toml files",
            shown(&args.paths)
        );
    }
    let jobs = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()));
    let total = files.len();
    let interactive = std::io::stdout().is_terminal();
    let done = AtomicUsize::new(0);
    let progress = move |report: &Report| {
        let finished = done.fetch_add(1, Ordering::Relaxed) + 1;
        if interactive {
            eprint!("\r\x1b[2K[{finished}/{total}] {}", report.name);
            if finished == total {
                eprint!("\r\x1b[2K");
            }
        }
    };
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    let reports = runtime.block_on(runner::run_files(files, jobs, progress));
    print(&reports, args.format)?;
    if let Some(path) = &args.junit {
        std::fs::write(path, runner::junit(&reports))
            .with_context(|| format!("cannot write the JUnit report to {}", path.display()))?;
    }
    Ok(exit_code(&reports))
}

fn print(reports: &[Report], format: Format) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match format {
        Format::Table => {
            write!(out, "{}", runner::table(reports))?;
            for report in reports.iter().filter(|r| !r.passed()) {
                write!(out, "\n{report}")?;
            }
        }
        Format::Json => writeln!(out, "{}", serde_json::to_string_pretty(reports)?)?,
    }
    Ok(out.flush()?)
}

/// 0 when every scenario passed or was skipped and at least one passed, 2
/// when none could run (every one broken or skipped), 1 otherwise.
fn exit_code(reports: &[Report]) -> ExitCode {
    let ran = |r: &Report| !matches!(r.verdict, Verdict::Broken | Verdict::Skipped);
    if !reports.iter().any(ran) {
        ExitCode::from(NOTHING_RAN)
    } else if reports
        .iter()
        .all(|r| r.passed() || r.verdict == Verdict::Skipped)
    {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(FAILED)
    }
}

fn shown(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}
