//! Who a message's header sends it to: the recipients `sendmail -t` and a client about to send
//! a built message take from the header section.

use crate::address::Address;
use crate::error::Error;
use crate::message::{message_start, read_mailboxes, Mailbox, OutgoingMessage};
use mail_parser::HeaderName;

/// The addressees a message's header names, as a submission program reads them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct HeaderRecipients {
    /// Every entry of `To`, `Cc`, `Bcc`, `Resent-To`, `Resent-Cc` and `Resent-Bcc`, in that
    /// order: the normalised address, or the entry's text when it is not an address (so that a
    /// verdict can name it). Duplicates are left to [`Envelope`](super::Envelope) to collapse.
    pub recipients: Vec<String>,
    /// The author (`From`, else `Sender`): the reverse path when none is given.
    pub author: Option<Address>,
}

impl HeaderRecipients {
    /// Reads the header section of `raw`. Fails with [`Error::Message`] when `raw` is not a
    /// mail message (empty, or not starting with a header field).
    ///
    /// `sendmail -t` (Sendmail, Postfix, Exim) delivers to the `Resent-` fields alone when a
    /// message has them (RFC 5322 §3.6.6: the message is being re-sent), else to `To`, `Cc` and
    /// `Bcc`. Both sets are returned: judging every address either reading could deliver to
    /// never lets an unreadable copy through.
    ///
    /// ```
    /// use smime_lint::gateway::HeaderRecipients;
    /// let raw = b"From: Alice <alice@example.com>\nTo: Bob <Bob@example.com>, dan\nResent-To: erin@example.com\n\nHi\n";
    /// let h = HeaderRecipients::parse(raw).unwrap();
    /// assert_eq!(h.recipients, ["bob@example.com", "dan", "erin@example.com"]);
    /// assert_eq!(h.author.unwrap().as_str(), "alice@example.com");
    /// ```
    pub fn parse(raw: &[u8]) -> Result<HeaderRecipients, Error> {
        let start = message_start(raw)?;
        let msg = OutgoingMessage::parser().parse_headers(start).ok_or_else(|| Error::Message {
            context: "message".to_owned(),
            reason: "not a mail message: no header section".to_owned(),
        })?;
        let model = OutgoingMessage::from_message(&msg);
        let mut out = HeaderRecipients { recipients: Vec::new(), author: model.author().cloned() };
        const FIELDS: [(HeaderName<'static>, &str); 6] = [
            (HeaderName::To, "To"),
            (HeaderName::Cc, "Cc"),
            (HeaderName::Bcc, "Bcc"),
            (HeaderName::ResentTo, "Resent-To"),
            (HeaderName::ResentCc, "Resent-Cc"),
            (HeaderName::ResentBcc, "Resent-Bcc"),
        ];
        for (name, label) in FIELDS {
            for value in msg.header_values(name) {
                let mut mailboxes: Vec<Mailbox> = Vec::new();
                let mut invalid = Vec::new();
                read_mailboxes(value, label, &mut mailboxes, &mut invalid);
                out.recipients.extend(mailboxes.into_iter().map(|m| m.address.as_str().to_owned()));
                out.recipients.extend(invalid.into_iter().map(|i| i.text));
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_repeated_fields_and_resent_fields_are_all_read() {
        let raw = b"From: alice@example.com\r\nTo: Team: bob@example.com, carol@example.org;\r\n\
                    Cc: dan@example.net\r\nCc: (again) Bob@Example.com\r\nBcc: uma@example.com\r\n\
                    Resent-Cc: kim@example.net\r\nSubject: x\r\n\r\nbody\r\n";
        let h = HeaderRecipients::parse(raw).unwrap();
        assert_eq!(
            h.recipients,
            [
                "bob@example.com",
                "carol@example.org",
                "dan@example.net",
                "bob@example.com",
                "uma@example.com",
                "kim@example.net"
            ]
        );
    }

    #[test]
    fn an_empty_group_names_nobody_and_not_mail_is_an_error() {
        let h = HeaderRecipients::parse(b"To: undisclosed-recipients:;\n\nx\n").unwrap();
        assert!(h.recipients.is_empty());
        assert_eq!(h.author, None);
        assert!(HeaderRecipients::parse(b"").is_err());
        assert!(HeaderRecipients::parse(b"\x00\x01binary").is_err());
    }
}
