//! A small milter-protocol client: the MTA's side of the conversation, as Postfix speaks it.
//!
//! For the tests, the load benchmark and trying the daemon by hand without an MTA. It sends
//! what it is told, including malformed packets ([`Client::send_raw`]), and reads replies
//! without judging them.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

/// Milter protocol version 6 (Sendmail 8.14, Postfix 2.6 and later).
pub const VERSION: u32 = 6;
/// Every action an MTA can grant.
pub const ALL_ACTIONS: u32 = 0x1ff;
/// Every protocol option an MTA can offer (Postfix 3 offers these).
pub const ALL_OPTS: u32 = 0x1f_ffff;

/// Protocol options (SMFIP_*).
pub mod opt {
    pub const NO_CONNECT: u32 = 0x1;
    pub const NO_HELO: u32 = 0x2;
    pub const NO_MAIL: u32 = 0x4;
    pub const NO_RCPT: u32 = 0x8;
    pub const NO_BODY: u32 = 0x10;
    pub const NO_HEADER: u32 = 0x20;
    pub const NO_EOH: u32 = 0x40;
    pub const NOREPLY_HEADER: u32 = 0x80;
    pub const NO_DATA: u32 = 0x200;
    pub const SKIP: u32 = 0x400;
    pub const NOREPLY_MAIL: u32 = 0x4000;
    pub const NOREPLY_RCPT: u32 = 0x8000;
    pub const NOREPLY_DATA: u32 = 0x10000;
    pub const NOREPLY_EOH: u32 = 0x40000;
    pub const NOREPLY_BODY: u32 = 0x80000;
}

/// Largest body chunk an MTA sends (libmilter's MILTER_CHUNK_SIZE).
pub const CHUNK: usize = 65535;

/// A reply that ends a command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reply {
    Continue,
    Accept,
    Reject,
    Tempfail,
    Discard,
    Skip,
    /// `y`: an SMTP reply such as `550 5.7.1 ...`.
    Code(String),
    /// Anything else: the command byte and the payload.
    Other(u8, Vec<u8>),
}

impl Reply {
    /// Whether the message goes on: continue, accept or skip.
    pub fn goes_on(&self) -> bool {
        matches!(self, Reply::Continue | Reply::Accept | Reply::Skip)
    }

    /// Whether the reply refuses the message for now (4xx, tempfail).
    pub fn is_tempfail(&self) -> bool {
        matches!(self, Reply::Tempfail) || matches!(self, Reply::Code(c) if c.starts_with('4'))
    }

    /// Whether the reply refuses the message (5xx, reject).
    pub fn is_reject(&self) -> bool {
        matches!(self, Reply::Reject) || matches!(self, Reply::Code(c) if c.starts_with('5'))
    }
}

/// A change the milter asks for at end of message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    AddHeader(String, String),
    InsertHeader(u32, String, String),
    /// `m` with an empty value deletes the header at that index.
    ChangeHeader(u32, String, String),
    DeleteRecipient(String),
    AddRecipient(String),
    Other(u8, Vec<u8>),
}

/// What end of message gave: the changes, then the final reply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    pub changes: Vec<Change>,
    pub reply: Reply,
}

impl Outcome {
    /// The value of the header the milter added, if it added `name`.
    pub fn added_header(&self, name: &str) -> Option<&str> {
        self.changes.iter().find_map(|c| match c {
            Change::AddHeader(n, v) | Change::InsertHeader(_, n, v)
                if n.eq_ignore_ascii_case(name) =>
            {
                Some(v.as_str())
            }
            _ => None,
        })
    }

    /// The recipients the milter removed.
    pub fn deleted_recipients(&self) -> Vec<&str> {
        self.changes
            .iter()
            .filter_map(|c| match c {
                Change::DeleteRecipient(r) => Some(r.as_str()),
                _ => None,
            })
            .collect()
    }
}

