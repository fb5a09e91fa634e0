//! The crate's one error type.
//!
//! Library functions that can be handed bad input return [`Result`]; the binary prints the
//! error's `Display` as one line on stderr and exits with status 2.

use std::path::PathBuf;

/// Everything that can go wrong in `superpose`.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A parameter outside its domain (n = 0, D < 1, θ ∉ (0, π), NaN, …).
    #[error("invalid {what}: {why}")]
    InvalidInput {
        /// The parameter, as the user knows it (`--dim`, `theta`, …).
        what: String,
        /// Why it was rejected.
        why: String,
    },
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A reference table in `data/` or a saved model did not parse.
    #[error("{what}: {why}")]
    Parse {
        /// Which file or table.
        what: String,
        /// What is wrong with it.
        why: String,
    },
    /// An optimiser (argmin) failed.
    #[error("optimizer: {0}")]
    Optimizer(String),
    /// A result could not be computed (overflow, no convergence, …).
    #[error("numerical: {0}")]
    Numerical(String),
    /// The operating system refused a resource (threads, a lock, …): not the input's fault
    /// and not a numerical failure.
    #[error("system: {0}")]
    System(String),
}

impl Error {
    /// Shorthand for [`Error::InvalidInput`].
    pub fn invalid(what: impl Into<String>, why: impl Into<String>) -> Self {
        Error::InvalidInput {
            what: what.into(),
            why: why.into(),
        }
    }

    /// Shorthand for [`Error::Io`].
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    /// Shorthand for [`Error::Parse`].
    pub fn parse(what: impl Into<String>, why: impl Into<String>) -> Self {
        Error::Parse {
            what: what.into(),
            why: why.into(),
        }
    }
}

impl From<argmin::core::Error> for Error {
    fn from(e: argmin::core::Error) -> Self {
        Error::Optimizer(e.to_string())
    }
}

/// `Result` with [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

/// Checks that `x` is finite, naming it in the error.
pub fn finite(what: &str, x: f64) -> Result<f64> {
    if x.is_finite() {
        Ok(x)
    } else {
        Err(Error::invalid(what, format!("{x} is not a finite number")))
    }
}

/// Checks that `x` is finite and strictly positive.
pub fn positive(what: &str, x: f64) -> Result<f64> {
    finite(what, x)?;
    if x > 0.0 {
        Ok(x)
    } else {
        Err(Error::invalid(what, format!("{x} must be > 0")))
    }
}
