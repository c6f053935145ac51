//! `malformed-smime` (error): an S/MIME part could not be parsed, an envelope is
//! self-contradictory (the same recipient listed twice), or part of the message lies beyond a
//! bound of the audit (MIME depth, part count, nested signatures) and was not examined: an
//! S/MIME part hidden there would go unseen, so the audit cannot vouch for the message. An
//! error, so that it changes the exit code and a gateway refuses such a message.

use super::Context;
use crate::audit::finding::{Finding, Rule};

pub fn check(ctx: &Context<'_, '_>, findings: &mut Vec<Finding>) {
    for m in &ctx.layers.malformed {
        findings.push(Finding::new(
            Rule::MalformedSmime,
            None,
            format!("the S/MIME part at {} cannot be parsed: {}", m.path, m.why),
            "recipients' clients will fail on it too; ask the sender which client produced it",
        ));
    }
    for n in &ctx.layers.not_examined {
        findings.push(Finding::new(
            Rule::MalformedSmime,
            None,
            format!("{}, and an S/MIME part there would go unseen", n.why),
            "no mail client writes such a message; look at it by hand and ask who sent it",
        ));
    }
    for env in &ctx.layers.envelopes {
        let dups = env.summary.duplicate_recipient_infos;
        if dups > 0 {
            findings.push(Finding::new(
                Rule::MalformedSmime,
                None,
                format!(
                    "the envelope at part {} lists the same recipient key {dups} more time(s)",
                    env.path
                ),
                "a client bug or a tampered message; compare with the sender's copy",
            ));
        }
    }
}
