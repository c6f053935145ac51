//! Where the S/MIME layers of a message sit in its MIME tree.
//!
//! This module reads MIME headers only; it never parses CMS. It answers: which parts carry an
//! S/MIME object (RFC 8551 §3.2: `application/pkcs7-mime` and the legacy `x-` spelling with an
//! `smime-type`, `.p7m`/`.p7s`/`.p7c` files under `application/octet-stream`, and the signature of
//! a `multipart/signed`, RFC 8551 §3.5), what kind of object each declares, and whether it *is*
//! the message (top level, or the content of a top-level `multipart/signed`) or travels somewhere
//! inside it, e.g. as an attachment beside a body, which is the ActiveSync SmartReply mangling.
//!
//! The declared kind is a claim of the headers; the caller confirms it by inspecting the CMS.
//!
//! ```
//! use smime_lint::smime::{locate, Placement, SmimeKind};
//!
//! let raw = b"From: alice@example.com\r\n\
//! Content-Type: application/pkcs7-mime; smime-type=enveloped-data; name=smime.p7m\r\n\
//! Content-Transfer-Encoding: base64\r\n\r\nMIAGCSqGSIb3DQEHA6CAMIACAQA=\r\n";
//! let msg = mail_parser::MessageParser::default().parse(&raw[..]).unwrap();
//! let layers = locate(&msg);
//! assert_eq!(layers.len(), 1);
//! assert_eq!(layers[0].kind, SmimeKind::Enveloped);
//! assert_eq!(layers[0].placement, Placement::Message);
//! assert_eq!(layers[0].path, "1");
//! ```

use mail_parser::{Message, MessagePart, MimeHeaders, PartType};

/// Deepest multipart nesting [`locate`] descends into (the top-level part is depth 0). Real mail
/// rarely nests beyond 5; anything below this depth is not visited and the walk reports
/// [`Located::truncated`].
pub const MAX_DEPTH: usize = 64;

/// Most MIME parts [`locate`] visits in one message; the rest are not visited and the walk
/// reports [`Located::truncated`].
pub const MAX_PARTS: usize = 10_000;

/// What an S/MIME part declares itself to be, from its MIME headers alone.
///
/// RFC 8551 §3.2.2 `smime-type` values, and the file name extensions of §3.2.1.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub enum SmimeKind {
    /// `smime-type=enveloped-data`: an EnvelopedData (RFC 5652 §6).
    Enveloped,
    /// `smime-type=authEnveloped-data`: an AuthEnvelopedData (RFC 5083).
    AuthEnveloped,
    /// `smime-type=signed-data`: an opaque (encapsulated) SignedData (RFC 8551 §3.5.2).
    OpaqueSigned,
    /// `smime-type=certs-only`, or a `.p7c` file: a degenerate SignedData carrying certificates.
    CertsOnly,
    /// `application/pkcs7-signature` (or `x-`), or a `.p7s` file: a detached SignedData, the
    /// signature part of a `multipart/signed` (RFC 8551 §3.5.3).
    DetachedSignature,
    /// `application/pkcs7-mime` or a `.p7m` file with a missing or unknown `smime-type`: the
    /// caller inspects the CMS content type to decide.
    Undetermined,
}

/// Where an S/MIME layer sits relative to the message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub enum Placement {
    /// The message itself: the top-level part.
    Message,
    /// The protected content (first part) of a top-level `multipart/signed`, or its signature
    /// part. Also applies through several `multipart/signed` wrapped in each other, each step
    /// taking the protected content.
    SignedMessage,
    /// Anywhere else, e.g. an attachment inside `multipart/mixed`.
    Nested,
}

