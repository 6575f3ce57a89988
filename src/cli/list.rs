//! `outage list`: the fault catalogue, readable in an 80-column terminal.

use std::io::{self, Write};

use crate::cli::keys;
use crate::fault::{self, CATALOGUE, FaultInfo};

/// Where wrapped text ends.
pub(crate) const WIDTH: usize = 80;
/// The indent of everything under a fault's name.
pub(crate) const INDENT: &str = "    ";

/// Writes every fault: its name, then what happens, what clients see and its options.
pub(crate) fn catalogue(out: &mut impl Write) -> io::Result<()> {
    writeln!(out, "Usage: outage serve FAULT [--KEY VALUE]...")?;
    writeln!(out, "The options are the fault's keys in scenario files.")?;
    for info in CATALOGUE {
        writeln!(out)?;
        entry(out, info)?;
    }
    Ok(())
}

/// Writes the names alone, one per line, for scripts and shell completion.
pub(crate) fn names(out: &mut impl Write) -> io::Result<()> {
    CATALOGUE
        .iter()
        .try_for_each(|info| writeln!(out, "{}", info.name))
}

/// Writes the catalogue as a JSON array, each fault with its parameter
/// names (its keys in scenario files), for scripts.
pub(crate) fn json(out: &mut impl Write) -> io::Result<()> {
    let faults: Vec<serde_json::Value> = CATALOGUE
        .iter()
        .map(|info| {
            serde_json::json!({
                "name": info.name,
                "parameters": fault::parameters(info.name).unwrap_or_default(),
                "wire": info.wire,
                "clients": info.clients,
                "handle": info.handle,
            })
        })
        .collect();
    serde_json::to_writer_pretty(&mut *out, &faults)?;
    writeln!(out)
}

/// Writes one fault's entry.
pub(crate) fn entry(out: &mut impl Write, info: &FaultInfo) -> io::Result<()> {
    writeln!(out, "{}", info.name)?;
    let options = keys::usage(info.name);
    let options = if options.is_empty() {
        "none".to_owned()
    } else {
        options.join(", ")
    };
    for paragraph in [
        info.wire.to_owned(),
        format!("Clients: {}", info.clients),
        format!("Options: {options}"),
    ] {
        for line in wrap(&paragraph, WIDTH - INDENT.len()) {
            writeln!(out, "{INDENT}{line}")?;
        }
    }
    Ok(())
}

/// Splits `text` into lines of at most `width` characters, breaking at spaces;
/// a word longer than `width` gets a line of its own.
pub(crate) fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrap_breaks_at_spaces_within_the_width() {
        assert_eq!(wrap("aa bb cc dd", 5), ["aa bb", "cc dd"]);
        assert_eq!(wrap("a verylongword b", 4), ["a", "verylongword", "b"]);
        assert!(wrap("", 10).is_empty());
    }

    #[test]
    fn every_line_of_the_catalogue_fits_in_80_columns() {
        let mut out = Vec::new();
        catalogue(&mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        for line in text.lines() {
            assert!(line.chars().count() <= WIDTH, "{line:?}");
        }
    }
}
