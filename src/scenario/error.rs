//! Load errors located at `file:line:column`.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

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

/// Everything wrong with one scenario file, in file order.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct LoadErrors(pub Vec<LoadError>);

impl fmt::Display for LoadErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, error) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{error}")?;
        }
        Ok(())
    }
}

/// Collects errors for one file, turning byte spans into lines and columns.
pub(crate) struct Errors<'a> {
    path: &'a Path,
    text: &'a str,
    found: Vec<LoadError>,
}

impl<'a> Errors<'a> {
    pub(crate) fn new(path: &'a Path, text: &'a str) -> Self {
        Errors {
            path,
            text,
            found: Vec::new(),
        }
    }

    /// Records `message` at the start of `span`.
    pub(crate) fn at(&mut self, span: Range<usize>, message: impl Into<String>) {
        let (line, column) = line_column(self.text, span.start);
        self.found.push(LoadError {
            path: self.path.to_owned(),
            line,
            column,
            message: message.into(),
        });
    }

    /// Records `message` about the whole file.
    pub(crate) fn file(&mut self, message: impl Into<String>) {
        self.found.push(LoadError {
            path: self.path.to_owned(),
            line: 0,
            column: 0,
            message: message.into(),
        });
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.found.is_empty()
    }

    pub(crate) fn finish(mut self) -> LoadErrors {
        self.found.sort_by_key(|e| (e.line, e.column));
        LoadErrors(self.found)
    }
}

/// The 1-based line and character column of byte `offset` in `text`.
pub(crate) fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_become_lines_and_character_columns() {
        let text = "a = 1\nbé = 2\n";
        assert_eq!(line_column(text, 0), (1, 1));
        assert_eq!(line_column(text, 6), (2, 1));
        assert_eq!(
            line_column(text, 10),
            (2, 4),
            "é is one column though two bytes"
        );
        assert_eq!(line_column(text, 1000), (3, 1));
    }
}
