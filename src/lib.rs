#![forbid(unsafe_code)]
//! smime-lint: stops S/MIME mail from going out encrypted to people who cannot read it, and
//! finds the mail that already did.
//!
//! Two questions, two entry points:
//!
//! * **May this draft go out encrypted?** [`compose::decide`] answers from the final recipient
//!   set, the certificate store, the time and the policy, and nothing else: a Reply All and a
//!   new message to the same people get the same answer (the iOS 7.1 Mail bug was the opposite).
//! * **Who could open the mail that already went out?** [`audit::audit_message`] finds the
//!   S/MIME layers of a message, reads every RecipientInfo, maps it to certificates and reports
//!   findings: `partial-encryption`, `smartreply-blank-body`, `bcc-disclosed`, ... (the rule
//!   catalogue is [`audit::Rule`]).
//!
//! ```
//! use smime_lint::audit::{audit_message, AuditOptions, Rule};
//! use smime_lint::compose::{decide, ComposeOptions, Status};
//! use smime_lint::message::OutgoingMessage;
//! use smime_lint::reply::{derive_reply, ReplyKind};
//! use smime_lint::{Address, CertStore, Time};
//!
//! let mut store = CertStore::new();
//! store.load_path("testdata/certs/store".as_ref()).expect("test certificates");
//! let at = Time::parse_rfc3339("2026-06-01T00:00:00Z").unwrap(); // a client passes Time::now()
//! let me = Address::parse("alice@example.com").unwrap();
//!
//! // Reply All to a message from dan (no certificate), copied to carol (has one).
//! let original = OutgoingMessage::parse(&std::fs::read("testdata/check/ios71-original.eml").unwrap()).unwrap();
//! let reply = derive_reply(&original, std::slice::from_ref(&me), ReplyKind::ReplyAll);
//! let decision = decide(&store, Some(&me), &reply.recipients(), at, &ComposeOptions::default());
//! assert_eq!(decision.status, Status::NotEncrypted);
//!
//! // The same Reply All as iOS 7.1 sent it: enveloped for carol (and alice) only.
//! let sent = std::fs::read("testdata/audit/ios71-reply-all.eml").unwrap();
//! let report = audit_message(&sent, &store, &AuditOptions::default());
//! assert_eq!(report.findings[0].rule, Rule::PartialEncryption);
//! assert_eq!(report.findings[0].address.as_ref().unwrap().as_str(), "dan@example.net");
//! ```
//!
//! The pieces, in data-flow order: [`message`] and [`reply`] (recipients from mail, Reply /
//! Reply All), [`smime`] (S/MIME layers in the MIME tree), [`ber`] and [`cms`] (BER→DER and CMS
//! inspection), [`certs`], [`cert`], [`usable`] and [`trust`] (the certificate store and
//! per-certificate reasons), [`harvest`] (certificates from signed mail), [`decrypt`] (the
//! owner's view of their sent items), [`smartreply`] (the blank-reply shape), [`compose`],
//! [`audit`], and [`scan`] (Maildir, mbox and folders, in parallel and in order). [`build`] makes
//! S/MIME messages for tests and corpora. At the moment of sending, [`gateway::verdict()`] judges
//! a built message against its real recipients, for every hook: the milter, `smime-lint check`
//! and `smime-lint sendmail`, and (feature `lettre`) `lettre_guard`, a wrapper around any lettre
//! transport.
//!
//! Two error worlds stay apart: [`Error`] means the tool *could not evaluate* (bad input, I/O);
//! [`Reason`] and [`audit::Finding`] are *results*. Evaluation never reads the clock.

pub mod address;
pub mod audit;
pub mod ber;
pub mod build;
pub mod cert;
pub mod certs;
pub mod cms;
pub mod compose;
mod constraints;
pub mod decrypt;
pub mod error;
pub mod gateway;
pub mod harvest;
#[cfg(feature = "lettre")]
pub mod lettre_guard;
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

/// The README's examples are compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
