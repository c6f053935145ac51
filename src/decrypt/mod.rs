//! Decrypting an S/MIME envelope with the mailbox owner's private key.
//!
//! The owner of a mailbox should be a recipient of their own sent mail. With their key, the
//! audit opens the envelope and looks at the MIME entity inside ([`inspect_inner`]) to prove
//! whether the body a recipient sees is blank (`smartreply-blank-body`), instead of guessing
//! from the outside.
//!
//! Supported (RFC 5652 §6, RFC 5083):
//! - ktri: rsaEncryption (PKCS#1 v1.5) and id-RSAES-OAEP (any SHA-1/SHA-2 hash, MGF1, empty
//!   or UTF-8 label).
//! - kari: dhSinglePass-stdDH / cofactorDH with the SHA-1/SHA-2 X9.63 KDF and AES key wrap, on
//!   P-256 and P-384, with an ephemeral originator key (RFC 5753, RFC 8418).
//! - content: AES-128/192/256-CBC in EnvelopedData; AES-128/192/256-GCM (12-byte nonce, 12..16
//!   byte tag) in AuthEnvelopedData, authAttrs as additional data.
//!
//! Not supported, reported as such: kekri, pwri, ori; static-static ECDH; 3DES, RC2, DES and
//! AES-CCM content. Input must be DER (BER is converted first by the caller).
//!
//! Failures are values ([`DecryptError`]), never panics, and never carry key material.
//!
//! # No padding oracle
//!
//! RSA key transport (ktri) is where an oracle would live: if the answer told "the RSA padding
//! was wrong" from "the RSA padding was right but the content did not decrypt" (CBC padding,
//! GCM tag, content key length), whoever can submit envelopes and read the answers could
//! decrypt RSA ciphertexts (Bleichenbacher 1998; RFC 3218 §2.3). So everything about the
//! content that does not need the key is checked before any RSA work, and afterwards every
//! failure of an RSA attempt is the same: [`DecryptError::KeyDoesNotFit`] with one fixed text
//! when a RecipientInfo names the key, [`DecryptError::NoRecipientInfoForKey`] when the key was
//! only tried by trial. Which of the two comes out depends on public identifiers only. The RSA
//! operation itself is blinded.
//!
//! # RUSTSEC-2023-0071
//!
//! PKCS#1 v1.5 decryption uses the `rsa` 0.9 crate, which has the "Marvin" timing side channel:
//! an attacker who can time many decryptions of ciphertexts they choose may recover a
//! plaintext. Here the key's owner decrypts their own stored mail offline; nobody else can
//! submit ciphertexts and watch the timing, so the attack does not apply. Do not put this
//! module behind a service that decrypts on request for others.

mod content;
mod inner;
mod kari;
mod keys;
mod ktri;
mod structure;

pub use inner::{inspect_inner, InnerBody};
pub use keys::DecryptionKey;

use cms::content_info::ContentInfo;
use cms::enveloped_data::{EncryptedContentInfo, RecipientIdentifier};
use content::Protection;
use der::Decode;
use keys::Secret;
use structure::{
    oid, AuthEnvelopedData, EnvelopedData, KeyAgreeRecipientIdentifier, KeyAgreeRecipientInfo,
    RecipientEncryptedKey, RecipientInfo, RecipientInfoList,
};

/// Why an envelope could not be opened with the given keys. A finding for the report, not a
/// failure of the tool. Messages never contain key material.
#[derive(Debug, thiserror::Error)]
pub enum DecryptError {
    /// No RecipientInfo names these keys and none opened with them by trial: the key's owner
    /// is not a recipient (or, for a key tried by trial, the envelope is damaged: the two are
    /// not told apart, see the module documentation).
    #[error(
        "none of the RecipientInfos is for the given key(s): its owner is not a recipient (or the envelope is damaged)"
    )]
    NoRecipientInfoForKey,
    /// Key transport or key agreement failed: a RecipientInfo names this key (or was tried
    /// with it) but the key does not open it.
    #[error("the key does not open its RecipientInfo: {0}")]
    KeyDoesNotFit(String),
    /// kekri, pwri or ori, or an algorithm this tool does not do.
    #[error("unsupported RecipientInfo: {0}")]
    UnsupportedRecipientInfo(String),
    /// The content-encryption algorithm is not supported (checked before any key is tried).
    #[error("unsupported content encryption: {0}")]
    UnsupportedCipher(String),
    /// Bad padding, GCM tag mismatch, malformed structure, or no content.
    #[error("the encrypted payload is damaged: {0}")]
    Damaged(String),
}

