//! The outgoing-message model: who a message (or a draft) goes to, who wrote it, and where it
//! sits in a thread.
//!
//! [`OutgoingMessage`] is read from the header section with mail-parser. Every address is
//! normalised with [`Address::parse`] (DESIGN §3), so display names, comments, letter case and
//! the way a list is written never change who the recipients are. The recipient *set*
//! ([`OutgoingMessage::recipients`]) is what every decision is made from: it does not depend on
//! header order, duplicates, or whether the draft was made by Reply All or typed fresh
//! (DESIGN §1, the iOS 7.1 Reply All problem).
//!
//! Header fields read (RFC 5322 §3.6):
//!
//! | field | clause | kept as |
//! |---|---|---|
//! | `From`, `Sender`, `Reply-To` | §3.6.2 originator fields | [`Mailbox`]es |
//! | `To`, `Cc`, `Bcc` | §3.6.3 destination address fields | [`Mailbox`]es; groups flattened |
//! | `Mail-Followup-To` | draft-ietf-drums-mail-followup-to-00 | [`Mailbox`]es |
//! | `Message-ID`, `In-Reply-To`, `References` | §3.6.4 identification fields | `<msg-id>` strings |
//! | `Subject` | §3.6.5 | decoded text (RFC 2047) |
//! | `Date` | §3.6.1 | [`Time`] |
//!
//! RFC 5322 §4.5.3 (obsolete syntax) allows `To`, `Cc` and `Bcc` to appear more than once; all
//! occurrences are read. Addresses that do not parse are kept in
//! [`OutgoingMessage::invalid`] as warnings: the rest of the message can still be evaluated.

use crate::address::{Address, AddressError};
use crate::error::Error;
use crate::time::Time;
use mail_parser::{HeaderName, HeaderValue, MessageParser};

/// Name of the `Mail-Followup-To` field (draft-ietf-drums-mail-followup-to-00), which
/// mail-parser does not know: it is registered as an address header in
/// [`OutgoingMessage::parser`].
pub const MAIL_FOLLOWUP_TO: &str = "Mail-Followup-To";

/// Which destination field a recipient is in (RFC 5322 §3.6.3).
///
/// The order is visibility: `To < Cc < Bcc`. To and Cc recipients are seen by everyone who
/// receives the message; Bcc recipients are not.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RecipientField {
    /// `To:` — the primary recipients.
    To,
    /// `Cc:` — carbon copy: other recipients, visible to all.
    Cc,
    /// `Bcc:` — blind carbon copy: recipients not disclosed to the others.
    Bcc,
}

impl RecipientField {
    /// The header field name, as written in a message (`To`, `Cc`, `Bcc`).
    pub fn header_name(self) -> &'static str {
        match self {
            RecipientField::To => "To",
            RecipientField::Cc => "Cc",
            RecipientField::Bcc => "Bcc",
        }
    }
}

/// One mailbox (RFC 5322 §3.4 `mailbox = name-addr / addr-spec`): an optional display name and
/// a normalised address. The display name is kept for showing the user; it never takes part in
/// a decision.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize)]
pub struct Mailbox {
    /// The display name (RFC 2047 encoded words decoded, comments included as mail-parser reads
    /// them: `bob@example.com (Bob)` has the name `Bob`).
    pub name: Option<String>,
    /// The normalised address.
    pub address: Address,
}

impl Mailbox {
    /// A mailbox without a display name.
    pub fn new(address: Address) -> Self {
        Mailbox { name: None, address }
    }
}

/// One recipient of a message: a normalised address and the field it travels in.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub struct Recipient {
    /// The normalised address.
    pub address: Address,
    /// The destination field.
    pub field: RecipientField,
}

impl Recipient {
    /// A recipient in `field`.
    pub fn new(address: Address, field: RecipientField) -> Self {
        Recipient { address, field }
    }
}

