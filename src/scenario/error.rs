//! Load errors located at `file:line:column`.

use std::collections::BinaryHeap;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// The most errors kept and printed for one file; the rest are counted.
pub const SHOWN_ERRORS: usize = 20;

/// One thing wrong with a scenario file, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadError {
    /// The file.
    pub path: PathBuf,
    /// Line, from 1; 0 when the error is about the file as a whole.
    pub line: usize,
    /// Column in characters, from 1; 0 when the error is about the file as a whole.
    pub column: usize,
    /// What is wrong and what to do.
    pub message: String,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.path.display(), self.message)
        } else {
            write!(
                f,
                "{}:{}:{}: {}",
                self.path.display(),
                self.line,
                self.column,
                self.message
            )
        }
    }
}

/// What is wrong with one scenario file: the first [`SHOWN_ERRORS`] errors in
/// file order, and how many more there were.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct LoadErrors(pub Vec<LoadError>, usize);

impl LoadErrors {
    /// How many errors the file had beyond the ones kept.
    pub fn more(&self) -> usize {
        self.1
    }
}

impl fmt::Display for LoadErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, error) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{error}")?;
        }
        match self.1 {
            0 => Ok(()),
            1 => write!(f, "\n... and 1 more error"),
            more => write!(f, "\n... and {more} more errors"),
        }
    }
}

/// A place in a scenario file: line and column in characters, both from 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Place {
    /// The line, from 1.
    pub line: usize,
    /// The column in characters, from 1.
    pub column: usize,
}

impl LoadErrors {
    /// One error at `place` in the file at `path`.
    pub(crate) fn one(path: &Path, place: Place, message: String) -> Self {
        let error = LoadError {
            path: path.to_owned(),
            line: place.line,
            column: place.column,
            message,
        };
        LoadErrors(vec![error], 0)
    }
}

/// One error not yet located: its place in file order, then its message.
/// Whole-file errors come first (key 0), then byte offset `o` as key `o + 1`;
/// `seq` keeps errors at the same place in the order they were found.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
struct Pending {
    key: usize,
    seq: usize,
    message: String,
}

/// Collects errors for one file, turning byte spans into lines and columns.
///
/// Only the first [`SHOWN_ERRORS`] in file order are kept, in a heap whose top
/// is the last of them, so a file with a million errors costs a million
/// comparisons and twenty messages, not a million of each.
pub(crate) struct Errors<'a> {
    path: &'a Path,
    text: &'a str,
    kept: BinaryHeap<Pending>,
    seen: usize,
}

impl<'a> Errors<'a> {
    pub(crate) fn new(path: &'a Path, text: &'a str) -> Self {
        Errors {
            path,
            text,
            kept: BinaryHeap::new(),
            seen: 0,
        }
    }

    /// Records `message` at the start of `span`.
    pub(crate) fn at(&mut self, span: Range<usize>, message: impl Into<String>) {
        self.at_with(span, || message.into());
    }

    /// Records the message `make` gives at the start of `span`, calling it
    /// only if the error is among those kept: for messages costly to make,
    /// such as a "did you mean" that compares the key with every known one.
    pub(crate) fn at_with(&mut self, span: Range<usize>, make: impl FnOnce() -> String) {
        self.keep(span.start.saturating_add(1), make);
    }

    /// Where `span` starts, by line and column.
    pub(crate) fn place(&self, span: Range<usize>) -> Place {
        let (line, column) = LineIndex::new(self.text).position(span.start);
        Place { line, column }
    }

    /// Records `message` about the whole file.
    pub(crate) fn file(&mut self, message: impl Into<String>) {
        self.keep(0, || message.into());
    }

    fn keep(&mut self, key: usize, make: impl FnOnce() -> String) {
        let seq = self.seen;
        self.seen += 1;
        let place = (key, seq);
        let kept = |pending: &Pending| place < (pending.key, pending.seq);
        if self.kept.len() >= SHOWN_ERRORS {
            if !self.kept.peek().is_some_and(kept) {
                return;
            }
            self.kept.pop();
        }
        self.kept.push(Pending {
            key,
            seq,
            message: make(),
        });
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.seen == 0
    }

