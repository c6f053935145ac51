//! The people in the corpus: the test PKI's addresses (testdata/certs/README.md) and some
//! without certificates.

/// What the certificate store holds for a person, as far as encrypting to them goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cert {
    /// An RSA certificate usable for encryption in 2026: the builder can write a ktri.
    Rsa(&'static str),
    /// A usable EC certificate (kari): the builder cannot encrypt to it, so messages that list
    /// this person are plain, or partial on purpose.
    Ec(&'static str),
    /// An RSA certificate that is not usable in 2026 (expired, weak key): encrypting to it is
    /// `encrypted-to-unusable-certificate`.
    Unusable(&'static str),
    /// No certificate at all.
    None,
}

/// A correspondent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Person {
    /// Display name.
    pub name: &'static str,
    /// The address as written in headers.
    pub address: &'static str,
    /// Their certificate in testdata/certs/store, by file stem.
    pub cert: Cert,
}

impl Person {
    /// `"Name" <address>` as a header writes it.
    pub fn mailbox(&self) -> String {
        format!("{} <{}>", self.name, self.address)
    }

    /// The first name, for greetings.
    pub fn first_name(&self) -> &'static str {
        self.name.split(' ').next().unwrap_or(self.name)
    }

    /// The certificate stem an RSA ktri can be written for (usable or not).
    pub fn rsa_cert(&self) -> Option<&'static str> {
        match self.cert {
            Cert::Rsa(stem) | Cert::Unusable(stem) => Some(stem),
            Cert::Ec(_) | Cert::None => None,
        }
    }
}

const fn person(name: &'static str, address: &'static str, cert: Cert) -> Person {
    Person { name, address, cert }
}

pub const ALICE: Person = person("Alice Example", "alice@example.com", Cert::Rsa("alice"));
pub const BOB: Person = person("Bob Builder", "bob@example.com", Cert::Rsa("bob"));
pub const UMA: Person = person("Uma Upper", "uma@example.com", Cert::Rsa("uma-upper-case"));
pub const PEGGY: Person = person("Peggy Sue", "peggy@example.com", Cert::Rsa("peggy-strong"));
pub const VICTOR: Person =
    person("Victor Multi", "victor@example.com", Cert::Rsa("victor-multi-san"));
/// Victor's second address, named by the same certificate.
pub const VICTOR_ALIAS: Person =
    person("Victor Multi", "VICTOR.Alias@Example.NET", Cert::Rsa("victor-multi-san"));
pub const OSCAR: Person =
    person("Oscar Old", "oscar@example.com", Cert::Rsa("oscar-no-extensions"));
pub const CAROL: Person = person("Carol Ng", "carol@example.org", Cert::Ec("carol"));
pub const DAVE: Person = person("Dave Jones", "dave@example.com", Cert::Unusable("dave-expired"));
pub const HEIDI: Person = person("Heidi Klein", "heidi@example.com", Cert::Unusable("heidi-weak"));
pub const DAN: Person = person("Dan Brown", "dan@example.net", Cert::None);
pub const ERIKA: Person = person("Erika Mustermann", "erika@example.net", Cert::None);
pub const KIM: Person = person("Kim Lee", "kim@example.org", Cert::None);
pub const SUPPORT: Person = person("IT Support", "it-support@example.net", Cert::None);

/// People the sender can encrypt to (RSA, usable).
pub const ENCRYPTABLE: [Person; 6] = [BOB, UMA, PEGGY, VICTOR, VICTOR_ALIAS, OSCAR];
/// People the sender cannot encrypt to with ktri.
pub const NOT_ENCRYPTABLE: [Person; 5] = [CAROL, DAN, ERIKA, KIM, SUPPORT];
/// People with certificates that were unusable in 2026.
pub const UNUSABLE: [Person; 2] = [DAVE, HEIDI];

/// Every RSA certificate stem a ktri may be written for.
pub const RSA_CERT_STEMS: [&str; 8] = [
    "alice",
    "bob",
    "uma-upper-case",
    "peggy-strong",
    "victor-multi-san",
    "oscar-no-extensions",
    "dave-expired",
    "heidi-weak",
];
