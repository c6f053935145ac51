//! Building S/MIME messages: for tests, fixtures and corpora.
//!
//! The audit reads mail that other programs wrote. To test it at scale and to ship a demo, this
//! module writes such mail itself, deterministically from a seeded random number generator and
//! with no network or external tools:
//!
//! - [`EnvelopeBuilder`] / [`envelope()`]: a DER `ContentInfo` of EnvelopedData (RFC 5652 §6:
//!   AES-CBC, 3DES, DES) or AuthEnvelopedData (RFC 5083: AES-GCM), one ktri (RSA PKCS#1 v1.5,
//!   issuer and serial number) per recipient. Also the shapes real senders get wrong: a
//!   RecipientInfo for any issuer+serial, and an envelope without its encrypted content.
//! - [`to_ber_indefinite`]: the same structure re-encoded as `openssl cms -stream` and
//!   Thunderbird write it (indefinite lengths, content in chunks: 1000 bytes by default,
//!   4096 as `openssl cms -stream` writes them with [`to_ber_indefinite_chunked`]).
//! - [`signed()`]: SignedData with an RSA signature and the signer's certificate, attached or
//!   detached (RFC 8551 §3.5).
//! - [`mime`]: the MIME around them (application/pkcs7-mime, multipart/signed, and the
//!   SmartReply mangling that leaves the envelope as an attachment beside an empty body).
//!
//! This is not a mail client. It signs and encrypts with keys it is given, makes no decisions
//! about who should be able to read what, and is deliberately able to build the broken shapes
//! the audit exists to find. Do not use it to send real mail.
//!
//! ```
//! use rand::SeedableRng;
//! use smime_lint::build::{envelope, mime, BuildCipher};
//! # let pem = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/certs/store/bob.pem"))?;
//! # let bob = <x509_cert::Certificate as der::DecodePem>::from_pem(&pem)?;
//! let mut rng = rand::rngs::StdRng::seed_from_u64(1);
//! let inner = mime::text_entity("Hi Bob,\r\n\r\nTuesday works.\r\n");
//! let der = envelope(&inner, &[&bob], BuildCipher::Aes128Cbc, &mut rng)?;
//! let headers = mime::Headers::new()
//!     .with("From", "alice@example.com")
//!     .with("To", "bob@example.com")
//!     .with("Subject", "Tuesday");
//! let message = mime::message(&headers, &mime::pkcs7_mime_entity(&der, mime::SmimeType::EnvelopedData));
//! assert!(message.starts_with(b"From: alice@example.com\r\n"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod ber;
mod envelope;
pub mod mime;
mod signed;

pub use ber::{
    to_ber_indefinite, to_ber_indefinite_chunked, BER_CHUNK, MAX_CHUNK, OPENSSL_STREAM_CHUNK,
};
pub use envelope::{envelope, BuildCipher, BuildRecipient, EnvelopeBuilder};
pub use signed::signed;
