//! `bcc-disclosed` (warning): a Bcc recipient's RecipientInfo travels in an envelope that also
//! goes to To/Cc recipients, who can read the RecipientInfos and see that the Bcc recipient was
//! included (RFC 8551 §3.3 leaves it to the client to send Bcc recipients a separate copy).

use super::Context;
use crate::audit::finding::{Finding, Rule};
use crate::message::RecipientField;

pub fn check(ctx: &Context<'_, '_>, findings: &mut Vec<Finding>) {
    if !ctx.layers.is_encrypted() {
        return;
    }
    let visible = ctx.recipients.iter().any(|r| r.field != RecipientField::Bcc);
    if !visible {
        return;
    }
    for r in ctx
        .recipients
        .iter()
        .filter(|r| r.field == RecipientField::Bcc && r.can_decrypt == Some(true))
    {
        findings.push(Finding::new(
            Rule::BccDisclosed,
            Some(r.address.clone()),
            format!(
                "Bcc recipient {} has a RecipientInfo in the envelope the To/Cc recipients received: they can see {} was included",
                r.address, r.address
            ),
            "send Bcc recipients a separately encrypted copy",
        ));
    }
}
