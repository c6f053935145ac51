//! From a parsed message to the facts the rules judge: where the S/MIME layers are, what each
//! envelope holds, which certificates its RecipientInfos name, and who can therefore decrypt.

use super::skim::{BodyHole, PartHoles};
use crate::address::Address;
use crate::cert::Certificate;
use crate::certs::CertStore;
use crate::cms::{self, CmsSummary, EnvelopeSummary, RecipientInfoSummary, RecipientKeyId};
use crate::decrypt::{self, DecryptionKey};
use crate::smartreply::{self, SmartReplyFinding, SmartReplyShape};
use crate::smime::{self, Placement, SmimeKind, SmimeLayer};
use std::collections::{BTreeSet, HashMap};

/// How deep opaque signatures are followed (a signed message inside a signed message ...).
pub const MAX_SIGNED_DEPTH: u32 = 4;

/// What an envelope is to the message (`role` in the report's `encryption.envelopes`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum EnvelopeRole {
    /// The message itself is encrypted: top level, inside a top-level multipart/signed, or the
    /// content of a top-level opaque signature.
    Message,
    /// Nested beside a blank body: the SmartReply mangling. The payload was meant to be the
    /// message, so its RecipientInfos decide who can read it.
    MangledReply,
    /// Deliberately attached below a written body.
    Attachment,
}

impl EnvelopeRole {
    /// Whether the envelope decides who can read the message.
    pub fn carries_the_message(self) -> bool {
        matches!(self, EnvelopeRole::Message | EnvelopeRole::MangledReply)
    }
}

/// One envelope and the certificates its RecipientInfos match.
pub struct EnvelopeFacts<'s> {
    pub path: String,
    pub role: EnvelopeRole,
    pub summary: EnvelopeSummary,
    /// Per RecipientInfo (same order as `summary.recipient_infos`): matching certificates.
    pub matches: Vec<Vec<&'s Certificate>>,
    /// The envelope's bytes, kept only when there are keys to decrypt with.
    pub bytes: Option<Vec<u8>>,
}

/// An S/MIME part that could not be parsed.
pub struct Malformed {
    pub path: String,
    pub why: String,
    /// `Message` when the part is (or holds) the message itself, else `Attachment`.
    pub role: EnvelopeRole,
}

/// A part of the message that was not examined because a bound was reached
/// ([`smime::MAX_DEPTH`], [`smime::MAX_PARTS`], [`MAX_SIGNED_DEPTH`]): an S/MIME part there
/// would go unseen.
pub struct NotExamined {
    /// MIME path of the part whose inside was not examined; empty for the whole message.
    pub path: String,
    /// What was not examined, naming the bound: "the parts after part 10000 were not
    /// examined", ...
    pub why: String,
}

/// Everything found in the message's MIME tree.
#[derive(Default)]
pub struct Layers<'s> {
    pub envelopes: Vec<EnvelopeFacts<'s>>,
    pub malformed: Vec<Malformed>,
    /// Where the walk stopped at a bound.
    pub not_examined: Vec<NotExamined>,
    pub signed: bool,
    pub smartreply: Option<SmartReplyFinding>,
    /// Paths of envelopes attached deliberately below a written body.
    pub deliberate: Vec<String>,
}

