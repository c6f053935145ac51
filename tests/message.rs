//! The outgoing-message model and Reply / Reply All derivation, over the hand-written sample
//! messages in `testdata/messages/` and over generated messages.

use proptest::prelude::*;
use rstest::rstest;
use smime_lint::{
    collapse_recipients, derive_reply, Address, Error, Mailbox, OutgoingMessage, Recipient,
    RecipientField, ReplyKind, Time,
};
use std::collections::BTreeSet;
use std::path::Path;

use RecipientField::{Bcc, Cc, To};
use ReplyKind::{Reply, ReplyAll};

fn sample(name: &str) -> OutgoingMessage {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/messages").join(name);
    let raw = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    OutgoingMessage::parse(&raw).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn addr(a: &str) -> Address {
    Address::parse(a).unwrap()
}

fn set(list: Vec<Recipient>) -> BTreeSet<Recipient> {
    list.into_iter().collect()
}

fn listed(to: &[&str], cc: &[&str], bcc: &[&str]) -> Vec<Recipient> {
    let field =
        |list: &[&str], f| list.iter().map(|a| Recipient::new(addr(a), f)).collect::<Vec<_>>();
    [field(to, To), field(cc, Cc), field(bcc, Bcc)].concat()
}

fn addresses(list: &[Mailbox]) -> Vec<&str> {
    list.iter().map(|m| m.address.as_str()).collect()
}

// ---------------------------------------------------------------------------------------------
// Parsing the samples

#[rstest]
#[case::exchange("exchange-original.eml", "bob@example.com",
    &["alice@example.com", "dave@example.com"], &["carol@example.org"], &[])]
#[case::iphone_fresh("ios71-fresh.eml", "alice@example.com",
    &["bob@example.com"], &["dave@example.com", "carol@example.org"], &[])]
#[case::thunderbird_reply("thunderbird-reply.eml", "carol@example.org",
    &["bob@example.com"], &["alice@example.com", "dave@example.com"], &[])]
#[case::apple_mail_encoded_names("apple-mail-encoded.eml", "joerg@example.de",
    &["alice@example.com", "francois@example.fr"], &["emilie@example.fr"], &[])]
#[case::groups("undisclosed-recipients.eml", "grace@example.com",
    &[], &["alice@example.com", "bob@example.com", "heidi@example.net"], &["ivan@example.net"])]
#[case::comments_and_spacing("comments-spacing.eml", "alice@example.com",
    &["bob@example.com", "carol@example.org", "dave@example.com"], &["erin@example.com"], &[])]
#[case::draft_with_bcc("draft-bcc.eml", "alice@example.com",
    &["bob@example.com"], &[], &["erin@example.com"])]
#[case::mail_followup_to("mail-followup-to.eml", "frank@example.net",
    &["smime-users@lists.example.org"], &["alice@example.com"], &[])]
#[case::reply_to("reply-to.eml", "carol@example.org",
    &["alice@example.com"], &["bob@example.com"], &[])]
#[case::sent_by_me("sent-by-me.eml", "alice@example.com",
    &["bob@example.com", "dave@example.com"], &["carol@example.org", "alice@example.com"], &[])]
#[case::note_to_self("note-to-self.eml", "alice@example.com",
    &["alice@example.com"], &[], &[])]
#[case::invalid_addresses("invalid-addresses.eml", "mallory@example.net",
    &["bob@example.com"], &["erin@example.com"], &[])]
fn sample_recipients(
    #[case] file: &str,
    #[case] author: &str,
    #[case] to: &[&str],
    #[case] cc: &[&str],
    #[case] bcc: &[&str],
) {
    let msg = sample(file);
    assert_eq!(msg.author().map(Address::as_str), Some(author));
    assert_eq!(msg.recipients(), listed(to, cc, bcc));
}

#[rstest]
#[case::exchange(
    "exchange-original.eml",
    false,
    Some("<7F1C2B9E4A3D4E0F9A6B@EXCH01.corp.example.com>"),
    0
)]
#[case::thunderbird_reply(
    "thunderbird-reply.eml",
    true,
    Some("<b3c1e9a0-5f2d-4c1e-8e77-2a1f0c9d4b12@example.org>"),
    2
)]
#[case::sent_by_me("sent-by-me.eml", true, Some("<sent.42@example.com>"), 3)]
#[case::draft("draft-bcc.eml", false, None, 0)]
fn sample_threading(
    #[case] file: &str,
    #[case] is_reply: bool,
    #[case] message_id: Option<&str>,
    #[case] references: usize,
) {
    let msg = sample(file);
    assert_eq!(msg.is_reply(), is_reply);
    assert_eq!(msg.message_id.as_deref(), message_id);
    assert_eq!(msg.references.len(), references);
}