/// An entry of an address header that is not a usable address: a warning, not an error.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvalidAddress {
    /// The header field it was found in (`To`, `Cc`, `Mail-Followup-To`, ...).
    pub header: &'static str,
    /// The text as mail-parser read it (the address, else the display name).
    pub text: String,
    /// Why it is not an address.
    pub error: AddressError,
}

impl std::fmt::Display for InvalidAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.header, self.error)
    }
}

/// A message, or a draft about to be sent, reduced to what decides how it may be encrypted:
/// its originators, recipients and threading headers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OutgoingMessage {
    /// `From:` (RFC 5322 §3.6.2): the author(s).
    pub from: Vec<Mailbox>,
    /// `Sender:` (RFC 5322 §3.6.2): the agent who sent it on the author's behalf.
    pub sender: Option<Mailbox>,
    /// `To:` (RFC 5322 §3.6.3), group members flattened.
    pub to: Vec<Mailbox>,
    /// `Cc:` (RFC 5322 §3.6.3), group members flattened.
    pub cc: Vec<Mailbox>,
    /// `Bcc:` (RFC 5322 §3.6.3): present in drafts and sent copies, stripped in transit.
    pub bcc: Vec<Mailbox>,
    /// `Reply-To:` (RFC 5322 §3.6.2): where the author suggests replies go.
    pub reply_to: Vec<Mailbox>,
    /// `Mail-Followup-To:` (draft-ietf-drums-mail-followup-to-00): where the author suggests
    /// follow-ups to all (Reply All) go.
    pub mail_followup_to: Vec<Mailbox>,
    /// `Message-ID:` (RFC 5322 §3.6.4) in `<id-left@id-right>` form.
    pub message_id: Option<String>,
    /// `In-Reply-To:` (RFC 5322 §3.6.4), each in `<...>` form.
    pub in_reply_to: Vec<String>,
    /// `References:` (RFC 5322 §3.6.4), each in `<...>` form, oldest first.
    pub references: Vec<String>,
    /// `Subject:` (RFC 5322 §3.6.5), RFC 2047 encoded words decoded.
    pub subject: Option<String>,
    /// `Date:` (RFC 5322 §3.6.1); `None` when absent or not a valid date.
    pub date: Option<Time>,
    /// Address header entries that did not parse: warnings, not errors.
    pub invalid: Vec<InvalidAddress>,
}

impl OutgoingMessage {
    /// A mail-parser parser configured for what smime-lint reads.
    ///
    /// It parses every header mail-parser knows the way its default configuration does (so MIME
    /// bodies can be walked: the audit reuses the parsed message), and additionally reads
    /// `Mail-Followup-To` and `Mail-Reply-To` as address headers.
    pub fn parser() -> MessageParser {
        Self::shared_parser().clone()
    }

