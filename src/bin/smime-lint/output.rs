//! Printing: a locked, buffered standard output whose write errors end the run, with a closed
//! pipe told apart so it can exit quietly; and the CLI's error type.

use std::fmt;
use std::io::{self, BufWriter, Write};

/// Why the CLI stops early.
#[derive(Debug)]
pub enum CliError {
    /// The library could not evaluate (bad input, I/O): exit 2 with the message.
    Lib(smime_lint::Error),
    /// Bad combination of arguments: exit 2 with the message.
    Usage(String),
    /// Writing the output failed.
    Output(io::Error),
}

impl CliError {
    /// A closed pipe: exit quietly.
    pub fn is_broken_pipe(&self) -> bool {
        matches!(self, CliError::Output(e) if e.kind() == io::ErrorKind::BrokenPipe)
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CliError::Lib(e) => write!(f, "{e}"),
            CliError::Usage(m) => write!(f, "{m}"),
            CliError::Output(e) => write!(f, "writing output: {e}"),
        }
    }
}

impl From<smime_lint::Error> for CliError {
    fn from(e: smime_lint::Error) -> Self {
        CliError::Lib(e)
    }
}

impl From<io::Error> for CliError {
    fn from(e: io::Error) -> Self {
        CliError::Output(e)
    }
}

impl From<smime_lint::AddressError> for CliError {
    fn from(e: smime_lint::AddressError) -> Self {
        CliError::Lib(e.into())
    }
}

/// Buffered standard output.
pub fn stdout() -> BufWriter<io::StdoutLock<'static>> {
    BufWriter::with_capacity(64 * 1024, io::stdout().lock())
}

/// Writes one JSON value and a newline.
pub fn write_json<T: serde::Serialize + ?Sized>(out: &mut impl Write, value: &T) -> io::Result<()> {
    serde_json::to_writer(&mut *out, value)?;
    out.write_all(b"\n")
}

/// A short description of a key for people: `RSA 2048`, `EC P-256`.
pub fn key_description(key: &smime_lint::cert::KeyKind) -> String {
    match key {
        smime_lint::cert::KeyKind::Rsa { bits } => format!("RSA {bits}"),
        smime_lint::cert::KeyKind::Ec { curve, .. } => format!("EC {curve}"),
        smime_lint::cert::KeyKind::Other { algorithm } => algorithm.clone(),
    }
}

/// `1 certificate`, `2 certificates`, `0 certificates`.
pub fn count(n: impl Into<u64>, one: &str, many: &str) -> String {
    let n = n.into();
    format!("{n} {}", if n == 1 { one } else { many })
}

/// [`count`] for `usize`.
pub fn count_usize(n: usize, one: &str, many: &str) -> String {
    count(u64::try_from(n).unwrap_or(u64::MAX), one, many)
}

/// The `"certificate"` object: `{"not_after", "sha256", "source"}` (as the draft JSON has it).
pub fn certificate_json(c: &smime_lint::Certificate) -> serde_json::Value {
    serde_json::json!({
        "not_after": c.not_after().to_rfc3339(),
        "sha256": c.sha256_hex(),
        "source": c.provenance().label(),
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn plurals() {
        assert_eq!(super::count(1u64, "certificate", "certificates"), "1 certificate");
        assert_eq!(super::count(0u64, "certificate", "certificates"), "0 certificates");
        assert_eq!(super::count_usize(2, "message", "messages"), "2 messages");
    }
}
