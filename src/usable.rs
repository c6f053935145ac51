//! Encryptability: certificate × address × time × policy → usable, or the typed reasons why not
//! (the README's reason-code table lists them).
//!
//! A certificate is usable for encrypting to address A at time T when (RFC 8550 §4, RFC 5280):
//!
//! * it names A (rfc822Name or SmtpUTF8Mailbox subjectAltName, or the subject emailAddress when
//!   subjectAltName names no mailbox at all: one it names none of contradicts the subject);
//! * it is an end entity's certificate: not `cA` TRUE, no keyCertSign (RFC 5280 §4.2.1.3,
//!   §4.2.1.9);
//! * it has no critical extension this crate does not understand (RFC 5280 §4.2);
//! * T is inside its validity period, both ends inclusive (RFC 5280 §4.1.2.5);
//! * if extendedKeyUsage is present, it lists id-kp-emailProtection or anyExtendedKeyUsage
//!   (RFC 5280 §4.2.1.12);
//! * if keyUsage is present, it asserts keyEncipherment for an RSA key (key transport) or
//!   keyAgreement for an EC key (ECDH, RFC 5753) (RFC 8550 §4.4.2);
//! * the key is RSA or EC on P-256/P-384/P-521 and at least as large as the [`Policy`] asks;
//!   Ed25519, Ed448, DSA, DH, RSASSA-PSS-only keys and other curves are unsupported. X25519/X448
//!   keys (RFC 8418 ECDH) are reported unsupported too: the crate has no X25519 key agreement;
//! * it was not harvested from signed mail that failed to bind it to A: a harvested certificate
//!   is bound only to the From address of signed mail whose signature verified with it
//!   ([`HarvestBinding`]). A bound, self-signed harvested certificate gets the warning
//!   [`Reason::HarvestedSelfSigned`]: the harvest proves the sender holds the key, not that the
//!   mail came from A.
//!
//! A certificate with no extensions at all (X.509 v1) passes every extension check. Trust (a
//! chain to a configured anchor) is the store's part: [`CertStore::check`](crate::CertStore::check).

use crate::address::Address;
use crate::cert::{oid, AddressSource, Certificate, HarvestBinding, KeyKind, Provenance};
use crate::reason::Reason;
use crate::time::Time;
use std::cmp::Ordering;

/// What the caller accepts beyond the fixed rules.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Policy {
    /// Accept SHA-1 signatures on certificate chains (default `false`). SHA-1 is broken for
    /// collision resistance (SHAttered, 2017; chosen-prefix collisions, 2020) and the CA/Browser
    /// Forum S/MIME BRs forbid it; old archived mail may still need it for `audit`
    /// (`--allow-sha1`). MD5 and MD2 signatures are refused whatever this says.
    pub allow_sha1_signatures: bool,
    /// Smallest RSA modulus accepted, in bits (default 2048, RFC 8551 §2.3).
    pub min_rsa_bits: u32,
    /// Smallest EC field size accepted, in bits (default 256).
    pub min_ec_bits: u32,
    /// How far the evaluation time may be off, either way, when it comes from someone's clock:
    /// the certificate's own validity period is widened by this much at both ends. Default zero
    /// (the time is exact); the audit allows 10 minutes at a message's Date, which the sending
    /// device stamped ([`crate::audit::DEFAULT_CLOCK_SKEW`]).
    pub clock_skew: std::time::Duration,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            allow_sha1_signatures: false,
            min_rsa_bits: 2048,
            min_ec_bits: 256,
            clock_skew: std::time::Duration::ZERO,
        }
    }
}