enum Stream {
    Tcp(TcpStream),
    Unix(UnixStream),
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.read(buf),
            Stream::Unix(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.write(buf),
            Stream::Unix(s) => s.write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// One connection to a milter.
pub struct Client {
    stream: Stream,
    /// Commands not sent yet: written together before the next read, as an MTA does.
    pending: Vec<u8>,
    /// The options the milter chose.
    pub opts: u32,
    /// The actions the milter asked for.
    pub actions: u32,
    /// Macros sent just before each end of message (Postfix sends `i`, the queue id, there).
    pub eom_macros: Vec<(String, String)>,
}

fn bad(what: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.into())
}

fn cstr(bytes: &[u8]) -> (String, &[u8]) {
    match bytes.iter().position(|&b| b == 0) {
        Some(i) => (String::from_utf8_lossy(&bytes[..i]).into_owned(), &bytes[i + 1..]),
        None => (String::from_utf8_lossy(bytes).into_owned(), &[]),
    }
}

fn be32(bytes: &[u8]) -> Option<u32> {
    Some(u32::from_be_bytes(bytes.get(..4)?.try_into().ok()?))
}

impl Client {
    /// Connects over TCP (without negotiating).
    pub fn tcp(addr: SocketAddr, timeout: Duration) -> io::Result<Client> {
        let s = TcpStream::connect_timeout(&addr, timeout)?;
        s.set_nodelay(true)?;
        s.set_read_timeout(Some(timeout))?;
        s.set_write_timeout(Some(timeout))?;
        Ok(Client::over(Stream::Tcp(s)))
    }

    /// Connects over a Unix-domain socket (without negotiating).
    pub fn unix(path: &Path, timeout: Duration) -> io::Result<Client> {
        let s = UnixStream::connect(path)?;
        s.set_read_timeout(Some(timeout))?;
        s.set_write_timeout(Some(timeout))?;
        Ok(Client::over(Stream::Unix(s)))
    }

    fn over(stream: Stream) -> Client {
        Client { stream, pending: Vec::new(), opts: 0, actions: 0, eom_macros: Vec::new() }
    }

    /// Connects over TCP and negotiates as Postfix does: version 6, every action, every option.
    pub fn open(addr: SocketAddr) -> io::Result<Client> {
        let mut c = Client::tcp(addr, Duration::from_secs(30))?;
        c.negotiate(ALL_ACTIONS, ALL_OPTS)?;
        Ok(c)
    }

    /// Queues one packet: the length, `command`, `payload`. Any bytes at all.
    pub fn send_raw(&mut self, command: u8, payload: &[u8]) {
        let len = u32::try_from(payload.len() + 1).unwrap_or(u32::MAX);
        self.pending.extend_from_slice(&len.to_be_bytes());
        self.pending.push(command);
        self.pending.extend_from_slice(payload);
    }

    /// Queues bytes as they are, not even framed.
    pub fn send_bytes(&mut self, bytes: &[u8]) {
        self.pending.extend_from_slice(bytes);
    }

    /// Writes what is queued.
    pub fn flush(&mut self) -> io::Result<()> {
        if !self.pending.is_empty() {
            let r = self.stream.write_all(&self.pending);
            self.pending.clear();
            r?;
        }
        Ok(())
    }

    /// Reads one packet: the command byte and the payload.
    pub fn read_packet(&mut self) -> io::Result<(u8, Vec<u8>)> {
        self.flush()?;
        let mut len = [0u8; 4];
        self.stream.read_exact(&mut len)?;
        let len = u32::from_be_bytes(len) as usize;
        if len == 0 || len > 64 * 1024 * 1024 {
            return Err(bad(format!("packet length {len}")));
        }
        let mut buf = vec![0u8; len];
        self.stream.read_exact(&mut buf)?;
        let payload = buf.split_off(1);
        Ok((buf[0], payload))
    }

    /// Reads one reply that ends a command.
    pub fn read_reply(&mut self) -> io::Result<Reply> {
        let (cmd, payload) = self.read_packet()?;
        Ok(match cmd {
            b'c' => Reply::Continue,
            b'a' => Reply::Accept,
            b'r' => Reply::Reject,
            b't' => Reply::Tempfail,
            b'd' => Reply::Discard,
            b's' => Reply::Skip,
            b'y' => Reply::Code(cstr(&payload).0),
            other => Reply::Other(other, payload),
        })
    }

