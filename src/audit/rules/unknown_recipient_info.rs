//! `unknown-recipient-info` (info): a RecipientInfo matches no certificate in the store, or is
//! not bound to a certificate at all (kekri, pwri, ori), so who it is for cannot be checked.

use super::Context;
use crate::audit::finding::{Finding, Rule};
use crate::cms::RecipientKeyId;

pub fn check(ctx: &Context<'_, '_>, findings: &mut Vec<Finding>) {
    for env in &ctx.layers.envelopes {
        for (ri, certs) in env.summary.recipient_infos.iter().zip(&env.matches) {
            if !certs.is_empty() {
                continue;
            }
            let (message, hint) = match &ri.id {
                Some(RecipientKeyId::IssuerSerial { issuer, serial_hex, .. }) => (
                    format!(
                        "a RecipientInfo at part {} is for the certificate with issuer {issuer} and serial {serial_hex}, which is not in the store",
                        env.path
                    ),
                    "add the recipients' certificates (--certs, or --harvest from their signed mail)",
                ),
                Some(RecipientKeyId::SubjectKeyIdentifier(ski)) => (
                    format!(
                        "a RecipientInfo at part {} is for the certificate with subject key identifier {}, which is not in the store",
                        env.path,
                        hex::encode(ski)
                    ),
                    "add the recipients' certificates (--certs, or --harvest from their signed mail)",
                ),
                None => (
                    format!(
                        "a {:?} RecipientInfo at part {} is not bound to a certificate: who can decrypt it cannot be checked",
                        ri.kind, env.path
                    )
                    .to_lowercase(),
                    "nothing to do if the shared key or password is known to the recipients",
                ),
            };
            findings.push(Finding::new(Rule::UnknownRecipientInfo, None, message, hint));
        }
    }
}