/// Checks one certificate for one address, without trust: address named (and not contradicted
/// by subjectAltName), validity at `at`, EKU, CA certificate, unknown critical extensions,
/// keyUsage (+ non-critical warning), key algorithm and strength, the harvest binding,
/// address-only-in-subject and harvested-self-signed warnings. Blocking reasons first (in the
/// README's table order), then warnings.
///
/// A certificate that does not name `address` gets [`Reason::NoCertificate`]: it is no
/// certificate *for that address*.
pub fn check_certificate(
    cert: &Certificate,
    address: &Address,
    at: Time,
    policy: &Policy,
) -> Vec<Reason> {
    let mut reasons = Vec::new();
    let source = cert.names(address);
    // RFC 5280 §4.1.2.6: with mailboxes in subjectAltName, a subject emailAddress none of them
    // repeats is not a name the issuer vouched for.
    let contradicted = source == Some(AddressSource::SubjectEmail) && cert.has_san_mailbox();
    if contradicted {
        reasons.push(Reason::SubjectEmailNotInSan);
    }
    if source.is_none() {
        reasons.push(Reason::NoCertificate);
    }
    let skew = i64::try_from(policy.clock_skew.as_secs()).unwrap_or(i64::MAX);
    if at.unix().saturating_sub(skew) > cert.not_after().unix() {
        reasons.push(Reason::Expired { not_after: cert.not_after() });
    } else if at.unix().saturating_add(skew) < cert.not_before().unix() {
        reasons.push(Reason::NotYetValid { not_before: cert.not_before() });
    }
    if let Some(purposes) = cert.extended_key_usage() {
        if !purposes
            .iter()
            .any(|p| *p == oid::KP_EMAIL_PROTECTION || *p == oid::ANY_EXTENDED_KEY_USAGE)
        {
            reasons.push(Reason::EkuExcludesEmailProtection);
        }
    }
    if cert.is_ca_certificate() {
        reasons.push(Reason::CaCertificate);
    }
    for id in cert.unknown_critical_extensions() {
        reasons.push(Reason::UnknownCriticalExtension { oid: id.to_string() });
    }
    let key_usage = cert.key_usage();
    match cert.key() {
        KeyKind::Rsa { bits } => {
            if key_usage.is_some_and(|ku| !ku.usage.key_encipherment()) {
                reasons.push(Reason::KeyUsageForbidsEncryption { needed: "keyEncipherment" });
            }
            if *bits < policy.min_rsa_bits {
                reasons.push(Reason::WeakKey {
                    algorithm: "RSA",
                    bits: *bits,
                    minimum: policy.min_rsa_bits,
                });
            }
        }
        KeyKind::Ec { bits, .. } => {
            if key_usage.is_some_and(|ku| !ku.usage.key_agreement()) {
                reasons.push(Reason::KeyUsageForbidsEncryption { needed: "keyAgreement" });
            }
            if *bits < policy.min_ec_bits {
                reasons.push(Reason::WeakKey {
                    algorithm: "EC",
                    bits: *bits,
                    minimum: policy.min_ec_bits,
                });
            }
        }
        KeyKind::Other { algorithm } => {
            reasons.push(Reason::UnsupportedKeyAlgorithm { algorithm: algorithm.clone() });
        }
    }
    let mut self_signed_harvest = false;
    match cert.provenance() {
        Provenance::Harvested { binding: HarvestBinding::Unverified(detail), .. } => {
            reasons.push(Reason::HarvestedUnverified { detail: detail.clone() });
        }
        Provenance::Harvested { binding: HarvestBinding::Verified { senders }, .. }
            if source.is_some() =>
        {
            if !senders.contains(address) {
                reasons.push(Reason::HarvestedUnverified { detail: not_the_sender(senders) });
            } else {
                self_signed_harvest = cert.is_self_signed();
            }
        }
        _ => {}
    }
    if source == Some(AddressSource::SubjectEmail) && !contradicted {
        reasons.push(Reason::AddressOnlyInSubject);
    }
    if key_usage.is_some_and(|ku| !ku.critical) {
        reasons.push(Reason::KeyUsageNotCritical);
    }
    if self_signed_harvest {
        reasons.push(Reason::HarvestedSelfSigned);
    }
    reasons
}

/// Why a certificate harvested from someone else's signed mail is not bound to this address.
fn not_the_sender(senders: &[Address]) -> String {
    let from: Vec<&str> = senders.iter().map(Address::as_str).collect();
    format!(
        "it came in signed mail from {}; a harvested certificate is bound only to the address its signed mail came from",
        from.join(", ")
    )
}

