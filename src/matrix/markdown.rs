//! The matrix as GitHub-flavoured Markdown: one table per folder, a legend,
//! and the surprises listed under the tables.

use std::fmt::Write as _;
use std::path::Path;

use crate::matrix::grid::{Cell, Matrix, Row, What};
use crate::matrix::links;

/// The matrix as Markdown, its links relative to `folder`, where the
/// document is written.
pub fn markdown(matrix: &Matrix, folder: &Path) -> String {
    let mut out = String::from("# The exception matrix\n\n");
    out.push_str(&legend(matrix));
    let mut surprises = Vec::new();
    for (name, rows) in matrix.folders() {
        let heading = if name.is_empty() { "(top level)" } else { name };
        let _ = write!(out, "\n## {}\n\n", text(heading));
        table(&mut out, matrix, &rows, folder, &mut surprises);
    }
    if !surprises.is_empty() {
        out.push_str("\n## Surprises\n\n");
        for (number, line) in surprises.iter().enumerate() {
            let _ = writeln!(out, "{}. {line}", number + 1);
        }
    }
    not_passed(&mut out, matrix, folder);
    out
}

/// Every scenario that did not pass in some run, with why.
fn not_passed(out: &mut String, matrix: &Matrix, folder: &Path) {
    let mut items = String::new();
    for (cell, run, verdict, why) in matrix.not_passed() {
        let _ = writeln!(
            items,
            "- [{}]({}), run {run}: **{}**",
            text(&cell.name),
            url(&links::relative(&cell.path, folder)),
            verdict.word()
        );
        for line in why.lines() {
            let _ = writeln!(items, "  - {}", text(line));
        }
    }
    if !items.is_empty() {
        out.push_str("\n## Not passed\n\n");
        out.push_str(&items);
    }
}

fn legend(matrix: &Matrix) -> String {
    let source = match matrix.runs {
        0 => "what each scenario file expects (its `[expect]` table), written by \
              `outage matrix --expected`; running the scenarios checks every \
              expectation against the real client"
            .to_owned(),
        1 => "what one run of the scenarios saw".to_owned(),
        runs => format!(
            "what {runs} runs of the scenarios saw; \"stable\" means every run \
             raised the same error of the same class"
        ),
    };
    format!(
        "Every fault (rows) against every client (columns): the error the \
         client raises, by its own name, then its neutral class, or the status \
         it got. Each cell links to the scenario that shows it. This is {source}.\n\n\
         Legend: `name` · class: the error raised and its class; status N: a \
         response; hangs: still running at the deadline; exits: ended without \
         saying what happened; ⚠ N: something surprising, see Surprises; FAIL, \
         BROKEN, SKIP: the scenario did not pass.\n"
    )
}

fn table(out: &mut String, matrix: &Matrix, rows: &[&Row], folder: &Path, notes: &mut Vec<String>) {
    let clients = matrix.clients_in(rows);
    out.push_str("| variant | fault |");
    clients.iter().for_each(|client| {
        let _ = write!(out, " {} |", text(client));
    });
    out.push_str("\n|---|---|");
    out.push_str(&"---|".repeat(clients.len()));
    out.push('\n');
    for row in rows {
        let variant = row.key.rsplit('/').next().unwrap_or(&row.key);
        let _ = write!(out, "| {} | {} |", text(variant), code(&row.fault));
        for client in &clients {
            let cells = row.cells.get(*client).map(Vec::as_slice).unwrap_or(&[]);
            let shown: Vec<String> = cells
                .iter()
                .map(|c| cell(c, client, row, folder, notes))
                .collect();
            let _ = write!(out, " {} |", shown.join("<br>"));
        }
        out.push('\n');
    }
}