#[test]
fn encoded_words_are_decoded() {
    let msg = sample("apple-mail-encoded.eml");
    assert_eq!(msg.from[0].name.as_deref(), Some("Jörg Müller"));
    assert_eq!(msg.to[0].name.as_deref(), Some("Alice Example"));
    assert_eq!(msg.cc[0].name.as_deref(), Some("Émilie Roux"));
    assert_eq!(msg.subject.as_deref(), Some("Grüße aus München"));
}

#[test]
fn comments_are_names_not_addresses() {
    let msg = sample("comments-spacing.eml");
    assert_eq!(msg.from[0].name.as_deref(), Some("Alice at work"));
    assert_eq!(msg.to[0].name.as_deref(), Some("Bob"));
    assert_eq!(msg.subject.as_deref(), Some("odd   spacing"));
    assert!(msg.invalid.is_empty(), "{:?}", msg.invalid);
}

#[test]
fn originator_fields() {
    let mft = sample("mail-followup-to.eml");
    assert_eq!(
        addresses(&mft.mail_followup_to),
        ["smime-users@lists.example.org", "frank@example.net"]
    );
    let rt = sample("reply-to.eml");
    assert_eq!(addresses(&rt.reply_to), ["carol.ng@home.example"]);
    assert_eq!(rt.reply_to[0].name.as_deref(), Some("Carol (home)"));
}

#[test]
fn mail_followup_to_is_read_with_any_parser() {
    // The audit may parse with its own configuration: an unknown header kept as raw text is
    // still read as an address list.
    let raw = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/messages/mail-followup-to.eml"),
    )
    .unwrap();
    let parsed = mail_parser::MessageParser::default().parse(&raw).unwrap();
    let msg = OutgoingMessage::from_message(&parsed);
    assert_eq!(msg, sample("mail-followup-to.eml"));
}

#[test]
fn dates() {
    // Mon, 1 Jun 2026 07:14:02 +0000
    assert_eq!(
        sample("exchange-original.eml").date,
        Some(Time::from_unix(1_780_272_000 + 7 * 3600 + 14 * 60 + 2))
    );
    // Mon, 1 Jun 2026 10:02:11 +0200
    assert_eq!(
        sample("ios71-fresh.eml").date,
        Some(Time::from_unix(1_780_272_000 + 8 * 3600 + 2 * 60 + 11))
    );
    assert_eq!(sample("invalid-addresses.eml").date, None);
    assert_eq!(sample("draft-bcc.eml").date, None);
}

#[test]
fn invalid_addresses_are_warnings() {
    let msg = sample("invalid-addresses.eml");
    let found: Vec<(&str, &str)> =
        msg.invalid.iter().map(|i| (i.header, i.text.as_str())).collect();
    assert_eq!(
        found,
        [("To", "Bob Smith"), ("To", "Nobody"), ("To", "carol@"), ("Cc", "dave@exa mple.com"),]
    );
    // The valid ones still count.
    assert_eq!(msg.recipients().len(), 2);
}

#[rstest]
#[case::empty(b"".as_slice())]
#[case::prose(b"Dear Bob,\nhere are the figures.\n".as_slice())]
#[case::png(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".as_slice())]
#[case::only_postmark(b"From alice@example.com Mon Jun  1 00:00:00 2026\n".as_slice())]
fn not_a_message(#[case] raw: &[u8]) {
    let err = OutgoingMessage::parse(raw).unwrap_err();
    assert!(matches!(err, Error::Message { .. }), "{err:?}");
    assert!(err.to_string().contains("not a mail message"), "{err}");
}

// ---------------------------------------------------------------------------------------------
// Reply and Reply All over the samples

#[rstest]
#[case::reply("exchange-original.eml", Reply, &["bob@example.com"], &[])]
#[case::reply_all("exchange-original.eml", ReplyAll,
    &["bob@example.com"], &["dave@example.com", "carol@example.org"])]
#[case::reply_all_to_a_reply("thunderbird-reply.eml", ReplyAll,
    &["carol@example.org"], &["bob@example.com", "dave@example.com"])]
#[case::followup_reply("mail-followup-to.eml", Reply, &["frank@example.net"], &[])]
#[case::followup_reply_all("mail-followup-to.eml", ReplyAll,
    &["smime-users@lists.example.org", "frank@example.net"], &[])]
#[case::reply_to_reply("reply-to.eml", Reply, &["carol.ng@home.example"], &[])]
#[case::reply_to_reply_all("reply-to.eml", ReplyAll,
    &["carol.ng@home.example"], &["bob@example.com"])]
