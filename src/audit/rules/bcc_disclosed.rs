//! `bcc-disclosed` (warning): a Bcc recipient's RecipientInfo travels in an envelope that also
//! goes to someone else (a To/Cc recipient, or another Bcc recipient), who can read the
//! RecipientInfos and see that the Bcc recipient was included. RFC 8551 §3.3 leaves it to the
//! client to send each Bcc recipient a separate copy.

use super::Context;
use crate::audit::finding::{Finding, Rule};
use crate::audit::report::RecipientReport;
use crate::message::RecipientField;

pub fn check(ctx: &Context<'_, '_>, findings: &mut Vec<Finding>) {
    if !ctx.layers.is_encrypted() {
        return;
    }
    // Addresses are distinct (collapsed), so everyone else is the rest of the list.
    let visible = ctx.recipients.iter().any(|o| o.field != RecipientField::Bcc);
    let bcc = ctx.recipients.iter().filter(|o| o.field == RecipientField::Bcc);
    let other_bcc = |r: &RecipientReport| bcc.clone().find(|o| o.address != r.address);
    let bcc_count = bcc.clone().count();
    for r in bcc.clone().filter(|r| r.can_decrypt == Some(true)) {
        let who = if visible {
            "the To/Cc recipients".to_owned()
        } else if bcc_count == 2 {
            match other_bcc(r) {
                Some(o) => format!("the other Bcc recipient {}", o.address),
                None => continue,
            }
        } else if bcc_count > 2 {
            format!("the {} other Bcc recipients", bcc_count - 1)
        } else {
            continue;
        };
        findings.push(Finding::new(
            Rule::BccDisclosed,
            Some(r.address.clone()),
            format!(
                "Bcc recipient {} has a RecipientInfo in the envelope that {who} received: they can see {} was included",
                r.address, r.address
            ),
            "send each Bcc recipient a separately encrypted copy",
        ));
    }
}
