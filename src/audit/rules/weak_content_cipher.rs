//! `weak-content-cipher`: content encryption weaker than RFC 8551 §2.7 allows (AES-128-CBC MUST,
//! AES-GCM SHOULD+). 3DES is a warning (RFC 8551: SHOULD- for decryption only); DES and RC2
//! (40/64/128-bit) are errors.

use super::Context;
use crate::audit::finding::{Finding, FindingSeverity, Rule};
use crate::cms::CipherStrength;

pub fn check(ctx: &Context<'_, '_>, findings: &mut Vec<Finding>) {
    for env in &ctx.layers.envelopes {
        let cipher = &env.summary.content_cipher;
        let severity = match cipher.strength {
            CipherStrength::Strong => continue,
            CipherStrength::Weak => FindingSeverity::Warning,
            CipherStrength::Broken => FindingSeverity::Error,
        };
        let bits = cipher.key_bits.map(|b| format!(" ({b}-bit key)")).unwrap_or_default();
        findings.push(
            Finding::new(
                Rule::WeakContentCipher,
                None,
                format!(
                    "the envelope at part {} encrypts its content with {}{bits}, weaker than RFC 8551 allows",
                    env.path, cipher.name
                ),
                "configure the sending client for AES-128-CBC or better (AES-GCM where recipients support it)",
            )
            .with_severity(severity),
        );
    }
}
