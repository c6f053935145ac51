//! Normalised, comparable e-mail addresses.
//!
//! Two addresses are the same recipient when their normalised forms are equal:
//!
//! * the domain is compared case-insensitively, and an internationalised domain in its
//!   A-label (Punycode) form: `bücher.example` and `xn--bcher-kva.example` are one domain
//!   (UTS #46 processing, as the `idna` crate implements it);
//! * an ASCII local part is compared case-insensitively (ASCII letters only). RFC 5321 §2.4 lets
//!   a host treat local parts as case-sensitive, but RFC 8550 §3 and every certificate issuer in
//!   practice do not, and a certificate for `Bob@example.com` is meant for `bob@example.com`;
//! * a local part holding any non-ASCII character (RFC 6531, an `SmtpUTF8Mailbox` of RFC 9598)
//!   is compared exactly as written: RFC 9598 §3 gives it no case folding, and Unicode case
//!   mappings fold characters that are different mailboxes to a mail server onto one another
//!   (U+212A KELVIN SIGN lower-cases to the ASCII `k`, so `\u{212A}elvin@example.com` must never
//!   find the certificate of `kelvin@example.com`);
//! * display names, comments, angle brackets and surrounding white space never matter.

use std::fmt;

/// Longest address accepted (RFC 5321 §4.5.3.1: 64 octets local part + `@` + 255 octets domain).
pub const MAX_ADDRESS_LEN: usize = 320;

/// An e-mail address in normalised form (`local@domain`: an ASCII local part in lower case, a
/// non-ASCII one as written; the domain in lower-case A-label form).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Address(String);

/// Why a string is not an address.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    #[error("empty address")]
    Empty,
    #[error("{0:?} has no '@'")]
    NoAt(String),
    #[error("{0:?} has an empty local part")]
    EmptyLocalPart(String),
    #[error("{0:?} has an empty domain")]
    EmptyDomain(String),
    #[error("{0:?} is longer than {MAX_ADDRESS_LEN} bytes")]
    TooLong(String),
    #[error("{0:?} contains white space or control characters")]
    BadCharacter(String),
    #[error("{0:?} has a domain that is not a valid (internationalised) domain name")]
    BadDomain(String),
}

impl Address {
    /// Parses and normalises an address.
    ///
    /// Accepts a bare address (`bob@example.com`), one in angle brackets, or a mailbox with a
    /// display name (`"Bob" <Bob@Example.COM>`): only the part in angle brackets counts then.
    pub fn parse(input: &str) -> Result<Address, AddressError> {
        let mut s = input.trim();
        if let (Some(open), true) = (s.rfind('<'), s.ends_with('>')) {
            s = s[open + 1..s.len() - 1].trim();
        }
        if s.is_empty() {
            return Err(AddressError::Empty);
        }
        if s.len() > MAX_ADDRESS_LEN {
            let mut cut = MAX_ADDRESS_LEN.min(s.len());
            while !s.is_char_boundary(cut) {
                cut -= 1;
            }
            return Err(AddressError::TooLong(format!("{}…", &s[..cut])));
        }
        let (local, domain) = s.rsplit_once('@').ok_or_else(|| AddressError::NoAt(s.to_owned()))?;
        if local.is_empty() {
            return Err(AddressError::EmptyLocalPart(s.to_owned()));
        }
        if domain.is_empty() {
            return Err(AddressError::EmptyDomain(s.to_owned()));
        }
        let quoted = local.len() >= 2 && local.starts_with('"') && local.ends_with('"');
        let bad = |c: char| c.is_control() || (c.is_whitespace() && !quoted);
        if local.chars().any(bad) || domain.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(AddressError::BadCharacter(s.to_owned()));
        }
        let domain =
            normalise_domain(domain).ok_or_else(|| AddressError::BadDomain(s.to_owned()))?;
        Ok(Address(format!("{}@{}", normalise_local_part(local), domain)))
    }

    /// The normalised form, `local@domain`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The normalised local part.
    pub fn local_part(&self) -> &str {
        self.0.rsplit_once('@').map_or("", |(l, _)| l)
    }

    /// The normalised (A-label, lower-case) domain.
    pub fn domain(&self) -> &str {
        self.0.rsplit_once('@').map_or("", |(_, d)| d)
    }
}

/// An ASCII local part in lower case; any other kept exactly as written (see the module docs).
fn normalise_local_part(local: &str) -> String {
    if local.is_ascii() {
        local.to_ascii_lowercase()
    } else {
        local.to_owned()
    }
}

/// Domain literals (`[192.0.2.1]`) are kept as written (lower-cased); names go through UTS #46.
pub(crate) fn normalise_domain(domain: &str) -> Option<String> {
    let domain = domain.strip_suffix('.').unwrap_or(domain);
    if domain.starts_with('[') && domain.ends_with(']') {
        return Some(domain.to_ascii_lowercase());
    }
    if domain.is_ascii() {
        // Fast path: plain ASCII names only need lower-casing, unless they hold Punycode that
        // UTS #46 would reject or re-map; let idna see those.
        let lower = domain.to_ascii_lowercase();
        let plain = lower.split('.').all(|label| {
            !label.is_empty()
                && !label.starts_with("xn--")
                && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        });
        if plain {
            return Some(lower);
        }
    }
    let ascii = idna::domain_to_ascii(domain).ok()?;
    (!ascii.is_empty()).then_some(ascii)
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for Address {
    type Err = AddressError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Address::parse(s)
    }
}

