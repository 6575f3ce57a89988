//! `outage explain FAULT`: what happens on the wire, what each client raises
//! (read from the scenario catalogue, never typed twice), and how to handle it.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;
use include_dir::{Dir, DirEntry, File, include_dir};

use crate::cli::list::{INDENT, WIDTH, wrap};
use crate::fault::{CATALOGUE, Fault};
use crate::scenario::{self, Count, Expect, Scenario, Upstream};

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
    let texts = match &args.scenarios {
        Some(dir) => in_folder(dir),
        None => built_in(),
    };
    let observed = variants(&texts, name);
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
        .values()
        .flatten()
        .map(|s| s.client_label().len())
        .max()
        .unwrap_or(0);
    for (variant, scenarios) in &observed {
        writeln!(out, "  {variant}:")?;
        for scenario in scenarios {
            let label = scenario.client_label();
            let summary = summary(&scenario.expect);
            let lines = wrap(
                &summary,
                WIDTH.saturating_sub(INDENT.len() + width + 2).max(20),
            );
            for (i, line) in lines.iter().enumerate() {
                let label = if i == 0 { label.as_str() } else { "" };
                writeln!(out, "{INDENT}{label:<width$}  {line}")?;
            }
            writeln!(out, "{INDENT}{:<width$}  ({})", "", scenario.name())?;
        }
    }
    writeln!(out, "\nHow to handle it:")?;
    paragraph(&mut out, info.handle)?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// Each scenario file in `dir`, with its text, in path order.
fn in_folder(dir: &Path) -> Vec<(PathBuf, String)> {
    let files = scenario::discover(&[dir.to_owned()]).unwrap_or_default();
    files
        .into_iter()
        .filter_map(|path| Some((path.clone(), std::fs::read_to_string(&path).ok()?)))
        .collect()
}

/// Each file of the built-in catalogue, with its text, in path order.
fn built_in() -> Vec<(PathBuf, String)> {
    let mut files = Vec::new();
    every_file(&BUILT_IN, &mut files);
    files.sort_by_key(|file| file.path());
    files
        .iter()
        .filter_map(|file| {
            let path = Path::new("scenarios").join(file.path());
            Some((path, file.contents_utf8()?.to_owned()))
        })
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

/// The scenarios whose fault is `name`, skipping files that do not load,
/// grouped by variant: the fault's parameters as the file writes them, and
/// whether it is served behind TLS. The plain fault comes first.
fn variants(texts: &[(PathBuf, String)], name: &str) -> BTreeMap<String, Vec<Scenario>> {
    let mut found: BTreeMap<String, Vec<Scenario>> = BTreeMap::new();
    for (path, text) in texts {
        let Ok(scenario) = scenario::parse(path, text) else {
            continue;
        };
        if scenario.fault.name() == name {
            found
                .entry(variant(text, &scenario))
                .or_default()
                .push(scenario);
        }
    }
    found
}

/// A variant's heading: `reset`, `reset, behind TLS`, `ok, over HTTP/2`, `reset with when =
/// "after-body-bytes", body-bytes = 100`, or `ok, in front of upstream
/// 127.0.0.1:1`, from the fault as written and its upstream.
fn variant(text: &str, scenario: &Scenario) -> String {
    let written = toml::from_str::<toml::Table>(text)
        .ok()
        .and_then(|file| file.get("fault").and_then(|f| f.as_table()).cloned())
        .unwrap_or_default();
    let parameters: Vec<String> = written
        .iter()
        .filter(|(key, _)| key.as_str() != "kind")
        .map(|(key, value)| format!("{key} = {value}"))
        .collect();
    let mut heading = scenario.fault.name().to_owned();
    if !parameters.is_empty() {
        heading = format!("{heading} with {}", parameters.join(", "));
    }
    if scenario.http2 {
        heading.push_str(", over HTTP/2");
    }
    if scenario.tls {
        heading.push_str(", behind TLS");
    }
    match &scenario.upstream {
        Some(Upstream::Address(address)) => {
            heading.push_str(&format!(", in front of upstream {address}"));
        }
        Some(Upstream::Run { .. }) => heading.push_str(", in front of a real upstream"),
        None => {}
    }
    heading
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
    if let Some(classes) = expect.classes() {
        parts.push(format!("[{classes}]"));
    }
    if let Some(status) = expect.status {
        parts.push(format!("status {status}"));
    }
    if parts.is_empty() {
        parts.extend(expect.output.iter().map(|o| format!("prints {o:?}")));
    }
    let mut retries = Vec::new();
    match expect.retries.attempts {
        None | Some(Count::Exactly(1)) => {}
        Some(attempts) => retries.push(format!("in {attempts} attempts")),
    }
    if let Some(gaps) = &expect.retries.gaps {
        retries.push(format!("gaps {gaps}"));
    }
    [parts.join(" "), retries.join(", ")]
        .into_iter()
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(", ")
}

fn paragraph(out: &mut impl Write, text: &str) -> io::Result<()> {
    wrap(text, WIDTH - INDENT.len())
        .iter()
        .try_for_each(|line| writeln!(out, "{INDENT}{line}"))
}