impl<'s> Layers<'s> {
    /// Envelopes that decide who can read the message.
    pub fn message_envelopes(&self) -> impl Iterator<Item = &EnvelopeFacts<'s>> {
        self.envelopes.iter().filter(|e| e.role.carries_the_message())
    }

    /// Whether the message is encrypted (some envelope carries it).
    pub fn is_encrypted(&self) -> bool {
        self.message_envelopes().next().is_some()
    }

    /// Resolves ambiguous RecipientInfos: issuer name + serial can match certificates of two CA
    /// generations. When some of the candidates name one of the message's own participants,
    /// those are the ones the sender used; the others are dropped.
    pub fn prefer_participants(&mut self, participants: &[&Address]) {
        for env in &mut self.envelopes {
            for certs in &mut env.matches {
                if certs.len() < 2 {
                    continue;
                }
                let named = |c: &&Certificate| participants.iter().any(|a| c.names(a).is_some());
                if certs.iter().any(named) {
                    certs.retain(named);
                }
            }
        }
    }

    /// How many message-carrying RecipientInfos match no known certificate.
    pub fn unknown_recipient_infos(&self) -> usize {
        self.message_envelopes().flat_map(|e| &e.matches).filter(|m| m.is_empty()).count()
    }

    /// Addresses named by certificates that some message-carrying RecipientInfo matches, and
    /// whether any such RecipientInfo matches nothing known (so others might still decrypt).
    pub fn decryptors(&self) -> (BTreeSet<&Address>, bool) {
        let mut known = BTreeSet::new();
        let mut unknown = false;
        for env in self.message_envelopes() {
            for certs in &env.matches {
                if certs.is_empty() {
                    unknown = true;
                }
                for c in certs {
                    known.extend(c.addresses().iter().map(|n| &n.address));
                }
            }
        }
        (known, unknown)
    }
}

/// The certificates a RecipientInfo names. Issuer is compared as a Name and serial as an
/// integer; a certificate of another CA generation with the same issuer name and serial also
/// matches (nothing in the RecipientInfo tells them apart), so callers see every candidate.
pub fn match_recipient_info<'s>(
    store: &'s CertStore,
    ri: &RecipientInfoSummary,
) -> Vec<&'s Certificate> {
    match &ri.id {
        Some(RecipientKeyId::IssuerSerial { key, .. }) => store.by_issuer_serial(key).collect(),
        Some(RecipientKeyId::SubjectKeyIdentifier(ski)) => store.by_ski(ski).collect(),
        None => Vec::new(),
    }
}

struct Walk<'a, 's> {
    store: &'s CertStore,
    keep_bytes: bool,
    out: &'a mut Layers<'s>,
    /// Top-level envelope emptiness by part id, for the SmartReply rule.
    top_empty: HashMap<u32, bool>,
    /// Top-level parts whose decoded bodies lack bytes or were cut out (a skimmed parse, see
    /// [`super::skim`]).
    holes: &'a PartHoles<'a>,
    /// A body with a hole needed its missing bytes: the result is void.
    needs_full: bool,
}

/// Finds and inspects every S/MIME layer of `msg`.
pub fn analyse<'s>(
    msg: &mail_parser::Message<'_>,
    store: &'s CertStore,
    keys: &[DecryptionKey],
) -> Layers<'s> {
    let mut out = Layers::default();
    let located = smime::locate_bounded(msg);
    note_limits(&mut out, &located.limits, "");
    let layers = located.layers;
    let no_holes = PartHoles::default();
    let mut walk = Walk {
        store,
        keep_bytes: !keys.is_empty(),
        out: &mut out,
        top_empty: HashMap::new(),
        holes: &no_holes,
        needs_full: false,
    };
    walk.layers(&layers, "", true, 0);
    let top_empty = walk.top_empty;
    finish(msg, &layers, out, top_empty)
}

/// [`analyse`] of a skimmed parse: `holes` says which top-level parts lack bytes of their
/// decoded body, and which bodies were cut out whole. `None` when some S/MIME layer needs
/// missing bytes (not an envelope, or the hole is not inside its ciphertext), or when a cut-out
/// text body would be read (by the blank-reply rule, for an S/MIME layer below the top level):
/// the caller must analyse the full parse instead.
pub(crate) fn analyse_skimmed<'s>(
    msg: &mail_parser::Message<'_>,
    store: &'s CertStore,
    holes: &PartHoles<'_>,
) -> Option<Layers<'s>> {
    let mut out = Layers::default();
    let located = smime::locate_bounded(msg);
    note_limits(&mut out, &located.limits, "");
    let layers = located.layers;
    let reads_text = |l: &SmimeLayer<'_>| {
        l.placement == Placement::Nested && l.kind != SmimeKind::DetachedSignature
    };
    if holes.text && layers.iter().any(reads_text) {
        return None;
    }
    let mut walk = Walk {
        store,
        keep_bytes: false,
        out: &mut out,
        top_empty: HashMap::new(),
        holes,
        needs_full: false,
    };
    walk.layers(&layers, "", true, 0);
    if walk.needs_full {
        return None;
    }
    let top_empty = walk.top_empty;
    Some(finish(msg, &layers, out, top_empty))
}

