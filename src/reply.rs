//! Reply and Reply All: the recipients and threading headers a mail client gives a reply.
//!
//! smime-lint derives replies itself so `check --reply-all-to ORIGINAL.eml` can show what a
//! Reply All *will* go to, and so tests can prove that a Reply All draft and a message typed
//! fresh to the same people get the same decision (DESIGN §1: the decision is a function of the
//! recipient set only).
//!
//! # Rules
//!
//! **Reply targets** (RFC 5322 §3.6.2: "When the "Reply-To:" field is present, it indicates the
//! address(es) to which the author of the message suggests that replies be sent. In the absence
//! of the "Reply-To:" field, replies SHOULD by default be sent to the mailbox(es) specified in
//! the "From:" field unless otherwise specified by the person composing the reply."):
//!
//! 1. if the original's author ([`OutgoingMessage::author`]) is one of `me` — replying to one's
//!    own sent message — the original `To` (what Thunderbird and Apple Mail do);
//! 2. else `Reply-To`, if present;
//! 3. else `From` (else `Sender`, when `From` is missing).
//!
//! **Reply** goes to the reply targets, with no Cc.
//!
//! **Reply All**:
//!
//! * if the original has `Mail-Followup-To` (draft-ietf-drums-mail-followup-to-00, honoured by
//!   mutt, Gnus and Thunderbird: "the author wants followups to go to these addresses"), To is
//!   `Mail-Followup-To` and there is no Cc;
//! * else To is the reply targets and Cc is the original `To` and `Cc` (RFC 5322 §3.6.3: the
//!   destination fields of the message being replied to).
//!
//! Then, for both kinds: every address in `me` is removed from To and Cc (compared normalised,
//! so `Alice@Example.com` is `alice@example.com`); duplicates collapse, an address in both To
//! and Cc staying in To only; the original `Bcc` never propagates (RFC 5322 §3.6.3: Bcc
//! recipients are not to be disclosed). If removing `me` leaves no recipient at all (a message
//! to oneself), the reply goes to the original author.
//!
//! **Threading** (RFC 5322 §3.6.4): `In-Reply-To` is the original `Message-ID`; `References` is
//! the original `References` followed by its `Message-ID` — or, when the original has no
//! `References` but an `In-Reply-To` with a single identifier, that identifier followed by the
//! `Message-ID`. The subject gets `Re: ` unless it already starts with `Re:` (any letter case;
//! RFC 5322 §3.6.5 describes the `Re: ` convention).

use crate::address::Address;
use crate::message::{collapse_recipients, Mailbox, OutgoingMessage, Recipient, RecipientField};

/// Which reply a user asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReplyKind {
    /// Reply to the author (or `Reply-To`).
    Reply,
    /// Reply to the author and every other recipient (or `Mail-Followup-To`).
    ReplyAll,
}

/// The draft a mail client opens when the user clicks Reply or Reply All.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplyDraft {
    /// `To:` — each address once, never one of the user's own.
    pub to: Vec<Mailbox>,
    /// `Cc:` — each address once, none that is also in `to`, never one of the user's own.
    pub cc: Vec<Mailbox>,
    /// `Subject:` with a `Re: ` prefix.
    pub subject: String,
    /// `In-Reply-To:` — the original `Message-ID`, if it had one.
    pub in_reply_to: Option<String>,
    /// `References:` — the thread so far, oldest first, ending with the original `Message-ID`.
    pub references: Vec<String>,
}

impl ReplyDraft {
    /// The draft's recipients, collapsed as [`OutgoingMessage::recipients`] collapses them.
    pub fn recipients(&self) -> Vec<Recipient> {
        let to = self.to.iter().map(|m| Recipient::new(m.address.clone(), RecipientField::To));
        let cc = self.cc.iter().map(|m| Recipient::new(m.address.clone(), RecipientField::Cc));
        collapse_recipients(to.chain(cc))
    }

    /// The draft as an outgoing message from `from` (no Bcc, no Date, no Message-ID yet), ready
    /// to be checked like any other draft.
    pub fn to_message(&self, from: Option<Mailbox>) -> OutgoingMessage {
        OutgoingMessage {
            from: from.into_iter().collect(),
            to: self.to.clone(),
            cc: self.cc.clone(),
            subject: Some(self.subject.clone()),
            in_reply_to: self.in_reply_to.iter().cloned().collect(),
            references: self.references.clone(),
            ..OutgoingMessage::default()
        }
    }
}

