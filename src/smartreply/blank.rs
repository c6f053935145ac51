//! Whether a readable body says anything: the test behind `smartreply-blank-body`.
//!
//! A SmartReply server builds the new body from the client's readable parts (none, when the
//! client sent one `application/pkcs7-mime` part) and may append the original message below a
//! quote header. So a body is *blank* when, above the first quote header, there is nothing but
//! white space, decoration lines, quoted (`>`) lines, device signatures ("Sent from my iPhone")
//! or a `-- ` signature block. Anything else is written content, and the body is not blank.
//!
//! Quote headers recognised, in the languages Outlook, Apple Mail, Gmail and Thunderbird use:
//! separators ("-----Original Message-----", "Begin forwarded message:"), Outlook header blocks
//! (a "From:" line followed within a few lines by a "Subject:" line) and attributions
//! ("On ... wrote:", "Am ... schrieb ...:", "Le ... a écrit :"). An attribution only introduces
//! `>` quoted lines: unquoted text below it (an inline or bottom-posted answer) is content.

use super::html::html_to_text;

/// Most bytes of one body that are scanned. A body still undecided after this many bytes is
/// treated as written (not blank): no false alarm on mail we did not read.
pub const MAX_SCAN: usize = 4 * 1024 * 1024;

/// Lines looked at below a "From:" line for the "Subject:" line of an Outlook header block.
const HEADER_BLOCK_LINES: usize = 8;
/// Lines an attribution may wrap over ("On ..., Alice <\nalice@example.com> wrote:").
const ATTRIBUTION_LINES: usize = 3;
/// Longest line considered as a separator, attribution or signature (in characters).
const SHORT_LINE: usize = 300;

/// What a readable body contains.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Blankness {
    /// Nothing, white space, decoration or device signatures.
    Empty,
    /// Only quoted text or a quote header (with the appended original below it).
    QuoteOnly,
    /// Something written.
    Written,
    /// Undecided within [`MAX_SCAN`] bytes.
    TooLarge,
}

impl Blankness {
    pub(crate) fn is_blank(self) -> bool {
        matches!(self, Blankness::Empty | Blankness::QuoteOnly)
    }
}

/// Whether a plain-text body is blank (see the module documentation).
pub fn is_blank_body(text: &str) -> bool {
    text_blankness(text).is_blank()
}

/// Whether an HTML body is blank: tags, comments, `<head>` furniture (`<style>`, `<script>`,
/// `<title>`) stripped, entities decoded (`&nbsp;` is a space), `<blockquote>` content treated as
/// quoted, `<img>` counted as content; then as [`is_blank_body`].
pub fn is_blank_html(html: &str) -> bool {
    html_blankness(html).is_blank()
}

pub(crate) fn text_blankness(text: &str) -> Blankness {
    let (scanned, truncated) = prefix(text, MAX_SCAN);
    scan_lines(scanned, truncated)
}

pub(crate) fn html_blankness(html: &str) -> Blankness {
    let (scanned, truncated) = prefix(html, MAX_SCAN);
    scan_lines(&html_to_text(scanned), truncated)
}

/// The longest prefix of `text` of at most `max` bytes that ends on a character boundary.
pub(crate) fn prefix(text: &str, max: usize) -> (&str, bool) {
    if text.len() <= max {
        return (text, false);
    }
    let mut end = max;
    while end > 0 && !text.is_char_boundary(end) {
        end -= 1;
    }
    (text.get(..end).unwrap_or_default(), true)
}

fn scan_lines(text: &str, truncated: bool) -> Blankness {
    let mut quoted = false;
    let mut in_signature = false;
    let mut lines = text.lines();
    while let Some(raw) = lines.next() {
        let line = clean(raw);
        if line.is_empty() {
            continue;
        }
        if line.starts_with('>') {
            quoted = true;
            continue;
        }
        if is_separator(line) || is_header_block(line, lines.clone()) {
            return Blankness::QuoteOnly;
        }
        if let Some(extra) = attribution_lines(line, lines.clone()) {
            quoted = true;
            for _ in 0..extra {
                lines.next();
            }
            continue;
        }
        // RFC 3676 §4.3 signature separator "-- ": what follows is a signature.
        if line == "--" {
            in_signature = true;
            continue;
        }
        if in_signature || is_decoration(line) || is_device_signature(line) {
            continue;
        }
        return Blankness::Written;
    }
    if truncated {
        Blankness::TooLarge
    } else if quoted {
        Blankness::QuoteOnly
    } else {
        Blankness::Empty
    }
}

