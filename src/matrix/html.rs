//! The matrix as one self-contained HTML page: inline CSS, no script, no
//! request for anything (its content security policy forbids them), readable
//! on a phone; with what did not pass, the surprises, and a timeline of each
//! retry scenario.

use std::fmt::Write as _;
use std::path::Path;

use crate::matrix::grid::{Cell, Matrix, Row, What};
use crate::matrix::{links, retries};

const STYLE: &str = "\
body{margin:0;padding:1rem;background:#fafaf7;color:#1a202c;font:16px/1.45 system-ui,sans-serif}\
h1{font-size:1.5rem;margin:0 0 .5rem}h2{font-size:1.2rem;margin:1.5rem 0 .5rem}\
h3{font-size:1rem;margin:1rem 0 .25rem}p{max-width:48rem}\
.scroll{overflow-x:auto;max-width:100%;-webkit-overflow-scrolling:touch}\
table{border-collapse:collapse;font-size:14px}\
th,td{border:1px solid #cbd5e0;padding:.35rem .5rem;vertical-align:top;text-align:left;min-width:9rem}\
th:first-child{position:sticky;left:0;background:#edf2f7;min-width:7rem}\
thead th{background:#edf2f7}\
td.fail{background:#fff5f5}td.unstable{background:#fffaf0}\
code{font-size:13px;word-break:break-word}.class{color:#4a5568}\
.runs{display:block;color:#4a5568;font-size:12px}\
.verdict{font-weight:600;font-size:12px;margin-right:.3rem}.verdict.pass{color:#2f855a}\
.verdict.bad{color:#c53030}.surprise{color:#b7791f;font-weight:600}\
.key{display:inline-block;width:.8rem;height:.8rem;margin:0 .25rem 0 .75rem;vertical-align:-1px}\
svg.timeline{background:#fff;border:1px solid #e2e8f0;font-family:system-ui,sans-serif}\
rect.bar{shape-rendering:crispEdges}";

/// The matrix as an HTML page, its links relative to `folder`, where the
/// page is written.
pub fn html(matrix: &Matrix, folder: &Path) -> String {
    let mut out = String::from(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
         style-src 'unsafe-inline'; img-src data:\">\
         <title>outage: the exception matrix</title><style>",
    );
    out.push_str(STYLE);
    out.push_str("</style></head><body><h1>The exception matrix</h1>\n");
    let _ = writeln!(out, "<p>{}</p>", summary(matrix));
    let mut surprises = Vec::new();
    for (name, rows) in matrix.folders() {
        let heading = if name.is_empty() { "(top level)" } else { name };
        let _ = writeln!(out, "<h2>{}</h2>", escape(heading));
        table(&mut out, matrix, &rows, folder, &mut surprises);
    }
    not_passed(&mut out, matrix, folder);
    if !surprises.is_empty() {
        out.push_str("<h2 id=\"surprises\">Surprises</h2><ol>");
        surprises.iter().for_each(|line| out.push_str(line));
        out.push_str("</ol>\n");
    }
    // Expectations alone have no attempts to draw.
    if matrix.runs > 0 {
        retries::section(&mut out, matrix, folder);
    }
    out.push_str("</body></html>\n");
    out
}

/// What the page shows, and how many scenarios passed.
fn summary(matrix: &Matrix) -> String {
    let (all, bad) = matrix.cells().fold((0, 0), |(all, bad), cell| {
        (all + 1, bad + usize::from(!cell.not_passed().is_empty()))
    });
    let source = match matrix.runs {
        0 => "what each scenario file expects".to_owned(),
        1 => "one run".to_owned(),
        runs => format!("{runs} runs"),
    };
    let scenarios = match all {
        1 => "1 scenario".to_owned(),
        all => format!("{all} scenarios"),
    };
    let verdicts = match (matrix.runs, bad) {
        (0, _) => format!("{scenarios}, not run here."),
        (_, 0) => format!("{scenarios}, all passed."),
        (_, bad) => format!("{scenarios}, {bad} of which failed, broke or were skipped in a run."),
    };
    format!(
        "Every fault (rows) against every client (columns): the error each client raised, \
         by its own name, and its neutral class, or the status it got; from {source}. \
         {verdicts} Each cell links to its scenario."
    )
}

