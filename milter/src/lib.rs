//! `smime-lint-milter`: smime-lint's pre-send verdict as a milter for Postfix and Sendmail.
//!
//! The MTA hands over each message (envelope, header, body); at its end the daemon asks
//! [`smime_lint::gateway::verdict`] whether every envelope recipient can read it, and answers:
//! accept (with an `X-Smime-Lint` header), reject or tempfail (with the verdict's SMTP reply),
//! or split (the recipients who cannot read it are removed, and the sender may get a notice).
//!
//! This crate links indymilter and is GPL-3.0-or-later; the `smime-lint` library it calls is
//! MIT OR Apache-2.0 and does not depend on it.

pub mod client;
pub mod daemon;
pub mod log;
pub mod message;
pub mod notice;
pub mod options;
pub mod session;
pub mod store;
