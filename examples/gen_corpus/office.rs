//! The `office` profile: what ordinary sent items look like, for measuring the audit on mail
//! that is mostly not S/MIME-relevant bytes.
//!
//! Message sizes follow a log-normal distribution with a median of about 35 KB (most between
//! 10 and 100 KB) and one message in fifty between 1 and 8 MB. Bodies are
//! `multipart/alternative` of a quoted-printable `text/plain` and a quoted-printable
//! `text/html` rendering, as Outlook and Apple Mail write them; two messages in three are
//! replies or forwards carrying the quoted history of one to four earlier messages; four in five
//! carry one to three base64 attachments (PDF, images, Office files) that make up the rest of
//! the size. The S/MIME scenarios are the classic ones, in office proportions: mostly plain and
//! signed, a fifth encrypted, and every finding still present.

use crate::corpus::{Plan, Scenario};
use crate::text;
use rand::Rng;
use smime_lint::build::mime;
use smime_lint::Time;

/// Scenario shares per mille for the office profile (every scenario of the classic mix, so
/// every rule still shows in a large enough corpus).
pub const MIX: [(Scenario, u32); 18] = [
    (Scenario::Plain, 520),
    (Scenario::Signed, 200),
    (Scenario::SignedOpaque, 20),
    (Scenario::EncryptedAll, 150),
    (Scenario::AuthEnveloped, 15),
    (Scenario::Ber, 20),
    (Scenario::ReplyAllPartial, 20),
    (Scenario::Bcc, 8),
    (Scenario::NoSender, 10),
    (Scenario::Weak3des, 5),
    (Scenario::WeakDes, 2),
    (Scenario::SmartReply, 6),
    (Scenario::EmptyEnvelope, 2),
    (Scenario::UnusableCertificate, 8),
    (Scenario::UnknownRecipientInfo, 6),
    (Scenario::Malformed, 3),
    (Scenario::EncryptedAttachment, 4),
    (Scenario::Unreadable, 1),
];

/// The size the finished message should have, in bytes.
pub fn target_size<R: Rng>(rng: &mut R) -> usize {
    if rng.gen_bool(0.02) {
        let (low, high) = (1_000_000f64.ln(), 8_000_000f64.ln());
        return rng.gen_range(low..high).exp() as usize;
    }
    // Log-normal: median 35 KB, sigma 0.9 (Box-Muller from two uniforms).
    let (u1, u2): (f64, f64) = (rng.gen_range(f64::EPSILON..1.0), rng.gen_range(0.0..1.0));
    let normal = (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos();
    (35_000.0 * (0.9 * normal).exp()).clamp(3_000.0, 400_000.0) as usize
}

/// The entity the sender wrote, at about `size` bytes once encoded as the scenario encodes it
/// (`layers`: how many base64 layers wrap it, 1 for plain and multipart/signed, 2 for an
/// envelope).
pub fn content_entity<R: Rng + rand::RngCore>(
    plan: &Plan,
    size: usize,
    layers: u32,
    rng: &mut R,
) -> Vec<u8> {
    let greet = match (plan.to.len(), plan.to.first()) {
        (1, Some(p)) => p.first_name(),
        _ => "all",
    };
    let min_len = rng.gen_range(300..2_500);
    let mut body = text::body(rng, greet, plan.from.first_name(), min_len);
    if rng.gen_bool(0.1) {
        body.push_str("\nPS: the café on the corner (Müller & Söhne) is closed on Fridays.\n");
    }
    if plan.reply_to.is_some() || rng.gen_bool(0.5) {
        body.push_str(&history(plan, rng));
    }
    let alternative = mime::multipart(
        "alternative",
        &mime::boundary(rng),
        &[
            &mime::quoted_printable_entity("plain", &body),
            &mime::quoted_printable_entity("html", &html(&body)),
        ],
    );
    let count = match rng.gen_range(0..100) {
        0..=19 => 0,
        20..=69 => 1,
        70..=91 => 2,
        _ => 3,
    };
    let expansion = (78.0f64 / 57.0).powi(layers as i32);
    let budget = (size as f64 / expansion) as usize;
    let left = budget.saturating_sub(alternative.len() + 600);
    if count == 0 || left < 1_000 {
        return alternative;
    }
    let mut parts = vec![alternative];
    for i in 0..count {
        let share =
            if i + 1 == count { left / count } else { left / count * rng.gen_range(50..150) / 100 };
        let kind = rng.gen_range(0..text::ATTACHMENTS.len());
        let (content_type, filename, _) =
            text::ATTACHMENTS.get(kind).copied().unwrap_or(text::ATTACHMENTS[0]);
        let data = text::attachment_data(rng, kind, share.max(1_000));
        parts.push(mime::attachment_entity(content_type, filename, &data));
    }
    let refs: Vec<&[u8]> = parts.iter().map(Vec::as_slice).collect();
    mime::multipart("mixed", &mime::boundary(rng), &refs)
}

/// The quoted history of one to four earlier messages, oldest deepest.
fn history<R: Rng>(plan: &Plan, rng: &mut R) -> String {
    let mut quoted = String::new();
    let depth = rng.gen_range(1..=4);
    let mut when = plan.date;
    for level in 0..depth {
        when -= rng.gen_range(1_800..400_000);
        let author = plan.reply_to.or(plan.to.first().copied()).unwrap_or(plan.from);
        let min_len = rng.gen_range(400..4_000);
        let earlier = text::body(rng, plan.from.first_name(), author.first_name(), min_len);
        let attribution = format!(
            "On {}, {} wrote:\n",
            mime::rfc5322_date(Time::from_unix(when), 60),
            author.mailbox()
        );
        let mut block = attribution + &earlier;
        for _ in 0..=level {
            block = text::quote(&block);
        }
        quoted.push('\n');
        quoted.push_str(&block);
    }
    quoted
}

/// A plain HTML rendering of `text`, as mail clients generate the alternative part.
fn html(text: &str) -> String {
    let mut out = String::from(
        "<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=utf-8\"></head>\n<body style=\"font-family: Calibri, sans-serif; font-size: 11pt;\">\n",
    );
    for paragraph in text.split("\n\n") {
        let escaped = paragraph.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
        let quoted = paragraph.starts_with('>');
        out.push_str(if quoted {
            "<blockquote style=\"margin:0 0 0 .8ex;border-left:1px #ccc solid;padding-left:1ex\">"
        } else {
            "<p>"
        });
        out.push_str(&escaped.replace('\n', "<br>\n"));
        out.push_str(if quoted { "</blockquote>\n" } else { "</p>\n" });
    }
    out.push_str("</body></html>\n");
    out
}

/// Whether an office message of this scenario is a reply (two in three are).
pub fn is_reply<R: Rng>(rng: &mut R) -> bool {
    rng.gen_bool(0.66)
}
