//! `encrypted-to-unusable-certificate` (warning): a RecipientInfo matches a certificate that was
//! not usable at the message's Date (expired, not yet valid, wrong key usage, weak key,
//! untrusted, ...), or that nothing vouched for: self-signed and harvested from mail claiming
//! to come from the recipient (`harvested-self-signed`). The recipient may still be able to
//! decrypt, but the sender should not have trusted that certificate.
//!
//! At the message's Date the validity period is widened by the policy's clock skew (the sending
//! device stamped the Date); at `--at` it is not (see [`crate::audit::AuditOptions`]).
//!
//! The mail already went out, so the hints say what to do about future mail and the archive,
//! never "renew" or "wait": for the sender's own certificate, what the sender does; for a
//! recipient's, what to ask of them.

use super::Context;
use crate::address::Address;
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
                let Some(first) = blocking.first() else { continue };
                let why: Vec<String> = blocking.iter().map(|r| r.message(address)).collect();
                let skew = ctx.policy.clock_skew;
                let allowance = if skew.is_zero() || !blocking.iter().any(is_about_time) {
                    String::new()
                } else {
                    format!(" (allowing {} of clock skew)", duration_text(skew))
                };
                let own = ctx.author == Some(address);
                let verdict = if blocking.iter().any(Reason::is_blocking) {
                    "was not usable"
                } else {
                    "nothing vouched for"
                };
                findings.push(Finding::new(
                    Rule::EncryptedToUnusableCertificate,
                    Some(address.clone()),
                    format!(
                        "encrypted to certificate {:.16}… that {verdict} at {at}{allowance}: {}",
                        cert.sha256_hex(),
                        why.join("; ")
                    ),
                    if own { sender_hint(first) } else { recipient_hint(first, address) },
                ));
            }
        }
    }
}

fn is_about_time(reason: &Reason) -> bool {
    matches!(reason, Reason::Expired { .. } | Reason::NotYetValid { .. })
}

/// What to do when a recipient's certificate was not usable for mail already sent.
fn recipient_hint(reason: &Reason, address: &Address) -> String {
    match reason {
        Reason::Expired { .. } => format!(
            "{address} can still open this message if they kept the key of that certificate; for future mail, ask {address} for a signed message with their current certificate"
        ),
        Reason::NotYetValid { .. } => format!(
            "the message is dated before the certificate was valid, so the sending device's clock was probably wrong: check it; {address} can still open the message"
        ),
        Reason::Untrusted { .. }
        | Reason::HarvestedUnverified { .. }
        | Reason::HarvestedSelfSigned => format!(
            "confirm with {address} that this certificate is theirs (compare its fingerprint): if it is not, someone else can read this message; for future mail, use a certificate from a trusted source"
        ),
        Reason::WeakKey { .. } => format!(
            "this message is only as safe as that key; for future mail, ask {address} for a certificate with a stronger key (RSA 2048 bits or more, or EC)"
        ),
        _ => format!(
            "for future mail, ask {address} for a certificate issued for e-mail encryption"
        ),
    }
}

/// What to do when the sender's own certificate (for the sent copy) was not usable.
fn sender_hint(reason: &Reason) -> String {
    let archive =
        "keep the private key of that certificate: the sent copy can only be read with it";
    match reason {
        Reason::Expired { .. } => format!(
            "the sender's own certificate had expired: {archive}; for future mail, install the sender's current certificate in their mail client"
        ),
        Reason::NotYetValid { .. } => "the message is dated before the sender's certificate was valid, so the sending device's clock was probably wrong: check it; the sent copy still opens with the sender's key".to_owned(),
        Reason::Untrusted { .. }
        | Reason::HarvestedUnverified { .. }
        | Reason::HarvestedSelfSigned => "check that the certificate the sender's client encrypts to is the sender's own (compare its fingerprint): if it is not, someone else can read the sent copy".to_owned(),
        _ => format!(
            "{archive}; for future mail, give the sender's mail client a certificate issued for e-mail encryption with a strong key"
        ),
    }
}

/// `10m`, `90s`, `1h` as `--clock-skew` takes them: the largest unit that divides evenly.
fn duration_text(d: std::time::Duration) -> String {
    let secs = d.as_secs();
    match secs {
        0 => "0s".to_owned(),
        s if s % 3600 == 0 => format!("{}h", s / 3600),
        s if s % 60 == 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}