/// Trims white space, including the invisible characters HTML mail is full of.
fn clean(line: &str) -> &str {
    line.trim_matches(|c: char| {
        c.is_whitespace()
            || matches!(c, '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}' | '\u{AD}')
    })
}

/// Lines of rules only: `-----`, `_____`, `=====`, `*****`.
fn is_decoration(line: &str) -> bool {
    line.chars().all(|c| matches!(c, '-' | '_' | '=' | '*' | '~') || c.is_whitespace())
}

fn lower_short(line: &str) -> Option<String> {
    (line.chars().count() <= SHORT_LINE).then(|| line.to_lowercase())
}

/// Phrases that, between rules of dashes or underscores, introduce the original message.
const SEPARATOR_PHRASES: &[&str] = &[
    "original message",
    "ursprüngliche nachricht",
    "originalnachricht",
    "message d'origine",
    "message d’origine",
    "mensaje original",
    "messaggio originale",
    "oorspronkelijk bericht",
    "origineel bericht",
    "originalmeddelande",
    "ursprungligt meddelande",
    "opprinnelig melding",
    "oprindelig meddelelse",
    "alkuperäinen viesti",
    "wiadomość oryginalna",
    "oryginalna wiadomość",
    "mensagem original",
    "původní zpráva",
    "pôvodná správa",
    "eredeti üzenet",
    "исходное сообщение",
    "αρχικό μήνυμα",
    "orijinal ileti",
    "原始邮件",
    "原始郵件",
    "元のメッセージ",
    "forwarded message",
    "weitergeleitete nachricht",
    "message transféré",
    "mensaje reenviado",
    "messaggio inoltrato",
    "doorgestuurd bericht",
    "vidarebefordrat meddelande",
    "videresendt melding",
    "videresendt meddelelse",
    "przekazana wiadomość",
    "mensagem encaminhada",
];

/// Lines that introduce a forwarded original on their own (Apple Mail style).
const FORWARD_INTROS: &[&str] = &[
    "begin forwarded message",
    "anfang der weitergeleiteten nachricht",
    "début du message réexpédié",
    "inicio del mensaje reenviado",
    "inizio messaggio inoltrato",
    "begin doorgestuurd bericht",
    "vidarebefordrat brev",
    "videresendt besked",
    "start på videresendt melding",
];

fn is_separator(line: &str) -> bool {
    let Some(lower) = lower_short(line) else {
        return false;
    };
    let core =
        lower.trim_matches(|c: char| matches!(c, '-' | '_' | '=' | '*') || c.is_whitespace());
    let ruled = core.len() < lower.len();
    if ruled && SEPARATOR_PHRASES.iter().any(|p| core.contains(p)) {
        return true;
    }
    let intro = core.trim_end_matches(|c: char| c == ':' || c == '：' || c.is_whitespace());
    FORWARD_INTROS.contains(&intro)
}

/// The label before the first colon of a line ("*From:*" → "from"), if short.
fn label(line: &str) -> Option<String> {
    let (head, _) = line.split_once([':', '：'])?;
    if head.chars().count() > 30 {
        return None;
    }
    Some(head.trim_matches(|c: char| c == '*' || c.is_whitespace()).to_lowercase())
}

const FROM_LABELS: &[&str] = &[
    "from",
    "von",
    "de",
    "van",
    "da",
    "från",
    "fra",
    "od",
    "lähettäjä",
    "от",
    "від",
    "feladó",
    "kimden",
    "差出人",
    "发件人",
    "寄件者",
    "보낸 사람",
    "afzender",
    "expéditeur",
    "remitente",
    "mittente",
    "nadawca",
    "odesílatel",
    "αποστολέας",
    "מאת",
    "من",
    "absender",
];

const SUBJECT_LABELS: &[&str] = &[
    "subject",
    "betreff",
    "objet",
    "onderwerp",
    "oggetto",
    "asunto",
    "assunto",
    "ämne",
    "emne",
    "temat",
    "aihe",
    "тема",
    "tárgy",
    "konu",
    "件名",
    "主题",
    "主旨",
    "제목",
    "předmět",
    "θέμα",
    "נושא",
    "الموضوع",
];