/// Records the bounds a MIME walk reached; `prefix` is the path of the opaque signature whose
/// content was walked (empty for the message itself).
fn note_limits(out: &mut Layers<'_>, limits: &[smime::WalkLimit], prefix: &str) {
    let whole = if prefix.is_empty() {
        "the message".to_owned()
    } else {
        format!("the content signed at part {prefix}")
    };
    for limit in limits {
        out.not_examined.push(match limit {
            smime::WalkLimit::Depth { path } => {
                let path = if prefix.is_empty() { path.clone() } else { format!("{prefix}.{path}") };
                NotExamined {
                    why: format!(
                        "{whole} nests MIME parts deeper than {max} levels: the parts inside part {} were not examined (beyond depth {max})",
                        abbreviated(&path),
                        max = smime::MAX_DEPTH
                    ),
                    path,
                }
            }
            smime::WalkLimit::Parts => NotExamined {
                path: prefix.to_owned(),
                why: format!(
                    "{whole} has more than {max} MIME parts: the parts after part {max} were not examined",
                    max = smime::MAX_PARTS
                ),
            },
        });
    }
}

/// A MIME path short enough to read: `1.2.1.….3` when it has more than six sections.
fn abbreviated(path: &str) -> String {
    let sections: Vec<&str> = path.split('.').collect();
    match (sections.get(..3), sections.last()) {
        (Some(head), Some(last)) if sections.len() > 6 => format!("{}.….{last}", head.join(".")),
        _ => path.to_owned(),
    }
}

fn finish<'s>(
    msg: &mail_parser::Message<'_>,
    layers: &[SmimeLayer<'_>],
    mut out: Layers<'s>,
    top_empty: HashMap<u32, bool>,
) -> Layers<'s> {
    let is_env = |l: &SmimeLayer<'_>| top_empty.get(&l.part_id).copied();
    out.smartreply = smartreply::smartreply_blank_body(msg, layers, &is_env);
    out.deliberate =
        smartreply::encrypted_attachment(msg, layers, &|l| top_empty.contains_key(&l.part_id));
    let mangled = match &out.smartreply {
        Some(SmartReplyFinding {
            shape: SmartReplyShape::EnvelopeAsAttachment { path }, ..
        }) => Some(path.clone()),
        _ => None,
    };
    for env in &mut out.envelopes {
        if env.role != EnvelopeRole::Message && mangled.as_deref() == Some(env.path.as_str()) {
            env.role = EnvelopeRole::MangledReply;
        }
    }
    // Envelopes that are every alternative of the body are the message.
    if out.envelopes.iter().any(|e| e.role == EnvelopeRole::Attachment) {
        let is_env = |l: &SmimeLayer<'_>| top_empty.contains_key(&l.part_id);
        let alternatives: std::collections::HashSet<String> =
            smartreply::encrypted_alternatives(msg, layers, &is_env).into_iter().collect();
        for env in &mut out.envelopes {
            if alternatives.contains(&env.path) {
                env.role = EnvelopeRole::Message;
            }
        }
    }
    out
}

