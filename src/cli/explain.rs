//! `outage explain FAULT`: what happens on the wire, what each client raises
//! (read from the scenario catalogue, never typed twice), and how to handle it.

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;
use include_dir::{Dir, DirEntry, File, include_dir};

use crate::cli::list::{INDENT, WIDTH, wrap};
use crate::fault::{CATALOGUE, Fault};
use crate::scenario::{self, Expect, Scenario};

#[derive(Debug, Args)]
pub(crate) struct ExplainArgs {
    /// The fault to explain; `outage list` shows them all.
    fault: String,
    /// A folder of scenarios that says what each client raises, instead of
    /// the catalogue built into outage.
    #[arg(long, value_name = "DIR")]
    scenarios: Option<PathBuf>,
}

/// The scenario catalogue, carried in the binary, so that `explain` works
/// from any folder and in an installed tool.
static BUILT_IN: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/scenarios");

pub(crate) fn explain(args: ExplainArgs) -> Result<ExitCode> {
    let name = Fault::named(&args.fault)?.name();
    let info = CATALOGUE
        .iter()
        .find(|info| info.name == name)
        .context("every named fault is catalogued")?;
    let observed = match &args.scenarios {
        Some(dir) => in_folder(dir, name),
        None => built_in(name),
    };
    let mut out = io::stdout().lock();
    writeln!(out, "{name}\n\nOn the wire:")?;
    paragraph(&mut out, info.wire)?;
    writeln!(out, "\nWhat clients raise:")?;
    if observed.is_empty() {
        paragraph(&mut out, info.clients)?;
        let catalogue = match &args.scenarios {
            Some(dir) => dir.display().to_string(),
            None => "the catalogue".to_owned(),
        };
        let missing = format!("(no scenario in {catalogue} uses {name} yet)");
        paragraph(&mut out, &missing)?;
    }
    let width = observed
        .iter()
        .map(|s| s.client_label().len())
        .max()
        .unwrap_or(0);
    for scenario in &observed {
        let label = scenario.client_label();
        writeln!(
            out,
            "{INDENT}{label:<width$}  {}",
            summary(&scenario.expect)
        )?;
        writeln!(out, "{INDENT}{:<width$}  ({})", "", scenario.name())?;
    }
    writeln!(out, "\nHow to handle it:")?;
    paragraph(&mut out, info.handle)?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// The scenarios in `dir` whose fault is `name`, skipping files that do not load.
fn in_folder(dir: &Path, name: &str) -> Vec<Scenario> {
    let files = scenario::discover(&[dir.to_owned()]).unwrap_or_default();
    files
        .iter()
        .filter_map(|path| scenario::load(path).ok())
        .filter(|s| s.fault.name() == name)
        .collect()
}

/// The built-in catalogue's scenarios whose fault is `name`, in path order.
fn built_in(name: &str) -> Vec<Scenario> {
    let mut files = Vec::new();
    every_file(&BUILT_IN, &mut files);
    files.sort_by_key(|file| file.path());
    files
        .iter()
        .filter_map(|file| {
            let path = Path::new("scenarios").join(file.path());
            scenario::parse(&path, file.contents_utf8()?).ok()
        })
        .filter(|s| s.fault.name() == name)
        .collect()
}

fn every_file(dir: &'static Dir<'static>, files: &mut Vec<&'static File<'static>>) {
    for entry in dir.entries() {
        match entry {
            DirEntry::Dir(dir) => every_file(dir, files),
            DirEntry::File(file) => files.push(file),
        }
    }
}

/// What a scenario says the client does, in a few words.
fn summary(expect: &Expect) -> String {
    let mut parts = Vec::new();
    if expect.hangs {
        parts.push("hangs until killed".to_owned());
    }
    if let Some(error) = &expect.error {
        parts.push(format!("raises {error}"));
    }
    if let Some(class) = expect.class {
        parts.push(format!("[{class}]"));
    }
    if let Some(status) = expect.status {
        parts.push(format!("status {status}"));
    }
    if parts.is_empty() {
        parts.extend(expect.output.iter().map(|o| format!("prints {o:?}")));
    }
    parts.join(" ")
}

fn paragraph(out: &mut impl Write, text: &str) -> io::Result<()> {
    wrap(text, WIDTH - INDENT.len())
        .iter()
        .try_for_each(|line| writeln!(out, "{INDENT}{line}"))
}