/// One S/MIME part of a message.
#[derive(Clone, Debug)]
pub struct SmimeLayer<'m> {
    /// IMAP-style MIME section (RFC 3501 §6.4.5): a top-level single part is `"1"`; the children
    /// of the top-level multipart are `"1"`, `"2"`, ...; deeper parts `"1.2"`.
    pub path: String,
    /// Index into `msg.parts`.
    pub part_id: u32,
    /// The kind declared by the MIME headers.
    pub kind: SmimeKind,
    /// Whether this layer is the message or travels inside it.
    pub placement: Placement,
    /// The media type, lower case, e.g. `"application/pkcs7-mime"`.
    pub content_type: String,
    /// Content-Disposition `filename`, else Content-Type `name`.
    pub filename: Option<String>,
    /// The transfer-decoded body: the CMS blob (BER or DER). If the transfer encoding was
    /// broken, mail-parser keeps the raw text instead, and CMS parsing will say so.
    pub bytes: &'m [u8],
    /// For a [`SmimeKind::DetachedSignature`] that is the second part of a `multipart/signed`:
    /// the first part exactly as it must be hashed (RFC 8551 §3.5.3: the whole MIME entity,
    /// headers included, without the CRLF that precedes the next boundary). The bytes are those
    /// of the input: if the message was stored with bare LF line ends (e.g. in a Maildir), the
    /// verifier must restore CRLF before hashing. `None` for every other layer.
    pub signed_content: Option<&'m [u8]>,
}

impl SmimeLayer<'_> {
    /// Whether the headers declare an envelope (EnvelopedData or AuthEnvelopedData).
    pub fn is_declared_envelope(&self) -> bool {
        matches!(self.kind, SmimeKind::Enveloped | SmimeKind::AuthEnveloped)
    }
}

/// A bound of the MIME walk that was reached: part of the message was not looked at, and an
/// S/MIME part there would go unseen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WalkLimit {
    /// The multipart at `path` sits at depth [`MAX_DEPTH`]: its children were not visited.
    Depth {
        /// MIME path of the first such multipart.
        path: String,
    },
    /// [`MAX_PARTS`] parts were visited; the parts after them were not.
    Parts,
}

/// The result of [`locate_bounded`]: the layers found and whether the walk stopped early.
#[derive(Clone, Debug)]
pub struct Located<'m> {
    /// All S/MIME layers visited, in MIME order.
    pub layers: Vec<SmimeLayer<'m>>,
    /// `true` when the MIME tree was deeper than [`MAX_DEPTH`] or had more than [`MAX_PARTS`]
    /// parts, so part of it was not looked at.
    pub truncated: bool,
    /// Which bounds were reached, each at most once, depth first.
    pub limits: Vec<WalkLimit>,
}

/// All S/MIME layers of the message, in MIME order.
///
/// Does not descend into `message/rfc822` (or `message/global`) parts: a forwarded S/MIME
/// message is a different message. Bounded: at most [`MAX_PARTS`] parts and [`MAX_DEPTH`]
/// levels of multipart nesting are visited; use [`locate_bounded`] to learn whether that bound
/// was hit.
pub fn locate<'m>(msg: &'m Message<'m>) -> Vec<SmimeLayer<'m>> {
    locate_bounded(msg).layers
}

/// [`locate`], also telling whether the walk stopped at [`MAX_DEPTH`] or [`MAX_PARTS`].
pub fn locate_bounded<'m>(msg: &'m Message<'m>) -> Located<'m> {
    let walk = walk(msg);
    let layers = walk.nodes.iter().filter_map(|node| layer_of(msg, node)).collect();
    let limits = walk
        .deeper_than_max
        .map(|path| WalkLimit::Depth { path })
        .into_iter()
        .chain(walk.more_than_max_parts.then_some(WalkLimit::Parts))
        .collect();
    Located { layers, truncated: walk.truncated, limits }
}

