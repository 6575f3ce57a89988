//! `outage run`: scenarios in parallel, a table (or JSON, JUnit, HTML) of results.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};

use crate::cli::signals::Signals;
use crate::cli::{FAILED, NOTHING_RAN};
use crate::matrix::{self, Matrix};
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
    /// Which scenarios, and how many at once.
    #[command(flatten)]
    selection: Selection,
    /// How to print the results.
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
    /// Also write a JUnit XML report to this file, for CI.
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
    /// Also write an HTML report to this file: the exception matrix, what
    /// did not pass, and a timeline of each retry scenario.
    #[arg(long, value_name = "FILE")]
    html: Option<PathBuf>,
    /// Run only the K-th of N shares of the scenarios (after --filter), for
    /// spreading a catalogue over N CI jobs: every scenario is in exactly
    /// one share, dealt in name order.
    #[arg(long, value_name = "K/N")]
    partition: Option<Partition>,
}

/// The scenarios to run and how many at once, as `outage run` and `outage
/// matrix` take them.
#[derive(Debug, Args)]
pub(crate) struct Selection {
    /// Scenario files, or folders searched for `.toml` files.
    #[arg(default_value = "scenarios")]
    pub(crate) paths: Vec<PathBuf>,
    /// Scenarios run at once (default: the number of cores).
    #[arg(long, short)]
    jobs: Option<usize>,
    /// Only scenarios whose name contains this text.
    #[arg(long)]
    filter: Option<String>,
}

/// One of N shares of the scenario files, dealt round-robin in name order,
/// as cargo-nextest's `count:K/N` deals tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Partition {
    /// From 1.
    share: usize,
    count: usize,
}

impl Partition {
    fn keeps(self, position: usize) -> bool {
        position % self.count == self.share - 1
    }
}

impl std::fmt::Display for Partition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.share, self.count)
    }
}

impl std::str::FromStr for Partition {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let invalid =
            || format!("{text:?} is not a share; write K/N with 1 <= K <= N, such as 2/3");
        let (share, count) = text.split_once('/').ok_or_else(invalid)?;
        let share: usize = share.trim().parse().map_err(|_| invalid())?;
        let count: usize = count.trim().parse().map_err(|_| invalid())?;
        if share == 0 || share > count {
            return Err(invalid());
        }
        Ok(Partition { share, count })
    }
}

pub(crate) fn run(args: RunArgs) -> Result<ExitCode> {
    // Signals first, before any other thread starts, so that from here on
    // an interruption is reported.
    let signals = Signals::listen()?;
    let mut files = args.selection.files()?;
    if let Some(partition) = args.partition {
        let found = files.len();
        files = files
            .into_iter()
            .enumerate()
            .filter(|(position, _)| partition.keeps(*position))
            .map(|(_, file)| file)
            .collect();
        if files.is_empty() {
            eprintln!(
                "outage: share {partition} holds none of the {found} scenarios; nothing to run"
            );
            return Ok(ExitCode::SUCCESS);
        }
    }
    // Found out now, not after every scenario has run.
    if let Some(path) = &args.junit {
        writable(path, "the JUnit report", "--junit")?;
    }
    if let Some(path) = &args.html {
        writable(path, "the HTML report", "--html")?;
    }
    let reports = args.selection.run(files, 1, &signals)?.concat();
    // A signal that comes while the report is printed is recorded, and
    // the report is printed whole.
    let printed = print(&reports, args.format);
    let written = write_reports(&reports, &args);
    if let Some(code) = signals.exit_code() {
        return Ok(ExitCode::from(code));
    }
    // A reader that left early (`outage run | head`) wanted no more of the
    // report; the exit code still says how the scenarios went.
    if let Err(error) = printed
        && !is_broken_pipe(&error)
    {
        return Err(error);
    }
    written?;
    Ok(exit_code(&reports))
}

/// Writes the JUnit and HTML reports asked for.
fn write_reports(reports: &[Report], args: &RunArgs) -> Result<()> {
    if let Some(path) = &args.junit {
        std::fs::write(path, runner::junit(reports))
            .with_context(|| format!("cannot write the JUnit report to {}", path.display()))?;
    }
    if let Some(path) = &args.html {
        let matrix = Matrix::of_runs(&[matrix::from_reports(reports)]);
        std::fs::write(path, matrix::html(&matrix, folder_of(path)))
            .with_context(|| format!("cannot write the HTML report to {}", path.display()))?;
    }
    Ok(())
}