/// Adds `reason` among the blocking reasons, after those that come before it in the order of
/// the README's reason-code table: just before harvested-unverified and the warnings.
pub(crate) fn insert_blocking(reasons: &mut Vec<Reason>, reason: Reason) {
    let at = reasons
        .iter()
        .position(|r| !r.is_blocking() || matches!(r, Reason::HarvestedUnverified { .. }))
        .unwrap_or(reasons.len());
    reasons.insert(at, reason);
}

/// One certificate judged for one address.
#[derive(Clone, Debug)]
pub struct CertVerdict<'s> {
    /// The certificate.
    pub certificate: &'s Certificate,
    /// Blocking reasons first, then warnings; empty when usable without remarks.
    pub reasons: Vec<Reason>,
}

impl CertVerdict<'_> {
    /// No blocking reason.
    pub fn is_usable(&self) -> bool {
        !self.reasons.iter().any(Reason::is_blocking)
    }

    /// Candidate order, best first: usable before unusable, then the stronger key
    /// ([`KeyKind::security_bits`]: RSA 3072 ranks with P-256), then the later notAfter, then
    /// the SHA-256 fingerprint so the order never depends on load order.
    pub fn better_than(&self, other: &Self) -> Ordering {
        let key = |v: &Self| {
            (v.is_usable(), v.certificate.key().security_bits(), v.certificate.not_after())
        };
        key(other)
            .cmp(&key(self))
            .then_with(|| self.certificate.sha256().cmp(other.certificate.sha256()))
    }
}

/// Everything known about encrypting to one address.
#[derive(Clone, Debug)]
pub struct AddressStatus<'s> {
    /// The address asked about.
    pub address: Address,
    /// The best usable certificate, if there is one.
    pub chosen: Option<CertVerdict<'s>>,
    /// Every certificate naming the address, best first (the chosen one included).
    pub candidates: Vec<CertVerdict<'s>>,
}

impl<'s> AddressStatus<'s> {
    /// Orders `candidates` best first and chooses the first if it is usable.
    pub fn from_candidates(address: Address, mut candidates: Vec<CertVerdict<'s>>) -> Self {
        candidates.sort_by(CertVerdict::better_than);
        let chosen = candidates.first().filter(|v| v.is_usable()).cloned();
        AddressStatus { address, chosen, candidates }
    }

    /// A usable certificate was found.
    pub fn is_encryptable(&self) -> bool {
        self.chosen.is_some()
    }

    /// Encryptable: the chosen certificate's warnings. Not: [`Reason::NoCertificate`] when no
    /// candidate, else the blocking reasons of the best candidate.
    pub fn reasons(&self) -> Vec<Reason> {
        if let Some(chosen) = &self.chosen {
            return chosen.reasons.clone();
        }
        match self.candidates.first() {
            None => vec![Reason::NoCertificate],
            Some(best) => best.reasons.iter().filter(|r| r.is_blocking()).cloned().collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_policy_is_rsa_2048_ec_256_exact_without_sha1() {
        let policy = Policy::default();
        assert_eq!((policy.min_rsa_bits, policy.min_ec_bits), (2048, 256));
        assert!(!policy.allow_sha1_signatures);
        assert_eq!(policy.clock_skew, std::time::Duration::ZERO);
    }

    #[test]
    fn untrusted_goes_after_key_reasons_and_before_harvest_and_warnings() {
        let mut reasons = vec![
            Reason::Expired { not_after: Time::from_unix(0) },
            Reason::HarvestedUnverified { detail: "x".into() },
            Reason::AddressOnlyInSubject,
        ];
        insert_blocking(&mut reasons, Reason::Untrusted { detail: "y".into() });
        let codes: Vec<_> = reasons.iter().map(Reason::code).collect();
        assert_eq!(
            codes,
            ["expired", "untrusted", "harvested-unverified", "address-only-in-subject"]
        );
        let mut only_warning = vec![Reason::KeyUsageNotCritical];
        insert_blocking(&mut only_warning, Reason::Untrusted { detail: "y".into() });
        assert_eq!(only_warning[0].code(), "untrusted");
    }

    #[test]
    fn no_candidate_means_no_certificate() {
        let status = AddressStatus::from_candidates(Address::parse("a@b.example").unwrap(), vec![]);
        assert!(!status.is_encryptable());
        assert_eq!(status.reasons(), vec![Reason::NoCertificate]);
    }
}
