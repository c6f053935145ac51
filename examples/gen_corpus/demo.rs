//! The bundled demo (testdata/demo): a fixed list of plans, one or more for every rule of the
//! audit, plus clean messages. testdata/demo/README.md describes each one.

use crate::corpus::{self, BoxError, Pki, Plan, Scenario, Truth};
use crate::people::{self, Person};
use smime_lint::build::BuildCipher;
use std::path::Path;

/// The demo's seed: change it and every encrypted byte changes (and the committed demo with it).
pub const DEMO_SEED: u64 = 2026;
/// 2026-06-01T09:00:00Z, the first demo message.
const START: i64 = 1_780_304_400;

struct Entry {
    scenario: Scenario,
    to: &'static [Person],
    cc: &'static [Person],
    bcc: &'static [Person],
    subject: &'static str,
    reply_to: Option<Person>,
    cipher: BuildCipher,
    sign_inner: bool,
    attachment: Option<usize>,
    user_agent: &'static str,
}

const fn entry(scenario: Scenario, to: &'static [Person], subject: &'static str) -> Entry {
    Entry {
        scenario,
        to,
        cc: &[],
        bcc: &[],
        subject,
        reply_to: None,
        cipher: BuildCipher::Aes128Cbc,
        sign_inner: false,
        attachment: None,
        user_agent: "Mozilla Thunderbird",
    }
}

use people::{BOB, CAROL, DAN, DAVE, HEIDI, KIM, OSCAR, PEGGY, UMA, VICTOR};

/// The demo, in order. The first message goes to `new/`, the rest to `cur/`.
fn entries() -> Vec<Entry> {
    vec![
        Entry {
            cc: &[KIM],
            attachment: Some(3_000),
            ..entry(Scenario::Plain, &[CAROL, DAN], "Lunch on Thursday?")
        },
        Entry {
            user_agent: "Apple Mail (2.3774.600.62)",
            ..entry(Scenario::Signed, &[CAROL], "Offsite agenda")
        },
        Entry {
            cc: &[UMA],
            cipher: BuildCipher::Aes256Cbc,
            sign_inner: true,
            user_agent: "Microsoft Outlook 16.0",
            ..entry(Scenario::EncryptedAll, &[BOB], "Salary review: your team")
        },
        Entry {
            cipher: BuildCipher::Aes128Gcm,
            ..entry(Scenario::AuthEnveloped, &[VICTOR, PEGGY], "Merger timeline")
        },
        entry(Scenario::Ber, &[OSCAR], "Board pack, final draft"),
        Entry {
            user_agent: "Microsoft Outlook 16.0",
            ..entry(Scenario::SignedOpaque, &[BOB], "Signed NDA attached")
        },
        Entry {
            cc: &[BOB],
            reply_to: Some(DAN),
            user_agent: "iPhone Mail (11D201)",
            ..entry(Scenario::ReplyAllPartial, &[DAN], "Re: Q3 budget figures")
        },
        Entry {
            cc: &[BOB, UMA],
            reply_to: Some(CAROL),
            ..entry(Scenario::ReplyAllPartial, &[CAROL], "Re: Patent draft for review")
        },
        Entry { bcc: &[UMA], ..entry(Scenario::Bcc, &[BOB], "Due diligence data room access") },
        entry(Scenario::NoSender, &[PEGGY], "Payroll export"),
        Entry {
            cipher: BuildCipher::DesEde3Cbc,
            user_agent: "Microsoft Outlook 16.0",
            ..entry(Scenario::Weak3des, &[BOB], "Lease amendment")
        },
        Entry {
            cipher: BuildCipher::DesCbc,
            user_agent: "Evolution 3.50.2",
            ..entry(Scenario::WeakDes, &[UMA], "Legal hold notice")
        },
        Entry {
            reply_to: Some(BOB),
            user_agent: "iPhone Mail (9B206)",
            ..entry(Scenario::SmartReply, &[BOB], "Re: Contract renewal for the Lisbon office")
        },
        Entry {
            user_agent: "iPhone Mail (9B206)",
            ..entry(Scenario::EmptyEnvelope, &[VICTOR], "Incident report 2026-017")
        },
        Entry { cc: &[DAVE], ..entry(Scenario::UnusableCertificate, &[BOB], "Audit findings") },
        Entry {
            cc: &[HEIDI],
            ..entry(Scenario::UnusableCertificate, &[UMA], "Vendor security questionnaire")
        },
        entry(Scenario::UnknownRecipientInfo, &[BOB], "Pricing proposal v3"),
        entry(Scenario::Malformed, &[BOB], "Quarterly forecast"),
        entry(Scenario::EncryptedAttachment, &[BOB], "Signed contract"),
        entry(Scenario::Unreadable, &[], "(not mail)"),
        // dan has no certificate, and one RecipientInfo matches none: it might be his.
        Entry { cc: &[DAN], ..entry(Scenario::UnknownRecipientInfo, &[BOB], "Term sheet (draft)") },
    ]
}

/// Writes the demo into `DIR/Maildir` and `DIR/ground-truth.ndjson`.
pub fn write_demo(dir: &Path, pki: &Pki) -> Result<Vec<Truth>, BoxError> {
    let maildir = corpus::make_maildir(dir)?;
    // Git keeps no empty folders; the scan skips hidden files.
    std::fs::write(maildir.join("tmp/.gitkeep"), b"")?;
    let mut truths = Vec::new();
    for (i, e) in entries().into_iter().enumerate() {
        let mut rng = corpus::message_rng(DEMO_SEED, i);
        let date = START + i as i64 * 37 * 60;
        let plan = Plan {
            scenario: e.scenario,
            from: people::ALICE,
            to: e.to.to_vec(),
            cc: e.cc.to_vec(),
            bcc: e.bcc.to_vec(),
            subject: e.subject.to_owned(),
            reply_to: e.reply_to,
            cipher: e.cipher,
            sign_inner: e.sign_inner,
            attachment: e.attachment,
            date,
            offset_minutes: 120,
            user_agent: e.user_agent,
            style: corpus::Style::Classic,
        };
        let (sub, name) = if i == 0 {
            ("new", format!("{date}.M{i}P0.demo"))
        } else {
            ("cur", format!("{date}.M{i}P0.demo:2,S"))
        };
        truths.push(corpus::write_message(&maildir, sub, &name, &plan, pki, &mut rng)?);
    }
    corpus::write_truth(dir, &truths)?;
    Ok(truths)
}
