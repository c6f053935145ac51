//! `partial-encryption`: the message is encrypted, but a recipient has no RecipientInfo they
//! can use: they receive an `smime.p7m` they cannot open. This is what iOS 7.1 Mail's Reply All
//! to a mixed group produced.
//!
//! An error for To/Cc recipients, and for every recipient of a delivery (the SMTP envelope at a
//! gateway, a built message about to go out). A Bcc recipient missing from a *sent copy* is a
//! warning: a client that follows RFC 8551 §3.3's advice sends Bcc recipients a separately
//! encrypted copy, which is not the one in sent items.

use super::Context;
use crate::audit::finding::{Finding, FindingSeverity, Rule};
use crate::audit::Judging;
use crate::message::RecipientField;

pub fn check(ctx: &Context<'_, '_>, findings: &mut Vec<Finding>) {
    if !ctx.layers.is_encrypted() {
        return;
    }
    for r in ctx.recipients.iter().filter(|r| r.can_decrypt == Some(false)) {
        let separate_copy_possible =
            ctx.judging == Judging::SentCopy && r.field == RecipientField::Bcc;
        let finding = if separate_copy_possible {
            Finding::new(
                Rule::PartialEncryption,
                Some(r.address.clone()),
                format!(
                    "Bcc recipient {} has no RecipientInfo in this copy: if they received this copy they cannot open it; if the client sent them a separately encrypted copy, they can",
                    r.address
                ),
                format!(
                    "check that {} got a separate copy (audit it together with this one to settle it)",
                    r.address
                ),
            )
            .with_severity(FindingSeverity::Warning)
        } else {
            Finding::new(
                Rule::PartialEncryption,
                Some(r.address.clone()),
                format!(
                    "{} ({}) cannot decrypt: no RecipientInfo matches any certificate of theirs, so they received an smime.p7m they cannot open",
                    r.address,
                    field_name(r.field)
                ),
                format!(
                    "send {} a readable copy; before sending, decide from the final recipient set (smime-lint check)",
                    r.address
                ),
            )
        };
        findings.push(finding);
    }
}

pub(super) fn field_name(f: RecipientField) -> &'static str {
    match f {
        RecipientField::To => "To",
        RecipientField::Cc => "Cc",
        RecipientField::Bcc => "Bcc",
    }
}
