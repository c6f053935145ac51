#![forbid(unsafe_code)]
//! smime-lint: stops S/MIME mail from going out encrypted to people who cannot read it, and
//! finds the mail that already did.

pub mod address;
pub mod cert;
pub mod certs;
pub mod error;
pub mod name;
pub mod reason;
pub mod signature;
pub mod time;
pub mod trust;
pub mod usable;

pub use address::{Address, AddressError};
pub use cert::{AddressSource, Certificate, HarvestBinding, KeyKind, NamedAddress, Provenance};
pub use certs::{CertStore, LoadWarning};
pub use error::{Error, Result};
pub use name::{IssuerSerial, NameKey};
pub use reason::{Reason, ReasonReport, Severity};
pub use time::Time;
pub use usable::{check_certificate, AddressStatus, CertVerdict, Policy};
