//! `smime-lint check` on a built message: a message that is already S/MIME-encrypted is judged
//! as it *is* (the gateway's pre-send verdict against its recipients), not recomputed as the
//! draft it *would be*.

use crate::common::StoreArgs;
use crate::output::{self, certificate_json, CliError};
use crate::Outcome;
use serde_json::json;
use smime_lint::audit::{EncryptionKind, FindingSeverity, Rule};
use smime_lint::gateway::{self, Action, Envelope, GatewayPolicy, HeaderRecipients, Verdict};
use smime_lint::message::RecipientField;
use smime_lint::{Address, CertStore, Time};
use std::io::Write;

/// What `check` was given for a built message.
pub struct BuiltCheck<'a> {
    pub store: &'a StoreArgs,
    pub at: Option<Time>,
    /// `--from`: the reverse path; default the header's author.
    pub from: Option<&'a str>,
    /// `--rcpt` (and `--to/--cc/--bcc`): recipients besides the header's.
    pub extra: Vec<&'a str>,
    /// `--on-partial downgrade`: report a refusal that only recipients who cannot decrypt cause
    /// as `downgrade` (rebuild it unencrypted) instead of `refuse`.
    pub downgrade: bool,
    pub json: bool,
    /// Where the message came from, for warnings.
    pub source: &'a str,
}

/// Whether `check` judges `raw` as built (see [`gateway::is_built`]).
pub fn applies(raw: &[u8]) -> bool {
    gateway::is_built(raw)
}

pub fn run(args: BuiltCheck<'_>, raw: &[u8]) -> Result<Outcome, CliError> {
    let header = HeaderRecipients::parse(raw)?;
    let mail_from = match args.from {
        Some(a) => Address::parse(a)?.as_str().to_owned(),
        None => header.author.as_ref().map(|a| a.as_str().to_owned()).unwrap_or_default(),
    };
    let mut envelope = Envelope::new(&mail_from, header.recipients.iter().map(String::as_str));
    for extra in &args.extra {
        Address::parse(extra)?;
        envelope.add_recipient(extra);
    }
    if envelope.rcpt_to.is_empty() {
        return Err(CliError::Usage(format!(
            "{}: the message names no recipients (To/Cc/Bcc): give them with --rcpt",
            args.source
        )));
    }
    for bad in envelope.rcpt_to.iter().filter(|r| r.address.is_err()) {
        eprintln!("smime-lint: warning: {}: {:?} is not an address", args.source, bad.path);
    }

    let store = args.store.load()?;
    let at = args.at.unwrap_or_else(Time::now);
    let policy = GatewayPolicy::default();
    let verdict = gateway::verdict(raw, &envelope, &store, at, &policy);
    if let Some(why) = &verdict.internal_error {
        return Err(CliError::Usage(format!(
            "{}: the message could not be checked: {why}",
            args.source
        )));
    }
    let judged =
        Judged { verdict: &verdict, store: &store, at, policy: &policy, downgrade: args.downgrade };

    let mut out = output::stdout();
    if args.json {
        output::write_json(&mut out, &judged.json(envelope.mail_from.as_ref()))?;
    } else {
        judged.write_human(&mut out)?;
    }
    out.flush()?;
    Ok(if verdict.action == Action::Accept { Outcome::Clean } else { Outcome::Problems })
}

struct Judged<'a> {
    verdict: &'a Verdict,
    store: &'a CertStore,
    at: Time,
    policy: &'a GatewayPolicy,
    downgrade: bool,
}