/// The folder a file given on the command line is written in, which its
/// links start from.
pub(crate) fn folder_of(path: &Path) -> &Path {
    path.parent().unwrap_or(Path::new(""))
}

/// Fails unless `path` can be written, saying to give `flag` a file in a
/// folder that exists. Creates it empty when it did not exist.
pub(crate) fn writable(path: &Path, what: &str, flag: &str) -> Result<()> {
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .with_context(|| {
            format!(
                "cannot write {what} to {}; give {flag} a file in a folder that exists",
                path.display()
            )
        })?;
    Ok(())
}

impl Selection {
    /// Runs `files` `times` times, one run after another, stopping after
    /// the run a signal interrupts; on a terminal, with progress on stderr.
    pub(crate) fn run(
        &self,
        files: Vec<PathBuf>,
        times: usize,
        signals: &Signals,
    ) -> Result<Vec<Vec<Report>>> {
        let jobs = self
            .jobs
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()));
        // Two workers beyond the jobs: a job held up in a system call (a slow
        // disk under load, a fork) never leaves the fault servers without a
        // thread to accept and answer on.
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(jobs.max(1) + 2)
            .enable_all()
            .build()
            .context("cannot start the async runtime")?;
        // A process that escapes its client's supervisor (only by killing it)
        // comes here, and is ended before exiting. Without it such a process
        // would go to init; nothing else depends on it.
        let _ = runner::adopt_orphans();
        let mut runs = Vec::new();
        for run in 1..=times {
            let label = if times > 1 {
                format!("run {run}/{times} ")
            } else {
                String::new()
            };
            let progress = progress(files.len(), label);
            let stop = signals.first();
            runs.push(runtime.block_on(runner::run_files_until(
                files.clone(),
                jobs,
                progress,
                stop,
            )));
            if signals.exit_code().is_some() {
                break;
            }
        }
        drop(runtime);
        runner::end_orphans();
        Ok(runs)
    }

    /// The scenario files to run: those found under the paths, less those
    /// `--filter` leaves out.
    pub(crate) fn files(&self) -> Result<Vec<PathBuf>> {
        files(&self.paths, self.filter.as_deref())
    }
}

/// On a terminal, `[finished/total] name` on stderr as each scenario ends,
/// after `label`.
fn progress(total: usize, label: String) -> impl Fn(&Report) + Send + Sync + 'static {
    let interactive = std::io::stdout().is_terminal();
    let done = AtomicUsize::new(0);
    move |report: &Report| {
        let finished = done.fetch_add(1, Ordering::Relaxed) + 1;
        if interactive {
            eprint!("\r\x1b[2K{label}[{finished}/{total}] {}", report.name);
            if finished == total {
                eprint!("\r\x1b[2K");
            }
        }
    }
}

/// The scenario files found under `paths`, less those `filter` leaves out.
pub(crate) fn files(paths: &[PathBuf], filter: Option<&str>) -> Result<Vec<PathBuf>> {
    if let Some(missing) = paths.iter().find(|path| !path.exists()) {
        let here = std::env::current_dir().map_or_else(|_| ".".into(), |d| d.display().to_string());
        bail!(
            "no file or folder {} in {here}; give scenario files or folders, as in \
             `outage run path/to/scenarios` (`outage run` alone looks for a scenarios folder here)",
            missing.display()
        );
    }
    let mut files = scenario::discover(paths).context("cannot list the scenario files")?;
    if files.is_empty() {
        bail!(
            "no scenario files found in {}; give a folder or .toml files",
            shown(paths)
        );
    }
    if let Some(filter) = filter {
        let found = files.len();
        let example = scenario::name_of(&files[0]);
        files.retain(|path| scenario::name_of(path).contains(filter));
        if files.is_empty() {
            bail!(
                "--filter {filter:?} matched none of the {found} scenario files found in {}; \
                 it keeps scenarios whose name contains it, and a name is the file's path \
                 without .toml, such as {example:?}: give part of one, or leave --filter out",
                shown(paths)
            );
        }
    }
    Ok(files)
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

/// True when `error` is stdout's reader having gone away.
fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error
        .downcast_ref::<std::io::Error>()
        .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
}

/// 0 when every scenario passed or was skipped and at least one passed, 2
/// when none could run (every one broken or skipped), 1 otherwise.
pub(crate) fn exit_code(reports: &[Report]) -> ExitCode {
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
