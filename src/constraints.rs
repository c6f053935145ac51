//! Name constraints on a certification path (RFC 5280 §4.2.1.10 and §6.1.3 (b)-(c); RFC 9598
//! §6 for internationalised mailboxes).
//!
//! ```asn1
//! NameConstraints ::= SEQUENCE {
//!      permittedSubtrees       [0]     GeneralSubtrees OPTIONAL,
//!      excludedSubtrees        [1]     GeneralSubtrees OPTIONAL }
//! GeneralSubtree ::= SEQUENCE {
//!      base                    GeneralName,
//!      minimum         [0]     BaseDistance DEFAULT 0,
//!      maximum         [1]     BaseDistance OPTIONAL }
//! ```
//!
//! A CA's constraints apply to every certificate below it on the path: the end entity always,
//! intermediates unless self-issued (§6.1.3 (b)). Checking each CA's constraints on its own is
//! the same as intersecting them down the path, which §6.1.4 (g) describes. For each name of a
//! certificate: when the CA has permitted subtrees of the name's form, the name must be within
//! one of them; it must be within none of the excluded subtrees of its form. Forms the CA does
//! not constrain are not constrained.
//!
//! Names and forms:
//!
//! * **mailboxes** — every address the certificate names: rfc822Name and SmtpUTF8Mailbox
//!   subjectAltName entries *and* the subject's emailAddress (§4.2.1.10 asks for the latter only
//!   without a subjectAltName; applying it always is stricter, and is what OpenSSL does). They
//!   are matched against rfc822Name subtrees and against SmtpUTF8Mailbox otherName subtrees
//!   alike: RFC 9598 §6 treats both as one namespace. A subtree is a mailbox
//!   (`root@example.com`), a host (`example.com`: its mailboxes), or a domain with a leading
//!   period (`.example.com`: mailboxes at any host below it). Comparison uses this crate's
//!   address identity ([`Address`]): domain in A-label form, ASCII local part case-insensitive,
//!   non-ASCII local part exact. So the excluded mailbox `ceo@example.org` also excludes
//!   `CEO@example.org`, the same recipient here (OpenSSL compares local parts case-sensitively
//!   and lets it through);
//! * **directoryName** — the subject (when not empty) and directoryName subjectAltName entries:
//!   within a subtree when the subtree's RDNs are the first RDNs of the name, each RDN compared
//!   as RFC 5280 §7.1 compares names ([`NameKey`]);
//! * **dNSName** (the host and its subdomains; a leading period: subdomains only), **iPAddress**
//!   (address and mask, IPv4 or IPv6) and **uniformResourceIdentifier** (the host of the URI's
//!   authority; a leading period: hosts below it): these never constrain an e-mail address,
//!   but a certificate whose DNS name breaks its CA's constraints is misissued all the same;
//! * anything else — otherName of other types, ediPartyName, registeredID — is not
//!   implemented: a certificate that has a name of such a form *and* a CA constraining that
//!   form fails closed, with a reason naming the form. (x400Address cannot even be decoded: a
//!   CA or certificate holding one does not load.)
//!
//! Subtrees with a `minimum` other than 0 or with a `maximum` (RFC 5280: MUST NOT be used) fail
//! closed too.

use crate::address::{normalise_domain, Address};
use crate::cert::{oid, Certificate};
use crate::name::{name_display, NameKey};
use const_oid::ObjectIdentifier;
use der::{Tag, Tagged};
use x509_cert::ext::pkix::constraints::name::GeneralSubtree;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::SubjectAltName;

/// Most (name × subtree) comparisons one CA's constraints may cost on one path (as OpenSSL:
/// large enough for any real CA, small enough that a crafted certificate cannot stall a scan).
const MAX_COMPARISONS: usize = 1 << 20;

/// One name of a certificate, in the form constraints compare.
enum Name {
    Mailbox(Address),
    Directory {
        key: NameKey,
        display: String,
    },
    Dns(String),
    Ip(Vec<u8>),
    Uri(String),
    /// A form matching is not implemented for: `what` names it.
    Unsupported {
        what: String,
    },
}