impl Judged<'_> {
    fn accepted(&self) -> bool {
        self.verdict.action == Action::Accept
    }

    fn encrypted(&self) -> bool {
        matches!(self.verdict.encryption, EncryptionKind::Enveloped | EncryptionKind::AuthEnveloped)
    }

    /// Refused only because some recipients cannot decrypt: with `--on-partial downgrade` the
    /// client may rebuild it unencrypted (this copy still must not go).
    fn downgraded(&self) -> bool {
        self.downgrade
            && !self.accepted()
            && self.verdict.decided_by.iter().all(|r| *r == Rule::PartialEncryption)
    }

    /// The recipients the refusal names: who cannot decrypt.
    fn lacking(&self) -> usize {
        self.verdict.recipients.iter().filter(|r| r.rule == Some(Rule::PartialEncryption)).count()
    }

    fn status(&self) -> &'static str {
        match (self.accepted(), self.encrypted()) {
            (false, _) => "refused",
            (true, true) => "encrypted",
            (true, false) => "not-encrypted",
        }
    }

    fn decision(&self) -> &'static str {
        match (self.accepted(), self.encrypted()) {
            (false, _) if self.downgraded() => "downgrade",
            (false, _) => "refuse",
            (true, true) => "encrypt",
            (true, false) => "plaintext",
        }
    }

    fn json(&self, sender: Option<&Address>) -> serde_json::Value {
        let v = self.verdict;
        let recipients: Vec<_> = v
            .recipients
            .iter()
            .map(|r| {
                let status = Address::parse(&r.recipient)
                    .ok()
                    .map(|a| self.store.evaluate(&a, self.at, &self.policy.certificates));
                let reasons: Vec<_> = status
                    .as_ref()
                    .map(|s| s.reasons().iter().map(|x| x.report(&s.address)).collect())
                    .unwrap_or_default();
                json!({
                    "address": r.recipient,
                    "field": r.field,
                    "encryptable": status.as_ref().is_some_and(|s| s.is_encryptable()),
                    "certificate": status
                        .as_ref()
                        .and_then(|s| s.chosen.as_ref())
                        .map(|c| certificate_json(c.certificate)),
                    "reasons": reasons,
                    "can_decrypt": r.can_decrypt,
                    "rule": r.rule,
                    "reason": r.reason,
                })
            })
            .collect();
        json!({
            "question": "is",
            "status": self.status(),
            "decision": self.decision(),
            "verdict": v.action,
            "encryption": v.encryption,
            "recipients": recipients,
            "sender": sender.map(|a| json!({"address": a})),
            "findings": v.findings,
            "decided_by": v.decided_by,
            "reply": v.reply.as_ref().map(|r| r.to_string()),
        })
    }

    fn headline(&self) -> String {
        let v = self.verdict;
        let total = v.recipients.len();
        let lacking = self.lacking();
        let cannot = format!(
            "the message is encrypted, and {lacking} of {total} recipient{} cannot decrypt it",
            if total == 1 { "" } else { "s" }
        );
        if self.accepted() {
            return if self.encrypted() {
                "Encrypted (as built): every recipient can decrypt it".to_owned()
            } else {
                "Not Encrypted (as built)".to_owned()
            };
        }
        let first_other = v
            .findings
            .iter()
            .find(|f| v.decided_by.contains(&f.rule) && f.rule != Rule::PartialEncryption);
        match (lacking > 0, first_other) {
            (true, _) if self.downgraded() => {
                format!("Refused (as built): {cannot}; send it unencrypted instead (downgrade)")
            }
            (true, Some(f)) => format!("Refused (as built): {cannot}; and {}", f.message),
            (true, None) => format!("Refused (as built): {cannot}"),
            (false, Some(f)) => format!("Refused (as built): {}", f.message),
            (false, None) => "Refused (as built)".to_owned(),
        }
    }

    fn write_human(&self, out: &mut impl Write) -> std::io::Result<()> {
        writeln!(out, "{}", self.headline())?;
        for r in &self.verdict.recipients {
            let field = match r.field {
                RecipientField::To => "to",
                RecipientField::Cc => "cc",
                RecipientField::Bcc => "bcc",
            };
            let state = match (r.can_decrypt, r.rule) {
                (_, Some(Rule::PartialEncryption)) | (Some(false), _) => "CANNOT decrypt",
                (None, Some(_)) => "UNCONFIRMED",
                (Some(true), _) => "can decrypt",
                (None, None) => "not encrypted to anyone",
            };
            match &r.reason {
                Some(reason) => {
                    writeln!(out, "  {field:<4} {:<32} {state}: {reason}", r.recipient)?
                }
                None => writeln!(out, "  {field:<4} {:<32} {state}", r.recipient)?,
            }
            if r.rule == Some(Rule::PartialEncryption) {
                if let Ok(a) = Address::parse(&r.recipient) {
                    let status = self.store.evaluate(&a, self.at, &self.policy.certificates);
                    for reason in status.reasons().iter().filter(|x| x.is_blocking()) {
                        writeln!(out, "         {}: {}", reason.code(), reason.message(&a))?;
                        writeln!(out, "         hint: {}", reason.hint(&a))?;
                    }
                }
            }
        }
        // Each recipient who cannot decrypt is shown above; every other finding follows.
        for f in &self.verdict.findings {
            if f.rule == Rule::PartialEncryption && f.address.is_some() {
                continue;
            }
            let severity = match f.severity {
                FindingSeverity::Error => "error",
                FindingSeverity::Warning => "warning",
                FindingSeverity::Info => "info",
            };
            writeln!(out, "{severity} [{}]: {}", f.rule, f.message)?;
            if f.severity != FindingSeverity::Info {
                writeln!(out, "         hint: {}", f.hint)?;
            }
        }
        Ok(())
    }
}
