#![forbid(unsafe_code)]
//! smime-lint: stops S/MIME mail from going out encrypted to people who cannot read it, and
//! finds the mail that already did.

pub mod address;
pub mod ber;
pub mod cms;
pub mod error;
pub mod name;
pub mod reason;
pub mod time;

pub use address::{Address, AddressError};
pub use error::{Error, Result};
pub use name::{IssuerSerial, NameKey};
pub use reason::{Reason, ReasonReport, Severity};
pub use time::Time;
