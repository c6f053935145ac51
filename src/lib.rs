#![forbid(unsafe_code)]
//! smime-lint: stops S/MIME mail from going out encrypted to people who cannot read it, and
//! finds the mail that already did.

pub mod address;
pub mod build;
pub mod decrypt;
pub mod error;
pub mod message;
pub mod name;
pub mod reason;
pub mod reply;
pub mod scan;
pub mod time;

pub use address::{Address, AddressError};
pub use decrypt::{DecryptError, Decrypted, DecryptionKey};
pub use error::{Error, Result};
pub use message::{
    collapse_recipients, InvalidAddress, Mailbox, OutgoingMessage, Recipient, RecipientField,
};
pub use name::{IssuerSerial, NameKey};
pub use reason::{Reason, ReasonReport, Severity};
pub use reply::{derive_reply, ReplyDraft, ReplyKind};
pub use time::Time;