impl<'s> Walk<'_, 's> {
    /// `top`: these layers belong to the message itself (not to a signed content inside it).
    fn layers(&mut self, layers: &[SmimeLayer<'_>], prefix: &str, top: bool, depth: u32) {
        for layer in layers {
            let path = if prefix.is_empty() {
                layer.path.clone()
            } else {
                format!("{prefix}.{}", layer.path)
            };
            let is_message =
                matches!(layer.placement, Placement::Message | Placement::SignedMessage);
            let role = if is_message { EnvelopeRole::Message } else { EnvelopeRole::Attachment };
            match layer.kind {
                SmimeKind::DetachedSignature => {
                    self.out.signed = true;
                    continue;
                }
                SmimeKind::CertsOnly => continue,
                _ => {}
            }
            if top && self.holes.is_unread(layer.part_id) {
                // Cut out as unread, yet a layer whose body is read: the walk and the audit
                // disagree.
                self.needs_full = true;
                return;
            }
            let filled: Vec<u8>;
            let inspected = match self.holes.base64.get(&layer.part_id).filter(|_| top) {
                None => cms::inspect(layer.bytes),
                Some(hole) => match inspect_with_hole(layer.bytes, hole) {
                    Some(result) => result,
                    // The answer needs the missing bytes (BER segments, many recipients, a
                    // signature's content): decode them.
                    None => match hole.fill(layer.bytes) {
                        Some(full) => {
                            filled = full;
                            cms::inspect(&filled)
                        }
                        None => {
                            self.needs_full = true;
                            return;
                        }
                    },
                },
            };
            match inspected {
                Err(e) => self.out.malformed.push(Malformed { path, why: e.to_string(), role }),
                Ok(CmsSummary::Enveloped(summary)) => {
                    if top {
                        self.top_empty
                            .insert(layer.part_id, summary.encrypted_content_len.unwrap_or(0) == 0);
                    }
                    let matches = summary
                        .recipient_infos
                        .iter()
                        .map(|ri| match_recipient_info(self.store, ri))
                        .collect();
                    let bytes = self.keep_bytes.then(|| layer.bytes.to_vec());
                    self.out.envelopes.push(EnvelopeFacts { path, role, summary, matches, bytes });
                }
                Ok(CmsSummary::Signed(signed)) => {
                    self.out.signed = true;
                    let Some(content) = signed.econtent.as_deref() else { continue };
                    if content.is_empty() {
                        continue;
                    }
                    if depth >= MAX_SIGNED_DEPTH {
                        self.out.not_examined.push(NotExamined {
                            why: format!(
                                "opaque signatures are nested more than {MAX_SIGNED_DEPTH} deep: the content signed at part {path} was not examined"
                            ),
                            path,
                        });
                        continue;
                    }
                    // The signed content is a MIME entity (RFC 8551 §3.5.1); an envelope that is
                    // the whole content of a message-level signature is the message itself.
                    // Bodies inside it that the audit never reads are cut out first (it is
                    // often a whole message with attachments); any doubt parses it whole.
                    let parser = crate::message::OutgoingMessage::shared_parser();
                    let skimmed = super::skim::skim_unread(content);
                    let copy = skimmed.as_ref().and_then(|s| {
                        let msg = parser.parse(&s.bytes)?;
                        s.holes_by_part(content, &msg).map(|_| msg)
                    });
                    let Some(inner) = copy.or_else(|| parser.parse(content)) else {
                        continue;
                    };
                    let located = smime::locate_bounded(&inner);
                    note_limits(self.out, &located.limits, &path);
                    let inner_layers = located.layers;
                    let start = self.out.envelopes.len();
                    let malformed_start = self.out.malformed.len();
                    self.layers(&inner_layers, &path, false, depth + 1);
                    if !is_message {
                        for env in &mut self.out.envelopes[start..] {
                            env.role = EnvelopeRole::Attachment;
                        }
                        for m in &mut self.out.malformed[malformed_start..] {
                            m.role = EnvelopeRole::Attachment;
                        }
                    }
                }
                Ok(CmsSummary::Other { content_type }) => {
                    if matches!(
                        layer.kind,
                        SmimeKind::Enveloped | SmimeKind::AuthEnveloped | SmimeKind::OpaqueSigned
                    ) {
                        self.out.malformed.push(Malformed {
                            path,
                            why: format!(
                                "declared as {:?} but holds CMS content type {content_type}",
                                layer.kind
                            ),
                            role,
                        });
                    }
                }
            }
        }
    }
}

