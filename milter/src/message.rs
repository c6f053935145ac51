//! One message as the MTA hands it over: the envelope, then the header fields one by one, then
//! the body in chunks. Rebuilt into the bytes the verdict reads, never beyond the size limit.

/// The header field the gateway adds; any copy the message already carries is removed (a
/// sender must not be able to forge the gateway's verdict).
pub const HEADER: &str = "X-Smime-Lint";

/// Most `RCPT TO` recipients kept for one message. Beyond it the message cannot be judged
/// (the verdict is the `--on-error` action): memory stays bounded whatever the client sends.
pub const MAX_RECIPIENTS: usize = 100_000;

/// Longest header value kept for the log (Message-ID).
const MAX_LOGGED: usize = 200;

/// The message in progress.
#[derive(Debug, Default)]
pub struct Message {
    /// `MAIL FROM` as given (`<alice@example.com>`, `<>`).
    pub mail_from: String,
    /// `RCPT TO` paths as given, in order.
    pub rcpt: Vec<String>,
    /// More recipients than [`MAX_RECIPIENTS`] arrived.
    pub too_many_recipients: bool,
    /// Header fields and body, as far as they fit the limit.
    pub raw: Vec<u8>,
    /// Where the header ends in `raw` (the blank line is not included).
    pub header_len: usize,
    /// Bytes seen, kept or not.
    pub size: u64,
    /// The message grew beyond the limit: `raw` was dropped and stays empty.
    pub oversize: bool,
    /// The blank line between header and body was added.
    pub in_body: bool,
    /// Copies of [`HEADER`] the message came with.
    pub forged_headers: i32,
    /// The Message-ID, for the log line.
    pub message_id: Option<String>,
}

impl Message {
    /// A new message from `MAIL FROM`.
    pub fn new(mail_from: String) -> Message {
        Message { mail_from, ..Message::default() }
    }

    /// One `RCPT TO`.
    pub fn add_recipient(&mut self, path: String) {
        if self.rcpt.len() < MAX_RECIPIENTS {
            self.rcpt.push(path);
        } else {
            self.too_many_recipients = true;
        }
    }

    /// One header field. The milter protocol gives the name and the value without the colon and
    /// (by default) without the space after it; folded lines may end in a bare LF.
    pub fn add_header(&mut self, name: &[u8], value: &[u8], limit: u64) {
        if name.eq_ignore_ascii_case(HEADER.as_bytes()) {
            self.forged_headers = self.forged_headers.saturating_add(1);
        }
        if self.message_id.is_none() && name.eq_ignore_ascii_case(b"Message-ID") {
            let text = String::from_utf8_lossy(value);
            let text: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
            self.message_id = Some(text.chars().take(MAX_LOGGED).collect());
        }
        let mut field = Vec::with_capacity(name.len() + value.len() + 4);
        field.extend_from_slice(name);
        field.extend_from_slice(b": ");
        crlf(value, &mut field);
        field.extend_from_slice(b"\r\n");
        self.push(&field, limit);
        if !self.oversize {
            self.header_len = self.raw.len();
        }
    }

    /// One body chunk (CRLF line ends, as SMTP carries it).
    pub fn add_body(&mut self, chunk: &[u8], limit: u64) {
        self.end_of_header(limit);
        self.push(chunk, limit);
    }

    /// The blank line after the header, once.
    pub fn end_of_header(&mut self, limit: u64) {
        if !self.in_body {
            self.in_body = true;
            self.push(b"\r\n", limit);
        }
    }

    fn push(&mut self, bytes: &[u8], limit: u64) {
        self.size = self.size.saturating_add(bytes.len() as u64);
        if self.oversize {
            return;
        }
        if self.size > limit {
            self.oversize = true;
            self.raw = Vec::new();
            return;
        }
        self.raw.extend_from_slice(bytes);
    }
}

/// Appends `value` with every bare LF made CRLF.
fn crlf(value: &[u8], out: &mut Vec<u8>) {
    let mut prev = 0u8;
    for &b in value {
        if b == b'\n' && prev != b'\r' {
            out.push(b'\r');
        }
        out.push(b);
        prev = b;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_and_body_are_rebuilt_with_crlf() {
        let mut m = Message::new("<alice@example.com>".into());
        m.add_header(b"Subject", b"two\n\tlines", 1000);
        m.add_header(b"To", b"bob@example.com,\r\n carol@example.org", 1000);
        m.add_body(b"body\r\n", 1000);
        assert_eq!(
            String::from_utf8(m.raw.clone()).unwrap(),
            "Subject: two\r\n\tlines\r\nTo: bob@example.com,\r\n carol@example.org\r\n\r\nbody\r\n"
        );
        assert_eq!(
            &m.raw[..m.header_len],
            b"Subject: two\r\n\tlines\r\nTo: bob@example.com,\r\n carol@example.org\r\n"
        );
    }

    #[test]
    fn forged_headers_are_counted_in_any_case() {
        let mut m = Message::default();
        m.add_header(b"x-smime-lint", b"verdict=accept", 1000);
        m.add_header(b"X-Smime-Lint", b"verdict=accept", 1000);
        m.add_header(b"X-Smime-Linted", b"no", 1000);
        assert_eq!(m.forged_headers, 2);
    }

    #[test]
    fn beyond_the_limit_nothing_is_kept_but_the_size_is_counted() {
        let mut m = Message::default();
        m.add_header(b"Subject", b"x", 64);
        for _ in 0..10 {
            m.add_body(&[b'a'; 30], 64);
        }
        assert!(m.oversize);
        assert!(m.raw.is_empty() && m.raw.capacity() == 0);
        assert_eq!(m.size, 12 + 2 + 300);
        // A message exactly at the limit is kept.
        let mut m = Message::default();
        m.add_body(&[b'a'; 62], 64);
        assert!(!m.oversize);
        assert_eq!(m.raw.len(), 64);
    }

    #[test]
    fn recipients_are_bounded() {
        let mut m = Message::default();
        for i in 0..MAX_RECIPIENTS + 5 {
            m.add_recipient(format!("<u{i}@example.com>"));
        }
        assert_eq!(m.rcpt.len(), MAX_RECIPIENTS);
        assert!(m.too_many_recipients);
    }

    #[test]
    fn message_id_is_kept_for_the_log() {
        let mut m = Message::default();
        m.add_header(b"Message-Id", b"<a@example.com>", 1000);
        m.add_header(b"Message-ID", b"<second@example.com>", 1000);
        assert_eq!(m.message_id.as_deref(), Some("<a@example.com>"));
    }
}