    /// [`OutgoingMessage::parser`], built once: building one costs about as much as parsing
    /// the headers of a small message, so the audit shares this one.
    pub(crate) fn shared_parser() -> &'static MessageParser {
        static PARSER: std::sync::OnceLock<MessageParser> = std::sync::OnceLock::new();
        PARSER.get_or_init(Self::build_parser)
    }

    fn build_parser() -> MessageParser {
        MessageParser::new()
            .with_mime_headers()
            .with_date_headers()
            .with_address_headers()
            .with_message_ids()
            .header_text(HeaderName::Subject)
            .header_text(HeaderName::Comments)
            .header_id(HeaderName::ReturnPath)
            .header_address(HeaderName::ListArchive)
            .header_address(HeaderName::ListHelp)
            .header_address(HeaderName::ListId)
            .header_address(HeaderName::ListOwner)
            .header_address(HeaderName::ListPost)
            .header_address(HeaderName::ListSubscribe)
            .header_address(HeaderName::ListUnsubscribe)
            .header_comma_separated(HeaderName::Keywords)
            .header_comma_separated(HeaderName::ContentLanguage)
            .header_received(HeaderName::Received)
            .header_raw(HeaderName::MimeVersion)
            .header_address(HeaderName::Other(MAIL_FOLLOWUP_TO.into()))
            .header_address(HeaderName::Other("Mail-Reply-To".into()))
    }

    /// Parses a message or draft.
    ///
    /// A leading UTF-8 byte order mark and a leading mbox postmark line (`From sender date`) is skipped. Fails with
    /// [`Error::Message`] when the bytes are not a mail message at all: no header section
    /// (RFC 5322 §2.1: a message starts with header fields, `field-name ":" ...`).
    /// Addresses that do not parse are not errors: they are listed in
    /// [`OutgoingMessage::invalid`].
    pub fn parse(raw: &[u8]) -> Result<OutgoingMessage, Error> {
        let raw = message_start(raw)?;
        let msg = Self::shared_parser()
            .parse_headers(raw)
            .ok_or_else(|| not_a_message("no header section"))?;
        Ok(Self::from_message(&msg))
    }

    /// Reads the model from an already parsed message (the audit parses once and reuses it).
    ///
    /// For `Mail-Followup-To` to be read, `msg` must come from [`OutgoingMessage::parser`];
    /// with another parser configuration the field is read if it was kept as raw text.
    pub fn from_message(msg: &mail_parser::Message<'_>) -> OutgoingMessage {
        let mut out = OutgoingMessage::default();
        let headers = msg.headers();
        let mut senders = Vec::new();
        for header in headers {
            let target = match &header.name {
                HeaderName::From => Some((&mut out.from, "From")),
                HeaderName::Sender => Some((&mut senders, "Sender")),
                HeaderName::To => Some((&mut out.to, "To")),
                HeaderName::Cc => Some((&mut out.cc, "Cc")),
                HeaderName::Bcc => Some((&mut out.bcc, "Bcc")),
                HeaderName::ReplyTo => Some((&mut out.reply_to, "Reply-To")),
                HeaderName::Other(name) if name.trim().eq_ignore_ascii_case(MAIL_FOLLOWUP_TO) => {
                    Some((&mut out.mail_followup_to, MAIL_FOLLOWUP_TO))
                }
                _ => None,
            };
            if let Some((list, name)) = target {
                read_mailboxes(&header.value, name, list, &mut out.invalid);
            }
        }
        out.sender = senders.into_iter().next();
        out.message_id = first_id(msg.header_values(HeaderName::MessageId));
        out.in_reply_to = all_ids(msg.header_values(HeaderName::InReplyTo));
        out.references = all_ids(msg.header_values(HeaderName::References));
        out.subject = msg.header_values(HeaderName::Subject).find_map(|v| match v {
            HeaderValue::Text(t) => Some(t.trim().to_owned()),
            HeaderValue::TextList(l) => Some(l.join(", ")),
            _ => None,
        });
        out.date = msg
            .header_values(HeaderName::Date)
            .find_map(|v| v.as_datetime())
            .and_then(Time::from_mail_date);
        out
    }

    /// The recipients: To, Cc and Bcc collapsed so each address appears once, in its most
    /// visible field (To over Cc over Bcc), in order of first appearance within To, then Cc,
    /// then Bcc. Compare recipient lists as sets: the order carries no meaning.
    pub fn recipients(&self) -> Vec<Recipient> {
        let listed = |list: &[Mailbox], field| {
            list.iter().map(move |m| Recipient::new(m.address.clone(), field)).collect::<Vec<_>>()
        };
        collapse_recipients(
            listed(&self.to, RecipientField::To)
                .into_iter()
                .chain(listed(&self.cc, RecipientField::Cc))
                .chain(listed(&self.bcc, RecipientField::Bcc)),
        )
    }

    /// The author (RFC 5322 §3.6.2): the first `From` mailbox, else the `Sender`.
    pub fn author(&self) -> Option<&Address> {
        self.author_mailbox().map(|m| &m.address)
    }

    /// The author's mailbox, with its display name: the first `From`, else the `Sender`.
    pub fn author_mailbox(&self) -> Option<&Mailbox> {
        self.from.first().or(self.sender.as_ref())
    }

    /// A reply: `In-Reply-To` or `References` is present (RFC 5322 §3.6.4).
    pub fn is_reply(&self) -> bool {
        !self.in_reply_to.is_empty() || !self.references.is_empty()
    }
}