    /// Option negotiation; returns the milter's choice of (actions, options).
    pub fn negotiate(&mut self, actions: u32, opts: u32) -> io::Result<(u32, u32)> {
        let mut p = Vec::with_capacity(12);
        p.extend_from_slice(&VERSION.to_be_bytes());
        p.extend_from_slice(&actions.to_be_bytes());
        p.extend_from_slice(&opts.to_be_bytes());
        self.send_raw(b'O', &p);
        let (cmd, payload) = self.read_packet()?;
        if cmd != b'O' {
            return Err(bad(format!("negotiation answered with {:?}", cmd as char)));
        }
        self.actions =
            be32(payload.get(4..).unwrap_or(&[])).ok_or_else(|| bad("short negotiation"))?;
        self.opts =
            be32(payload.get(8..).unwrap_or(&[])).ok_or_else(|| bad("short negotiation"))?;
        Ok((self.actions, self.opts))
    }

    /// Defines macros for the command `stage` (`b'M'`, `b'R'`, `b'E'`, ...).
    pub fn macros(&mut self, stage: u8, pairs: &[(&str, &str)]) {
        let mut p = vec![stage];
        for (k, v) in pairs {
            p.extend_from_slice(k.as_bytes());
            p.push(0);
            p.extend_from_slice(v.as_bytes());
            p.push(0);
        }
        self.send_raw(b'D', &p);
    }

    /// Sends a command and reads its reply unless the milter asked for none (`noreply`) or
    /// does not want the command at all (`skipped`).
    fn command(
        &mut self,
        cmd: u8,
        payload: &[u8],
        skipped: u32,
        noreply: u32,
    ) -> io::Result<Option<Reply>> {
        if skipped != 0 && self.opts & skipped != 0 {
            return Ok(None);
        }
        self.send_raw(cmd, payload);
        if noreply != 0 && self.opts & noreply != 0 {
            return Ok(None);
        }
        self.read_reply().map(Some)
    }

    fn args(args: &[&str]) -> Vec<u8> {
        let mut p = Vec::new();
        for a in args {
            p.extend_from_slice(a.as_bytes());
            p.push(0);
        }
        p
    }

    /// `MAIL FROM` (the path as given, `<alice@example.com>`).
    pub fn mail(&mut self, from: &str) -> io::Result<Option<Reply>> {
        self.command(b'M', &Client::args(&[from]), opt::NO_MAIL, opt::NOREPLY_MAIL)
    }

    /// `RCPT TO`.
    pub fn rcpt(&mut self, to: &str) -> io::Result<Option<Reply>> {
        self.command(b'R', &Client::args(&[to]), opt::NO_RCPT, opt::NOREPLY_RCPT)
    }

    /// `DATA`.
    pub fn data(&mut self) -> io::Result<Option<Reply>> {
        self.command(b'T', &[], opt::NO_DATA, opt::NOREPLY_DATA)
    }

    /// One header field (the value without the space after the colon).
    pub fn header(&mut self, name: &str, value: &[u8]) -> io::Result<Option<Reply>> {
        let mut p = Client::args(&[name]);
        p.extend_from_slice(value);
        p.push(0);
        self.command(b'L', &p, opt::NO_HEADER, opt::NOREPLY_HEADER)
    }

    /// End of header.
    pub fn eoh(&mut self) -> io::Result<Option<Reply>> {
        self.command(b'N', &[], opt::NO_EOH, opt::NOREPLY_EOH)
    }

    /// One body chunk (at most [`CHUNK`] bytes, as an MTA sends).
    pub fn body(&mut self, chunk: &[u8]) -> io::Result<Option<Reply>> {
        self.command(b'B', chunk, opt::NO_BODY, opt::NOREPLY_BODY)
    }

    /// End of message: the changes asked for, then the reply.
    pub fn eom(&mut self) -> io::Result<Outcome> {
        if !self.eom_macros.is_empty() {
            let pairs = std::mem::take(&mut self.eom_macros);
            let refs: Vec<(&str, &str)> =
                pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            self.macros(b'E', &refs);
            self.eom_macros = pairs;
        }
        self.send_raw(b'E', &[]);
        let mut changes = Vec::new();
        loop {
            match self.read_reply()? {
                Reply::Other(cmd, payload) => changes.push(change(cmd, &payload)),
                reply => return Ok(Outcome { changes, reply }),
            }
        }
    }

    /// Abandons the message.
    pub fn abort(&mut self) -> io::Result<()> {
        self.send_raw(b'A', &[]);
        self.flush()
    }

    /// Ends the connection politely.
    pub fn quit(mut self) -> io::Result<()> {
        self.send_raw(b'Q', &[]);
        self.flush()
    }