#[case::own_message_reply("sent-by-me.eml", Reply,
    &["bob@example.com", "dave@example.com"], &[])]
#[case::own_message_reply_all("sent-by-me.eml", ReplyAll,
    &["bob@example.com", "dave@example.com"], &["carol@example.org"])]
#[case::own_draft_bcc_stays_hidden("draft-bcc.eml", ReplyAll, &["bob@example.com"], &[])]
#[case::note_to_self("note-to-self.eml", ReplyAll, &["alice@example.com"], &[])]
#[case::groups_and_bcc("undisclosed-recipients.eml", ReplyAll,
    &["grace@example.com"], &["bob@example.com", "heidi@example.net"])]
#[case::encoded_names("apple-mail-encoded.eml", ReplyAll,
    &["joerg@example.de"], &["francois@example.fr", "emilie@example.fr"])]
fn sample_replies(
    #[case] file: &str,
    #[case] kind: ReplyKind,
    #[case] to: &[&str],
    #[case] cc: &[&str],
) {
    // The user has two aliases, written in a different case than in the messages.
    let me = [addr("Alice@Example.com"), addr("alice.work@example.com")];
    let draft = derive_reply(&sample(file), &me, kind);
    assert_eq!(addresses(&draft.to), to, "To");
    assert_eq!(addresses(&draft.cc), cc, "Cc");
}

#[test]
fn reply_threading_and_subject() {
    let original = sample("thunderbird-reply.eml");
    let draft = derive_reply(&original, &[addr("alice@example.com")], ReplyAll);
    assert_eq!(draft.subject, "Re: Q3 budget figures");
    assert_eq!(draft.in_reply_to, original.message_id);
    assert_eq!(
        draft.references,
        [
            "<7F1C2B9E4A3D4E0F9A6B@EXCH01.corp.example.com>",
            "<4B0D3F2A-91C7-4E52-A0E1-7D9C2B5F1A33@example.com>",
            "<b3c1e9a0-5f2d-4c1e-8e77-2a1f0c9d4b12@example.org>",
        ]
    );
    let own = derive_reply(&sample("sent-by-me.eml"), &[addr("alice@example.com")], Reply);
    assert_eq!(own.subject, "RE: Q3 budget figures");
}

/// DESIGN §1, the iOS 7.1 Reply All: Bob wrote To Alice and Dave, Cc Carol. Alice's Reply All
/// must have exactly the recipients of a message she types fresh To Bob, Cc Dave and Carol, so
/// the encryption decision (a function of the recipient set) is the same for both.
#[test]
fn ios71_reply_all_equals_fresh_message() {
    let me = [addr("alice@example.com")];
    let draft = derive_reply(&sample("exchange-original.eml"), &me, ReplyAll);
    let fresh = sample("ios71-fresh.eml");
    let expected = listed(&["bob@example.com"], &["dave@example.com", "carol@example.org"], &[]);
    assert_eq!(set(draft.recipients()), set(expected));
    assert_eq!(set(draft.recipients()), set(fresh.recipients()));
    // And once written out and read back as a draft, still the same set.
    let reread =
        OutgoingMessage::parse(render_draft(&draft, "Alice <alice@example.com>").as_bytes())
            .unwrap();
    assert_eq!(set(reread.recipients()), set(fresh.recipients()));
}

