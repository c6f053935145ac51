//! A Rust mail client's send path with the lettre guard: every message is judged against its
//! real recipients before lettre's transport sees it.
//!
//! `cargo run --example lettre_guard --features lettre`
//!
//! The transport here is lettre's `StubTransport` (it records what it is given); a client
//! would wrap its `SmtpTransport` / `AsyncSmtpTransport` the same way. The S/MIME content comes
//! from the test fixtures; a client encrypts with its own S/MIME code.

use base64::Engine;
use lettre::message::header::ContentType;
use lettre::message::{Mailbox, Message};
use lettre::transport::stub::StubTransport;
use lettre::Transport;
use smime_lint::lettre_guard::{GuardError, GuardedTransport};
use smime_lint::CertStore;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut store = CertStore::new();
    store.load_path("testdata/certs/store".as_ref())?;
    // The clock is read at each send (`with_clock` replaces it, e.g. in tests).
    let mailer = GuardedTransport::new(StubTransport::new_ok(), store);

    // The encrypted body iOS 7.1 Mail built for its Reply All: for carol (and alice) only.
    let fixture = std::fs::read_to_string("testdata/audit/ios71-reply-all.eml")?;
    let body =
        fixture.split_once("\r\n\r\n").or_else(|| fixture.split_once("\n\n")).map_or("", |b| b.1);
    let b64: String = body.chars().filter(|c| !c.is_whitespace()).collect();
    let cms = base64::engine::general_purpose::STANDARD.decode(b64)?;
    let smime = ContentType::parse(
        "application/pkcs7-mime; smime-type=enveloped-data; name=\"smime.p7m\"",
    )?;
    let message = |to: &[&str]| -> Result<Message, Box<dyn std::error::Error>> {
        let mut b = Message::builder()
            .from("Alice <alice@example.com>".parse::<Mailbox>()?)
            .subject("Re: Quarterly numbers")
            .header(smime.clone());
        for a in to {
            b = b.to(a.parse()?);
        }
        Ok(b.body(cms.clone())?)
    };

    // Reply All: dan (no certificate) and carol. Refused before anything is sent.
    let reply_all = message(&["Dan <dan@example.net>", "Carol <carol@example.org>"])?;
    match mailer.send(&reply_all) {
        Err(GuardError::Refused(refusal)) => {
            println!("Reply All refused: {refusal}");
            for r in refusal.unreadable() {
                println!("  {}: {}", r.recipient, r.reason.as_deref().unwrap_or("cannot decrypt"));
            }
        }
        Err(GuardError::Transport(e)) => return Err(e.into()),
        Ok(()) => println!("Reply All sent (unexpected)"),
    }

    // Reply to carol alone: she can read it, so it goes to the transport.
    mailer.send(&message(&["Carol <carol@example.org>"])?)?;
    println!("Reply to carol: sent");

    let handed_over = mailer.inner().messages();
    println!("messages the transport received: {}", handed_over.len());
    for (envelope, _) in &handed_over {
        let to: Vec<String> = envelope.to().iter().map(ToString::to_string).collect();
        println!("  to {}", to.join(", "));
    }
    Ok(())
}
