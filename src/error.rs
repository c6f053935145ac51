//! `Error`: the tool *could not evaluate* (bad input, I/O). Results of evaluation are
//! [`Reason`](crate::Reason)s and findings, never errors.

use std::path::PathBuf;

/// Could not evaluate. Every variant carries what was being read, so a one-line message
/// (`{error}`) tells the user which file and why.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading a file or folder failed.
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    /// A certificate, bundle or key could not be parsed.
    #[error("{context}: {reason}")]
    Certificate { context: String, reason: String },
    /// A message could not be parsed as mail.
    #[error("{context}: {reason}")]
    Message { context: String, reason: String },
    /// A CMS / S/MIME structure could not be parsed.
    #[error("{context}: {reason}")]
    Cms { context: String, reason: String },
    /// A private key could not be read or used. Never carries key material.
    #[error("{context}: {reason}")]
    Key { context: String, reason: String },
    /// An address given by the user is not an address.
    #[error("invalid address: {0}")]
    Address(#[from] crate::address::AddressError),
    /// Anything else the user gave that cannot be used (a time, an option value).
    #[error("{0}")]
    InvalidInput(String),
}

impl Error {
    /// An I/O error on `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io { path: path.into(), source }
    }
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