/// Collapses any list of recipients the way [`OutgoingMessage::recipients`] does: each address
/// once, in its most visible field (To over Cc over Bcc), in order of first appearance within
/// To, then Cc, then Bcc.
pub fn collapse_recipients(list: impl IntoIterator<Item = Recipient>) -> Vec<Recipient> {
    let mut list: Vec<Recipient> = list.into_iter().collect();
    // Stable: keeps the order of appearance within each field.
    list.sort_by_key(|r| r.field);
    let mut seen = std::collections::HashSet::new();
    list.retain(|r| seen.insert(r.address.clone()));
    list
}

/// The message proper: a leading UTF-8 byte order mark and mbox postmark line skipped.
/// [`Error::Message`] when the bytes are not a mail message at all (RFC 5322 §2.1: a message
/// starts with a header field, `field-name ":" ...`). Every reader of mail in the crate asks
/// this one question the same way.
pub fn message_start(raw: &[u8]) -> Result<&[u8], Error> {
    let raw = raw.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(raw);
    let raw = skip_mbox_postmark(raw);
    if raw.is_empty() {
        return Err(not_a_message("it is empty"));
    }
    if !starts_with_header_field(raw) {
        return Err(not_a_message("it does not start with a header field"));
    }
    Ok(raw)
}

fn not_a_message(reason: &str) -> Error {
    Error::Message {
        context: "message".to_owned(),
        reason: format!("not a mail message: {reason}"),
    }
}

/// An mbox postmark (`From alice@example.com Mon Jun  1 00:00:00 2026`) is not a header field;
/// messages saved from mbox files sometimes keep it.
fn skip_mbox_postmark(raw: &[u8]) -> &[u8] {
    if raw.starts_with(b"From ") {
        if let Some(nl) = raw.iter().position(|&b| b == b'\n') {
            return raw.get(nl + 1..).unwrap_or_default();
        }
    }
    raw
}

/// RFC 5322 §2.2 / §3.6.8: `field-name = 1*ftext` (printable US-ASCII except `:`), followed by
/// `:` (obsolete syntax, §4.5, allows white space before the colon).
fn starts_with_header_field(raw: &[u8]) -> bool {
    let name_len = raw.iter().take_while(|&&b| b.is_ascii_graphic() && b != b':').count();
    if name_len == 0 {
        return false;
    }
    let rest = raw.get(name_len..).unwrap_or_default();
    let colon = rest.iter().position(|&b| b != b' ' && b != b'\t');
    colon.and_then(|i| rest.get(i)) == Some(&b':')
}

