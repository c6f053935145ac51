#![forbid(unsafe_code)]
//! smime-lint: stops S/MIME mail from going out encrypted to people who cannot read it, and
//! finds the mail that already did.

pub mod address;
pub mod audit;
pub mod ber;
pub mod build;
pub mod cert;
pub mod certs;
pub mod cms;
pub mod compose;
pub mod decrypt;
pub mod error;
pub mod harvest;
pub mod message;
pub mod name;
pub mod reason;
pub mod reply;
pub mod scan;
pub mod signature;
pub mod smartreply;
pub mod smime;
pub mod time;
pub mod trust;
pub mod usable;

pub use address::{Address, AddressError};
pub use cert::{AddressSource, Certificate, HarvestBinding, KeyKind, NamedAddress, Provenance};
pub use certs::{CertStore, LoadWarning};
pub use decrypt::{DecryptError, Decrypted, DecryptionKey};
pub use error::{Error, Result};
pub use message::{
    collapse_recipients, InvalidAddress, Mailbox, OutgoingMessage, Recipient, RecipientField,
};
pub use name::{IssuerSerial, NameKey};
pub use reason::{Reason, ReasonReport, Severity};
pub use reply::{derive_reply, ReplyDraft, ReplyKind};
pub use smartreply::{ReplyContext, SmartReplyFinding, SmartReplyShape};
pub use smime::{Placement, SmimeKind, SmimeLayer};
pub use time::Time;
pub use usable::{check_certificate, AddressStatus, CertVerdict, Policy};