impl Name {
    fn describe(&self) -> String {
        match self {
            Name::Mailbox(address) => address.to_string(),
            Name::Directory { display, .. } => format!("the directory name \"{display}\""),
            Name::Dns(name) => format!("the DNS name {name}"),
            Name::Ip(bytes) => format!("the IP address {}", ip_display(bytes)),
            Name::Uri(uri) => format!("the URI {uri}"),
            Name::Unsupported { what } => format!("an {what} name"),
        }
    }
}

/// Checks `ca`'s name constraints (if any) on `below`, the certificates under it on the path
/// (the end entity first). `Err` says which name broke which constraint.
pub(crate) fn check(ca: &Certificate, below: &[&Certificate]) -> Result<(), String> {
    let Some(constraints) = ca.name_constraints() else { return Ok(()) };
    let permitted = constraints.permitted_subtrees.as_deref().unwrap_or_default();
    let excluded = constraints.excluded_subtrees.as_deref().unwrap_or_default();
    for subtree in permitted.iter().chain(excluded) {
        if subtree.minimum != 0 || subtree.maximum.is_some() {
            return Err("its name constraints use minimum or maximum, which RFC 5280 forbids \
                        and smime-lint does not evaluate"
                .to_owned());
        }
    }
    let subtrees = permitted.len() + excluded.len();
    let mut budget = MAX_COMPARISONS;
    for (position, cert) in below.iter().enumerate() {
        // RFC 5280 §6.1.3 (b): self-issued intermediates are exempt; the end entity is not.
        if position > 0 && is_self_issued(cert) {
            continue;
        }
        let names = names_of(cert)?;
        budget = budget.checked_sub(names.len().saturating_mul(subtrees)).ok_or_else(|| {
            "its name constraints are too large to check against the certificates below it"
                .to_owned()
        })?;
        for name in &names {
            check_name(name, permitted, excluded)
                .map_err(|why| format!("certificate \"{}\": {why}", cert.subject_display()))?;
        }
    }
    Ok(())
}

fn check_name(
    name: &Name,
    permitted: &[GeneralSubtree],
    excluded: &[GeneralSubtree],
) -> Result<(), String> {
    let mut constrained = Vec::new();
    let mut inside = false;
    for subtree in permitted {
        if let Some(within) = within(name, &subtree.base)? {
            constrained.push(base_display(&subtree.base));
            inside |= within;
        }
    }
    if !constrained.is_empty() && !inside {
        return Err(format!(
            "{} is outside the permitted subtrees ({})",
            name.describe(),
            constrained.join(", ")
        ));
    }
    for subtree in excluded {
        if within(name, &subtree.base)? == Some(true) {
            return Err(format!(
                "{} is inside the excluded subtree {}",
                name.describe(),
                base_display(&subtree.base)
            ));
        }
    }
    Ok(())
}

/// `None`: the subtree is of another form and says nothing about `name`. `Some(within)`: same
/// form. `Err`: same form, but it cannot be evaluated (not implemented, or malformed).
fn within(name: &Name, base: &GeneralName) -> Result<Option<bool>, String> {
    Ok(Some(match (name, base) {
        (Name::Mailbox(address), GeneralName::Rfc822Name(text)) => {
            mailbox_within(address, text.as_str())?
        }
        (Name::Mailbox(address), GeneralName::OtherName(other))
            if other.type_id == oid::SMTP_UTF8_MAILBOX =>
        {
            let text = (other.value.tag() == Tag::Utf8String)
                .then(|| std::str::from_utf8(other.value.value()).ok())
                .flatten()
                .ok_or("an SmtpUTF8Mailbox name constraint is not a UTF8String")?;
            mailbox_within(address, text)?
        }
        (Name::Directory { key, .. }, GeneralName::DirectoryName(subtree)) => {
            key.starts_with(&NameKey::new(subtree))
        }
        (Name::Dns(host), GeneralName::DnsName(subtree)) => dns_within(host, subtree.as_str()),
        (Name::Ip(address), GeneralName::IpAddress(subtree)) => {
            ip_within(address, subtree.as_bytes())?
        }
        (Name::Uri(uri), GeneralName::UniformResourceIdentifier(subtree)) => {
            uri_within(uri, subtree.as_str())?
        }
        (Name::Unsupported { what }, base) if unsupported_form(base).as_ref() == Some(what) => {
            return Err(format!(
                "it has {} and its CA constrains that form, which smime-lint does not implement",
                name.describe()
            ));
        }
        _ => return Ok(None),
    }))
}

