//! Points in time, as evaluation takes them.
//!
//! Evaluation never reads the clock: callers pass a [`Time`] (the CLI passes "now" or `--at`,
//! the audit passes the message's `Date`). RFC 3339 parsing and formatting use mail-parser's
//! `DateTime`, which the crate already depends on.

use std::fmt;

/// Seconds since the Unix epoch, UTC. Negative values are before 1970.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Time(i64);

impl Time {
    /// The time `secs` seconds after 1970-01-01T00:00:00Z.
    pub const fn from_unix(secs: i64) -> Self {
        Time(secs)
    }

    /// Seconds since 1970-01-01T00:00:00Z.
    pub const fn unix(self) -> i64 {
        self.0
    }

    /// The current time from the system clock. Only front ends call this; evaluation never does.
    pub fn now() -> Self {
        let secs = match std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
            Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
            Err(e) => -i64::try_from(e.duration().as_secs()).unwrap_or(i64::MAX),
        };
        Time(secs)
    }

    /// Parses an RFC 3339 timestamp such as `2026-06-01T00:00:00Z` or `2026-06-01T02:00:00+02:00`.
    pub fn parse_rfc3339(text: &str) -> Option<Self> {
        let text = text.trim();
        // mail-parser accepts a few sloppy forms; insist on the RFC 3339 skeleton first.
        let b = text.as_bytes();
        if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
            return None;
        }
        let dt = mail_parser::DateTime::parse_rfc3339(text)?;
        if !dt.is_valid() {
            return None;
        }
        Some(Time(dt.to_timestamp()))
    }

    /// From a parsed RFC 5322 `Date:` header.
    pub fn from_mail_date(dt: &mail_parser::DateTime) -> Option<Self> {
        dt.is_valid().then(|| Time(dt.to_timestamp()))
    }

    /// RFC 3339 in UTC, e.g. `2026-06-01T00:00:00Z`.
    pub fn to_rfc3339(self) -> String {
        mail_parser::DateTime::from_timestamp(self.0).to_rfc3339()
    }
}

impl fmt::Display for Time {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case("2026-06-01T00:00:00Z", 1_780_272_000)]
    #[case("2026-06-01T02:00:00+02:00", 1_780_272_000)]
    #[case("1970-01-01T00:00:00Z", 0)]
    fn parses_rfc3339(#[case] text: &str, #[case] secs: i64) {
        assert_eq!(Time::parse_rfc3339(text), Some(Time::from_unix(secs)));
    }

    #[rstest]
    #[case("")]
    #[case("yesterday")]
    #[case("2026-13-01T00:00:00Z")]
    #[case("2026-06-01")]
    fn rejects_non_rfc3339(#[case] text: &str) {
        assert_eq!(Time::parse_rfc3339(text), None);
    }

    #[test]
    fn formats_utc() {
        assert_eq!(Time::from_unix(1_780_272_000).to_rfc3339(), "2026-06-01T00:00:00Z");
    }
}
