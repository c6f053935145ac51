//! Just enough HTML → text to judge whether an HTML body says anything.
//!
//! Not a renderer: block elements become line breaks, `<blockquote>` content becomes `>` quoted
//! lines, `<style>`/`<script>`/`<title>`/comments vanish, entities are decoded, `<img>` becomes
//! `[image]` (a picture is content). Linear in the input, never recursive; the caller bounds the
//! input size.

/// Elements whose content is never shown.
const HIDDEN: &[&str] = &["style", "script", "title", "xml", "template"];

/// Elements that start a new line.
const BLOCKS: &[&str] = &[
    "br", "p", "div", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "table", "tbody",
    "thead", "tfoot", "ul", "ol", "dl", "dt", "dd", "pre", "section", "article", "header",
    "footer", "center", "address", "caption", "body", "html",
];

struct Out {
    text: String,
    quote_depth: usize,
    at_line_start: bool,
}

impl Out {
    fn newline(&mut self) {
        self.text.push('\n');
        self.at_line_start = true;
    }

    fn push_str(&mut self, s: &str) {
        for c in s.chars() {
            self.push(c);
        }
    }

    fn push(&mut self, c: char) {
        match c {
            // In HTML a source line break is just white space.
            '\r' | '\n' | '\t' => self.text.push(' '),
            c if c.is_whitespace() => self.text.push(c),
            c => {
                if self.at_line_start && self.quote_depth > 0 {
                    self.text.push_str("> ");
                }
                self.at_line_start = false;
                self.text.push(c);
            }
        }
    }
}

/// The visible text of `html`, with quoting marked as `>` lines.
pub(crate) fn html_to_text(html: &str) -> String {
    let bytes = html.as_bytes();
    let mut out = Out {
        text: String::with_capacity(html.len().min(1 << 16)),
        quote_depth: 0,
        at_line_start: true,
    };
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        i = match b {
            b'<' => tag(html, i, &mut out),
            b'&' => entity(html, i, &mut out),
            _ => {
                let end = bytes
                    .get(i..)
                    .and_then(|rest| rest.iter().position(|&c| c == b'<' || c == b'&'))
                    .map_or(bytes.len(), |p| i + p);
                // `<` and `&` are ASCII, so `i` and `end` are character boundaries.
                out.push_str(html.get(i..end).unwrap_or_default());
                end
            }
        };
    }
    out.text
}

/// Handles the markup at `start` (a `<`); returns where the text resumes.
fn tag(html: &str, start: usize, out: &mut Out) -> usize {
    let bytes = html.as_bytes();
    let rest = bytes.get(start..).unwrap_or_default();
    if rest.starts_with(b"<!--") {
        return find(bytes, start + 4, b"-->").map_or(bytes.len(), |p| p + 3);
    }
    let mut j = start + 1;
    let closing = bytes.get(j) == Some(&b'/');
    if closing {
        j += 1;
    }
    if matches!(bytes.get(j), Some(b'!' | b'?')) {
        return find(bytes, j, b">").map_or(bytes.len(), |p| p + 1);
    }
    let name_start = j;
    while bytes.get(j).is_some_and(|c| c.is_ascii_alphanumeric() || *c == b':') {
        j += 1;
    }
    if j == name_start {
        // A lone `<` is text.
        out.push('<');
        return start + 1;
    }
    let name = html.get(name_start..j).unwrap_or_default().to_ascii_lowercase();
    let end = tag_end(bytes, j);
    let after = end.map_or(bytes.len(), |e| e + 1);
    let self_closing = end.is_some_and(|e| e > 0 && bytes.get(e - 1) == Some(&b'/'));
    let name = name.as_str();
    if HIDDEN.contains(&name) && !closing && !self_closing {
        let close = format!("</{name}");
        return find_ignore_case(bytes, after, close.as_bytes())
            .and_then(|p| find(bytes, p, b">"))
            .map_or(bytes.len(), |p| p + 1);
    }
    if name == "blockquote" {
        out.newline();
        out.quote_depth = if closing {
            out.quote_depth.saturating_sub(1)
        } else {
            out.quote_depth.saturating_add(1)
        };
    } else if BLOCKS.contains(&name) {
        out.newline();
    } else if name == "td" || name == "th" {
        out.push(' ');
    } else if name == "img" && !closing {
        out.push_str("[image]");
    }
    after
}