/// The form an unsupported constraint base constrains, named as [`Name::Unsupported`] names it.
fn unsupported_form(base: &GeneralName) -> Option<String> {
    match base {
        GeneralName::OtherName(other) if other.type_id != oid::SMTP_UTF8_MAILBOX => {
            Some(other_name_form(&other.type_id))
        }
        GeneralName::EdiPartyName(_) => Some("ediPartyName".to_owned()),
        GeneralName::RegisteredId(_) => Some("registeredID".to_owned()),
        _ => None,
    }
}

fn other_name_form(type_id: &ObjectIdentifier) -> String {
    format!("otherName {type_id}")
}

/// RFC 5280 §4.2.1.10 rfc822Name subtrees: a mailbox, a host, or `.domain`.
fn mailbox_within(address: &Address, subtree: &str) -> Result<bool, String> {
    let malformed = || format!("the mailbox name constraint {subtree:?} cannot be read");
    let odd = |c: char| c.is_whitespace() || c.is_control() || c == '<' || c == '>';
    if subtree.is_empty() || subtree.contains(odd) {
        return Err(malformed());
    }
    if subtree.contains('@') {
        let mailbox = Address::parse(subtree).map_err(|_| malformed())?;
        return Ok(&mailbox == address);
    }
    if let Some(domain) = subtree.strip_prefix('.') {
        let domain = normalise_domain(domain).ok_or_else(malformed)?;
        let host = address.domain();
        return Ok(host.len() > domain.len()
            && host.ends_with(&domain)
            && host.as_bytes().get(host.len() - domain.len() - 1) == Some(&b'.'));
    }
    Ok(normalise_domain(subtree).ok_or_else(malformed)? == address.domain())
}

/// RFC 5280 §4.2.1.10 dNSName subtrees: the host and any name with labels added on the left.
/// A leading period (common, though not in RFC 5280) means names below it only.
fn dns_within(host: &str, subtree: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let subtree = subtree.trim_end_matches('.').to_ascii_lowercase();
    if subtree.is_empty() {
        return true;
    }
    if subtree.starts_with('.') {
        return host.ends_with(&subtree);
    }
    host == subtree || host.ends_with(&format!(".{subtree}"))
}

/// RFC 5280 §4.2.1.10 iPAddress subtrees: an address and a mask of the same family.
fn ip_within(address: &[u8], subtree: &[u8]) -> Result<bool, String> {
    if !matches!(subtree.len(), 8 | 32) {
        return Err(format!("an iPAddress name constraint of {} octets", subtree.len()));
    }
    let (network, mask) = subtree.split_at(subtree.len() / 2);
    if address.len() != network.len() {
        return Ok(false); // IPv4 against an IPv6 subtree or the reverse
    }
    Ok(address.iter().zip(network).zip(mask).all(|((a, n), m)| a & m == n & m))
}

/// RFC 5280 §4.2.1.10 uniformResourceIdentifier subtrees: the host of the authority; a
/// leading period means hosts below it.
fn uri_within(uri: &str, subtree: &str) -> Result<bool, String> {
    let host = uri_host(uri).ok_or_else(|| {
        format!("the URI {uri} has no host, so its CA's URI constraints cannot be checked")
    })?;
    let subtree = subtree.to_ascii_lowercase();
    Ok(if subtree.starts_with('.') { host.ends_with(&subtree) } else { host == subtree })
}

