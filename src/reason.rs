//! Why a recipient cannot (or should not) receive encrypted mail with a certificate.
//!
//! A [`Reason`] is a *result* of evaluation, not an error: "bob's certificate expired on
//! 2025-01-01" is a correct answer. Each reason has a stable [`code`](Reason::code) (listed in
//! the README, part of the JSON contract), a human [`message`](Reason::message) and a
//! [`hint`](Reason::hint) saying what to do about it.

use crate::address::Address;
use crate::time::Time;
use std::fmt;

/// Whether a reason stops the certificate from being used.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Severity {
    /// The certificate must not be used to encrypt to this address.
    Blocking,
    /// Worth knowing; the certificate may still be used.
    Warning,
}

/// One reason, with the context that explains it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Reason {
    /// No certificate in the store names the address.
    NoCertificate,
    /// The address is only in the subject's emailAddress, while subjectAltName lists other
    /// mailboxes: the certificate's own subjectAltName contradicts it (RFC 5280 §4.1.2.6 puts
    /// mail addresses in subjectAltName; CA/Browser Forum S/MIME BR §7.1.4.2.2 requires a
    /// subject emailAddress to repeat one of them).
    SubjectEmailNotInSan,
    /// The evaluation time is after the certificate's notAfter (RFC 5280 §4.1.2.5).
    Expired { not_after: Time },
    /// The evaluation time is before the certificate's notBefore (RFC 5280 §4.1.2.5).
    NotYetValid { not_before: Time },
    /// extendedKeyUsage is present and lists neither id-kp-emailProtection nor
    /// anyExtendedKeyUsage (RFC 5280 §4.2.1.12, RFC 8550 §4.4.4).
    EkuExcludesEmailProtection,
    /// A CA certificate (basicConstraints `cA` TRUE, or keyUsage keyCertSign: RFC 5280
    /// §4.2.1.3, §4.2.1.9) is not an end entity's certificate, whatever addresses it names
    /// (RFC 8550 §4.4.1; CA/Browser Forum S/MIME BR §7.1.2.3 profiles subscriber certificates
    /// as non-CA).
    CaCertificate,
    /// An extension marked critical that this crate does not understand (RFC 5280 §4.2: such a
    /// certificate MUST be rejected). `oid` is its dotted identifier.
    UnknownCriticalExtension { oid: String },
    /// keyUsage is present and lacks the bit the key type needs for encryption: keyEncipherment
    /// for RSA key transport, keyAgreement for EC/DH (RFC 8550 §4.4.2).
    KeyUsageForbidsEncryption { needed: &'static str },
    /// The key is smaller than policy allows (RFC 8551 §2.3: RSA below 2048 bits SHOULD NOT).
    WeakKey { algorithm: &'static str, bits: u32, minimum: u32 },
    /// The subject public key is of a kind S/MIME encryption here does not support.
    UnsupportedKeyAlgorithm { algorithm: String },
    /// Trust anchors are configured and no valid chain to one was found.
    Untrusted { detail: String },
    /// The certificate came from signed mail that does not bind it to this address: the
    /// signature did not verify with it, the signer's keyUsage does not allow signing, or the
    /// signed mail came from another address (a harvest binds a certificate only to the From
    /// address of the mail it came in). Anyone could have planted it.
    HarvestedUnverified { detail: String },
    /// Warning: the address appears only in the subject's legacy emailAddress attribute, not in
    /// subjectAltName (RFC 8550 §3 says SHOULD use subjectAltName).
    AddressOnlyInSubject,
    /// Warning: keyUsage is present but not marked critical (RFC 8550 §4.4.2 SHOULD).
    KeyUsageNotCritical,
    /// Warning: the certificate is self-signed and was harvested from signed mail from this
    /// address, and no trust anchor vouches for it. The harvest proves that whoever sent that
    /// mail holds the certificate's private key; it does not prove that the mail really came
    /// from this address (a From header is easy to forge).
    HarvestedSelfSigned,
}

impl Reason {
    /// The stable code, as in the README's reason-code table and the JSON output.
    pub fn code(&self) -> &'static str {
        match self {
            Reason::NoCertificate => "no-certificate",
            Reason::SubjectEmailNotInSan => "subject-email-not-in-san",
            Reason::Expired { .. } => "expired",
            Reason::NotYetValid { .. } => "not-yet-valid",
            Reason::CaCertificate => "ca-certificate",
            Reason::UnknownCriticalExtension { .. } => "unknown-critical-extension",
            Reason::EkuExcludesEmailProtection => "eku-excludes-email-protection",
            Reason::KeyUsageForbidsEncryption { .. } => "key-usage-forbids-encryption",
            Reason::WeakKey { .. } => "weak-key",
            Reason::UnsupportedKeyAlgorithm { .. } => "unsupported-key-algorithm",
            Reason::Untrusted { .. } => "untrusted",
            Reason::HarvestedUnverified { .. } => "harvested-unverified",
            Reason::AddressOnlyInSubject => "address-only-in-subject",
            Reason::KeyUsageNotCritical => "key-usage-not-critical",
            Reason::HarvestedSelfSigned => "harvested-self-signed",
        }
    }

    /// Whether the reason stops the certificate from being used.
    pub fn severity(&self) -> Severity {
        match self {
            Reason::AddressOnlyInSubject
            | Reason::KeyUsageNotCritical
            | Reason::HarvestedSelfSigned => Severity::Warning,
            _ => Severity::Blocking,
        }
    }

    /// `true` for reasons that stop the certificate from being used.
    pub fn is_blocking(&self) -> bool {
        self.severity() == Severity::Blocking
    }

    /// A one-line explanation for `address`.
    pub fn message(&self, address: &Address) -> String {
        match self {
            Reason::NoCertificate => format!("no certificate for {address}"),
            Reason::SubjectEmailNotInSan => format!(
                "the certificate names {address} only in the subject's emailAddress, and its subjectAltName lists other addresses: it is not a certificate for {address}"
            ),
            Reason::Expired { not_after } => {
                format!("the certificate for {address} expired on {not_after}")
            }
            Reason::NotYetValid { not_before } => {
                format!("the certificate for {address} is not valid before {not_before}")
            }
            Reason::CaCertificate => format!(
                "the certificate for {address} is a CA certificate (it may sign certificates), not an end entity's"
            ),
            Reason::UnknownCriticalExtension { oid } => format!(
                "the certificate for {address} has a critical extension {oid} that smime-lint does not understand, so it must not be used"
            ),
            Reason::EkuExcludesEmailProtection => format!(
                "the certificate for {address} has an extended key usage without emailProtection"
            ),
            Reason::KeyUsageForbidsEncryption { needed } => format!(
                "the certificate for {address} has a key usage without {needed}, so it may not be used for encryption"
            ),
            Reason::WeakKey { algorithm, bits, minimum } => format!(
                "the certificate for {address} has a {bits}-bit {algorithm} key; at least {minimum} bits are required"
            ),
            Reason::UnsupportedKeyAlgorithm { algorithm } => format!(
                "the certificate for {address} has a {algorithm} key, which cannot be used for S/MIME encryption"
            ),
            Reason::Untrusted { detail } => {
                format!("the certificate for {address} does not chain to a trust anchor: {detail}")
            }
            Reason::HarvestedUnverified { detail } => format!(
                "the certificate for {address} was taken from signed mail that does not bind it to {address}: {detail}"
            ),
            Reason::AddressOnlyInSubject => format!(
                "the certificate names {address} only in the subject's emailAddress, not in subjectAltName"
            ),
            Reason::KeyUsageNotCritical => {
                format!("the certificate for {address} has a key usage extension that is not critical")
            }
            Reason::HarvestedSelfSigned => format!(
                "the certificate for {address} is self-signed and was taken from signed mail from {address}: that proves the sender holds its key, not that the mail came from {address}"
            ),
        }
    }

    /// What to do about it.
    pub fn hint(&self, address: &Address) -> String {
        match self {
            Reason::NoCertificate => {
                format!("ask {address} to send you a signed message, or import their certificate")
            }
            Reason::SubjectEmailNotInSan => format!(
                "ask {address} for a certificate that names {address} in subjectAltName"
            ),
            Reason::Expired { .. } => {
                format!("ask {address} to renew the certificate and send you a signed message")
            }
            Reason::NotYetValid { .. } => {
                "check the system clock, or wait until the certificate becomes valid".to_owned()
            }
            Reason::CaCertificate => {
                format!("ask {address} for their own (end-entity) e-mail certificate")
            }
            Reason::UnknownCriticalExtension { .. } => format!(
                "ask {address} for a certificate from an issuer that follows the S/MIME certificate profile"
            ),
            Reason::EkuExcludesEmailProtection | Reason::KeyUsageForbidsEncryption { .. } => {
                format!("ask {address} for a certificate issued for e-mail encryption")
            }
            Reason::WeakKey { .. } => {
                format!("ask {address} for a certificate with a stronger key (RSA 2048 bits or more, or EC)")
            }
            Reason::UnsupportedKeyAlgorithm { .. } => {
                format!("ask {address} for a certificate with an RSA or EC key")
            }
            Reason::Untrusted { .. } => {
                "add the issuing CA with --trust, or verify the certificate with its owner".to_owned()
            }
            Reason::HarvestedUnverified { .. } => format!(
                "ask {address} to send you a message signed with this certificate, or import it from a trusted source"
            ),
            Reason::AddressOnlyInSubject => {
                "nothing to do now; the next certificate should name the address in subjectAltName".to_owned()
            }
            Reason::KeyUsageNotCritical => "nothing to do now; some clients may reject it".to_owned(),
            Reason::HarvestedSelfSigned => format!(
                "confirm the certificate's fingerprint with {address} by another channel, or trust their CA with --trust"
            ),
        }
    }

    /// The wire form for one address: `{"code", "message", "hint"}` (the README's JSON format).
    pub fn report(&self, address: &Address) -> ReasonReport {
        ReasonReport { code: self.code(), message: self.message(address), hint: self.hint(address) }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// A reason as printed: the JSON object the README documents.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ReasonReport {
    pub code: &'static str,
    pub message: String,
    pub hint: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all() -> Vec<Reason> {
        vec![
            Reason::NoCertificate,
            Reason::SubjectEmailNotInSan,
            Reason::Expired { not_after: Time::from_unix(0) },
            Reason::NotYetValid { not_before: Time::from_unix(0) },
            Reason::EkuExcludesEmailProtection,
            Reason::CaCertificate,
            Reason::UnknownCriticalExtension { oid: "1.2.3".into() },
            Reason::KeyUsageForbidsEncryption { needed: "keyEncipherment" },
            Reason::WeakKey { algorithm: "RSA", bits: 1024, minimum: 2048 },
            Reason::UnsupportedKeyAlgorithm { algorithm: "Ed25519".into() },
            Reason::Untrusted { detail: "no issuer".into() },
            Reason::HarvestedUnverified { detail: "bad signature".into() },
            Reason::AddressOnlyInSubject,
            Reason::KeyUsageNotCritical,
            Reason::HarvestedSelfSigned,
        ]
    }

    #[test]
    fn codes_are_the_design_catalogue() {
        let codes: Vec<_> = all().iter().map(Reason::code).collect();
        assert_eq!(
            codes,
            [
                "no-certificate",
                "subject-email-not-in-san",
                "expired",
                "not-yet-valid",
                "eku-excludes-email-protection",
                "ca-certificate",
                "unknown-critical-extension",
                "key-usage-forbids-encryption",
                "weak-key",
                "unsupported-key-algorithm",
                "untrusted",
                "harvested-unverified",
                "address-only-in-subject",
                "key-usage-not-critical",
                "harvested-self-signed"
            ]
        );
    }

    #[test]
    fn only_the_three_warnings_do_not_block() {
        let warnings: Vec<_> =
            all().into_iter().filter(|r| !r.is_blocking()).map(|r| r.code()).collect();
        assert_eq!(
            warnings,
            ["address-only-in-subject", "key-usage-not-critical", "harvested-self-signed"]
        );
    }

    #[test]
    fn messages_and_hints_name_the_address() {
        let bob = Address::parse("bob@example.com").unwrap();
        let r = Reason::NoCertificate.report(&bob);
        assert_eq!(r.message, "no certificate for bob@example.com");
        assert_eq!(
            r.hint,
            "ask bob@example.com to send you a signed message, or import their certificate"
        );
        let expired = Reason::Expired { not_after: Time::from_unix(1_735_689_600) }.message(&bob);
        assert!(expired.contains("2025-01-01T00:00:00Z"), "{expired}");
    }
}
