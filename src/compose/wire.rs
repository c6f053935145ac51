//! The JSON form of a [`ComposeDecision`]: the object `smime-lint check --format json` prints
//! (the README's "JSON wire format" section), so embedders and the command line share it.
//!
//! Keys come out in alphabetical order at every level, as the command line has always printed
//! them; the implementations below write them in that order by hand rather than relying on a
//! map type's ordering.

use super::{ComposeDecision, RecipientDecision};
use crate::cert::Certificate;
use crate::message::RecipientField;
use crate::usable::{AddressStatus, CertVerdict};
use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;

/// `{"decision", "intent", "question", "recipients", "sender", "status", "warnings"}`;
/// `question` is always `would-be`: the decision says what a draft *would be* (a built message
/// is judged by the gateway verdict instead, `"question": "is"`).
impl Serialize for ComposeDecision<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(7))?;
        map.serialize_entry("decision", &self.decision)?;
        map.serialize_entry("intent", &self.intent)?;
        map.serialize_entry("question", "would-be")?;
        map.serialize_entry("recipients", &self.recipients)?;
        map.serialize_entry(
            "sender",
            &self.sender.as_ref().map(|s| Status { status: s, field: None }),
        )?;
        map.serialize_entry("status", &self.status)?;
        map.serialize_entry("warnings", &self.warnings)?;
        map.end()
    }
}

/// One recipient: `{"address", "candidates", "certificate", "encryptable", "field", "reasons"}`.
impl Serialize for RecipientDecision<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        Status { status: &self.status, field: Some(self.field) }.serialize(s)
    }
}

/// An address's status, with the header field for recipients (the sender has none).
struct Status<'a, 's> {
    status: &'a AddressStatus<'s>,
    field: Option<RecipientField>,
}

impl Serialize for Status<'_, '_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let st = self.status;
        let reasons: Vec<Reason> = st
            .reasons()
            .iter()
            .map(|r| Reason {
                code: r.code(),
                hint: r.hint(&st.address),
                message: r.message(&st.address),
            })
            .collect();
        let candidates: Vec<Candidate<'_, '_>> = st.candidates.iter().map(Candidate).collect();
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("address", &st.address)?;
        map.serialize_entry("candidates", &candidates)?;
        map.serialize_entry("certificate", &st.chosen.as_ref().map(|c| Chosen(c.certificate)))?;
        map.serialize_entry("encryptable", &st.is_encryptable())?;
        if let Some(field) = self.field {
            map.serialize_entry("field", &field)?;
        }
        map.serialize_entry("reasons", &reasons)?;
        map.end()
    }
}

/// `{"code", "hint", "message"}`.
#[derive(Serialize)]
struct Reason {
    code: &'static str,
    hint: String,
    message: String,
}

/// The chosen certificate: `{"not_after", "sha256", "source"}`.
struct Chosen<'a>(&'a Certificate);

impl Serialize for Chosen<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(3))?;
        map.serialize_entry("not_after", &self.0.not_after().to_rfc3339())?;
        map.serialize_entry("sha256", self.0.sha256_hex())?;
        map.serialize_entry("source", &self.0.provenance().label())?;
        map.end()
    }
}

/// Every certificate naming the address: `{"not_after", "reasons", "sha256", "source",
/// "usable"}`, the reasons as codes.
struct Candidate<'a, 's>(&'a CertVerdict<'s>);

impl Serialize for Candidate<'_, '_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let cert = self.0.certificate;
        let codes: Vec<&str> = self.0.reasons.iter().map(|r| r.code()).collect();
        let mut map = s.serialize_map(Some(5))?;
        map.serialize_entry("not_after", &cert.not_after().to_rfc3339())?;
        map.serialize_entry("reasons", &codes)?;
        map.serialize_entry("sha256", cert.sha256_hex())?;
        map.serialize_entry("source", &cert.provenance().label())?;
        map.serialize_entry("usable", &self.0.is_usable())?;
        map.end()
    }
}