impl DecryptError {
    /// A stable kebab-case code for JSON output.
    pub fn code(&self) -> &'static str {
        match self {
            DecryptError::NoRecipientInfoForKey => "no-recipient-info-for-key",
            DecryptError::KeyDoesNotFit(_) => "key-does-not-fit",
            DecryptError::UnsupportedRecipientInfo(_) => "unsupported-recipient-info",
            DecryptError::UnsupportedCipher(_) => "unsupported-cipher",
            DecryptError::Damaged(_) => "damaged",
        }
    }
}

impl From<DecryptError> for crate::Error {
    fn from(e: DecryptError) -> Self {
        crate::Error::Cms { context: "decrypting the envelope".to_owned(), reason: e.to_string() }
    }
}

/// An opened envelope.
#[derive(Clone, PartialEq, Eq)]
pub struct Decrypted {
    /// The decrypted content: for S/MIME, a MIME entity (RFC 8551 §3.1).
    pub plaintext: Vec<u8>,
    /// Which RecipientInfo opened it, counted in wire order, where each kari counts once per
    /// RecipientEncryptedKey (flattened in order) and every other kind once.
    pub recipient_index: usize,
}

impl std::fmt::Debug for Decrypted {
    /// The plaintext is the owner's private mail: only its length is shown.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Decrypted")
            .field("plaintext_len", &self.plaintext.len())
            .field("recipient_index", &self.recipient_index)
            .finish()
    }
}

/// `der`: a DER ContentInfo of EnvelopedData (RFC 5652 §6) or AuthEnvelopedData (RFC 5083).
/// Tries every key: RecipientInfos matching the key's certificate (issuer+serial compared with
/// [`crate::name::IssuerSerial`], or SKI) first; then each ktri/kari compatible with the key
/// type, so a key without a certificate (or with a renewed one) still opens its envelope.
///
/// Errors, when nothing opens: [`DecryptError::Damaged`] if the structure is malformed (checked
/// before any key is tried), or an EC key agreement fitted but the content did not decrypt;
/// [`DecryptError::UnsupportedCipher`] if the content encryption is not supported (checked
/// before any key is tried); [`DecryptError::KeyDoesNotFit`] if a RecipientInfo names a key's
/// certificate and that key does not open it and the content with it (for RSA, one fixed text
/// whatever failed: see "No padding oracle" above); [`DecryptError::NoRecipientInfoForKey`] if
/// none names the keys and none opened by trial; [`DecryptError::UnsupportedRecipientInfo`] if
/// nothing could be tried because every RecipientInfo is of a kind or algorithm we lack.
pub fn decrypt(der: &[u8], keys: &[DecryptionKey]) -> Result<Decrypted, DecryptError> {
    let envelope = Envelope::parse(der)?;
    let ciphertext = envelope
        .content
        .encrypted_content
        .as_ref()
        .ok_or_else(|| {
            DecryptError::Damaged("the encrypted content is absent (detached content)".into())
        })?
        .as_bytes();
    let protection = match &envelope.auth {
        None => Protection::Enveloped,
        Some((aad, mac)) => Protection::Authenticated { aad, mac },
    };

    let slots = flatten(&envelope.recipients.0);
    let attempts = plan(&slots, keys);
    if attempts.is_empty() {
        return Err(nothing_to_try(&slots, keys));
    }
    // Before any private-key work: what fails after it must depend on the key only.
    content::check_structure(&envelope.content.content_enc_alg, &protection, ciphertext)?;

    let mut outcome = Outcome::default();
    for attempt in attempts {
        let (Some(slot), Some(key)) = (slots.get(attempt.slot), keys.get(attempt.key)) else {
            continue;
        };
        // RSA key transport: one answer for every failure after the RSA operation starts.
        let rsa_transport = matches!((slot, &key.secret), (Slot::Ktri(_), Secret::Rsa(_)));
        let cek = match unwrap_key(slot, key) {
            Ok(cek) => cek,
            Err(e) => {
                outcome.key_failure(attempt.named, e);
                continue;
            }
        };
        match content::decrypt_content(
            &envelope.content.content_enc_alg,
            &protection,
            &cek,
            ciphertext,
        ) {
            Ok(plaintext) => return Ok(Decrypted { plaintext, recipient_index: attempt.slot }),
            Err(_) if rsa_transport => outcome.key_failure(
                attempt.named,
                DecryptError::KeyDoesNotFit(ktri::RSA_FAILURE.to_owned()),
            ),
            // The key fitted: an unsupported cipher is the answer, whichever key we try.
            Err(e @ DecryptError::UnsupportedCipher(_)) => return Err(e),
            Err(e @ DecryptError::Damaged(_)) => outcome.damaged = Some(e),
            // A wrong-length content key: the key transport "succeeded" with a wrong key
            // (PKCS#1 v1.5 padding can pass by chance).
            Err(e) => outcome.key_failure(attempt.named, e),
        }
    }
    Err(outcome.into_error())
}