fn layer_of<'m>(msg: &'m Message<'m>, node: &Node<'m>) -> Option<SmimeLayer<'m>> {
    let part = node.part;
    let media = media_type(part)?;
    if media.0 != "application" {
        return None;
    }
    let filename = part.attachment_name().map(|n| n.trim().to_string());
    let kind = declared_kind(part, &media.1, filename.as_deref())?;
    let placement = match node.chain {
        Chain::Root => Placement::Message,
        Chain::SignedContent | Chain::SignedSignature => Placement::SignedMessage,
        Chain::Other => Placement::Nested,
    };
    let signed_content = if kind == SmimeKind::DetachedSignature {
        node.signed_sibling
            .and_then(|id| usize::try_from(id).ok())
            .and_then(|id| msg.parts.get(id))
            .and_then(|sibling| raw_entity(msg, sibling))
    } else {
        None
    };
    Some(SmimeLayer {
        path: node.path.clone(),
        part_id: node.part_id,
        kind,
        placement,
        content_type: format!("{}/{}", media.0, media.1),
        filename,
        bytes: part.contents(),
        signed_content,
    })
}

/// The kind [`locate`] gives this part as an S/MIME layer, judging by its headers alone (as it
/// does): `Some` for an `application/*` part that declares an S/MIME type or name.
pub(crate) fn layer_kind(part: &MessagePart<'_>) -> Option<SmimeKind> {
    let (ctype, subtype) = media_type(part)?;
    let filename = part.attachment_name().map(|n| n.trim().to_string());
    if ctype != "application" {
        return None;
    }
    declared_kind(part, &subtype, filename.as_deref())
}

/// The kind an `application/*` part declares, or `None` when it is not S/MIME.
fn declared_kind(
    part: &MessagePart<'_>,
    subtype: &str,
    filename: Option<&str>,
) -> Option<SmimeKind> {
    let smime_type = part.content_type().and_then(|ct| ct.attribute("smime-type")).map(str::trim);
    let by_extension = filename.and_then(extension_kind);
    match subtype {
        "pkcs7-mime" | "x-pkcs7-mime" => Some(
            smime_type
                .and_then(smime_type_kind)
                .or(match by_extension {
                    // RFC 8551 §3.2.1: .p7c names a certs-only object; .p7m is any of the others.
                    Some(SmimeKind::CertsOnly) => Some(SmimeKind::CertsOnly),
                    _ => None,
                })
                .unwrap_or(SmimeKind::Undetermined),
        ),
        "pkcs7-signature" | "x-pkcs7-signature" => Some(SmimeKind::DetachedSignature),
        // Gateways and servers relabel attachments they do not know; the name survives.
        "octet-stream" => {
            let kind = by_extension?;
            Some(match kind {
                SmimeKind::Undetermined => {
                    smime_type.and_then(smime_type_kind).unwrap_or(SmimeKind::Undetermined)
                }
                other => other,
            })
        }
        _ => None,
    }
}

/// RFC 8551 §3.2.2 and RFC 5083 §2.2 `smime-type` values (compared case-insensitively).
fn smime_type_kind(value: &str) -> Option<SmimeKind> {
    [
        ("enveloped-data", SmimeKind::Enveloped),
        ("authenveloped-data", SmimeKind::AuthEnveloped),
        ("signed-data", SmimeKind::OpaqueSigned),
        ("certs-only", SmimeKind::CertsOnly),
    ]
    .into_iter()
    .find(|(name, _)| value.eq_ignore_ascii_case(name))
    .map(|(_, kind)| kind)
}

/// RFC 8551 §3.2.1 file name extensions.
fn extension_kind(filename: &str) -> Option<SmimeKind> {
    let (_, ext) = filename.trim_end_matches(['"', ' ']).rsplit_once('.')?;
    if ext.eq_ignore_ascii_case("p7m") {
        Some(SmimeKind::Undetermined)
    } else if ext.eq_ignore_ascii_case("p7s") {
        Some(SmimeKind::DetachedSignature)
    } else if ext.eq_ignore_ascii_case("p7c") {
        Some(SmimeKind::CertsOnly)
    } else {
        None
    }
}

/// The media type of a part, lower case; `None` without a Content-Type header.
pub(crate) fn media_type(part: &MessagePart<'_>) -> Option<(String, String)> {
    let ct = part.content_type()?;
    Some((
        ct.ctype().trim().to_ascii_lowercase(),
        ct.subtype().unwrap_or_default().trim().to_ascii_lowercase(),
    ))
}

