//! `outage explain FAULT`: what happens on the wire, what each client raises
//! (read from the scenario catalogue, never typed twice), and how to handle it.

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;

use crate::cli::list::{INDENT, WIDTH, wrap};
use crate::fault::{CATALOGUE, Fault};
use crate::scenario::{self, Expect, Scenario};

#[derive(Debug, Args)]
pub(crate) struct ExplainArgs {
    /// The fault to explain; `outage list` shows them all.
    fault: String,
    /// The scenario catalogue that says what each client raises.
    #[arg(long, value_name = "DIR", default_value = "scenarios")]
    scenarios: PathBuf,
}

pub(crate) fn explain(args: ExplainArgs) -> Result<ExitCode> {
    let name = Fault::named(&args.fault)?.name();
    let info = CATALOGUE
        .iter()
        .find(|info| info.name == name)
        .context("every named fault is catalogued")?;
    let observed = catalogued(&args.scenarios, name);
    let mut out = io::stdout().lock();
    writeln!(out, "{name}\n\nOn the wire:")?;
    paragraph(&mut out, info.wire)?;
    writeln!(out, "\nWhat clients raise:")?;
    if observed.is_empty() {
        paragraph(&mut out, info.clients)?;
        let missing = format!(
            "(no scenario in {} uses {name} yet)",
            args.scenarios.display()
        );
        paragraph(&mut out, &missing)?;
    }
    let width = observed
        .iter()
        .map(|s| s.client.label().len())
        .max()
        .unwrap_or(0);
    for scenario in &observed {
        let label = scenario.client.label();
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

/// The catalogue's scenarios whose fault is `name`, skipping files that do not load.
fn catalogued(dir: &PathBuf, name: &str) -> Vec<Scenario> {
    let files = scenario::discover(std::slice::from_ref(dir)).unwrap_or_default();
    files
        .iter()
        .filter_map(|path| scenario::load(path).ok())
        .filter(|s| s.fault.name() == name)
        .collect()
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
