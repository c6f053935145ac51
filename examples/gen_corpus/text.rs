//! Office prose for message bodies, subjects and attachments: enough variety that bodies
//! differ, plain enough that nobody mistakes it for real mail.

use rand::seq::SliceRandom;
use rand::Rng;

pub const SUBJECTS: [&str; 24] = [
    "Q3 budget figures",
    "Contract renewal for the Lisbon office",
    "Board pack, final draft",
    "Salary review: your team",
    "Audit findings (confidential)",
    "Offsite agenda",
    "Customer escalation: ticket 48213",
    "Signed NDA attached",
    "Due diligence data room access",
    "Updated org chart",
    "Incident report 2026-017",
    "Pricing proposal v3",
    "Travel approval",
    "Merger timeline",
    "Payroll export",
    "Patent draft for review",
    "Quarterly forecast",
    "Vendor security questionnaire",
    "Lease amendment",
    "Interview feedback",
    "Roadmap priorities",
    "Expense policy change",
    "Legal hold notice",
    "Key rotation schedule",
];

const SENTENCES: [&str; 40] = [
    "I have gone through the numbers again and the totals now match the ledger.",
    "Could you take a look before Thursday's meeting?",
    "The figures for the northern region are still provisional.",
    "Legal asked us to keep this within the group until the announcement.",
    "I moved the review to next week so that finance can join.",
    "The attached version includes the changes we discussed on the call.",
    "Please do not forward this outside the company.",
    "We are still waiting for the signed copy from the supplier.",
    "The deadline for comments is the end of the month.",
    "I think the second option is cheaper over three years, but it locks us in.",
    "Let me know if anything in the summary is unclear.",
    "The auditors want the raw exports, not the slides.",
    "I added a column for the currency adjustments.",
    "Security signed off on the vendor yesterday afternoon.",
    "We can discuss the open points at the offsite.",
    "The draft still has placeholders in section four.",
    "Thanks for turning this around so quickly.",
    "The customer agreed to the revised delivery date.",
    "I have asked IT to give you access to the shared folder.",
    "Headcount stays flat until the second half of the year.",
    "The contract has an automatic renewal clause we should look at.",
    "Please check the totals on the second tab; I may have double counted travel.",
    "The board wants a one-page summary rather than the full deck.",
    "We found two more invoices that were booked to the wrong cost centre.",
    "The new policy applies from the first of next month.",
    "Marketing will need the final numbers by Friday noon.",
    "I am out of office on Monday but reachable by phone.",
    "Our lawyers suggested a shorter notice period.",
    "The pilot went well and the team wants to extend it.",
    "Can we keep the rollout to the original scope for now?",
    "This supersedes the version I sent on Tuesday.",
    "The risk register has been updated with the new items.",
    "We should involve procurement before committing to anything.",
    "I have attached the minutes from the last steering meeting.",
    "Please treat the salary information as strictly confidential.",
    "The test results are in the appendix.",
    "Feel free to reply all with your comments.",
    "Oscar's team raised the same concern last quarter.",
    "We need a decision on the budget line by next week.",
    "I will circulate an updated draft once I hear back from everyone.",
];

const SIGN_OFFS: [&str; 5] = ["Best,", "Thanks,", "Kind regards,", "Cheers,", "Best regards,"];

/// A body of 3..=6 paragraphs, with greeting and sign-off, at least `min_len` characters.
pub fn body<R: Rng>(rng: &mut R, greet: &str, sender_first_name: &str, min_len: usize) -> String {
    let mut text = format!("Hi {greet},\n\n");
    let paragraphs = rng.gen_range(3..=6);
    let mut written = 0;
    while written < paragraphs || text.len() < min_len {
        text.push_str(&paragraph(rng));
        text.push_str("\n\n");
        written += 1;
    }
    let sign_off = SIGN_OFFS.choose(rng).copied().unwrap_or("Best,");
    text.push_str(&format!("{sign_off}\n{sender_first_name}\n"));
    text
}

/// 2..=5 sentences, wrapped at 72 columns (format=flowed style, trailing space on soft
/// breaks).
pub fn paragraph<R: Rng>(rng: &mut R) -> String {
    let count = rng.gen_range(2..=5);
    let words: Vec<&str> = (0..count)
        .filter_map(|_| SENTENCES.choose(rng).copied())
        .flat_map(|s| s.split(' '))
        .collect();
    let mut out = String::new();
    let mut line = 0;
    for word in words {
        if line > 0 && line + word.len() + 1 > 72 {
            out.push_str(" \n");
            line = 0;
        } else if line > 0 {
            out.push(' ');
            line += 1;
        }
        out.push_str(word);
        line += word.len();
    }
    out
}

/// `text` quoted for a reply.
pub fn quote(text: &str) -> String {
    text.lines().map(|l| if l.is_empty() { ">".to_owned() } else { format!("> {l}") }).fold(
        String::new(),
        |mut acc, l| {
            acc.push_str(&l);
            acc.push('\n');
            acc
        },
    )
}

/// A file to attach: (content type, file name, leading bytes that make it look like one).
pub const ATTACHMENTS: [(&str, &str, &[u8]); 6] = [
    ("application/pdf", "Q3-report.pdf", b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n"),
    ("image/jpeg", "IMG_2041.jpg", b"\xFF\xD8\xFF\xE0\x00\x10JFIF\x00"),
    (
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "kickoff.pptx",
        b"PK\x03\x04\x14\x00\x06\x00",
    ),
    ("application/zip", "logs.zip", b"PK\x03\x04\x0A\x00\x00\x00"),
    (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "forecast.xlsx",
        b"PK\x03\x04\x14\x00\x06\x00",
    ),
    ("text/csv", "figures.csv", b"date,region,amount,currency\r\n"),
];

/// Attachment content of exactly `len` bytes: the type's magic bytes, then random bytes
/// (compressed formats look random), or for CSV, rows of figures.
pub fn attachment_data<R: Rng>(rng: &mut R, kind: usize, len: usize) -> Vec<u8> {
    let (content_type, _, magic) = ATTACHMENTS.get(kind).copied().unwrap_or(ATTACHMENTS[0]);
    let mut data = Vec::with_capacity(len + 64);
    data.extend_from_slice(magic);
    if content_type == "text/csv" {
        const REGIONS: [&str; 4] = ["north", "south", "east", "west"];
        while data.len() < len {
            let row = format!(
                "2026-{:02}-{:02},{},{}.{:02},EUR\r\n",
                rng.gen_range(1..=12),
                rng.gen_range(1..=28),
                REGIONS.choose(rng).copied().unwrap_or("north"),
                rng.gen_range(10..100_000),
                rng.gen_range(0..100)
            );
            data.extend_from_slice(row.as_bytes());
        }
    } else if data.len() < len {
        let start = data.len();
        data.resize(len, 0);
        if let Some(rest) = data.get_mut(start..) {
            rng.fill_bytes(rest);
        }
    }
    data.truncate(len);
    data
}