    /// One whole message as Postfix hands it over: envelope, header fields, body in chunks,
    /// end of message. Stops early when a reply refuses the message (that reply is the
    /// outcome).
    pub fn message(&mut self, from: &str, rcpt: &[&str], raw: &[u8]) -> io::Result<Outcome> {
        let early = |reply| Ok(Outcome { changes: Vec::new(), reply });
        if let Some(r) = self.mail(from)?.filter(|r| !r.goes_on()) {
            return early(r);
        }
        for to in rcpt {
            if let Some(r) = self.rcpt(to)?.filter(|r| !r.goes_on()) {
                return early(r);
            }
        }
        if let Some(r) = self.data()?.filter(|r| !r.goes_on()) {
            return early(r);
        }
        let (fields, body) = split_message(raw);
        for (name, value) in &fields {
            if let Some(r) = self.header(name, value)?.filter(|r| !r.goes_on()) {
                return early(r);
            }
        }
        if let Some(r) = self.eoh()?.filter(|r| !r.goes_on()) {
            return early(r);
        }
        for chunk in body.chunks(CHUNK) {
            match self.body(chunk)? {
                Some(Reply::Skip) => break,
                Some(r) if !r.goes_on() => return early(r),
                _ => {}
            }
        }
        self.eom()
    }
}

fn change(cmd: u8, payload: &[u8]) -> Change {
    match cmd {
        b'h' => {
            let (n, rest) = cstr(payload);
            Change::AddHeader(n, cstr(rest).0)
        }
        b'i' | b'm' => {
            let index = be32(payload).unwrap_or(0);
            let (n, rest) = cstr(payload.get(4..).unwrap_or(&[]));
            let v = cstr(rest).0;
            if cmd == b'i' {
                Change::InsertHeader(index, n, v)
            } else {
                Change::ChangeHeader(index, n, v)
            }
        }
        b'-' => Change::DeleteRecipient(cstr(payload).0),
        b'+' => Change::AddRecipient(cstr(payload).0),
        other => Change::Other(other, payload.to_vec()),
    }
}

/// A message's header fields (name, value as the milter protocol carries it: no space after the
/// colon, folded lines joined by LF) and its body with CRLF line ends.
pub fn split_message(raw: &[u8]) -> (Vec<(String, Vec<u8>)>, Vec<u8>) {
    let mut fields: Vec<(String, Vec<u8>)> = Vec::new();
    let mut pos = 0;
    while pos < raw.len() {
        let end = raw[pos..].iter().position(|&b| b == b'\n').map_or(raw.len(), |i| pos + i + 1);
        let line = &raw[pos..end];
        let text = line.strip_suffix(b"\n").unwrap_or(line);
        let text = text.strip_suffix(b"\r").unwrap_or(text);
        if text.is_empty() {
            pos = end;
            break;
        }
        if matches!(text.first(), Some(b' ' | b'\t')) {
            if let Some((_, v)) = fields.last_mut() {
                v.push(b'\n');
                v.extend_from_slice(text);
                pos = end;
                continue;
            }
        }
        let Some(colon) = text.iter().position(|&b| b == b':') else { break };
        let name = String::from_utf8_lossy(&text[..colon]).trim().to_owned();
        let value = &text[colon + 1..];
        let value = value.strip_prefix(b" ").unwrap_or(value);
        fields.push((name, value.to_vec()));
        pos = end;
    }
    let mut body = Vec::with_capacity(raw.len().saturating_sub(pos) + 64);
    let mut prev = 0u8;
    for &b in &raw[pos.min(raw.len())..] {
        if b == b'\n' && prev != b'\r' {
            body.push(b'\r');
        }
        body.push(b);
        prev = b;
    }
    (fields, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_splits_into_fields_and_a_crlf_body() {
        let (fields, body) = split_message(b"Subject: a\n\tb\nTo:bob@example.com\n\nline\n");
        assert_eq!(
            fields,
            [
                ("Subject".to_owned(), b"a\n\tb".to_vec()),
                ("To".to_owned(), b"bob@example.com".to_vec())
            ]
        );
        assert_eq!(body, b"line\r\n");
        let (fields, body) = split_message(b"Subject: x\r\n");
        assert_eq!((fields.len(), body.len()), (1, 0));
    }
}