/// Derives the Reply or Reply All draft for `original` (see the [module rules](self)).
///
/// `me` holds all the user's identities (aliases); they are compared normalised and never
/// appear in the result, except when the original was addressed only to the user, where the
/// reply goes back to the original author.
pub fn derive_reply(original: &OutgoingMessage, me: &[Address], kind: ReplyKind) -> ReplyDraft {
    let is_me = |a: &Address| me.contains(a);
    let targets: &[Mailbox] = if original.author().is_some_and(is_me) {
        &original.to
    } else if !original.reply_to.is_empty() {
        &original.reply_to
    } else if !original.from.is_empty() {
        &original.from
    } else {
        original.sender.as_slice()
    };

    let (to, cc): (Vec<&Mailbox>, Vec<&Mailbox>) = match kind {
        ReplyKind::Reply => (targets.iter().collect(), Vec::new()),
        ReplyKind::ReplyAll if !original.mail_followup_to.is_empty() => {
            (original.mail_followup_to.iter().collect(), Vec::new())
        }
        ReplyKind::ReplyAll => {
            (targets.iter().collect(), original.to.iter().chain(&original.cc).collect())
        }
    };

    let mut seen = std::collections::HashSet::new();
    let mut keep = |m: &&Mailbox| !is_me(&m.address) && seen.insert(m.address.clone());
    let mut to: Vec<Mailbox> = to.into_iter().filter(&mut keep).cloned().collect();
    let cc: Vec<Mailbox> = cc.into_iter().filter(&mut keep).cloned().collect();
    if to.is_empty() && cc.is_empty() {
        // Everything was the user: a note to oneself goes back to oneself.
        to.extend(original.author_mailbox().cloned());
    }

    ReplyDraft {
        to,
        cc,
        subject: reply_subject(original.subject.as_deref().unwrap_or_default()),
        in_reply_to: original.message_id.clone(),
        references: reply_references(original),
    }
}

/// `Re: ` + subject, unless the subject already starts with `Re:` in any letter case.
pub fn reply_subject(subject: &str) -> String {
    let subject = subject.trim();
    let has_prefix = subject.get(..3).is_some_and(|p| p.eq_ignore_ascii_case("re:"));
    if has_prefix {
        subject.to_owned()
    } else if subject.is_empty() {
        "Re:".to_owned()
    } else {
        format!("Re: {subject}")
    }
}

