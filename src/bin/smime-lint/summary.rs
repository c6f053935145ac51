//! The totals `audit` prints after the reports (`--format human`) or alone (`summary`): the
//! library's [`Summary`] plus what the table needs on top: findings split by severity per rule,
//! and the most affected recipients without the senders' own addresses.

use smime_lint::audit::{FindingSeverity, Report, Rule, Summary};
use smime_lint::Address;
use std::collections::{BTreeMap, HashMap};
use std::io::Write;

/// Running totals over the reports printed.
#[derive(Default)]
pub struct Tally {
    pub summary: Summary,
    /// Findings per rule and severity.
    by_rule: BTreeMap<(Rule, FindingSeverity), u64>,
    /// Error and warning findings per recipient address, the message's sender left out (their
    /// own copy is `sender-cannot-decrypt`, listed under the senders).
    by_recipient: HashMap<Address, u64>,
}

impl Tally {
    /// Counts one report.
    pub fn add(&mut self, report: &Report) {
        self.summary.add(report);
        for f in &report.findings {
            *self.by_rule.entry((f.rule, f.severity)).or_default() += 1;
            let Some(address) = &f.address else { continue };
            if f.severity != FindingSeverity::Info && report.from.as_ref() != Some(address) {
                *self.by_recipient.entry(address.clone()).or_default() += 1;
            }
        }
    }

    fn findings(&self, rule: Option<Rule>, severity: FindingSeverity) -> u64 {
        self.by_rule
            .iter()
            .filter(|((r, s), _)| *s == severity && rule.is_none_or(|rule| rule == *r))
            .map(|(_, n)| n)
            .sum()
    }

    /// The table. `store_empty`: say that who can decrypt was not judged.
    pub fn write(&self, out: &mut impl Write, store_empty: bool) -> std::io::Result<()> {
        let s = &self.summary;
        if store_empty {
            writeln!(out, "NOT JUDGED: no certificate for any address was loaded; who can decrypt was not checked")?;
            writeln!(out)?;
        }
        for (label, n) in [
            ("Messages scanned", s.messages),
            ("  encrypted", s.encrypted),
            ("  only an attachment encrypted", s.encrypted_attachment),
            ("  S/MIME part unreadable", s.malformed),
            ("  signed only", s.signed_only),
            ("  with errors", s.messages_with_errors),
            ("  with warnings only", s.messages_with_warnings),
        ] {
            writeln!(out, "{label:<30} {n:>8}")?;
        }
        writeln!(out)?;
        writeln!(
            out,
            "{:<38} {:>8} {:>8} {:>8}",
            "Findings by rule", "errors", "warnings", "info"
        )?;
        for rule in Rule::ALL {
            writeln!(
                out,
                "  {:<36} {:>8} {:>8} {:>8}",
                rule.code(),
                self.findings(Some(rule), FindingSeverity::Error),
                self.findings(Some(rule), FindingSeverity::Warning),
                self.findings(Some(rule), FindingSeverity::Info),
            )?;
        }
        writeln!(
            out,
            "  {:<36} {:>8} {:>8} {:>8}",
            "all rules",
            self.findings(None, FindingSeverity::Error),
            self.findings(None, FindingSeverity::Warning),
            self.findings(None, FindingSeverity::Info),
        )?;
        let recipients = top(&self.by_recipient, 10);
        if !recipients.is_empty() {
            writeln!(out)?;
            writeln!(out, "Most affected recipients (errors and warnings, senders left out)")?;
            for (a, n) in recipients {
                writeln!(out, "  {:<36} {:>8}", a.as_str(), n)?;
            }
        }
        let senders = s.top_senders(10);
        if !senders.is_empty() {
            writeln!(out)?;
            writeln!(out, "Senders of problem messages")?;
            for (a, n) in senders {
                writeln!(out, "  {:<36} {:>8}", a.as_str(), n)?;
            }
        }
        Ok(())
    }
}

/// The `n` addresses with the most findings, most first (ties by address).
fn top(map: &HashMap<Address, u64>, n: usize) -> Vec<(&Address, u64)> {
    let mut v: Vec<_> = map.iter().map(|(a, c)| (a, *c)).collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    v.truncate(n);
    v
}
