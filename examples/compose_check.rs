//! How a mail client embeds the compose check.
//!
//! The rule that would have prevented the iOS 7.1 bug: recompute the decision from the *final
//! recipient set* on every change (adding, removing, moving a recipient between To/Cc/Bcc,
//! starting a Reply All), never carry an "encrypted" flag over from how the draft began.
//!
//! Run: `cargo run --example compose_check`

use smime_lint::compose::{decide, ComposeOptions, Decision, Intent};
use smime_lint::message::{OutgoingMessage, Recipient, RecipientField};
use smime_lint::reply::{derive_reply, ReplyKind};
use smime_lint::{Address, CertStore, Time};

/// What the compose window holds. In a real client this is the UI state.
struct Draft {
    from: Address,
    recipients: Vec<Recipient>,
    /// The user pressed the lock icon (`On`), or left it to the client (`Auto`).
    intent: Intent,
}

/// Called by the UI after every recipient change. Cheap: hash lookups and precomputed
/// certificate facts, so it can run on every keystroke.
fn on_recipients_changed(store: &CertStore, draft: &Draft, now: Time) {
    let options = ComposeOptions { intent: draft.intent, ..ComposeOptions::default() };
    let d = decide(store, Some(&draft.from), &draft.recipients, now, &options);
    let label = match d.decision {
        Decision::Encrypt => "🔒 Encrypted".to_owned(),
        Decision::Plaintext => "Not Encrypted".to_owned(),
        Decision::Refuse => "⚠ Cannot send encrypted".to_owned(),
        Decision::Downgrade => "⚠ Will be sent NOT encrypted (ask the user)".to_owned(),
    };
    let who: Vec<String> = d.recipients.iter().map(|r| r.address().to_string()).collect();
    println!("[{}] -> {label}", who.join(", "));
    for r in d.lacking() {
        for reason in r.status.reasons() {
            println!("    {}: {}", r.address(), reason.message(r.address()));
            println!("    hint: {}", reason.hint(r.address()));
        }
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut store = CertStore::new();
    store.load_path("testdata/certs/store".as_ref())?;
    // A fixed time keeps the example's output stable; a client passes the current time.
    let now = Time::parse_rfc3339("2026-06-01T00:00:00Z").ok_or("bad time")?;
    let me = Address::parse("alice@example.com")?;

    // The user replies-all to a message from Dan (no certificate), copied to Carol (has one).
    let original = OutgoingMessage::parse(
        b"From: Dan <dan@example.net>\r\nTo: alice@example.com\r\nCc: carol@example.org\r\n\
Subject: Numbers\r\nMessage-ID: <n1@example.net>\r\n\r\nsee attached\r\n",
    )?;
    let reply = derive_reply(&original, std::slice::from_ref(&me), ReplyKind::ReplyAll);
    let mut draft = Draft { from: me, recipients: reply.recipients(), intent: Intent::Auto };
    on_recipients_changed(&store, &draft, now);

    // The user removes Dan: now everyone can decrypt.
    draft.recipients.retain(|r| r.address.as_str() != "dan@example.net");
    on_recipients_changed(&store, &draft, now);

    // The user adds Bob in To and turns encryption on explicitly.
    draft
        .recipients
        .push(Recipient { address: Address::parse("Bob@Example.com")?, field: RecipientField::To });
    draft.intent = Intent::On;
    on_recipients_changed(&store, &draft, now);

    // ... and adds Dave, whose certificate expired: with encryption required, the client refuses.
    draft.recipients.push(Recipient {
        address: Address::parse("dave@example.com")?,
        field: RecipientField::Cc,
    });
    on_recipients_changed(&store, &draft, now);
    Ok(())
}
