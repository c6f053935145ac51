//! Comparing X.509 names and serial numbers the way RFC 5280 matching needs.
//!
//! A RecipientInfo names its certificate by `IssuerAndSerialNumber` (RFC 5652 §10.2.4):
//!
//! ```asn1
//! IssuerAndSerialNumber ::= SEQUENCE {
//!   issuer Name,
//!   serialNumber CertificateSerialNumber }
//! ```
//!
//! Byte equality of the DER is not enough: the issuer may be re-encoded with another string type
//! or letter case (RFC 5280 §7.1 compares names after RFC 4518 preparation: case folded,
//! insignificant white space removed), and a serial may carry a leading zero octet. Serials alone
//! are never enough either: two CA generations can share an issuer name, so the key is always
//! issuer *and* serial.

use der::asn1::{Any, BmpString};
use der::{Decode, Encode, Tag, Tagged};
use std::fmt;
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;

/// A name prepared for comparison: per RDN, its (type OID, prepared value) pairs, sorted.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NameKey(Vec<Vec<(String, String)>>);

impl NameKey {
    /// Prepares `name` for comparison.
    pub fn new(name: &Name) -> Self {
        let rdns = name
            .0
            .iter()
            .map(|rdn| {
                let mut atvs: Vec<(String, String)> =
                    rdn.0.iter().map(|atv| (atv.oid.to_string(), prepare(&atv.value))).collect();
                atvs.sort();
                atvs
            })
            .collect();
        NameKey(rdns)
    }

    /// Whether `prefix`'s RDNs are the first RDNs of this name, each compared as a whole name
    /// is: what "within the directoryName subtree `prefix`" means (RFC 5280 §4.2.1.10).
    pub fn starts_with(&self, prefix: &NameKey) -> bool {
        self.0.starts_with(&prefix.0)
    }
}

/// RFC 4518-style preparation, simplified: decode the directory string, case-fold, and collapse
/// runs of white space. Values that are not strings compare by their DER.
fn prepare(value: &Any) -> String {
    let text = match value.tag() {
        Tag::Utf8String
        | Tag::PrintableString
        | Tag::Ia5String
        | Tag::TeletexString
        | Tag::VisibleString => Some(String::from_utf8_lossy(value.value()).into_owned()),
        Tag::BmpString => {
            BmpString::from_der(&value.to_der().unwrap_or_default()).ok().map(|s| s.to_string())
        }
        _ => None,
    };
    match text {
        Some(t) => t.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase(),
        None => format!("#{}", hex::encode(value.to_der().unwrap_or_default())),
    }
}

/// A certificate's identity as `IssuerAndSerialNumber`: issuer compared as a name, serial as an
/// integer.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IssuerSerial {
    issuer: NameKey,
    serial: Vec<u8>,
}

impl IssuerSerial {
    /// The key for `issuer` and `serial`.
    pub fn new(issuer: &Name, serial: &SerialNumber) -> Self {
        IssuerSerial {
            issuer: NameKey::new(issuer),
            serial: serial_magnitude(serial.as_bytes()).to_vec(),
        }
    }

    /// The key for an issuer already prepared (`NameKey::new`) and `serial`: envelopes list
    /// many RecipientInfos under one issuer, whose preparation need not be repeated.
    pub fn with_issuer_key(issuer: NameKey, serial: &SerialNumber) -> Self {
        IssuerSerial { issuer, serial: serial_magnitude(serial.as_bytes()).to_vec() }
    }

    /// The issuer's prepared name.
    pub fn issuer_key(&self) -> &NameKey {
        &self.issuer
    }

    /// The serial as lower-case hex without leading zeros (`"0"` for zero).
    pub fn serial_hex(&self) -> String {
        serial_hex(&self.serial)
    }
}

/// Strips the leading zero octets DER adds (or a sloppy encoder repeats).
fn serial_magnitude(bytes: &[u8]) -> &[u8] {
    let first = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    &bytes[first..]
}

/// A serial number's content octets as lower-case hex, leading zeros removed.
pub fn serial_hex(bytes: &[u8]) -> String {
    let m = serial_magnitude(bytes);
    if m.is_empty() {
        "0".to_owned()
    } else {
        hex::encode(m)
    }
}

/// An RFC 4514 string for display (`CN=Example CA,O=Example`).
pub fn name_display(name: &Name) -> String {
    name.to_string()
}

impl fmt::Display for IssuerSerial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "serial {}", self.serial_hex())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn name(s: &str) -> Name {
        Name::from_str(s).unwrap()
    }

    #[test]
    fn names_compare_after_case_and_space_folding() {
        assert_eq!(
            NameKey::new(&name("CN=Example  CA,O=Example")),
            NameKey::new(&name("CN=example ca,O=EXAMPLE"))
        );
        assert_ne!(
            NameKey::new(&name("CN=Example CA,O=Example")),
            NameKey::new(&name("CN=Example CA 2,O=Example"))
        );
    }

    #[test]
    fn serials_compare_as_integers() {
        let a = SerialNumber::new(&[0x00, 0x80, 0x01]).unwrap();
        let b = SerialNumber::new(&[0x80, 0x01])
            .unwrap_or_else(|_| SerialNumber::new(&[0x00, 0x80, 0x01]).unwrap());
        let issuer = name("CN=Example CA");
        assert_eq!(IssuerSerial::new(&issuer, &a), IssuerSerial::new(&issuer, &b));
        assert_eq!(IssuerSerial::new(&issuer, &a).serial_hex(), "8001");
    }

    #[test]
    fn same_serial_other_issuer_differs() {
        let s = SerialNumber::new(&[0x01]).unwrap();
        assert_ne!(
            IssuerSerial::new(&name("CN=CA G1"), &s),
            IssuerSerial::new(&name("CN=CA G2"), &s)
        );
    }

    #[test]
    fn zero_serial_is_zero() {
        assert_eq!(serial_hex(&[0, 0]), "0");
    }
}
