//! Is this message a reply, a forward, or neither?

use mail_parser::{GetHeader, HeaderName, HeaderValue, Message};

/// Whether a message answers or passes on another one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReplyContext {
    /// A reply: a reply prefix leads the Subject, or In-Reply-To / References are present.
    Reply,
    /// A forward: a forward prefix leads the Subject.
    Forward,
    /// Neither.
    None,
}

/// Reply prefixes (compared case-insensitively), as mail clients write them in their languages.
/// `VS` is a reply in Finnish but a forward in Danish and Norwegian; it counts as a reply.
const REPLY_PREFIXES: &[&str] = &[
    "re",
    "aw",
    "sv",
    "antw",
    "antwort",
    "r",
    "rif",
    "réf",
    "ref",
    "vs",
    "odp",
    "odg",
    "res",
    "ynt",
    "atb",
    "ats",
    "vá",
    "bls",
    "svar",
    "回复",
    "回覆",
    "答复",
    "返信",
    "답장",
    "회신",
    "ответ",
    "отв",
    "відп",
    "σχετ",
    "απ",
    "השב",
    "رد",
];

/// Forward prefixes (compared case-insensitively).
const FORWARD_PREFIXES: &[&str] = &[
    "fw",
    "fwd",
    "wg",
    "tr",
    "rv",
    "doorst",
    "vl",
    "vb",
    "pd",
    "enc",
    "i",
    "tov",
    "i̇lt",
    "ilt",
    "fs",
    "trs",
    "přep",
    "转发",
    "轉寄",
    "转寄",
    "転送",
    "전달",
    "пересл",
    "πρθ",
    "הועבר",
];

/// Longest Subject prefix region looked at (in characters): enough for many `[tag]` and `Re:`.
const MAX_PREFIX_REGION: usize = 512;

/// The reply context of a message, from its Subject prefixes and threading headers.
///
/// The outermost recognised Subject prefix decides (`Fw: Re: x` is a forward, `AW: WG: x` a
/// reply); `[tag]` prefixes, counters (`Re[2]:`, `Re^2:`, `Re(2):`), a space or a full stop
/// before the colon (`RE :`, `Réf. :`) and the full-width colon are understood. Without a
/// recognised prefix, In-Reply-To or References make it a reply.
pub fn reply_context(msg: &Message<'_>) -> ReplyContext {
    let Some(headers) = msg.parts.first().map(|p| &p.headers) else {
        return ReplyContext::None;
    };
    let subject = headers.header_value(&HeaderName::Subject).and_then(HeaderValue::as_text);
    if let Some(context) = subject.and_then(subject_context) {
        return context;
    }
    let present = |name: HeaderName<'_>| {
        headers.header_value(&name).is_some_and(|value| match value {
            HeaderValue::Text(t) => !t.trim().is_empty(),
            HeaderValue::TextList(list) => list.iter().any(|t| !t.trim().is_empty()),
            HeaderValue::Empty => false,
            _ => true,
        })
    };
    if present(HeaderName::InReplyTo) || present(HeaderName::References) {
        ReplyContext::Reply
    } else {
        ReplyContext::None
    }
}

/// The context the outermost Subject prefix gives, if any.
pub(crate) fn subject_context(subject: &str) -> Option<ReplyContext> {
    let region: String = subject.chars().take(MAX_PREFIX_REGION).collect();
    let mut rest = region.as_str();
    loop {
        rest = rest.trim_start();
        if let Some(tagged) = rest.strip_prefix('[') {
            // "[EXT]", "[list-name]": skip the tag.
            rest = tagged.split_once(']')?.1;
            continue;
        }
        let word_len: usize = rest
            .chars()
            .take_while(|c| c.is_alphabetic() || *c == '\u{307}')
            .map(char::len_utf8)
            .sum();
        let word = rest.get(..word_len)?;
        if word.is_empty() {
            return None;
        }
        marker_end(rest.get(word_len..)?)?;
        let word = word.to_lowercase();
        let is = |list: &[&str]| list.iter().any(|p| p.to_lowercase() == word);
        if is(REPLY_PREFIXES) {
            return Some(ReplyContext::Reply);
        }
        if is(FORWARD_PREFIXES) {
            return Some(ReplyContext::Forward);
        }
        // "Meeting: Re: x" is not a reply; an unknown word followed by a colon ends the prefixes.
        return None;
    }
}

/// After a prefix word: an optional full stop, counter (`[2]`, `(2)`, `^2`), spaces, then a
/// colon. Returns the text after the colon, or `None` when this is not a prefix.
fn marker_end(mut rest: &str) -> Option<&str> {
    rest = rest.strip_prefix('.').unwrap_or(rest);
    for (open, close) in [("[", "]"), ("(", ")")] {
        if let Some(inner) = rest.strip_prefix(open) {
            let (count, after) = inner.split_once(close)?;
            if !count.trim().chars().all(|c| c.is_ascii_digit()) {
                return None;
            }
            rest = after;
        }
    }
    if let Some(inner) = rest.strip_prefix('^') {
        rest = inner.trim_start_matches(|c: char| c.is_ascii_digit());
    }
    let rest = rest.trim_start();
    rest.strip_prefix(':').or_else(|| rest.strip_prefix('：'))
}
