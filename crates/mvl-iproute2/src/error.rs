//! The one error of the grammar.

/// Words that are not in iproute2's grammar (or not in what this crate
/// reads of it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}{}", word_text(.word))]
pub struct Error {
    /// The word that is wrong, if one is.
    pub word: Option<String>,
    /// What is wrong.
    pub message: String,
    /// The tool itself refuses these words (a bad value, a missing
    /// argument) with `message`, in its own words: run, the command fails
    /// with that message.
    pub refused: bool,
}

fn word_text(w: &Option<String>) -> String {
    match w {
        Some(w) => format!(" (at \"{w}\")"),
        None => String::new(),
    }
}

impl Error {
    /// An error about `word`.
    pub fn new(word: Option<String>, message: impl Into<String>) -> Error {
        Error {
            word,
            message: message.into(),
            refused: false,
        }
    }

    /// The same error, as the tool's own refusal (see [`Error::refused`]).
    pub fn by_the_tool(mut self) -> Error {
        self.refused = true;
        self
    }
}