/// RFC 5322 §3.6.4: the parent's `References` (or its single `In-Reply-To`) followed by the
/// parent's `Message-ID`.
fn reply_references(original: &OutgoingMessage) -> Vec<String> {
    let mut refs = if !original.references.is_empty() {
        original.references.clone()
    } else if original.in_reply_to.len() == 1 {
        original.in_reply_to.clone()
    } else {
        Vec::new()
    };
    if let Some(id) = &original.message_id {
        refs.push(id.clone());
    }
    refs
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;
    use ReplyKind::{Reply, ReplyAll};

    fn addrs(list: &[&str]) -> Vec<Address> {
        list.iter().map(|a| Address::parse(a).unwrap()).collect()
    }

    fn strs(list: &[Mailbox]) -> Vec<&str> {
        list.iter().map(|m| m.address.as_str()).collect()
    }

    const FROM_BOB: &str = "From: Bob <bob@example.com>\nTo: alice@example.com, dave@example.com\nCc: carol@example.org\n";
    const REPLY_TO: &str = "From: bob@example.com\nReply-To: Team <team@lists.example.com>\nTo: alice@example.com\nCc: carol@example.org\n";
    const FOLLOWUP: &str = "From: frank@example.net\nTo: list@lists.example.org\nCc: alice@example.com, carol@example.org\nMail-Followup-To: list@lists.example.org, frank@example.net\nReply-To: frank@home.example\n";
    const ALIASES: &str = "From: bob@example.com\nTo: alice.work@example.com, dave@example.com\nCc: ALICE@example.com\n";
    const OWN_SENT: &str = "From: Alice@Example.com\nTo: bob@example.com, dave@example.com\nCc: carol@example.org, alice@example.com\nReply-To: alice@example.com\n";
    const DUPLICATES: &str = "From: bob@example.com\nTo: alice@example.com, BOB@example.com, dave@example.com\nCc: dave@example.com, carol@example.org, Carol <Carol@Example.org>\n";
    const SELF_NOTE: &str = "From: Alice <alice@example.com>\nTo: Me <ALICE@example.com>\n";
    const WITH_BCC: &str = "From: bob@example.com\nTo: alice@example.com\nBcc: eve@example.com\n";
    const SENDER_ONLY: &str = "Sender: sec@example.com\nTo: alice@example.com, dave@example.com\n";
    const GROUP: &str = "From: bob@example.com\nTo: Team: alice@example.com, carol@example.org;, Undisclosed recipients:;\n";

    #[rstest]
    #[case::reply_goes_to_from(FROM_BOB, Reply, &["bob@example.com"], &[])]
    #[case::reply_all_adds_to_and_cc(FROM_BOB, ReplyAll, &["bob@example.com"], &["dave@example.com", "carol@example.org"])]
    #[case::reply_honours_reply_to(REPLY_TO, Reply, &["team@lists.example.com"], &[])]
    #[case::reply_all_honours_reply_to(REPLY_TO, ReplyAll, &["team@lists.example.com"], &["carol@example.org"])]
    #[case::reply_ignores_followup_to(FOLLOWUP, Reply, &["frank@home.example"], &[])]
    #[case::reply_all_uses_followup_to(FOLLOWUP, ReplyAll, &["list@lists.example.org", "frank@example.net"], &[])]
    #[case::every_alias_removed(ALIASES, ReplyAll, &["bob@example.com"], &["dave@example.com"])]
    #[case::own_sent_reply_goes_to_original_to(OWN_SENT, Reply, &["bob@example.com", "dave@example.com"], &[])]
    #[case::own_sent_reply_all(OWN_SENT, ReplyAll, &["bob@example.com", "dave@example.com"], &["carol@example.org"])]
    #[case::duplicates_collapse_into_to(DUPLICATES, ReplyAll, &["bob@example.com"], &["dave@example.com", "carol@example.org"])]
    #[case::note_to_self_reply(SELF_NOTE, Reply, &["alice@example.com"], &[])]
    #[case::note_to_self_reply_all(SELF_NOTE, ReplyAll, &["alice@example.com"], &[])]
    #[case::bcc_never_propagates(WITH_BCC, ReplyAll, &["bob@example.com"], &[])]
    #[case::sender_when_no_from(SENDER_ONLY, Reply, &["sec@example.com"], &[])]
    #[case::sender_when_no_from_all(SENDER_ONLY, ReplyAll, &["sec@example.com"], &["dave@example.com"])]
    #[case::group_members_not_names(GROUP, ReplyAll, &["bob@example.com"], &["carol@example.org"])]
    fn derives(
        #[case] headers: &str,
        #[case] kind: ReplyKind,
        #[case] to: &[&str],
        #[case] cc: &[&str],
    ) {
        let me = addrs(&["Alice@Example.com", "alice.work@example.com"]);
        let original = OutgoingMessage::parse(format!("{headers}\nbody\n").as_bytes()).unwrap();
        let draft = derive_reply(&original, &me, kind);
        assert_eq!(strs(&draft.to), to, "To");
        assert_eq!(strs(&draft.cc), cc, "Cc");
    }

    #[test]
    fn keeps_display_names_of_first_occurrence() {
        let original = OutgoingMessage::parse(FROM_BOB.as_bytes()).unwrap();
        let draft = derive_reply(&original, &addrs(&["alice@example.com"]), ReplyAll);
        assert_eq!(draft.to.first().and_then(|m| m.name.as_deref()), Some("Bob"));
    }

    #[rstest]
    #[case::adds_prefix("Q3 budget", "Re: Q3 budget")]
    #[case::keeps_prefix("Re: Q3 budget", "Re: Q3 budget")]
    #[case::keeps_upper_prefix("RE: Q3 budget", "RE: Q3 budget")]
    #[case::keeps_prefix_without_space("re:Q3", "re:Q3")]
    #[case::word_starting_with_re("Report", "Re: Report")]
    #[case::trims("  hello ", "Re: hello")]
    #[case::empty("", "Re:")]
    #[case::non_ascii("Grüße", "Re: Grüße")]
    #[case::short_non_ascii("ü", "Re: ü")]
    fn subjects(#[case] subject: &str, #[case] expected: &str) {
        assert_eq!(reply_subject(subject), expected);
    }

    #[rstest]
    #[case::first_message("Message-ID: <1@x>\n", Some("<1@x>"), &["<1@x>"])]
    #[case::references_extended(
        "Message-ID: <3@x>\nIn-Reply-To: <2@x>\nReferences: <1@x> <2@x>\n",
        Some("<3@x>"), &["<1@x>", "<2@x>", "<3@x>"])]
    #[case::in_reply_to_when_no_references(
        "Message-ID: <2@x>\nIn-Reply-To: <1@x>\n", Some("<2@x>"), &["<1@x>", "<2@x>"])]
    #[case::ambiguous_in_reply_to_dropped(
        "Message-ID: <3@x>\nIn-Reply-To: <1@x> <2@x>\n", Some("<3@x>"), &["<3@x>"])]
    #[case::no_message_id("In-Reply-To: <1@x>\n", None, &["<1@x>"])]
    #[case::nothing("Subject: x\n", None, &[])]
    fn threading(
        #[case] headers: &str,
        #[case] in_reply_to: Option<&str>,
        #[case] references: &[&str],
    ) {
        let original = OutgoingMessage::parse(format!("{headers}\n").as_bytes()).unwrap();
        let draft = derive_reply(&original, &[], Reply);
        assert_eq!(draft.in_reply_to.as_deref(), in_reply_to);
        assert_eq!(draft.references, references);
    }

    #[test]
    fn draft_as_message_has_the_same_recipients() {
        let original = OutgoingMessage::parse(DUPLICATES.as_bytes()).unwrap();
        let me = addrs(&["alice@example.com"]);
        let draft = derive_reply(&original, &me, ReplyAll);
        let msg = draft.to_message(Some(Mailbox::new(me[0].clone())));
        assert_eq!(msg.recipients(), draft.recipients());
        assert_eq!(msg.author(), me.first());
        assert!(msg.is_reply() || original.message_id.is_none());
    }
}