fn cell(cell: &Cell, client: &str, row: &Row, folder: &Path, notes: &mut Vec<String>) -> String {
    let link = links::relative(&cell.path, folder);
    let several = cell.outcomes().len() > 1;
    let mut parts: Vec<String> = cell
        .outcomes()
        .iter()
        .map(|(what, count)| {
            let runs = if several {
                format!(" ({count}×)")
            } else {
                String::new()
            };
            format!("[{}]({}){runs}", what_text(what), url(&link))
        })
        .collect();
    match cell.stable() {
        Some(true) => parts.push(format!("stable, {} runs", cell.sightings.len())),
        Some(false) => parts.insert(0, "**unstable**:".to_owned()),
        None => {}
    }
    for (verdict, count) in cell.not_passed() {
        let times = if count > 1 {
            format!(" ×{count}")
        } else {
            String::new()
        };
        parts.push(format!("**{}**{times}", verdict.word()));
    }
    if let Some(surprise) = &cell.surprise {
        notes.push(format!(
            "{} on {}: {} ([scenario]({}))",
            text(client),
            code(&row.key),
            text(surprise),
            url(&link)
        ));
        parts.push(format!("[⚠ {}](#surprises)", notes.len()));
    }
    parts.join(" ")
}

/// What the client did, in Markdown.
fn what_text(what: &What) -> String {
    match what {
        What::Raised { native, class } => match (native, class) {
            (Some(native), Some(class)) => format!("{} · {}", code(native), text(class)),
            (Some(native), None) => code(native),
            (None, Some(class)) => text(class),
            (None, None) => "an error".to_owned(),
        },
        What::Status(status) => format!("status {status}"),
        What::Hung => "hangs".to_owned(),
        What::Exited => "exits".to_owned(),
        What::NotRun => "did not run".to_owned(),
    }
}

/// `value` as text in a table cell: every character Markdown or HTML would
/// read as markup is escaped, and lines are joined.
pub(crate) fn text(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '&' | '~' | '#' | '!' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// `value` as a code span in a table cell; as escaped text when it holds a
/// backtick, which a span could not show.
pub(crate) fn code(value: &str) -> String {
    if value.contains('`') {
        return text(value);
    }
    // In a table, a pipe ends the cell even inside a code span unless escaped.
    format!("`{}`", value.replace('|', "\\|").replace(['\n', '\r'], " "))
}

/// A relative link, with the characters that would end it encoded.
fn url(link: &str) -> String {
    link.replace('%', "%25")
        .replace(' ', "%20")
        .replace('(', "%28")
        .replace(')', "%29")
        .replace('|', "%7C")
        .replace('<', "%3C")
        .replace('>', "%3E")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matrix::entry::Entry;
    use crate::matrix::grid::tests::raised;

    #[test]
    fn markup_in_client_text_is_escaped() {
        assert_eq!(text("a|b <x> & *c*"), "a\\|b \\<x\\> \\& \\*c\\*");
        assert_eq!(
            code("requests.exceptions.ConnectionError"),
            "`requests.exceptions.ConnectionError`"
        );
        assert_eq!(code("a|b"), "`a\\|b`");
        assert_eq!(code("a`b"), "a\\`b");
        assert_eq!(
            url("../scenarios/a b(1).toml"),
            "../scenarios/a%20b%281%29.toml"
        );
    }

    #[test]
    fn a_table_per_folder_links_each_cell_and_lists_surprises() {
        let mut surprising = raised(
            "transport/reset-curl",
            "curl_get.sh",
            "CURLE_RECV_ERROR",
            "reset",
        );
        surprising.surprise = Some("curl says <recv> | not reset".to_owned());
        let entries: Vec<Entry> = vec![
            raised(
                "transport/reset-reqwest",
                "reqwest",
                "reqwest::Error",
                "reset",
            ),
            surprising,
        ];
        let matrix = Matrix::of_runs(&[entries]);
        let shown = markdown(&matrix, Path::new("docs"));
        let table = "## transport\n\n\
            | variant | fault | reqwest | curl\\_get.sh |\n\
            |---|---|---|---|\n\
            | reset | `reset` | [`reqwest::Error` · reset](../scenarios/transport/reset-reqwest.toml) \
            | [`CURLE_RECV_ERROR` · reset](../scenarios/transport/reset-curl.toml) [⚠ 1](#surprises) |\n";
        assert!(shown.contains(table), "{shown}");
        assert!(
            shown.ends_with(
                "## Surprises\n\n1. curl\\_get.sh on `transport/reset`: curl says \\<recv\\> \\| not reset \
                 ([scenario](../scenarios/transport/reset-curl.toml))\n"
            ),
            "{shown}"
        );
    }
}