/// The parsed envelope, either kind.
struct Envelope {
    recipients: RecipientInfoList,
    content: EncryptedContentInfo,
    /// AuthEnvelopedData: (additional data = DER SET OF authAttrs or empty, mac).
    auth: Option<(Vec<u8>, Vec<u8>)>,
}

impl Envelope {
    fn parse(der: &[u8]) -> Result<Envelope, DecryptError> {
        let info = ContentInfo::from_der(der)
            .map_err(|e| DecryptError::Damaged(format!("not a DER CMS ContentInfo: {e}")))?;
        if info.content_type == oid::ENVELOPED_DATA {
            let env = info
                .content
                .decode_as::<EnvelopedData>()
                .map_err(|e| DecryptError::Damaged(format!("EnvelopedData does not parse: {e}")))?;
            Ok(Envelope { recipients: env.recip_infos, content: env.encrypted_content, auth: None })
        } else if info.content_type == oid::AUTH_ENVELOPED_DATA {
            let env = info.content.decode_as::<AuthEnvelopedData>().map_err(|e| {
                DecryptError::Damaged(format!("AuthEnvelopedData does not parse: {e}"))
            })?;
            // RFC 5083 §2.2: the additional data is the DER of authAttrs with the SET OF tag
            // (0x31) in place of the IMPLICIT [1].
            let aad = match &env.auth_attrs {
                None => Vec::new(),
                Some(raw) => der::Encode::to_der(raw).map_err(|e| {
                    DecryptError::Damaged(format!("authAttrs do not re-encode: {e}"))
                })?,
            };
            Ok(Envelope {
                recipients: env.recip_infos,
                content: env.auth_encrypted_content,
                auth: Some((aad, env.mac.into_bytes())),
            })
        } else {
            Err(DecryptError::Damaged(format!(
                "the ContentInfo holds {}, not EnvelopedData or AuthEnvelopedData",
                algorithm_name(&info.content_type)
            )))
        }
    }
}

/// One RecipientInfo, or one RecipientEncryptedKey of a kari: the unit `recipient_index`
/// counts.
enum Slot<'a> {
    Ktri(&'a cms::enveloped_data::KeyTransRecipientInfo),
    Kari {
        kari: &'a KeyAgreeRecipientInfo,
        rek: &'a RecipientEncryptedKey,
    },
    /// kekri, pwri, ori: need a shared secret or password, not a private key.
    Other(&'static str),
}

fn flatten(recipients: &[RecipientInfo]) -> Vec<Slot<'_>> {
    let mut slots = Vec::new();
    for ri in recipients {
        match ri {
            RecipientInfo::Ktri(k) => slots.push(Slot::Ktri(k)),
            RecipientInfo::Kari(kari) => {
                slots.extend(kari.recipient_enc_keys.0.iter().map(|rek| Slot::Kari { kari, rek }))
            }
            RecipientInfo::Kekri(_) => slots.push(Slot::Other("kekri")),
            RecipientInfo::Pwri(_) => slots.push(Slot::Other("pwri")),
            RecipientInfo::Ori(_) => slots.push(Slot::Other("ori")),
        }
    }
    slots
}

/// A (slot, key) pair to try; `named`: the slot's identifier names this key.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Attempt {
    slot: usize,
    key: usize,
    named: bool,
}