/// A scratch buffer per thread for [`inspect_with_hole`], kept between messages so that the
/// hole (up to the size of the largest message seen) is neither zeroed nor faulted in again;
/// a larger one is allocated zeroed, so that its hole is not faulted in at all.
const SCRATCH_KEEP: usize = 64 * 1024 * 1024;

thread_local! {
    static SCRATCH: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// The bytes a skimmed body lacks, fetched from their base64 text when the BER walk reads them.
struct HoleBytes<'h, 'r> {
    hole: &'h BodyHole<'r>,
    /// Missing bytes decoded up front at the hole's start ([`BodyHole::prefix`]).
    decoded: usize,
    /// Where the last fetch found its letters: the walk reads forward.
    cursor: std::cell::Cell<(usize, usize)>,
}

impl crate::ber::Missing for HoleBytes<'_, '_> {
    fn range(&self) -> std::ops::Range<usize> {
        self.hole.at + self.decoded..self.hole.at + self.hole.len
    }

    fn fetch(&self, at: usize, out: &mut [u8]) -> bool {
        self.hole.fetch(at, out, &self.cursor)
    }

    fn fork(&self) -> Option<Box<dyn crate::ber::Missing + Send + '_>> {
        Some(Box::new(HoleBytes {
            hole: self.hole,
            decoded: self.decoded,
            cursor: std::cell::Cell::new((0, 0)),
        }))
    }
}

/// The missing bytes at the hole's start that the inspection reads whole: the RecipientInfos
/// and the few bytes after them (the content's type and algorithm), as far as the first bytes
/// tell ([`cms::recipient_infos_end`]), else [`skim::PREFIX`](super::skim::PREFIX).
fn needed_prefix(hole: &BodyHole<'_>) -> Option<Vec<u8>> {
    /// Enough for the headers before the RecipientInfos (and an originatorInfo's header).
    const HEAD: usize = 192;
    /// What follows the RecipientInfos that the walk reads whole: EncryptedContentInfo's
    /// type, algorithm and parameters.
    const AFTER: usize = 256;
    let head = hole.prefix(HEAD)?;
    let want = match cms::recipient_infos_end(&head) {
        Some(end) if hole.at == 0 => end.saturating_add(AFTER),
        _ => super::skim::PREFIX,
    };
    if want <= head.len() {
        return Some(head);
    }
    hole.prefix(want)
}

/// Inspects a decoded body that lacks `hole.len` bytes at `hole.at`: rebuilds it at its real
/// length, the first [`skim::PREFIX`](super::skim::PREFIX) missing bytes decoded (where the
/// RecipientInfos are) and whatever bytes in the rest of the hole (the walk fetches the few it
/// reads, see [`cms::inspect_with_hole`], so a reused buffer does).
fn inspect_with_hole(
    kept: &[u8],
    hole: &BodyHole<'_>,
) -> Option<Result<CmsSummary, cms::CmsError>> {
    let prefix = needed_prefix(hole)?;
    let head = kept.get(..hole.at)?;
    let tail = kept.get(hole.at..)?;
    let len = kept.len().checked_add(hole.len)?;
    let tail_at = hole.at + hole.len;
    let with = |full: &mut Vec<u8>| {
        if full.len() < len {
            // A new zeroed buffer rather than a grown one: the allocator hands out zero pages
            // it has not touched (calloc), and the walk never reads the hole's bytes (it fetches
            // them from the base64 text), so a large message costs no page faults there.
            // Growing would write every byte: in a fresh process, 3,500 faults for 14 MB.
            *full = vec![0u8; len];
        }
        full.get_mut(..hole.at)?.copy_from_slice(head);
        full.get_mut(hole.at..hole.at + prefix.len())?.copy_from_slice(&prefix);
        full.get_mut(tail_at..len)?.copy_from_slice(tail);
        let missing =
            HoleBytes { hole, decoded: prefix.len(), cursor: std::cell::Cell::new((0, 0)) };
        let result = cms::inspect_with_hole(full.get(..len)?, &missing);
        if full.len() > SCRATCH_KEEP {
            *full = Vec::new();
        }
        result
    };
    SCRATCH.with(|cell| match cell.try_borrow_mut() {
        Ok(mut full) => with(&mut full),
        Err(_) => with(&mut Vec::new()),
    })
}

