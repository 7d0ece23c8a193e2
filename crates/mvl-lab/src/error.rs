//! Errors of the lab crate.

/// A line of a lab that is not in the lab language.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}{}", word_text(.word))]
pub struct ParseError {
    /// 1-based line number.
    pub line: usize,
    /// The word that is wrong, if one is.
    pub word: Option<String>,
    /// What is wrong.
    pub message: String,
}

fn word_text(w: &Option<String>) -> String {
    match w {
        Some(w) => format!(" (at \"{w}\")"),
        None => String::new(),
    }
}

impl ParseError {
    /// An error at `line` about `word`.
    pub fn new(line: usize, word: Option<String>, message: impl Into<String>) -> ParseError {
        ParseError {
            line,
            word,
            message: message.into(),
        }
    }

    /// The grammar's error `e`, at `line`.
    pub fn at(line: usize, e: mvl_iproute2::Error) -> ParseError {
        ParseError {
            line,
            word: e.word,
            message: e.message,
        }
    }
}

/// Why a lab could not run at all.
#[derive(Debug, thiserror::Error)]
pub enum LabError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The path.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not a lab.
    #[error(transparent)]
    Parse(#[from] ParseError),
    /// The backend cannot run here (e.g. not root).
    #[error("the {backend} backend cannot run here: {why}")]
    Backend {
        /// The backend.
        backend: String,
        /// Why.
        why: String,
    },
    /// Writing captures failed.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The path.
        path: String,
        /// Why.
        source: std::io::Error,
    },
}
