//! What a recipient sees once the envelope is open: is the body blank?
//!
//! `smartreply-blank-body` (DESIGN §5) fires when the encrypted payload is an empty body beside
//! an attachment, or empty altogether. From the outside that is a guess; with the owner's key
//! the decrypted MIME entity settles it.

use mail_parser::{MessageParser, MimeHeaders};

/// The decrypted MIME entity, as a mail client would present it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InnerBody {
    /// No readable text: every text/plain and text/html body part is empty or white space
    /// (or there is none, or the content is empty). Attachments may still carry the message.
    pub blank: bool,
    /// The entity's media type, lower case (`text/plain` when the header is absent, empty
    /// when there is no content at all).
    pub content_type: String,
    /// Body parts a client shows inline (text/plain and text/html alternatives each count).
    pub text_parts: usize,
    /// Parts a client offers as attachments (a forwarded message/rfc822 counts).
    pub attachments: usize,
    /// The entity is itself S/MIME (application/pkcs7-mime: signed or enveloped again), so the
    /// client opens another layer; `blank` is then false, as this layer says nothing.
    pub nested_smime: bool,
}

/// Looks at the decrypted `plaintext` (a MIME entity, RFC 8551 §3.1).
pub fn inspect_inner(plaintext: &[u8]) -> InnerBody {
    if plaintext.iter().all(u8::is_ascii_whitespace) {
        return InnerBody {
            blank: true,
            content_type: String::new(),
            text_parts: 0,
            attachments: 0,
            nested_smime: false,
        };
    }
    let Some(message) = MessageParser::default().parse(plaintext) else {
        // Not MIME at all: the client shows the bytes, which are not all white space.
        return InnerBody {
            blank: false,
            content_type: "text/plain".to_owned(),
            text_parts: 1,
            attachments: 0,
            nested_smime: false,
        };
    };
    let content_type = message
        .content_type()
        .map(|ct| match ct.subtype() {
            Some(sub) => format!("{}/{}", ct.ctype(), sub),
            None => ct.ctype().to_owned(),
        })
        .unwrap_or_else(|| "text/plain".to_owned())
        .to_ascii_lowercase();
    let nested_smime =
        matches!(content_type.as_str(), "application/pkcs7-mime" | "application/x-pkcs7-mime");
    let text_parts = message.text_body_count().max(message.html_body_count());
    let has_text = (0..message.text_body_count())
        .filter_map(|i| message.body_text(i))
        .chain((0..message.html_body_count()).filter_map(|i| {
            message.body_html(i).map(|h| {
                // Markup alone (an empty <html><body></body></html>) is still a blank page.
                mail_parser::decoders::html::html_to_text(&h).into()
            })
        }))
        .any(|text: std::borrow::Cow<'_, str>| !text.trim().is_empty());
    InnerBody {
        blank: !nested_smime && !has_text,
        content_type,
        text_parts,
        attachments: message.attachment_count(),
        nested_smime,
    }
}
