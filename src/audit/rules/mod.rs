//! The rules of DESIGN §5, one file each. Every rule reads the same [`Context`] and appends its
//! findings; none of them parses anything.

mod bcc_disclosed;
mod encrypted_attachment;
mod encrypted_to_unusable_certificate;
mod malformed_smime;
mod partial_encryption;
mod sender_cannot_decrypt;
mod smartreply_blank_body;
mod unconfirmed_recipient;
mod unknown_recipient_info;
mod weak_content_cipher;

use super::analysis::Layers;
use super::finding::Finding;
use super::report::RecipientReport;
use super::Judging;
use crate::address::Address;
use crate::certs::CertStore;
use crate::time::Time;
use crate::usable::Policy;

/// What the rules judge.
pub struct Context<'a, 's> {
    pub recipients: &'a [RecipientReport],
    pub author: Option<&'a Address>,
    pub layers: &'a Layers<'s>,
    pub store: &'s CertStore,
    pub policy: &'a Policy,
    /// The time certificates are judged at: `--at`, else the message's Date.
    pub at: Option<Time>,
    /// Outcomes of decrypting envelopes with the owner's keys, by envelope path.
    pub decrypted: &'a [(String, Result<Vec<u8>, String>)],
    /// Whether `recipients` are the header of a sent copy or the recipients of this delivery.
    pub judging: Judging,
}

/// Runs every rule in catalogue order.
pub fn run(ctx: &Context<'_, '_>) -> Vec<Finding> {
    let mut findings = Vec::new();
    partial_encryption::check(ctx, &mut findings);
    sender_cannot_decrypt::check(ctx, &mut findings);
    bcc_disclosed::check(ctx, &mut findings);
    unconfirmed_recipient::check(ctx, &mut findings);
    weak_content_cipher::check(ctx, &mut findings);
    smartreply_blank_body::check(ctx, &mut findings);
    encrypted_to_unusable_certificate::check(ctx, &mut findings);
    unknown_recipient_info::check(ctx, &mut findings);
    malformed_smime::check(ctx, &mut findings);
    encrypted_attachment::check(ctx, &mut findings);
    findings
}

/// Whether decrypted content shows a blank body to its reader (`decrypt::inspect_inner`), or
/// `None` when it is not a MIME entity at all (an encrypted file rather than a message).
pub fn decrypted_body_is_blank(plaintext: &[u8]) -> Option<bool> {
    let msg = crate::message::OutgoingMessage::shared_parser().parse(plaintext)?;
    if msg.headers().is_empty() {
        return None;
    }
    Some(crate::decrypt::inspect_inner(plaintext).blank)
}
