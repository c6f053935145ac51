//! `encrypted-to-unusable-certificate` (warning): a RecipientInfo matches a certificate that was
//! not usable at the message's Date (expired, not yet valid, wrong key usage, weak key,
//! untrusted, ...), or that nothing vouched for: self-signed and harvested from mail claiming
//! to come from the recipient (`harvested-self-signed`). The recipient may still be able to
//! decrypt, but the sender should not have trusted that certificate.

use super::Context;
use crate::audit::finding::{Finding, Rule};
use crate::reason::Reason;
use std::collections::BTreeSet;

pub fn check(ctx: &Context<'_, '_>, findings: &mut Vec<Finding>) {
    let Some(at) = ctx.at else { return };
    let mut seen = BTreeSet::new();
    for env in ctx.layers.message_envelopes() {
        for cert in env.matches.iter().flatten() {
            if !seen.insert(cert.sha256_hex()) {
                continue;
            }
            // Judge the certificate for the addresses it was used for: those of the message's
            // recipients and author it names, else every address it names.
            let involved: Vec<_> = cert
                .addresses()
                .iter()
                .map(|n| &n.address)
                .filter(|a| {
                    ctx.recipients.iter().any(|r| &r.address == *a) || ctx.author == Some(*a)
                })
                .collect();
            let addresses: Vec<_> = if involved.is_empty() {
                cert.addresses().iter().map(|n| &n.address).collect()
            } else {
                involved
            };
            for address in addresses {
                let blocking: Vec<Reason> = ctx
                    .store
                    .check(cert, address, at, ctx.policy)
                    .into_iter()
                    .filter(|r| {
                        (r.is_blocking() && *r != Reason::NoCertificate)
                            || *r == Reason::HarvestedSelfSigned
                    })
                    .collect();
                if blocking.is_empty() {
                    continue;
                }
                let why: Vec<String> = blocking.iter().map(|r| r.message(address)).collect();
                let verdict = if blocking.iter().any(Reason::is_blocking) {
                    "was not usable"
                } else {
                    "nothing vouched for"
                };
                findings.push(Finding::new(
                    Rule::EncryptedToUnusableCertificate,
                    Some(address.clone()),
                    format!(
                        "encrypted to certificate {:.16}… that {verdict} at {at}: {}",
                        cert.sha256_hex(),
                        why.join("; ")
                    ),
                    blocking.first().map(|r| r.hint(address)).unwrap_or_default(),
                ));
            }
        }
    }
}