/// Decrypts every message-carrying envelope with the owner's keys.
pub fn decrypt_all(
    layers: &Layers<'_>,
    keys: &[DecryptionKey],
) -> Vec<(String, Result<Vec<u8>, String>)> {
    let mut results = Vec::new();
    for env in layers.envelopes.iter() {
        let Some(bytes) = &env.bytes else { continue };
        let outcome = crate::ber::to_der(bytes)
            .map_err(|e| format!("cannot normalise the envelope: {e}"))
            .and_then(|der| {
                decrypt::decrypt(&der.bytes, keys).map(|d| d.plaintext).map_err(|e| e.to_string())
            });
        results.push((env.path.clone(), outcome));
    }
    results
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::skim;
    use crate::build::{self, mime, BuildCipher};
    use rand::SeedableRng;

    fn cert(name: &str) -> x509_cert::Certificate {
        let path = format!("{}/testdata/certs/store/{name}.pem", env!("CARGO_MANIFEST_DIR"));
        let pem = std::fs::read(path).expect("test PKI");
        <x509_cert::Certificate as der::DecodePem>::from_pem(&pem).expect("certificate")
    }

    /// An envelope of `size` bytes for alice and bob, in DER and re-encoded as streamed BER.
    fn envelopes(size: usize) -> (Vec<u8>, Vec<u8>) {
        let mut rng = rand::rngs::StdRng::seed_from_u64(3);
        let content: Vec<u8> =
            (0..size).map(|i| (i.wrapping_mul(2_654_435_761) >> 9) as u8).collect();
        let der = build::envelope(
            &content,
            &[&cert("alice"), &cert("bob")],
            BuildCipher::Aes256Cbc,
            &mut rng,
        )
        .expect("envelope");
        let ber = build::to_ber_indefinite(&der).expect("ber");
        (der, ber)
    }

    /// Skims a message carrying `envelope` and inspects its body through the hole.
    fn through_the_hole(envelope: &[u8]) -> Option<Option<CmsSummary>> {
        let headers = mime::Headers::new().with("From", "alice@example.com");
        let entity = mime::pkcs7_mime_entity(envelope, mime::SmimeType::EnvelopedData);
        let raw = mime::message(&headers, &entity);
        let skimmed = skim::skim(&raw, true).expect("skimmed");
        let msg = crate::message::OutgoingMessage::parser().parse(&skimmed.bytes).expect("parsed");
        let holes = skimmed.holes_by_part(&raw, &msg).expect("holes where expected");
        let (&id, hole) = holes.base64.iter().next().expect("one hole");
        assert!(hole.len > envelope.len() / 2, "most of the body is cut out");
        let kept = msg.parts.get(id as usize).expect("part").contents();
        inspect_with_hole(kept, hole).map(Result::ok)
    }

    #[test]
    fn a_streamed_envelope_is_inspected_without_decoding_its_ciphertext() {
        let (der, ber) = envelopes(400_000);
        let whole = cms::inspect(&ber).expect("inspected");
        let CmsSummary::Enveloped(summary) = &whole else { panic!("an envelope") };
        assert!(summary.encrypted_content_len.is_some_and(|n| n >= 400_000));
        // Answered through the hole, segment headers fetched: no fall-back to decoding it.
        assert_eq!(through_the_hole(&ber), Some(Some(whole)));
        assert_eq!(through_the_hole(&der), Some(cms::inspect(&der).ok()));
    }
}