/// The raw bytes of a part (headers and body) as they appear in the input.
fn raw_entity<'m>(msg: &'m Message<'m>, part: &MessagePart<'_>) -> Option<&'m [u8]> {
    let start = usize::try_from(part.offset_header).ok()?;
    let end = usize::try_from(part.offset_end).ok()?;
    msg.raw_message.get(start..end)
}

/// How a part is reached from the top of the message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Chain {
    /// The top-level part.
    Root,
    /// Reached from the top only through the protected content of `multipart/signed` parts.
    SignedContent,
    /// The signature part of a `multipart/signed` that is itself `Root` or `SignedContent`.
    SignedSignature,
    /// Anywhere else.
    Other,
}

/// One visited MIME part.
#[derive(Clone, Debug)]
pub(crate) struct Node<'m> {
    pub(crate) part_id: u32,
    pub(crate) part: &'m MessagePart<'m>,
    pub(crate) path: String,
    pub(crate) chain: Chain,
    /// For the second child of a `multipart/signed`: the part id of the first child.
    pub(crate) signed_sibling: Option<u32>,
}

/// The parts of a message in MIME order, bounded by [`MAX_DEPTH`] and [`MAX_PARTS`].
#[derive(Clone, Debug, Default)]
pub(crate) struct Walk<'m> {
    pub(crate) nodes: Vec<Node<'m>>,
    pub(crate) truncated: bool,
    /// The path of the first multipart whose children lie below [`MAX_DEPTH`].
    pub(crate) deeper_than_max: Option<String>,
    /// Parts after the first [`MAX_PARTS`] were not visited.
    pub(crate) more_than_max_parts: bool,
}

/// Walks the MIME tree iteratively (no recursion), never into nested messages: mail-parser keeps
/// the parts of a `message/rfc822` in the nested `Message`, not in `msg.parts`.
pub(crate) fn walk<'m>(msg: &'m Message<'m>) -> Walk<'m> {
    let mut out = Walk::default();
    if msg.parts.is_empty() {
        return out;
    }
    // (part id, path, depth, chain, signed sibling)
    let mut stack: Vec<(u32, String, usize, Chain, Option<u32>)> =
        vec![(0, String::new(), 0, Chain::Root, None)];
    while let Some((part_id, path, depth, chain, signed_sibling)) = stack.pop() {
        if out.nodes.len() >= MAX_PARTS {
            out.truncated = true;
            out.more_than_max_parts = true;
            break;
        }
        let Some(part) = usize::try_from(part_id).ok().and_then(|i| msg.parts.get(i)) else {
            continue;
        };
        let children = match &part.body {
            PartType::Multipart(children) => Some(children),
            _ => None,
        };
        // A top-level single part is section "1"; a top-level multipart has no number.
        let own_path =
            if path.is_empty() && children.is_none() { "1".to_string() } else { path.clone() };
        out.nodes.push(Node { part_id, part, path: own_path, chain, signed_sibling });
        let Some(children) = children else { continue };
        if depth >= MAX_DEPTH {
            if !children.is_empty() {
                out.truncated = true;
                out.deeper_than_max.get_or_insert_with(|| path.clone());
            }
            continue;
        }
        let is_signed = media_type(part).is_some_and(|(t, s)| t == "multipart" && s == "signed");
        let on_message_chain = matches!(chain, Chain::Root | Chain::SignedContent);
        let first = children.first().copied();
        // Push in reverse so that the children pop in MIME order.
        for (index, &child) in children.iter().enumerate().rev() {
            // Part ids grow along the input; anything else is not a child we trust.
            if child <= part_id {
                continue;
            }
            let child_path = if path.is_empty() {
                (index + 1).to_string()
            } else {
                format!("{path}.{}", index + 1)
            };
            let child_chain = match (is_signed && on_message_chain, index) {
                (true, 0) => Chain::SignedContent,
                (true, 1) => Chain::SignedSignature,
                _ => Chain::Other,
            };
            let sibling = if is_signed && index == 1 { first } else { None };
            stack.push((child, child_path, depth + 1, child_chain, sibling));
        }
    }
    out
}
