//! Rule `smartreply-blank-body`: the encrypted payload is not the message but an attachment
//! beside an empty body, or the encrypted content is empty.
//!
//! iOS 5 with Exchange 2010 sent encrypted replies with ActiveSync `Cmd=SmartReply` instead of
//! `Cmd=SendMail`. The server rebuilt the MIME: the client's readable parts (there were none, the
//! client sent one `application/pkcs7-mime` part) became the body, every other part was attached
//! again, and the original message was appended. The result is `multipart/mixed` holding an empty
//! or quote-only text part and an `smime.p7m` attachment; Outlook, OWA and most other clients
//! show a blank reply.
//!
//! The shapes, from the MIME structure ([`crate::smime::locate`]) and one fact only CMS
//! inspection knows (is an envelope's encrypted content empty):
//!
//! - [`SmartReplyShape::EnvelopeAsAttachment`]: an envelope at [`Placement::Nested`] while every
//!   readable body part (`text/plain`, `text/html`, not attached, not inside a forwarded
//!   `message/rfc822`) is blank in the sense of [`is_blank_body`] / [`is_blank_html`], or there is
//!   no readable part at all, unless it is one of the [`encrypted_alternatives`] (each
//!   alternative of the body is an envelope: they are the message);
//! - [`SmartReplyShape::EmptyEnvelope`]: the message itself (or the content of its top-level
//!   `multipart/signed`) is an envelope with absent or empty encrypted content.
//!
//! An envelope attached below a written body is deliberate: [`encrypted_attachment`] reports it
//! (rule `encrypted-attachment`, info). The same functions serve the audit, the gateway and the
//! compose-time check.

mod blank;
mod context;
mod html;

pub use blank::{is_blank_body, is_blank_html, MAX_SCAN};
pub use context::{reply_context, ReplyContext};

use blank::Blankness;
use mail_parser::{Message, MimeHeaders, PartType};

use crate::smime::{media_type, walk, Chain, Placement, SmimeKind, SmimeLayer};

/// Which SmartReply fingerprint was found.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum SmartReplyShape {
    /// The envelope travels as an attachment (at MIME `path`) beside a blank body.
    EnvelopeAsAttachment {
        /// MIME path of the envelope, e.g. `"2"`.
        path: String,
    },
    /// The envelope that is the message (at MIME `path`) has no encrypted content.
    EmptyEnvelope {
        /// MIME path of the envelope, e.g. `"1"`.
        path: String,
    },
}

impl SmartReplyShape {
    /// MIME path of the envelope concerned.
    pub fn path(&self) -> &str {
        match self {
            SmartReplyShape::EnvelopeAsAttachment { path }
            | SmartReplyShape::EmptyEnvelope { path } => path,
        }
    }
}

/// A `smartreply-blank-body` finding (severity error).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct SmartReplyFinding {
    /// The fingerprint found.
    pub shape: SmartReplyShape,
    /// Whether the message is a reply or forward; the shape alone is reported too.
    pub context: ReplyContext,
    /// A sentence for people, e.g. "the encrypted reply travels as attachment smime.p7m (part 2)
    /// beside an empty body: recipients see a blank message (ActiveSync SmartReply mangling)".
    pub message: String,
}