/// The `>` that ends a tag whose name ends at `from`, skipping quoted attribute values.
fn tag_end(bytes: &[u8], from: usize) -> Option<usize> {
    let mut quote = None;
    for (k, &c) in bytes.get(from..)?.iter().enumerate() {
        match (quote, c) {
            (None, b'"' | b'\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, b'>') => return Some(from + k),
            _ => {}
        }
    }
    None
}

fn find(bytes: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    bytes.get(from..)?.windows(needle.len()).position(|w| w == needle).map(|p| from + p)
}

fn find_ignore_case(bytes: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    bytes
        .get(from..)?
        .windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle))
        .map(|p| from + p)
}

/// Named entities worth decoding; any other named entity is a visible character.
const ENTITIES: &[(&str, &str)] = &[
    ("nbsp", " "),
    ("ensp", " "),
    ("emsp", " "),
    ("thinsp", " "),
    ("zwnj", ""),
    ("zwj", ""),
    ("shy", ""),
    ("lrm", ""),
    ("rlm", ""),
    ("amp", "&"),
    ("lt", "<"),
    ("gt", ">"),
    ("quot", "\""),
    ("apos", "'"),
    ("eacute", "é"),
    ("egrave", "è"),
    ("ecirc", "ê"),
    ("agrave", "à"),
    ("aacute", "á"),
    ("acirc", "â"),
    ("ccedil", "ç"),
    ("ouml", "ö"),
    ("auml", "ä"),
    ("uuml", "ü"),
    ("Ouml", "Ö"),
    ("Auml", "Ä"),
    ("Uuml", "Ü"),
    ("szlig", "ß"),
    ("oacute", "ó"),
    ("iacute", "í"),
    ("uacute", "ú"),
    ("ntilde", "ñ"),
    ("aring", "å"),
    ("oslash", "ø"),
    ("aelig", "æ"),
    ("laquo", "«"),
    ("raquo", "»"),
    ("hellip", "…"),
    ("mdash", "—"),
    ("ndash", "–"),
    ("rsquo", "’"),
    ("lsquo", "‘"),
    ("ldquo", "“"),
    ("rdquo", "”"),
    ("bull", "•"),
    ("middot", "·"),
    ("copy", "©"),
    ("reg", "®"),
    ("euro", "€"),
];

/// Decodes the entity at `start` (a `&`); returns where the text resumes.
fn entity(html: &str, start: usize, out: &mut Out) -> usize {
    let bytes = html.as_bytes();
    let window = bytes.get(start + 1..).unwrap_or_default();
    let Some(semi) = window.iter().take(12).position(|&c| c == b';') else {
        // Sloppy HTML writes "&nbsp" without the semicolon; browsers accept it.
        if window.starts_with(b"nbsp") {
            out.push(' ');
            return start + 5;
        }
        out.push('&');
        return start + 1;
    };
    let name = html.get(start + 1..start + 1 + semi).unwrap_or_default();
    let after = start + 2 + semi;
    if let Some(number) = name.strip_prefix('#') {
        let code = match number.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok(),
            None => number.parse::<u32>().ok(),
        };
        out.push(code.and_then(char::from_u32).unwrap_or('\u{FFFD}'));
    } else if let Some((_, text)) = ENTITIES.iter().find(|(n, _)| *n == name) {
        out.push_str(text);
    } else {
        out.push('\u{FFFD}');
    }
    after
}