/// Appends the mailboxes of one address header. Groups contribute their members (RFC 5322
/// §3.4: the display name of a group is not an address); an empty group such as
/// `Undisclosed recipients:;` contributes none.
pub(crate) fn read_mailboxes(
    value: &HeaderValue<'_>,
    header: &'static str,
    list: &mut Vec<Mailbox>,
    invalid: &mut Vec<InvalidAddress>,
) {
    let addrs: Vec<&mail_parser::Addr<'_>> = match value {
        HeaderValue::Address(mail_parser::Address::List(l)) => l.iter().collect(),
        HeaderValue::Address(mail_parser::Address::Group(g)) => {
            g.iter().flat_map(|g| g.addresses.iter()).collect()
        }
        // Kept raw (a parser without the field registered): read it as an address list.
        HeaderValue::Text(text) => {
            let owned = mail_parser::parsers::MessageStream::new(text.as_bytes()).parse_address();
            if matches!(owned, HeaderValue::Address(_)) {
                read_mailboxes(&owned, header, list, invalid);
            }
            return;
        }
        _ => return,
    };
    for addr in addrs {
        let name = addr.name.as_deref().map(str::trim).filter(|n| !n.is_empty()).map(str::to_owned);
        let text = match (addr.address.as_deref(), name.as_deref()) {
            (Some(a), _) if !a.trim().is_empty() => a,
            (_, Some(n)) => {
                // A display name with no address (`To: Bob Smith`): mail-parser sometimes
                // reads a bare word as the name.
                invalid.push(InvalidAddress {
                    header,
                    text: n.to_owned(),
                    error: AddressError::NoAt(n.to_owned()),
                });
                continue;
            }
            _ => continue,
        };
        match Address::parse(text) {
            Ok(address) => list.push(Mailbox { name, address }),
            Err(error) => invalid.push(InvalidAddress { header, text: text.to_owned(), error }),
        }
    }
}

fn ids_of(value: &HeaderValue<'_>) -> Vec<String> {
    let bracket = |id: &str| {
        let id = id.trim();
        let id = id.strip_prefix('<').unwrap_or(id);
        let id = id.strip_suffix('>').unwrap_or(id);
        format!("<{id}>")
    };
    match value {
        HeaderValue::Text(t) if !t.trim().is_empty() => vec![bracket(t)],
        HeaderValue::TextList(l) => {
            l.iter().filter(|t| !t.trim().is_empty()).map(|t| bracket(t)).collect()
        }
        _ => Vec::new(),
    }
}

fn first_id<'a>(values: impl Iterator<Item = &'a HeaderValue<'a>>) -> Option<String> {
    values.flat_map(ids_of).next()
}

