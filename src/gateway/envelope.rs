//! The SMTP envelope (RFC 5321 §3.3): who the message is really delivered to.
//!
//! A message's header says who it is *addressed* to; the envelope's `RCPT TO` list says who
//! *receives* this copy. They differ: Bcc recipients appear only in the envelope, a mailing
//! list or forwarding adds envelope recipients, and a client that sends each Bcc recipient a
//! separate copy leaves the To/Cc recipients out of that copy's envelope. The gateway judges
//! the envelope.

use crate::address::{Address, AddressError};

/// One `RCPT TO` recipient: the path as the client gave it, and the address it names.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct EnvelopeRecipient {
    /// As given (`<bob@example.com>` or `bob@example.com`), without ESMTP parameters.
    pub path: String,
    /// The normalised address, or why the path is not one: a recipient whose address cannot be
    /// read cannot be matched to a certificate.
    #[serde(serialize_with = "address_or_null")]
    pub address: Result<Address, AddressError>,
}

fn address_or_null<S: serde::Serializer>(
    a: &Result<Address, AddressError>,
    s: S,
) -> Result<S::Ok, S::Error> {
    match a {
        Ok(a) => s.serialize_str(a.as_str()),
        Err(_) => s.serialize_none(),
    }
}

impl EnvelopeRecipient {
    /// Reads one `RCPT TO` path: angle brackets and an RFC 5321 §4.1.2 source route
    /// (`<@relay:bob@example.com>`) are removed.
    pub fn new(path: &str) -> EnvelopeRecipient {
        let inner = path.trim();
        let inner = inner.strip_prefix('<').and_then(|s| s.strip_suffix('>')).unwrap_or(inner);
        let mailbox = match inner.split_once(':') {
            Some((route, mailbox)) if route.starts_with('@') => mailbox,
            _ => inner,
        };
        EnvelopeRecipient { path: path.trim().to_owned(), address: Address::parse(mailbox) }
    }

    /// The normalised address when there is one, else the path as given: for messages.
    pub fn display(&self) -> &str {
        match &self.address {
            Ok(a) => a.as_str(),
            Err(_) => &self.path,
        }
    }
}

/// The SMTP envelope of one delivery: `MAIL FROM` and the `RCPT TO` list.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Envelope {
    /// The reverse path; `None` for the null sender `<>` (bounces) or when unknown.
    #[serde(serialize_with = "option_address")]
    pub mail_from: Option<Address>,
    /// Every recipient of this delivery, in the order given, duplicates removed.
    pub rcpt_to: Vec<EnvelopeRecipient>,
}

fn option_address<S: serde::Serializer>(a: &Option<Address>, s: S) -> Result<S::Ok, S::Error> {
    match a {
        Some(a) => s.serialize_str(a.as_str()),
        None => s.serialize_none(),
    }
}

impl Envelope {
    /// An envelope from `MAIL FROM` and `RCPT TO` paths as the client gave them. An empty or
    /// unreadable reverse path is `None`; recipients naming the same address collapse.
    ///
    /// ```
    /// use smime_lint::gateway::Envelope;
    /// let env = Envelope::new("<alice@example.com>", ["<Bob@Example.com>", "bob@example.com", "<carol@example.org>"]);
    /// assert_eq!(env.mail_from.unwrap().as_str(), "alice@example.com");
    /// assert_eq!(env.rcpt_to.len(), 2);
    /// ```
    pub fn new<'a>(mail_from: &str, rcpt_to: impl IntoIterator<Item = &'a str>) -> Envelope {
        let mut env = Envelope {
            mail_from: EnvelopeRecipient::new(mail_from).address.ok(),
            rcpt_to: Vec::new(),
        };
        for path in rcpt_to {
            env.add_recipient(path);
        }
        env
    }

    /// Adds one `RCPT TO` recipient, unless it names an address already in the list.
    pub fn add_recipient(&mut self, path: &str) {
        let r = EnvelopeRecipient::new(path);
        let duplicate = self.rcpt_to.iter().any(|o| match (&o.address, &r.address) {
            (Ok(a), Ok(b)) => a == b,
            _ => o.path == r.path,
        });
        if !duplicate {
            self.rcpt_to.push(r);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case("<bob@example.com>", Some("bob@example.com"))]
    #[case("bob@example.com", Some("bob@example.com"))]
    #[case(" <Bob@EXAMPLE.com> ", Some("bob@example.com"))]
    #[case("<@relay.example,@other.example:bob@example.com>", Some("bob@example.com"))]
    #[case("<postmaster>", None)]
    #[case("<>", None)]
    fn recipient_paths(#[case] path: &str, #[case] address: Option<&str>) {
        let r = EnvelopeRecipient::new(path);
        assert_eq!(r.address.as_ref().ok().map(Address::as_str), address);
        assert_eq!(r.display(), address.unwrap_or(path.trim()));
    }

    #[test]
    fn null_sender_and_duplicates() {
        let env = Envelope::new("<>", ["<a@example.com>", "<A@example.com>", "<x>", "<x>"]);
        assert_eq!(env.mail_from, None);
        let paths: Vec<_> = env.rcpt_to.iter().map(|r| r.path.as_str()).collect();
        assert_eq!(paths, ["<a@example.com>", "<x>"]);
    }
}
