//! Totals over many reports: what `audit --format summary` prints, and the tail of `human`.

use super::finding::{FindingSeverity, Rule};
use super::report::{EncryptionKind, Report};
use crate::address::Address;
use std::collections::{BTreeMap, HashMap};

/// Running totals; feed every report to [`Summary::add`].
#[derive(Clone, Debug, Default)]
pub struct Summary {
    pub messages: u64,
    /// `encryption.kind` enveloped or auth-enveloped.
    pub encrypted: u64,
    /// `encryption.kind` signed-only.
    pub signed_only: u64,
    /// `encryption.kind` encrypted-attachment: envelopes only as attachments.
    pub encrypted_attachment: u64,
    /// `encryption.kind` malformed: the S/MIME part that is the message could not be read.
    pub malformed: u64,
    pub messages_with_errors: u64,
    pub messages_with_warnings: u64,
    /// Findings per rule.
    pub by_rule: BTreeMap<Rule, u64>,
    /// Per-recipient findings (errors and warnings) per address.
    pub by_recipient: HashMap<Address, u64>,
    /// Messages with errors or warnings per sender.
    pub by_sender: HashMap<Address, u64>,
}

impl Summary {
    /// Counts one report.
    pub fn add(&mut self, report: &Report) {
        self.messages += 1;
        match report.encryption.kind {
            EncryptionKind::Enveloped | EncryptionKind::AuthEnveloped => self.encrypted += 1,
            EncryptionKind::SignedOnly => self.signed_only += 1,
            EncryptionKind::EncryptedAttachment => self.encrypted_attachment += 1,
            EncryptionKind::Malformed => self.malformed += 1,
            EncryptionKind::None => {}
        }
        let worst = report.worst();
        match worst {
            Some(FindingSeverity::Error) => self.messages_with_errors += 1,
            Some(FindingSeverity::Warning) => self.messages_with_warnings += 1,
            _ => {}
        }
        for f in &report.findings {
            *self.by_rule.entry(f.rule).or_default() += 1;
            if let (Some(a), true) = (&f.address, f.severity != FindingSeverity::Info) {
                *self.by_recipient.entry(a.clone()).or_default() += 1;
            }
        }
        if let (Some(from), Some(FindingSeverity::Error | FindingSeverity::Warning)) =
            (&report.from, worst)
        {
            *self.by_sender.entry(from.clone()).or_default() += 1;
        }
    }

    /// The `n` addresses with the most findings, most first (ties by address).
    pub fn top_recipients(&self, n: usize) -> Vec<(&Address, u64)> {
        top(&self.by_recipient, n)
    }

    /// The `n` senders with the most problem messages, most first.
    pub fn top_senders(&self, n: usize) -> Vec<(&Address, u64)> {
        top(&self.by_sender, n)
    }
}

fn top(map: &HashMap<Address, u64>, n: usize) -> Vec<(&Address, u64)> {
    let mut v: Vec<_> = map.iter().map(|(a, c)| (a, *c)).collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    v.truncate(n);
    v
}