/// The rule `smartreply-blank-body`.
///
/// `envelope_is_empty` is asked about each layer except detached signatures: `Some(empty)` when
/// the CMS is an EnvelopedData or AuthEnvelopedData (whatever the headers declare), with `empty`
/// telling whether its encrypted content is absent or zero-length; `None` when it is not an
/// envelope. The first layer in MIME order that shows a shape decides.
pub fn smartreply_blank_body(
    msg: &Message<'_>,
    layers: &[SmimeLayer<'_>],
    envelope_is_empty: &dyn Fn(&SmimeLayer<'_>) -> Option<bool>,
) -> Option<SmartReplyFinding> {
    let context = reply_context(msg);
    let mut body = None;
    let mut alternatives: Option<std::collections::HashSet<String>> = None;
    for layer in layers {
        if layer.kind == SmimeKind::DetachedSignature {
            continue;
        }
        let Some(empty) = envelope_is_empty(layer) else {
            continue;
        };
        match layer.placement {
            Placement::Nested => {
                let alternatives = alternatives.get_or_insert_with(|| {
                    encrypted_alternatives(msg, layers, &|l| envelope_is_empty(l).is_some())
                        .into_iter()
                        .collect()
                });
                if alternatives.contains(&layer.path) {
                    continue;
                }
                let state = *body.get_or_insert_with(|| body_state(msg));
                if let BodyState::Blank(blankness) = state {
                    return Some(SmartReplyFinding {
                        message: attachment_message(layer, context, blankness),
                        shape: SmartReplyShape::EnvelopeAsAttachment { path: layer.path.clone() },
                        context,
                    });
                }
            }
            Placement::Message | Placement::SignedMessage if empty => {
                return Some(SmartReplyFinding {
                    message: format!(
                        "the encrypted {} (part {}) has no encrypted content: recipients see a \
                         blank message",
                        noun(context),
                        layer.path
                    ),
                    shape: SmartReplyShape::EmptyEnvelope { path: layer.path.clone() },
                    context,
                });
            }
            Placement::Message | Placement::SignedMessage => {}
        }
    }
    None
}

/// The rule `encrypted-attachment` (info): the MIME paths of envelopes attached below a written
/// body, in MIME order. Deliberate ("see the attached encrypted file"), not the SmartReply shape:
/// for a given message this and [`smartreply_blank_body`] never both report an attached envelope.
/// `is_envelope` tells whether a layer's CMS is an EnvelopedData or AuthEnvelopedData.
pub fn encrypted_attachment(
    msg: &Message<'_>,
    layers: &[SmimeLayer<'_>],
    is_envelope: &dyn Fn(&SmimeLayer<'_>) -> bool,
) -> Vec<String> {
    let mut nested = layers
        .iter()
        .filter(|l| l.placement == Placement::Nested && l.kind != SmimeKind::DetachedSignature)
        .peekable();
    if nested.peek().is_none() || body_state(msg) != BodyState::Written {
        return Vec::new();
    }
    nested.filter(|l| is_envelope(l)).map(|l| l.path.clone()).collect()
}

/// The envelopes that are the alternatives of a `multipart/alternative` that is the message
/// body (top level, or the content of a top-level `multipart/signed`) and has no alternative
/// but envelopes: a client that encrypted each representation (text, HTML) on its own. Each of
/// them is the message, not an attachment beside a blank body, so [`smartreply_blank_body`]
/// passes them by and their RecipientInfos decide who can read the message. MIME paths, in
/// MIME order. `is_envelope` tells whether a layer's CMS is an envelope.
pub fn encrypted_alternatives(
    msg: &Message<'_>,
    layers: &[SmimeLayer<'_>],
    is_envelope: &dyn Fn(&SmimeLayer<'_>) -> bool,
) -> Vec<String> {
    let mut out = Vec::new();
    let by_part: std::collections::HashMap<u32, &SmimeLayer<'_>> =
        layers.iter().map(|l| (l.part_id, l)).collect();
    for node in
        walk(msg).nodes.iter().filter(|n| matches!(n.chain, Chain::Root | Chain::SignedContent))
    {
        let is_alternative =
            media_type(node.part).is_some_and(|(t, s)| t == "multipart" && s == "alternative");
        let PartType::Multipart(children) = &node.part.body else { continue };
        if !is_alternative || children.is_empty() {
            continue;
        }
        let envelopes: Option<Vec<&SmimeLayer<'_>>> =
            children.iter().map(|id| by_part.get(id).copied().filter(|l| is_envelope(l))).collect();
        if let Some(envelopes) = envelopes {
            out.extend(envelopes.into_iter().map(|l| l.path.clone()));
        }
    }
    out
}

/// What the readable parts of a message, taken together, say.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum BodyState {
    /// No readable part says anything (or there is none).
    Blank(Blankness),
    /// Some readable part says something.
    Written,
    /// Could not tell within the bounds (huge body, MIME tree too deep): no finding either way.
    Unknown,
}

/// Judges the readable body parts outside any forwarded message: `text/plain` (or no
/// Content-Type) and `text/html` parts that are not attachments.
fn body_state(msg: &Message<'_>) -> BodyState {
    let walk = walk(msg);
    let mut seen = Blankness::Empty;
    let mut unknown = walk.truncated;
    for node in &walk.nodes {
        let part = node.part;
        let readable = match media_type(part) {
            None => true,
            Some((t, s)) => t == "text" && (s == "plain" || s == "html"),
        };
        let attached = part.content_disposition().is_some_and(|d| d.is_attachment());
        if !readable || attached {
            continue;
        }
        let blankness = match &part.body {
            PartType::Text(text) => blank::text_blankness(text),
            PartType::Html(html) => blank::html_blankness(html),
            _ => continue,
        };
        match blankness {
            Blankness::Written => return BodyState::Written,
            Blankness::TooLarge => unknown = true,
            Blankness::QuoteOnly => seen = Blankness::QuoteOnly,
            Blankness::Empty => {}
        }
    }
    if unknown {
        BodyState::Unknown
    } else {
        BodyState::Blank(seen)
    }
}

fn noun(context: ReplyContext) -> &'static str {
    match context {
        ReplyContext::Reply => "reply",
        ReplyContext::Forward => "forward",
        ReplyContext::None => "message",
    }
}

fn attachment_message(layer: &SmimeLayer<'_>, context: ReplyContext, body: Blankness) -> String {
    let attachment = match &layer.filename {
        Some(name) if !name.is_empty() => format!("attachment {name} (part {})", layer.path),
        _ => format!("an attachment (part {})", layer.path),
    };
    let beside = match body {
        Blankness::QuoteOnly => "a body that only quotes the original message",
        _ => "an empty body",
    };
    let cause = match context {
        ReplyContext::None => "the shape ActiveSync SmartReply mangling leaves",
        _ => "ActiveSync SmartReply mangling",
    };
    format!(
        "the encrypted {} travels as {attachment} beside {beside}: recipients see a blank \
         message ({cause})",
        noun(context)
    )
}
