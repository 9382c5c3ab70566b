//! Errors found in a config file, each with file, line, column and key path.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// A file's text with the byte offsets where its lines start, to turn spans into line:column.
#[derive(Debug)]
pub struct SourceFile {
    pub path: PathBuf,
    pub text: String,
    line_starts: Vec<usize>,
}

impl SourceFile {
    pub fn new(path: impl Into<PathBuf>, text: String) -> Self {
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        SourceFile {
            path: path.into(),
            text,
            line_starts,
        }
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = match self.line_starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i - 1,
        };
        let start = self.line_starts[line];
        let col = self
            .text
            .get(start..offset)
            .map_or(offset - start, |s| s.chars().count());
        (line + 1, col + 1)
    }
}

/// One thing wrong with the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub file: PathBuf,
    /// 1-based line and column; `None` for problems with the file itself (missing, permissions).
    pub location: Option<(usize, usize)>,
    /// Key path, e.g. `component[2].health.every`; empty for the whole file.
    pub path: String,
    pub message: String,
}

impl Diagnostic {
    pub fn at(
        source: &SourceFile,
        span: Option<Range<usize>>,
        path: &str,
        message: String,
    ) -> Self {
        let offset = span.map_or(0, |s| s.start);
        Diagnostic {
            file: source.path.clone(),
            location: Some(source.line_col(offset)),
            path: path.to_string(),
            message,
        }
    }

    /// A file that could not be read: missing (no position), or refused as a whole (not a
    /// regular file, too large: at its `1:1`).
    pub fn unreadable(file: &Path, e: &crate::files::FileError) -> Self {
        match e {
            crate::files::FileError::NotFound => Diagnostic::file(file, e.to_string()),
            _ => Diagnostic::whole_file(file, e.to_string()),
        }
    }

    /// A problem with the file as a whole (not a regular file, too large), at its `1:1`.
    pub fn whole_file(file: &Path, message: String) -> Self {
        Diagnostic {
            file: file.to_path_buf(),
            location: Some((1, 1)),
            path: String::new(),
            message,
        }
    }

    pub fn file(file: &Path, message: String) -> Self {
        Diagnostic {
            file: file.to_path_buf(),
            location: None,
            path: String::new(),
            message,
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some((line, col)) = self.location {
            write!(f, ":{line}:{col}")?;
        }
        if !self.path.is_empty() {
            write!(f, ": {}", self.path)?;
        }
        write!(f, ": {}", self.message)
    }
}

/// Every error found in one pass over the configuration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_are_one_based_and_count_characters() {
        let src = SourceFile::new("x.toml", "a = 1\nñb = 2\n".into());
        assert_eq!(src.line_col(0), (1, 1));
        assert_eq!(src.line_col(4), (1, 5));
        assert_eq!(src.line_col(6), (2, 1));
        // 'ñ' is two bytes but one column
        assert_eq!(src.line_col(8), (2, 2));
        assert_eq!(src.line_col(999), (3, 1));
    }

    #[test]
    fn display_names_file_line_column_and_key_path() {
        let src = SourceFile::new("c.toml", "x\ny = 1\n".into());
        let d = Diagnostic::at(&src, Some(2..3), "console.y", "unknown key".into());
        assert_eq!(d.to_string(), "c.toml:2:1: console.y: unknown key");
        let f = Diagnostic::file(Path::new("c.toml"), "not found".into());
        assert_eq!(f.to_string(), "c.toml: not found");
    }
}
