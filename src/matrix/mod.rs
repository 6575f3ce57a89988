//! The exception matrix: every fault against every client, each cell the
//! error the client raised (or the status it got), its neutral class, and
//! whether it was the same in every run.
//!
//! - `entry`: one scenario's result as the matrix reads it, from reports
//!   just made, from a results file, or from a scenario file's expectations;
//! - `grid`: rows (fault variants) by columns (clients);
//! - `markdown` and `html`: the two renderings; `retries` the page's
//!   section of retry scenarios, `timeline` the SVG of one's attempts;
//! - `links`: paths from the rendered file to each scenario file.

mod entry;
mod grid;
mod html;
mod links;
mod markdown;
mod retries;
mod timeline;

pub use entry::{Entry, Outcome, ResultsError, Seen, Span, Verdict, from_reports, read_results};
pub use grid::{Cell, Matrix, Row, Sighting, What};
pub use html::html;
pub use markdown::markdown;