    pub(crate) fn finish(self) -> LoadErrors {
        let lines = LineIndex::new(self.text);
        let found = self
            .kept
            .into_sorted_vec()
            .into_iter()
            .map(|pending| {
                let (line, column) = match pending.key {
                    0 => (0, 0),
                    key => lines.position(key - 1),
                };
                LoadError {
                    path: self.path.to_owned(),
                    line,
                    column,
                    message: pending.message,
                }
            })
            .collect::<Vec<_>>();
        let more = self.seen - found.len();
        LoadErrors(found, more)
    }
}

/// Where each line of a text starts, found once, so that locating an offset
/// is a binary search rather than a scan from the start.
pub(crate) struct LineIndex<'a> {
    text: &'a str,
    /// The byte offset of the start of each line; the first is 0.
    starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
        let newlines = text.bytes().enumerate().filter(|(_, b)| *b == b'\n');
        let starts = std::iter::once(0).chain(newlines.map(|(i, _)| i + 1));
        LineIndex {
            text,
            starts: starts.collect(),
        }
    }

    /// The 1-based line and character column of byte `offset`.
    pub(crate) fn position(&self, offset: usize) -> (usize, usize) {
        let mut offset = offset.min(self.text.len());
        // An offset inside a character gives the column of that character.
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        // `starts[0]` is 0, so at least one start is at or before any offset.
        let line = self.starts.partition_point(|&start| start <= offset);
        let column = self.text[self.starts[line - 1]..offset].chars().count() + 1;
        (line, column)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_become_lines_and_character_columns() {
        let text = "a = 1\nbé = 2\n";
        let lines = LineIndex::new(text);
        assert_eq!(lines.position(0), (1, 1));
        assert_eq!(lines.position(6), (2, 1));
        assert_eq!(
            lines.position(10),
            (2, 4),
            "é is one column though two bytes"
        );
        assert_eq!(lines.position(8), (2, 2), "inside é is still é");
        assert_eq!(lines.position(1000), (3, 1));
    }

    #[test]
    fn only_the_first_errors_in_file_order_are_kept_and_the_rest_counted() {
        let text = "x\n".repeat(100);
        let mut errors = Errors::new(Path::new("f.toml"), &text);
        for line in (0..100).rev() {
            errors.at(line * 2..line * 2 + 1, format!("line {}", line + 1));
        }
        errors.file("whole file");
        let errors = errors.finish();
        assert_eq!(errors.0.len(), SHOWN_ERRORS);
        assert_eq!(errors.more(), 101 - SHOWN_ERRORS);
        assert_eq!(errors.0[0].to_string(), "f.toml: whole file");
        assert_eq!(errors.0[1].to_string(), "f.toml:1:1: line 1");
        assert_eq!(
            errors.to_string().lines().last(),
            Some("... and 81 more errors")
        );
    }

    #[test]
    fn six_hundred_thousand_errors_are_located_in_well_under_a_second() {
        const N: usize = 600_000;
        // One long line and many short ones: the worst cases for a rescan
        // from the start of the text, or from the start of the line.
        for text in ["1,".repeat(N), "1\n".repeat(N)] {
            let start = std::time::Instant::now();
            let mut errors = Errors::new(Path::new("f.toml"), &text);
            for i in 0..N {
                errors.at(2 * i..2 * i + 1, format!("error {i}"));
            }
            let errors = errors.finish();
            let took = start.elapsed();
            assert!(took.as_secs_f64() < 1.0, "took {took:?}");
            assert_eq!(errors.0.len(), SHOWN_ERRORS);
            assert_eq!(errors.more(), N - SHOWN_ERRORS);
            assert_eq!(errors.0[SHOWN_ERRORS - 1].message, "error 19");
        }
    }
}
