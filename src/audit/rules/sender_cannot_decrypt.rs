//! `sender-cannot-decrypt` (warning): the author's own address has no RecipientInfo, so the
//! copy in Sent Items is unreadable to the person who wrote it.

use super::Context;
use crate::audit::finding::{Finding, Rule};

pub fn check(ctx: &Context<'_, '_>, findings: &mut Vec<Finding>) {
    let Some(author) = ctx.author else { return };
    if !ctx.layers.is_encrypted() {
        return;
    }
    let (known, unknown) = ctx.layers.decryptors();
    if known.contains(author) || unknown {
        return;
    }
    findings.push(Finding::new(
        Rule::SenderCannotDecrypt,
        Some(author.clone()),
        format!("the sender {author} is not among the RecipientInfos: the sent copy is unreadable to its author"),
        "configure the mail client to encrypt to the sender's own certificate as well",
    ));
}