/// `scheme://[userinfo@]host[:port]/...` → `host`, lower case.
fn uri_host(uri: &str) -> Option<String> {
    let (_, rest) = uri.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if host_port.starts_with('[') {
        host_port.split_inclusive(']').next()?
    } else {
        host_port.split(':').next()?
    };
    (!host.is_empty()).then(|| host.to_ascii_lowercase())
}

fn ip_display(bytes: &[u8]) -> String {
    match bytes.len() {
        4 => bytes.iter().map(u8::to_string).collect::<Vec<_>>().join("."),
        _ => hex::encode(bytes),
    }
}

fn base_display(base: &GeneralName) -> String {
    match base {
        GeneralName::Rfc822Name(text) => format!("rfc822Name {}", text.as_str()),
        GeneralName::OtherName(other) if other.type_id == oid::SMTP_UTF8_MAILBOX => {
            format!("SmtpUTF8Mailbox {}", String::from_utf8_lossy(other.value.value()))
        }
        GeneralName::DirectoryName(name) => format!("directoryName \"{}\"", name_display(name)),
        GeneralName::DnsName(text) => format!("dNSName {}", text.as_str()),
        GeneralName::IpAddress(bytes) => {
            let bytes = bytes.as_bytes();
            let (network, mask) = bytes.split_at(bytes.len() / 2);
            format!("iPAddress {}/{}", ip_display(network), ip_display(mask))
        }
        GeneralName::UniformResourceIdentifier(text) => format!("URI {}", text.as_str()),
        other => unsupported_form(other).unwrap_or_default(),
    }
}

/// Subject and issuer are the same Name (RFC 5280 §3.2 "self-issued").
fn is_self_issued(cert: &Certificate) -> bool {
    cert.x509().is_ok_and(|x| {
        NameKey::new(&x.tbs_certificate.subject) == NameKey::new(&x.tbs_certificate.issuer)
    })
}