fn table(out: &mut String, matrix: &Matrix, rows: &[&Row], folder: &Path, notes: &mut Vec<String>) {
    let clients = matrix.clients_in(rows);
    out.push_str("<div class=\"scroll\"><table><thead><tr><th>variant</th>");
    for client in &clients {
        let _ = write!(out, "<th>{}</th>", escape(client));
    }
    out.push_str("</tr></thead><tbody>\n");
    for row in rows {
        let variant = row.key.rsplit('/').next().unwrap_or(&row.key);
        let _ = write!(
            out,
            "<tr><th>{}<span class=\"runs\">fault {}</span></th>",
            escape(variant),
            escape(&row.fault)
        );
        for client in &clients {
            let cells = row.cells.get(*client).map(Vec::as_slice).unwrap_or(&[]);
            cell(out, cells, client, row, folder, notes);
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody></table></div>\n");
}

fn cell(
    out: &mut String,
    cells: &[Cell],
    client: &str,
    row: &Row,
    folder: &Path,
    notes: &mut Vec<String>,
) {
    let failing = cells.iter().any(|c| !c.not_passed().is_empty());
    let unstable = cells.iter().any(|c| c.stable() == Some(false));
    let class = match (failing, unstable) {
        (true, _) => " class=\"fail\"",
        (false, true) => " class=\"unstable\"",
        (false, false) => "",
    };
    let _ = write!(out, "<td{class}>");
    for cell in cells {
        let link = escape(&links::relative(&cell.path, folder));
        let several = cell.outcomes().len() > 1;
        for (what, count) in cell.outcomes() {
            let times = if several {
                format!(" ({count}×)")
            } else {
                String::new()
            };
            let _ = write!(
                out,
                "<a href=\"{link}\" title=\"{}\">{}</a>{times} ",
                escape(&cell.description),
                what_html(what)
            );
        }
        verdicts(out, cell);
        if let Some(surprise) = &cell.surprise {
            notes.push(format!(
                "<li id=\"surprise-{n}\">{} on {}: {} (<a href=\"{link}\">scenario</a>)</li>",
                escape(client),
                escape(&row.key),
                escape(surprise),
                n = notes.len() + 1
            ));
            let _ = write!(
                out,
                "<a class=\"surprise\" href=\"#surprise-{n}\" title=\"{}\">⚠ {n}</a>",
                escape(surprise),
                n = notes.len()
            );
        }
    }
    out.push_str("</td>");
}

/// The cell's verdicts and stability, under what the client did.
fn verdicts(out: &mut String, cell: &Cell) {
    out.push_str("<span class=\"runs\">");
    let bad = cell.not_passed();
    let ran = cell.sightings.iter().any(|s| s.verdict.is_some());
    if ran && bad.is_empty() {
        out.push_str("<span class=\"verdict pass\">pass</span>");
    }
    for (verdict, count) in bad {
        let times = if count > 1 {
            format!(" ×{count}")
        } else {
            String::new()
        };
        let _ = write!(
            out,
            "<span class=\"verdict bad\">{}{times}</span>",
            verdict.word()
        );
    }
    match cell.stable() {
        Some(true) => {
            let _ = write!(out, "stable, {} runs", cell.sightings.len());
        }
        Some(false) => out.push_str("<strong>unstable</strong>"),
        None => {}
    }
    out.push_str("</span>");
}

fn what_html(what: &What) -> String {
    match what {
        What::Raised { native, class } => {
            let native = native
                .as_deref()
                .map(|n| format!("<code>{}</code>", escape(n)));
            let class = class
                .as_deref()
                .map(|c| format!("<span class=\"class\">{}</span>", escape(c)));
            match (native, class) {
                (Some(native), Some(class)) => format!("{native} · {class}"),
                (one, other) => one.or(other).unwrap_or_else(|| "an error".to_owned()),
            }
        }
        What::Status(status) => format!("status {status}"),
        What::Hung => "hangs".to_owned(),
        What::Exited => "exits".to_owned(),
        What::NotRun => "did not run".to_owned(),
    }
}

/// Every scenario that did not pass in some run, with why.
fn not_passed(out: &mut String, matrix: &Matrix, folder: &Path) {
    let mut items = String::new();
    for (cell, run, verdict, why) in matrix.not_passed() {
        let _ = write!(
            items,
            "<li><a href=\"{}\">{}</a>, run {run}: <strong>{}</strong><pre>{}</pre></li>",
            escape(&links::relative(&cell.path, folder)),
            escape(&cell.name),
            verdict.word(),
            escape(why)
        );
    }
    if !items.is_empty() {
        let _ = writeln!(out, "<h2 id=\"not-passed\">Not passed</h2><ul>{items}</ul>");
    }
}

/// `text` with every character HTML would read as markup escaped, for text
/// and for attribute values in double or single quotes.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matrix::entry::{Entry, Outcome, Seen};
    use crate::matrix::grid::tests::raised;

    #[test]
    fn text_from_clients_and_files_is_escaped() {
        assert_eq!(
            escape("<a href='x'>\"&\"</a>"),
            "&lt;a href=&#39;x&#39;&gt;&quot;&amp;&quot;&lt;/a&gt;"
        );
        let mut entry = raised("transport/reset-curl", "<b>curl</b>", "Err<'&'>", "reset");
        entry.description = "A \"quoted\" <script>alert(1)</script>".to_owned();
        entry.surprise = Some("</li><script>".to_owned());
        entry.verdict = Some(crate::matrix::entry::Verdict::Failed);
        entry.reason = "expected <x> & got \"y\"".to_owned();
        let page = html(&Matrix::of_runs(&[vec![entry]]), Path::new(""));
        assert!(!page.contains("<script"), "{page}");
        assert!(!page.contains("<b>"), "{page}");
        assert!(
            page.contains("<code>Err&lt;&#39;&amp;&#39;&gt;</code>"),
            "{page}"
        );
        assert!(
            page.contains("title=\"A &quot;quoted&quot; &lt;script&gt;"),
            "{page}"
        );
        assert!(
            page.contains(
                "<strong>FAIL</strong><pre>expected &lt;x&gt; &amp; got &quot;y&quot;</pre></li>"
            ),
            "{page}"
        );
    }

    #[test]
    fn a_page_has_a_viewport_and_no_way_to_load_anything() {
        let page = html(&Matrix::of_runs(&[vec![]]), Path::new(""));
        assert!(
            page.contains(
                "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            )
        );
        assert!(page.contains("default-src 'none'"));
        for outside in ["<script", "<link", "@import", "url(", "http:", "https:"] {
            assert!(!page.contains(outside), "{outside} in {page}");
        }
    }

    #[test]
    fn expectations_alone_draw_no_timeline_and_claim_no_run() {
        let path = Path::new("scenarios/retry/fail-twice-then-succeed-curl.toml");
        let scenario = crate::scenario::load(path).expect("a catalogue scenario");
        let page = html(
            &Matrix::of_expectations(&[Entry::expected(&scenario)]),
            Path::new(""),
        );
        assert_eq!(page.matches("<svg").count(), 0, "{page}");
        assert!(page.contains("1 scenario, not run here."), "{page}");
    }

    #[test]
    fn a_run_with_several_attempts_gets_a_timeline() {
        let mut entry = raised("retry/reset-twice-curl", "curl_get.sh", "E", "reset");
        entry.observed = Some(Seen {
            outcome: Outcome::Response { status: 200 },
            attempts: vec![
                crate::matrix::entry::Span {
                    started: 0.5,
                    ended: Some(0.6),
                    ending: Some("server-rst".to_owned()),
                },
                crate::matrix::entry::Span {
                    started: 1.5,
                    ended: Some(1.6),
                    ending: Some("server-fin".to_owned()),
                },
            ],
        });
        let single: Entry = raised("http/no-such-file-curl", "curl_get.sh", "E", "reset");
        let page = html(&Matrix::of_runs(&[vec![entry, single]]), Path::new(""));
        assert_eq!(page.matches("<svg").count(), 1, "{page}");
        assert!(page.contains("<h2 id=\"retries\">Retries</h2>"));
        assert!(page.contains(">1.00 s</text>"), "{page}");
    }
}