/// Named pairs first (for every key), then every other type-compatible pair.
fn plan(slots: &[Slot<'_>], keys: &[DecryptionKey]) -> Vec<Attempt> {
    let mut named = Vec::new();
    let mut blind = Vec::new();
    for (k, key) in keys.iter().enumerate() {
        let issuer_serials = key.issuer_serials();
        let skis = key.subject_key_ids();
        let names = |rid_is: Option<&cms::cert::IssuerAndSerialNumber>, rid_ski: Option<&[u8]>| {
            rid_is.is_some_and(|is| {
                issuer_serials.contains(&crate::IssuerSerial::new(&is.issuer, &is.serial_number))
            }) || rid_ski.is_some_and(|ski| skis.iter().any(|s| s.as_slice() == ski))
        };
        for (s, slot) in slots.iter().enumerate() {
            let (compatible, is_named) = match slot {
                Slot::Ktri(ktri) => {
                    let named = match &ktri.rid {
                        RecipientIdentifier::IssuerAndSerialNumber(is) => names(Some(is), None),
                        RecipientIdentifier::SubjectKeyIdentifier(ski) => {
                            names(None, Some(ski.0.as_bytes()))
                        }
                    };
                    (matches!(key.secret, Secret::Rsa(_)), named)
                }
                Slot::Kari { kari, rek } => {
                    let named = match &rek.rid {
                        KeyAgreeRecipientIdentifier::IssuerAndSerialNumber(is) => {
                            names(Some(is), None)
                        }
                        KeyAgreeRecipientIdentifier::RKeyId(r) => {
                            names(None, Some(r.subject_key_identifier.0.as_bytes()))
                        }
                    };
                    let curve_fits = match (&key.secret, kari::originator_curve(kari)) {
                        (Secret::Rsa(_), _) => false,
                        (_, None) => true,
                        (Secret::P256(_), Some(c)) => c == kari::Curve::P256,
                        (Secret::P384(_), Some(c)) => c == kari::Curve::P384,
                    };
                    (curve_fits, named)
                }
                Slot::Other(_) => (false, false),
            };
            // A named slot is tried even if the types disagree: its failure is the answer.
            if is_named {
                named.push(Attempt { slot: s, key: k, named: true });
            } else if compatible {
                blind.push(Attempt { slot: s, key: k, named: false });
            }
        }
    }
    named.extend(blind);
    named
}

fn unwrap_key(
    slot: &Slot<'_>,
    key: &DecryptionKey,
) -> Result<zeroize::Zeroizing<Vec<u8>>, DecryptError> {
    match (slot, &key.secret) {
        (Slot::Ktri(ktri), Secret::Rsa(rsa)) => {
            ktri::unwrap_key(rsa, &ktri.key_enc_alg, ktri.enc_key.as_bytes())
        }
        (Slot::Ktri(_), _) => Err(DecryptError::KeyDoesNotFit(format!(
            "the ktri names this key's certificate, but ktri needs an RSA key, not {}",
            key.kind()
        ))),
        (Slot::Kari { kari, rek }, secret) => {
            kari::unwrap_key(secret, kari, rek.enc_key.as_bytes())
        }
        (Slot::Other(kind), _) => Err(DecryptError::UnsupportedRecipientInfo(format!(
            "{kind} (needs a shared key or password, not a private key)"
        ))),
    }
}

/// Failures so far, kept to pick the most telling one.
#[derive(Default)]
struct Outcome {
    /// A key fitted but the content did not decrypt.
    damaged: Option<DecryptError>,
    /// First failure on a slot that names the key.
    named: Option<DecryptError>,
    /// First unsupported-algorithm failure on a slot tried by trial.
    blind_unsupported: Option<DecryptError>,
    /// A trial attempt ran and the key did not fit.
    blind_tried: bool,
}

impl Outcome {
    fn key_failure(&mut self, named: bool, e: DecryptError) {
        if named {
            self.named.get_or_insert(e);
        } else if matches!(e, DecryptError::UnsupportedRecipientInfo(_)) {
            self.blind_unsupported.get_or_insert(e);
        } else {
            self.blind_tried = true;
        }
    }

    fn into_error(self) -> DecryptError {
        self.damaged
            .or(self.named)
            .or(if self.blind_tried { Some(DecryptError::NoRecipientInfoForKey) } else { None })
            .or(self.blind_unsupported)
            .unwrap_or(DecryptError::NoRecipientInfoForKey)
    }
}

/// No pair to try: say whether that is because the envelope only has kinds we cannot open.
fn nothing_to_try(slots: &[Slot<'_>], keys: &[DecryptionKey]) -> DecryptError {
    let has_key_slot = slots.iter().any(|s| !matches!(s, Slot::Other(_)));
    let others: Vec<&str> = slots
        .iter()
        .filter_map(|s| if let Slot::Other(kind) = s { Some(*kind) } else { None })
        .collect();
    if !keys.is_empty() && !has_key_slot && !others.is_empty() {
        let mut kinds = others;
        kinds.dedup();
        DecryptError::UnsupportedRecipientInfo(format!(
            "the envelope only has {} recipient infos (need a shared key or password, not a \
             private key)",
            kinds.join(", ")
        ))
    } else {
        DecryptError::NoRecipientInfoForKey
    }
}

/// An OID's name from the const-oid database, else its dotted form.
pub(crate) fn algorithm_name(oid: &der::asn1::ObjectIdentifier) -> String {
    const_oid::db::DB.by_oid(oid).map(str::to_owned).unwrap_or_else(|| oid.to_string())
}

#[cfg(test)]
mod tests;