/// Every name of `cert` that constraints apply to (see the module documentation).
fn names_of(cert: &Certificate) -> Result<Vec<Name>, String> {
    let x509 = cert.x509().map_err(|e| e.to_string())?;
    let tbs = &x509.tbs_certificate;
    let mut names: Vec<Name> =
        cert.addresses().iter().map(|n| Name::Mailbox(n.address.clone())).collect();
    if !tbs.subject.0.is_empty() {
        names.push(Name::Directory {
            key: NameKey::new(&tbs.subject),
            display: name_display(&tbs.subject),
        });
    }
    let san = tbs
        .get::<SubjectAltName>()
        .map_err(|e| format!("its subjectAltName cannot be read: {e}"))?;
    for general in san.map(|(_, san)| san.0).unwrap_or_default() {
        names.push(match general {
            // Mailboxes are in `addresses()` already (those that parse: one that does not is
            // no recipient of anything here).
            GeneralName::Rfc822Name(_) => continue,
            GeneralName::OtherName(other) if other.type_id == oid::SMTP_UTF8_MAILBOX => continue,
            GeneralName::OtherName(other) => {
                Name::Unsupported { what: other_name_form(&other.type_id) }
            }
            GeneralName::DnsName(text) => Name::Dns(text.as_str().to_owned()),
            GeneralName::DirectoryName(name) => {
                Name::Directory { key: NameKey::new(&name), display: name_display(&name) }
            }
            GeneralName::EdiPartyName(_) => Name::Unsupported { what: "ediPartyName".to_owned() },
            GeneralName::UniformResourceIdentifier(text) => Name::Uri(text.as_str().to_owned()),
            GeneralName::IpAddress(bytes) => Name::Ip(bytes.as_bytes().to_vec()),
            GeneralName::RegisteredId(_) => Name::Unsupported { what: "registeredID".to_owned() },
        });
    }
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    fn addr(text: &str) -> Address {
        Address::parse(text).unwrap()
    }

    #[rstest]
    #[case("alice@example.org", "example.org", true)]
    #[case("alice@EXAMPLE.org", "Example.ORG", true)]
    #[case("alice@mail.example.org", "example.org", false)]
    #[case("alice@mail.example.org", ".example.org", true)]
    #[case("alice@example.org", ".example.org", false)]
    #[case("alice@badexample.org", ".example.org", false)]
    #[case("alice@badexample.org", "example.org", false)]
    #[case("ceo@example.org", "ceo@example.org", true)]
    #[case("ceo@example.org", "CEO@example.org", true)]
    #[case("ceo2@example.org", "ceo@example.org", false)]
    #[case("jörg@bücher.example", "xn--bcher-kva.example", true)]
    #[case("jörg@bücher.example", "bücher.example", true)]
    #[case("jörg@mail.bücher.example", ".xn--bcher-kva.example", true)]
    #[case("jörg@bücher.example", "jorg@xn--bcher-kva.example", false)]
    #[case("\u{212A}elvin@example.org", "kelvin@example.org", false)]
    fn mailbox_subtrees(#[case] address: &str, #[case] subtree: &str, #[case] within: bool) {
        assert_eq!(mailbox_within(&addr(address), subtree), Ok(within), "{address} in {subtree}");
    }

    #[rstest]
    #[case("")]
    #[case("a@")]
    #[case("Alice <a@example.org>")]
    #[case("exa mple.org")]
    fn unreadable_mailbox_subtrees_fail_closed(#[case] subtree: &str) {
        assert!(mailbox_within(&addr("a@example.org"), subtree).is_err(), "{subtree:?}");
    }

    #[rstest]
    #[case("example.org", "example.org", true)]
    #[case("host.example.org", "example.org", true)]
    #[case("badexample.org", "example.org", false)]
    #[case("example.org", ".example.org", false)]
    #[case("a.example.org", ".example.org", true)]
    #[case("Host.Example.ORG.", "example.org", true)]
    #[case("anything.test", "", true)]
    fn dns_subtrees(#[case] host: &str, #[case] subtree: &str, #[case] within: bool) {
        assert_eq!(dns_within(host, subtree), within);
    }

    #[rstest]
    #[case(&[192, 0, 2, 7], &[192, 0, 2, 0, 255, 255, 255, 0], Ok(true))]
    #[case(&[192, 0, 3, 7], &[192, 0, 2, 0, 255, 255, 255, 0], Ok(false))]
    #[case(&[0; 16], &[192, 0, 2, 0, 255, 255, 255, 0], Ok(false))]
    #[case(&[192, 0, 2, 7], &[192, 0, 2, 0], Err(()))]
    fn ip_subtrees(
        #[case] address: &[u8],
        #[case] subtree: &[u8],
        #[case] expected: Result<bool, ()>,
    ) {
        assert_eq!(ip_within(address, subtree).map_err(|_| ()), expected);
    }

    #[rstest]
    #[case("https://user@Host.Example.org:8443/path?q", Some("host.example.org"))]
    #[case("ldap://[2001:db8::1]:389/o=x", Some("[2001:db8::1]"))]
    #[case("mailto:a@example.org", None)]
    #[case("https:///path", None)]
    fn uri_hosts(#[case] uri: &str, #[case] host: Option<&str>) {
        assert_eq!(uri_host(uri).as_deref(), host);
    }

    #[test]
    fn uri_subtrees() {
        assert_eq!(uri_within("https://a.example.org/x", ".example.org"), Ok(true));
        assert_eq!(uri_within("https://example.org/x", ".example.org"), Ok(false));
        assert_eq!(uri_within("https://EXAMPLE.org/x", "example.org"), Ok(true));
        assert!(uri_within("urn:isbn:1", "example.org").is_err());
    }
}
