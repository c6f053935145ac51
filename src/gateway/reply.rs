//! SMTP replies (RFC 5321 §4.2) with enhanced status codes (RFC 3463), within the limits
//! servers and the milter protocol impose.

use std::fmt;

/// Longest text of one reply line: RFC 5321 §4.5.3.1.5 allows 512 octets per reply line with
/// the code and CRLF; `550-5.7.1 ` and CRLF take 12.
pub const MAX_LINE_TEXT: usize = 480;

/// Most lines in one reply: libmilter's `smfi_setmlreply` and indymilter accept 32.
pub const MAX_LINES: usize = 32;

/// An SMTP reply: `550 5.7.1 text`, possibly over several lines.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct SmtpReply {
    /// The three-digit reply code (`550`, `451`, ...).
    pub code: u16,
    /// The enhanced status code (`5.7.1`, `4.7.0`, ...).
    pub enhanced: String,
    /// The text, one entry per line: printable ASCII only, each at most [`MAX_LINE_TEXT`]
    /// bytes, at most [`MAX_LINES`] lines.
    pub lines: Vec<String>,
}

impl SmtpReply {
    /// A reply whose text is `paragraphs`: each is made printable ASCII (anything else becomes
    /// `?`), wrapped at word boundaries to [`MAX_LINE_TEXT`], and the whole is cut to
    /// [`MAX_LINES`] lines, the last saying that more was cut.
    pub fn new(code: u16, enhanced: &str, paragraphs: &[String]) -> SmtpReply {
        let mut lines = Vec::new();
        for p in paragraphs {
            wrap(&printable(p), &mut lines);
        }
        if lines.len() > MAX_LINES {
            lines.truncate(MAX_LINES - 1);
            lines.push("(the rest of this reply was cut)".to_owned());
        }
        if lines.is_empty() {
            lines.push(String::new());
        }
        SmtpReply { code, enhanced: enhanced.to_owned(), lines }
    }

    /// Whether the sending server should retry (4xx).
    pub fn is_transient(&self) -> bool {
        (400..500).contains(&self.code)
    }

    /// The text as one paragraph of sentences, without the codes: what a client-side hook
    /// (the sendmail guard, the lettre guard) shows a person.
    ///
    /// ```
    /// use smime_lint::gateway::SmtpReply;
    /// let r = SmtpReply::new(550, "5.7.1", &["Refused: 1 cannot read it:".into(), "dan@example.net: no certificate".into(), "What to do: ask Dan".into()]);
    /// assert_eq!(r.paragraph(), "Refused: 1 cannot read it: dan@example.net: no certificate. What to do: ask Dan.");
    /// ```
    pub fn paragraph(&self) -> String {
        let mut out = String::new();
        for line in self.lines.iter().map(|l| l.trim()).filter(|l| !l.is_empty()) {
            if !out.is_empty() {
                out.push_str(if out.ends_with(['.', ':', ';', '!', '?']) { " " } else { ". " });
            }
            out.push_str(line);
        }
        if !out.is_empty() && !out.ends_with(['.', '!', '?']) {
            out.push('.');
        }
        out
    }
}

/// The reply as it goes on the wire: `550-5.7.1 first\r\n550 5.7.1 last`, without the final
/// CRLF.
impl fmt::Display for SmtpReply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let last = self.lines.len().saturating_sub(1);
        for (i, line) in self.lines.iter().enumerate() {
            let sep = if i == last { ' ' } else { '-' };
            write!(f, "{}{sep}{} {line}", self.code, self.enhanced)?;
            if i != last {
                f.write_str("\r\n")?;
            }
        }
        Ok(())
    }
}

fn printable(text: &str) -> String {
    text.chars().map(|c| if c == ' ' || c.is_ascii_graphic() { c } else { '?' }).collect()
}

/// Splits `text` (ASCII) into lines of at most [`MAX_LINE_TEXT`] bytes, at spaces where it can.
fn wrap(text: &str, out: &mut Vec<String>) {
    let mut rest = text.trim();
    while rest.len() > MAX_LINE_TEXT {
        let cut = rest[..=MAX_LINE_TEXT].rfind(' ').filter(|&i| i > 0).unwrap_or(MAX_LINE_TEXT);
        out.push(rest[..cut].trim_end().to_owned());
        rest = rest[cut..].trim_start();
    }
    out.push(rest.to_owned());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_and_several() {
        let r = SmtpReply::new(550, "5.7.1", &["refused".into()]);
        assert_eq!(r.to_string(), "550 5.7.1 refused");
        let r = SmtpReply::new(451, "4.7.0", &["a".into(), "b".into()]);
        assert_eq!(r.to_string(), "451-4.7.0 a\r\n451 4.7.0 b");
        assert!(r.is_transient());
    }

    #[test]
    fn long_text_wraps_within_the_line_limit_and_many_lines_are_cut() {
        let long = "word ".repeat(400);
        let r = SmtpReply::new(550, "5.7.1", &[long]);
        assert!(r.lines.len() > 1);
        assert!(r.lines.iter().all(|l| l.len() <= MAX_LINE_TEXT && !l.starts_with(' ')));
        let many: Vec<String> = (0..100).map(|i| format!("line {i}")).collect();
        let r = SmtpReply::new(550, "5.7.1", &many);
        assert_eq!(r.lines.len(), MAX_LINES);
        assert_eq!(r.lines[MAX_LINES - 2], "line 30");
        assert!(r.lines[MAX_LINES - 1].contains("cut"));
        for line in r.to_string().split("\r\n") {
            assert!(line.len() + 2 <= 512, "{line}");
        }
    }

    #[test]
    fn a_long_reply_reads_as_one_paragraph() {
        let many: Vec<String> = (0..3).map(|i| format!("line {i}")).collect();
        let r = SmtpReply::new(451, "4.7.0", &many);
        assert_eq!(r.paragraph(), "line 0. line 1. line 2.");
        assert_eq!(SmtpReply::new(550, "5.7.1", &[]).paragraph(), "");
    }

    #[test]
    fn text_is_printable_ascii_without_line_breaks() {
        let r = SmtpReply::new(550, "5.7.1", &["b\u{fc}cher\r\n550 injected\u{0}".into()]);
        assert_eq!(r.lines, ["b?cher??550 injected?"]);
        let unbroken = "x".repeat(1000);
        let r = SmtpReply::new(550, "5.7.1", &[unbroken]);
        assert_eq!(r.lines.iter().map(String::len).collect::<Vec<_>>(), [480, 480, 40]);
    }
}
