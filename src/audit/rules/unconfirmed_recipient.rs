//! `unconfirmed-recipient` (warning): no RecipientInfo matches a certificate known for this
//! recipient, while some RecipientInfos match no known certificate. The recipient can read the
//! message only if one of those unknown RecipientInfos is theirs; nothing here can tell.

use super::Context;
use crate::audit::finding::{Finding, Rule};

pub fn check(ctx: &Context<'_, '_>, findings: &mut Vec<Finding>) {
    if !ctx.layers.is_encrypted() {
        return;
    }
    let unknown = ctx.layers.unknown_recipient_infos();
    if unknown == 0 {
        return;
    }
    let them = if unknown == 1 {
        "the 1 unknown RecipientInfo is theirs".to_owned()
    } else {
        format!("one of the {unknown} unknown RecipientInfos is theirs")
    };
    for r in ctx.recipients.iter().filter(|r| r.can_decrypt.is_none()) {
        findings.push(Finding::new(
            Rule::UnconfirmedRecipient,
            Some(r.address.clone()),
            format!("{} can read this only if {them}", r.address),
            format!(
                "add {}'s certificate to the store (--certs, or --harvest from their signed mail) to settle it",
                r.address
            ),
        ));
    }
}
