//! `smartreply-blank-body` (error): the encrypted payload is not the message itself but an
//! attachment beside a blank body (what Exchange 2010 built from an iOS 5 ActiveSync SmartReply),
//! or the encrypted content is empty. With the owner's key the payload is decrypted: a readable
//! reply inside confirms the finding; content that is not a MIME entity at all (an encrypted
//! file) clears it; a message-level envelope that decrypts to a blank body is reported too.

use super::{decrypted_body_is_blank, Context};
use crate::audit::finding::{Finding, Rule};
use crate::smartreply::SmartReplyShape;

const HINT: &str = "send encrypted replies as new messages (ActiveSync SendMail), not SmartReply/SmartForward; ask the sender to resend";

pub fn check(ctx: &Context<'_, '_>, findings: &mut Vec<Finding>) {
    if let Some(f) = &ctx.layers.smartreply {
        let mut message = f.message.clone();
        if let SmartReplyShape::EnvelopeAsAttachment { path } = &f.shape {
            match decrypted(ctx, path) {
                Some(Ok(plain)) => match decrypted_body_is_blank(plain) {
                    // An encrypted file, not a mangled reply: the shape was a false alarm.
                    None => return,
                    Some(false) => message.push_str(
                        "; decrypted with the owner's key, the attachment holds the written reply that recipients do not see",
                    ),
                    Some(true) => message.push_str("; decrypted with the owner's key, the reply itself is blank too"),
                },
                Some(Err(why)) => message.push_str(&format!("; could not confirm by decryption: {why}")),
                None => {}
            }
        }
        findings.push(Finding::new(Rule::SmartreplyBlankBody, None, message, HINT));
        return;
    }
    // A well-formed envelope whose decrypted content shows nothing.
    for env in ctx
        .layers
        .envelopes
        .iter()
        .filter(|e| e.role == crate::audit::analysis::EnvelopeRole::Message)
    {
        if let Some(Ok(plain)) = decrypted(ctx, &env.path) {
            if decrypted_body_is_blank(plain) == Some(true) {
                findings.push(Finding::new(
                    Rule::SmartreplyBlankBody,
                    None,
                    format!(
                        "the envelope at part {} decrypts (with the owner's key) to a blank body: recipients see an empty message",
                        env.path
                    ),
                    HINT,
                ));
            }
        }
    }
}

fn decrypted<'a>(ctx: &'a Context<'_, '_>, path: &str) -> Option<&'a Result<Vec<u8>, String>> {
    ctx.decrypted.iter().find(|(p, _)| p == path).map(|(_, r)| r)
}
