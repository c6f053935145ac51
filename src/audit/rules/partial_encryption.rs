//! `partial-encryption` (error): the message is encrypted, but a To/Cc/Bcc recipient has no
//! RecipientInfo they can use: they receive an `smime.p7m` they cannot open. This is what iOS 7.1
//! Mail's Reply All to a mixed group produced.

use super::Context;
use crate::audit::finding::{Finding, Rule};

pub fn check(ctx: &Context<'_, '_>, findings: &mut Vec<Finding>) {
    if !ctx.layers.is_encrypted() {
        return;
    }
    for r in ctx.recipients.iter().filter(|r| r.can_decrypt == Some(false)) {
        findings.push(Finding::new(
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
        ));
    }
}

pub(super) fn field_name(f: crate::message::RecipientField) -> &'static str {
    match f {
        crate::message::RecipientField::To => "To",
        crate::message::RecipientField::Cc => "Cc",
        crate::message::RecipientField::Bcc => "Bcc",
    }
}