impl serde::Serialize for Address {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rstest::rstest;

    #[rstest]
    #[case("bob@example.com", "bob@example.com")]
    #[case("Bob@Example.COM", "bob@example.com")]
    #[case("  <BOB@example.com> ", "bob@example.com")]
    #[case("\"Bob Smith\" <bob@example.com>", "bob@example.com")]
    #[case("bob@example.com.", "bob@example.com")]
    #[case("jörg@BÜCHER.example", "jörg@xn--bcher-kva.example")]
    #[case("jörg@xn--bcher-kva.example", "jörg@xn--bcher-kva.example")]
    #[case("\"john doe\"@example.com", "\"john doe\"@example.com")]
    #[case("a@[192.0.2.1]", "a@[192.0.2.1]")]
    #[case("Jörg@Bücher.example", "Jörg@xn--bcher-kva.example")]
    #[case("\u{212A}elvin@Example.ORG", "\u{212A}elvin@example.org")]
    fn normalises(#[case] input: &str, #[case] expected: &str) {
        assert_eq!(Address::parse(input).unwrap().as_str(), expected);
    }

    #[rstest]
    #[case("")]
    #[case("bob")]
    #[case("@example.com")]
    #[case("bob@")]
    #[case("bo b@example.com")]
    #[case("bob@exa mple.com")]
    #[case("bob@exa\u{0}mple.com")]
    fn rejects(#[case] input: &str) {
        assert!(Address::parse(input).is_err(), "{input:?} accepted");
    }

    /// RFC 9598 §3: a non-ASCII local part is compared exactly, never through a Unicode case
    /// mapping. U+212A KELVIN SIGN lower-cases to the ASCII `k`, U+0130 to `i̇`, `ẞ` to `ß`:
    /// each of those would merge two different mailboxes.
    #[rstest]
    #[case("\u{212A}elvin@example.org", "kelvin@example.org")]
    #[case("\u{212A}elvin@example.org", "Kelvin@example.org")]
    #[case("\u{130}nci@example.org", "i\u{307}nci@example.org")]
    #[case("Jörg@example.org", "jörg@example.org")]
    #[case("STRA\u{1E9E}E@example.org", "stra\u{df}e@example.org")]
    fn non_ascii_local_parts_never_fold_onto_another_mailbox(#[case] a: &str, #[case] b: &str) {
        assert_ne!(Address::parse(a).unwrap(), Address::parse(b).unwrap());
    }

    #[test]
    fn rejects_overlong() {
        let long = format!("{}@example.com", "a".repeat(400));
        assert!(matches!(Address::parse(&long), Err(AddressError::TooLong(_))));
    }

    proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,80}") {
            let _ = Address::parse(&s);
        }

        #[test]
        fn case_and_decoration_do_not_matter(local in "[a-zA-Z0-9._-]{1,20}", domain in "[a-zA-Z0-9-]{1,20}\\.(com|org|example)", name in "[a-zA-Z ]{0,12}") {
            let plain = Address::parse(&format!("{local}@{domain}")).unwrap();
            let upper = Address::parse(&format!("{}@{}", local.to_uppercase(), domain.to_uppercase())).unwrap();
            let named = Address::parse(&format!("\"{name}\" <{local}@{domain}>")).unwrap();
            prop_assert_eq!(&plain, &upper);
            prop_assert_eq!(&plain, &named);
        }

        /// A local part with any non-ASCII character is kept exactly (no case folding at all),
        /// and an ASCII one only loses its upper case.
        #[test]
        fn local_parts_fold_only_when_ascii(
            head in "[a-zA-Z0-9.]{0,6}",
            odd in "[ÀÉÖàéöİıſ\u{212A}\u{1E9E}ß]",
            tail in "[a-zA-Z0-9]{0,6}",
        ) {
            let local = format!("{head}{odd}{tail}");
            let parsed = Address::parse(&format!("{local}@example.org")).unwrap();
            prop_assert_eq!(parsed.local_part(), local.as_str());
            let ascii = format!("{head}x{tail}");
            let parsed = Address::parse(&format!("{ascii}@example.org")).unwrap();
            prop_assert_eq!(parsed.local_part(), ascii.to_ascii_lowercase());
        }

        #[test]
        fn normalising_is_idempotent(local in "[a-zA-Z0-9.]{1,20}", domain in "[a-zA-Zäöü]{1,10}\\.example") {
            if let Ok(a) = Address::parse(&format!("{local}@{domain}")) {
                prop_assert_eq!(Address::parse(a.as_str()).unwrap(), a);
            }
        }
    }
}