fn all_ids<'a>(values: impl Iterator<Item = &'a HeaderValue<'a>>) -> Vec<String> {
    values.flat_map(ids_of).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    fn r(addr: &str, field: RecipientField) -> Recipient {
        Recipient::new(Address::parse(addr).unwrap(), field)
    }
    use RecipientField::{Bcc, Cc, To};

    #[rstest]
    #[case::empty(vec![], vec![])]
    #[case::keeps_order_within_field(
        vec![r("b@x.org", To), r("a@x.org", To)],
        vec![r("b@x.org", To), r("a@x.org", To)])]
    #[case::to_beats_cc(
        vec![r("a@x.org", Cc), r("a@x.org", To)],
        vec![r("a@x.org", To)])]
    #[case::cc_beats_bcc(
        vec![r("a@x.org", Bcc), r("b@x.org", Cc), r("a@x.org", Cc)],
        vec![r("b@x.org", Cc), r("a@x.org", Cc)])]
    #[case::duplicates_in_one_field(
        vec![r("a@x.org", Bcc), r("A@X.org", Bcc)],
        vec![r("a@x.org", Bcc)])]
    #[case::fields_ordered_to_cc_bcc(
        vec![r("c@x.org", Bcc), r("b@x.org", Cc), r("a@x.org", To)],
        vec![r("a@x.org", To), r("b@x.org", Cc), r("c@x.org", Bcc)])]
    fn collapses(#[case] input: Vec<Recipient>, #[case] expected: Vec<Recipient>) {
        assert_eq!(collapse_recipients(input), expected);
    }

    #[rstest]
    #[case::plain(b"From: a@example.com\r\n\r\nbody".as_slice(), true)]
    #[case::space_before_colon(b"Subject : x\n".as_slice(), true)]
    #[case::utf8_bom(b"\xEF\xBB\xBFTo: a@example.com\n".as_slice(), false)]
    #[case::empty(b"".as_slice(), false)]
    #[case::prose(b"Hello world, this is not mail\n".as_slice(), false)]
    #[case::leading_blank_line(b"\nFrom: a@example.com\n".as_slice(), false)]
    #[case::binary(b"\x89PNG\r\n\x1a\n".as_slice(), false)]
    #[case::no_colon(b"From".as_slice(), false)]
    fn recognises_a_header_section(#[case] raw: &[u8], #[case] expected: bool) {
        assert_eq!(starts_with_header_field(raw), expected);
    }

    #[test]
    fn skips_mbox_postmark() {
        let raw = b"From alice@example.com Mon Jun  1 00:00:00 2026\nFrom: alice@example.com\nTo: bob@example.com\n\nhi\n";
        let msg = OutgoingMessage::parse(raw).unwrap();
        assert_eq!(msg.author().map(Address::as_str), Some("alice@example.com"));
        assert_eq!(msg.recipients(), vec![r("bob@example.com", To)]);
    }

    #[test]
    fn skips_byte_order_mark() {
        let msg = OutgoingMessage::parse(b"\xEF\xBB\xBFTo: bob@example.com\n\n").unwrap();
        assert_eq!(msg.recipients(), vec![r("bob@example.com", To)]);
    }

    #[rstest]
    #[case::bare("<a@b>", "<a@b>")]
    #[case::unbracketed("a@b", "<a@b>")]
    fn message_ids_keep_angle_brackets(#[case] written: &str, #[case] expected: &str) {
        let raw = format!("Message-ID: {written}\nIn-Reply-To: {written}\n\n");
        let msg = OutgoingMessage::parse(raw.as_bytes()).unwrap();
        assert_eq!(msg.message_id.as_deref(), Some(expected));
        assert_eq!(msg.in_reply_to, vec![expected.to_owned()]);
        assert!(msg.is_reply());
    }

    #[test]
    fn author_falls_back_to_sender() {
        let msg =
            OutgoingMessage::parse(b"Sender: Secretary <sec@example.com>\nTo: bob@example.com\n\n")
                .unwrap();
        assert_eq!(msg.author().map(Address::as_str), Some("sec@example.com"));
        let msg =
            OutgoingMessage::parse(b"Sender: sec@example.com\nFrom: Boss <boss@example.com>\n\n")
                .unwrap();
        assert_eq!(msg.author().map(Address::as_str), Some("boss@example.com"));
    }

    #[test]
    fn repeated_destination_fields_are_all_read() {
        // RFC 5322 §4.5.3: obsolete syntax allows To/Cc/Bcc more than once.
        let msg =
            OutgoingMessage::parse(b"To: a@example.com\nCc: b@example.com\nTo: c@example.com\n\n")
                .unwrap();
        assert_eq!(
            msg.recipients(),
            vec![r("a@example.com", To), r("c@example.com", To), r("b@example.com", Cc)]
        );
    }

    #[test]
    fn internationalised_addresses_compare_in_a_label_form() {
        let msg = OutgoingMessage::parse(
            "To: Jörg <jörg@Bücher.example>\nCc: jörg@xn--bcher-kva.example\n\n".as_bytes(),
        )
        .unwrap();
        assert_eq!(msg.recipients(), vec![r("jörg@xn--bcher-kva.example", To)]);
    }

    #[test]
    fn recipient_json_matches_the_wire_format() {
        // DESIGN §7: "field": "to|cc|bcc".
        let json = serde_json::to_string(&r("Bob@Example.com", Cc)).unwrap();
        assert_eq!(json, r#"{"address":"bob@example.com","field":"cc"}"#);
    }

    #[test]
    fn invalid_date_is_none() {
        let msg = OutgoingMessage::parse(b"Date: yesterday-ish\nTo: a@example.com\n\n").unwrap();
        assert_eq!(msg.date, None);
        let msg = OutgoingMessage::parse(b"Date: Mon, 1 Jun 2026 00:00:00 +0000\n\n").unwrap();
        assert_eq!(msg.date, Some(Time::from_unix(1_780_272_000)));
    }
}
