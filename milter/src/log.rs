//! Standard error, one line per message: which message (queue id, else Message-ID), the
//! verdict, the recipients it concerns. Never a body, never a key.

use crate::message::Message;
use smime_lint::gateway::{Action, Verdict};
use std::fmt::Write;

/// Recipients named in one line at most; the rest are counted.
const NAMED: usize = 10;

const PREFIX: &str = "smime-lint-milter";

/// Printable ASCII only: the values come from the client (no forged log lines).
fn clean(text: &str) -> String {
    text.chars().map(|c| if c == ' ' || c.is_ascii_graphic() { c } else { '?' }).collect()
}

fn which(queue_id: Option<&str>, m: &Message) -> String {
    match (queue_id, &m.message_id) {
        (Some(id), _) => clean(id),
        (None, Some(mid)) => format!("message-id={}", clean(mid)),
        (None, None) => "-".to_owned(),
    }
}

/// The line for one judged message.
pub fn verdict(queue_id: Option<&str>, m: &Message, v: &Verdict) {
    eprintln!("{}", verdict_line(queue_id, m, v));
}

/// The text of [`verdict`]'s line.
pub fn verdict_line(queue_id: Option<&str>, m: &Message, v: &Verdict) -> String {
    let mut line = format!("{PREFIX}: {}: {}", which(queue_id, m), v.action);
    if let Some(r) = &v.reply {
        let _ = write!(line, " {} {}", r.code, r.enhanced);
    }
    let _ = write!(line, "; from={}; rcpt={}", clean(&m.mail_from), v.recipients.len());
    let affected: Vec<String> = match v.action {
        Action::Split => v
            .refused()
            .map(|r| format!("{} ({})", clean(&r.recipient), r.rule.map_or("-", |x| x.code())))
            .collect(),
        _ => v
            .unreadable()
            .map(|r| format!("{} ({})", clean(&r.recipient), r.rule.map_or("-", |x| x.code())))
            .collect(),
    };
    if !affected.is_empty() {
        let label = if v.action == Action::Split { "refused" } else { "cannot-read" };
        let _ = write!(
            line,
            "; {label}={}",
            affected.iter().take(NAMED).cloned().collect::<Vec<_>>().join(", ")
        );
        if affected.len() > NAMED {
            let _ = write!(line, " and {} more", affected.len() - NAMED);
        }
    }
    let rules: std::collections::BTreeSet<&str> =
        v.findings.iter().map(|f| f.rule.code()).collect();
    if !rules.is_empty() {
        let _ = write!(line, "; findings={}", rules.into_iter().collect::<Vec<_>>().join(","));
    }
    if let Some(why) = &v.internal_error {
        let _ = write!(line, "; unchecked: {}", clean(why));
    }
    line
}

/// The line for a message refused for its size before its end.
pub fn oversize(queue_id: Option<&str>, m: &Message, action: Action, limit: u64) {
    eprintln!(
        "{PREFIX}: {}: {action}; from={}; rcpt={}; unchecked: larger than --max-size ({limit} bytes)",
        which(queue_id, m),
        clean(&m.mail_from),
        m.rcpt.len()
    );
}

/// A line about the daemon itself.
pub fn info(text: &str) {
    eprintln!("{PREFIX}: {}", clean(text));
}

/// A warning about the daemon itself.
pub fn warn(text: &str) {
    eprintln!("{PREFIX}: warning: {}", clean(text));
}

#[cfg(test)]
mod tests {
    use super::*;
    use smime_lint::gateway::{error_verdict, Envelope, GatewayPolicy};

    #[test]
    fn a_line_names_the_message_and_never_forges_another() {
        let mut m = Message::new("<alice@example.com>\r\nsmime-lint-milter: fake".into());
        m.add_header(b"Message-ID", b"<x@example.com>", 1000);
        let env = Envelope::new(&m.mail_from, ["<bob@example.com>"]);
        let v = error_verdict(&env, &GatewayPolicy::default(), "time-out");
        let line = verdict_line(None, &m, &v);
        assert!(
            line.starts_with("smime-lint-milter: message-id=<x@example.com>: tempfail 451 4.7.0; "),
            "{line}"
        );
        assert!(!line.contains('\n') && !line.contains('\r'), "{line}");
        assert!(line.ends_with("; unchecked: time-out"), "{line}");
        let line = verdict_line(Some("4ABC"), &m, &v);
        assert!(line.starts_with("smime-lint-milter: 4ABC: tempfail"), "{line}");
    }
}
