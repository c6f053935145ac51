//! `encrypted-attachment` (info): an encrypted `.p7m` travels as an attachment below a written
//! body: deliberate, not the SmartReply shape.

use super::Context;
use crate::audit::finding::{Finding, Rule};

pub fn check(ctx: &Context<'_, '_>, findings: &mut Vec<Finding>) {
    for path in &ctx.layers.deliberate {
        findings.push(Finding::new(
            Rule::EncryptedAttachment,
            None,
            format!("an encrypted attachment (part {path}) travels below a written body"),
            "nothing to do if it was attached on purpose",
        ));
    }
}