fn render_draft(draft: &smime_lint::ReplyDraft, from: &str) -> String {
    let list = |l: &[Mailbox]| {
        l.iter()
            .map(|m| match &m.name {
                Some(n) => format!("\"{}\" <{}>", n.replace('"', ""), m.address),
                None => m.address.to_string(),
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    format!(
        "From: {from}\r\nTo: {}\r\nCc: {}\r\nSubject: {}\r\nIn-Reply-To: {}\r\nReferences: {}\r\n\r\nbody\r\n",
        list(&draft.to),
        list(&draft.cc),
        draft.subject,
        draft.in_reply_to.clone().unwrap_or_default(),
        draft.references.join(" "),
    )
}

// ---------------------------------------------------------------------------------------------
// Properties over generated messages

const LOCALS: &[&str] = &["alice", "bob", "carol", "dave", "o.neil", "first-last", "x_y", "z9"];
const DOMAINS: &[&str] = &["example.com", "example.org", "mail.example.net"];

/// One written occurrence of an address: which address, and how it is decorated.
#[derive(Clone, Debug)]
struct Written {
    local: &'static str,
    domain: &'static str,
    /// Bit i upper-cases character i (mod 64).
    case_mask: u64,
    style: u8,
    name: String,
}

impl Written {
    fn address(&self) -> Address {
        addr(&format!("{}@{}", self.local, self.domain))
    }

    /// The bare address with the letter case of this occurrence.
    fn cased(&self) -> String {
        format!("{}@{}", self.local, self.domain)
            .chars()
            .enumerate()
            .map(
                |(i, c)| {
                    if self.case_mask >> (i % 64) & 1 == 1 {
                        c.to_ascii_uppercase()
                    } else {
                        c
                    }
                },
            )
            .collect()
    }

    fn render(&self) -> String {
        let spec = self.cased();
        let name = &self.name;
        match self.style {
            0 => spec,
            1 => format!("<{spec}>"),
            2 => format!("\"{name}\" <{spec}>"),
            3 => format!("{spec} ({name})"),
            4 => format!("=?utf-8?Q?{}?= <{spec}>", name.replace(' ', "_")),
            5 => format!("\"{name}, Jr.\"   <{spec}>"),
            _ => format!("{name} <{spec}>"),
        }
    }
}

fn written() -> impl Strategy<Value = Written> {
    (
        prop::sample::select(LOCALS),
        prop::sample::select(DOMAINS),
        any::<u64>(),
        0u8..7,
        "[A-Za-z][A-Za-z ]{0,10}[A-Za-z]",
    )
        .prop_map(|(local, domain, case_mask, style, name)| Written {
            local,
            domain,
            case_mask,
            style,
            name,
        })
}

/// A destination field written as text: its entries, folded or not, optionally inside a group.
fn field_line(name: &str, entries: &[Written], folded: bool, group: bool) -> String {
    let sep = if folded { ",\r\n\t " } else { ", " };
    let list = entries.iter().map(Written::render).collect::<Vec<_>>().join(sep);
    if group {
        format!("{name}: Team: {list};")
    } else {
        format!("{name}: {list}")
    }
}

/// A message with To, Cc and Bcc written in a random style, in a random header order.
#[derive(Clone, Debug)]
struct Generated {
    fields: Vec<(RecipientField, Vec<Written>)>,
    text: String,
}

impl Generated {
    /// What the recipients must be, whatever the writing: the collapsed set of addresses.
    fn expected(&self) -> BTreeSet<Recipient> {
        set(collapse_recipients(
            self.fields
                .iter()
                .flat_map(|(f, list)| list.iter().map(move |w| Recipient::new(w.address(), *f))),
        ))
    }
}

fn generated() -> impl Strategy<Value = Generated> {
    let field = |f: RecipientField| {
        (prop::collection::vec(written(), 0..5), any::<bool>(), any::<bool>())
            .prop_map(move |(list, folded, group)| (f, list, folded, group))
    };
    (field(To), field(Cc), field(Bcc), any::<bool>(), any::<bool>())
        .prop_flat_map(|(to, cc, bcc, undisclosed, crlf)| {
            let mut lines = vec![
                "From: Alice <alice@example.com>".to_owned(),
                "Subject: generated".to_owned(),
                "Date: Mon, 1 Jun 2026 00:00:00 +0000".to_owned(),
                "Message-ID: <gen@example.com>".to_owned(),
            ];
            let mut fields = Vec::new();
            for (f, list, folded, group) in [to, cc, bcc] {
                if !list.is_empty() {
                    lines.push(field_line(f.header_name(), &list, folded, group));
                } else if undisclosed {
                    lines.push(format!("{}: Undisclosed recipients:;", f.header_name()));
                }
                fields.push((f, list));
            }
            (Just(fields), Just(lines).prop_shuffle(), Just(crlf))
        })
        .prop_map(|(fields, lines, crlf)| {
            let nl = if crlf { "\r\n" } else { "\n" };
            let text =
                format!("{}{nl}{nl}body{nl}", lines.join(nl)).replace("\r\n\t", &format!("{nl}\t"));
            Generated { fields, text }
        })
}

proptest! {
    /// DESIGN §3 / issue item 8: the recipient set does not depend on header order, duplicates,
    /// letter case, display names, comments, encoded words, folding or groups.
    #[test]
    fn recipients_depend_only_on_the_addresses(msg in generated()) {
        let parsed = OutgoingMessage::parse(msg.text.as_bytes()).unwrap();
        prop_assert!(parsed.invalid.is_empty(), "{:?}\n{}", parsed.invalid, msg.text);
        let got = parsed.recipients();
        let unique: BTreeSet<&Address> = got.iter().map(|r| &r.address).collect();
        prop_assert_eq!(unique.len(), got.len(), "duplicates in {:?}", got);
        prop_assert_eq!(set(got), msg.expected(), "{}", msg.text);
    }

    /// Reply and Reply All never address the user (any alias, any case), except a note to
    /// oneself going back to its author; never list an address twice; never reveal a Bcc.
    #[test]
    fn replies_never_include_me(
        msg in generated(),
        from in written(),
        reply_to in prop::option::of(written()),
        followup in prop::collection::vec(written(), 0..3),
        me in prop::collection::vec(written(), 1..4),
        all in any::<bool>(),
    ) {
        let mut text = format!("From: {}\n", from.render());
        if let Some(rt) = &reply_to {
            text.push_str(&format!("Reply-To: {}\n", rt.render()));
        }
        if !followup.is_empty() {
            text.push_str(&field_line("Mail-Followup-To", &followup, false, false));
            text.push('\n');
        }
        // Replace the generated From with this one.
        let rest = msg.text.replace("From: Alice <alice@example.com>", "X-Old-From: alice");
        text.push_str(&rest.replace("\r\n", "\n"));
        let original = OutgoingMessage::parse(text.as_bytes()).unwrap();
        let me: Vec<Address> = me.iter().map(|w| addr(&w.cased())).collect();
        let kind = if all { ReplyAll } else { Reply };
        let draft = derive_reply(&original, &me, kind);

        let got: Vec<&Address> = draft.to.iter().chain(&draft.cc).map(|m| &m.address).collect();
        let unique: BTreeSet<&&Address> = got.iter().collect();
        prop_assert_eq!(unique.len(), got.len(), "duplicates: {:?}", got);
        let to_self = draft.cc.is_empty()
            && draft.to.len() == 1
            && original.author() == Some(&draft.to[0].address);
        if !to_self {
            prop_assert!(!got.iter().any(|a| me.contains(a)), "me in {:?}", got);
        }
        prop_assert!(!got.is_empty() || original.author().is_none());
        let visible: BTreeSet<&Address> = original.from.iter()
            .chain(&original.sender)
            .chain(&original.reply_to)
            .chain(&original.mail_followup_to)
            .chain(&original.to)
            .chain(&original.cc)
            .map(|m| &m.address)
            .collect();
        for a in &got {
            prop_assert!(visible.contains(a), "{} came from nowhere (Bcc?)", a);
        }
    }

    /// A Reply All draft and a message typed fresh to the same people, written in any style,
    /// have the same recipient set.
    #[test]
    fn reply_all_draft_equals_fresh_message(msg in generated(), fresh_style in written()) {
        let me = [addr("alice@example.com")];
        let original = OutgoingMessage::parse(msg.text.replace("From: Alice <alice@example.com>", "From: bob@example.org").as_bytes()).unwrap();
        let draft = derive_reply(&original, &me, ReplyAll);
        let restyle = |m: &Mailbox| {
            let (local, domain) = (m.address.local_part().to_owned(), m.address.domain().to_owned());
            let w = Written { local: LOCALS.iter().find(|l| **l == local).copied().unwrap_or("bob"),
                domain: DOMAINS.iter().find(|d| **d == domain).copied().unwrap_or("example.org"),
                ..fresh_style.clone() };
            w.render()
        };
        // Typed fresh: Cc first, To last, each written in another style.
        let cc: Vec<String> = draft.cc.iter().rev().map(restyle).collect();
        let to: Vec<String> = draft.to.iter().map(restyle).collect();
        let fresh = format!("Cc: {}\nSubject: new\nTo: {}\nFrom: alice@example.com\n\n", cc.join(", "), to.join(", "));
        let fresh = OutgoingMessage::parse(fresh.as_bytes()).unwrap();
        prop_assert_eq!(set(fresh.recipients()), set(draft.recipients()));
    }

    #[test]
    fn parse_never_panics_on_bytes(raw in prop::collection::vec(any::<u8>(), 0..2048)) {
        let _ = OutgoingMessage::parse(&raw);
    }

    #[test]
    fn parse_never_panics_on_header_soup(
        lines in prop::collection::vec(
            "(From|To|Cc|Bcc|Sender|Reply-To|Mail-Followup-To|Message-ID|References|In-Reply-To|Date|Subject): [ -~\t]{0,60}",
            0..12),
        fold in any::<bool>(),
    ) {
        let text = lines.join(if fold { "\n " } else { "\n" });
        if let Ok(msg) = OutgoingMessage::parse(text.as_bytes()) {
            let _ = msg.recipients();
            for kind in [Reply, ReplyAll] {
                let _ = derive_reply(&msg, &[addr("alice@example.com")], kind);
            }
        }
    }
}