/// An Outlook header block: a "From:" line, and a "Subject:" label on the same line (the block
/// flattened) or on one of the next few lines.
fn is_header_block(line: &str, rest: std::str::Lines<'_>) -> bool {
    if !label(line).is_some_and(|l| FROM_LABELS.contains(&l.as_str())) {
        return false;
    }
    if let Some(lower) = lower_short(line) {
        let flattened = SUBJECT_LABELS.iter().any(|s| {
            [" ", "*"].iter().any(|before| {
                [":", " :", "：", ":*"]
                    .iter()
                    .any(|after| lower.contains(&format!("{before}{s}{after}")))
            })
        });
        if flattened {
            return true;
        }
    }
    rest.map(clean)
        .filter(|l| !l.is_empty())
        .take(HEADER_BLOCK_LINES)
        .any(|l| label(l).is_some_and(|l| SUBJECT_LABELS.contains(&l.as_str())))
}

const ATTRIBUTION_VERBS: &[&str] = &[
    "wrote",
    "writes",
    "schrieb",
    "écrit",
    "escribió",
    "escreveu",
    "ha scritto",
    "scrisse",
    "schreef",
    "skrev",
    "kirjoitti",
    "napisał",
    "napsal",
    "написал",
    "yazdı",
    "írta",
    "έγραψε",
    "写道",
    "寫道",
    "のメッセージ",
];

const ATTRIBUTION_OPENERS: &[&str] = &[
    "on ",
    "am ",
    "le ",
    "el ",
    "il ",
    "op ",
    "den ",
    "em ",
    "no dia ",
    "w dniu ",
    "dne ",
    "dnia ",
    "в ",
    "quoting ",
    "zitat von ",
];

/// If `line` starts an attribution ("On Mon, Jun 1, 2026, at 10:00, Alice <alice@example.com>
/// wrote:"), how many further lines it wraps over.
fn attribution_lines(line: &str, mut rest: std::str::Lines<'_>) -> Option<usize> {
    let mut candidate = line.to_string();
    for extra in 0..ATTRIBUTION_LINES {
        if looks_like_attribution(&candidate) {
            return Some(extra);
        }
        let next = clean(rest.next()?);
        if next.is_empty() || candidate.len() > SHORT_LINE {
            return None;
        }
        candidate.push(' ');
        candidate.push_str(next);
    }
    None
}

fn looks_like_attribution(candidate: &str) -> bool {
    let Some(lower) = lower_short(candidate) else {
        return false;
    };
    let lower = lower.trim_end();
    (lower.ends_with(':') || lower.ends_with('：'))
        && ATTRIBUTION_VERBS.iter().any(|v| lower.contains(v))
        && (ATTRIBUTION_OPENERS.iter().any(|o| lower.starts_with(o))
            || lower.contains('@')
            || lower.chars().any(|c| c.is_ascii_digit()))
}

const SIGNATURE_PREFIXES: &[&str] = &[
    "sent from ",
    "sent via ",
    "sent using ",
    "sent with ",
    "get outlook for ",
    "von meinem ",
    "gesendet von ",
    "gesendet mit ",
    "gesendet vom ",
    "envoyé de ",
    "envoyé depuis ",
    "envoyé à partir de ",
    "verzonden vanaf ",
    "verzonden met ",
    "verstuurd vanaf ",
    "verstuurd met ",
    "inviato da ",
    "inviato dal ",
    "enviado desde ",
    "enviado de mi ",
    "enviado do meu ",
    "enviado a partir do ",
    "enviado pelo ",
    "skickat från ",
    "sendt fra ",
    "lähetetty ",
    "wysłane z ",
    "odesláno z ",
    "отправлено с ",
    "надіслано з ",
    "发自我的",
    "從我的",
];

/// A device or app signature line ("Sent from my iPhone", "Von meinem iPad gesendet").
fn is_device_signature(line: &str) -> bool {
    let Some(lower) = lower_short(line) else {
        return false;
    };
    if lower.chars().count() > 80 {
        return false;
    }
    let lower = lower.trim_end_matches(['.', '!']);
    SIGNATURE_PREFIXES.iter().any(|p| lower.starts_with(p)) || lower.ends_with("から送信")
}
