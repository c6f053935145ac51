//! The verdict: what the gateway (or a client about to send) does with one delivery.

use super::envelope::{Envelope, EnvelopeRecipient};
use super::policy::{splittable, Action, GatewayPolicy};
use super::reply::SmtpReply;
use crate::address::Address;
use crate::audit::{self, AuditOptions, EncryptionKind, Finding, Judging, Rule};
use crate::certs::CertStore;
use crate::message::{Recipient, RecipientField};
use crate::reason::Reason;
use crate::time::Time;
use std::collections::BTreeSet;

/// One envelope recipient in the verdict: can they decrypt, do they get the message, and why
/// not.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct RecipientVerdict {
    /// The recipient: the normalised address, or the `RCPT TO` path when it names none.
    pub recipient: String,
    /// The `RCPT TO` path as given.
    pub path: String,
    /// The header field that names them; `bcc` when only the envelope does.
    pub field: RecipientField,
    /// `true`/`false` for an encrypted message; `null` when not encrypted, or when no
    /// RecipientInfo matches a certificate known for them while some match no known certificate
    /// (`unconfirmed-recipient`).
    pub can_decrypt: Option<bool>,
    /// The rule that names them (`partial-encryption`, `unconfirmed-recipient`), if any.
    pub rule: Option<Rule>,
    /// Why they cannot (or may not) read it, in one sentence.
    pub reason: Option<String>,
    /// Whether the message goes to them.
    pub delivered: bool,
}

/// The pre-send verdict on one delivery. See [`verdict`](super::verdict()).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct Verdict {
    /// What to do: accept, split (deliver only to the recipients marked `delivered`),
    /// tempfail or reject.
    pub action: Action,
    /// The SMTP reply for a rejection or a temporary failure; `None` for accept and split.
    pub reply: Option<SmtpReply>,
    /// Every envelope recipient, in envelope order.
    pub recipients: Vec<RecipientVerdict>,
    /// What protects the message.
    pub encryption: EncryptionKind,
    /// Every finding about this delivery, judged against the envelope recipients.
    pub findings: Vec<Finding>,
    /// The rules whose policy action decided the verdict.
    pub decided_by: Vec<Rule>,
    /// Set when the message could not be checked at all (an internal error, a time-out): the
    /// verdict is then the policy's `on_error` action.
    pub internal_error: Option<String>,
}

impl Verdict {
    /// The `RCPT TO` paths the message goes to.
    pub fn deliver(&self) -> impl Iterator<Item = &str> {
        self.recipients.iter().filter(|r| r.delivered).map(|r| r.path.as_str())
    }

    /// The recipients the message does not go to (all of them on reject and tempfail).
    pub fn refused(&self) -> impl Iterator<Item = &RecipientVerdict> {
        self.recipients.iter().filter(|r| !r.delivered)
    }

    /// The recipients who cannot read the message (or cannot be shown to), with the rule and
    /// reason: the ones a rejection names, the ones a split removes.
    pub fn unreadable(&self) -> impl Iterator<Item = &RecipientVerdict> {
        self.recipients.iter().filter(|r| r.rule.is_some())
    }

    /// The value of the `X-Smime-Lint` header a gateway adds: what was checked and the
    /// verdict, never addresses (the header travels to every recipient, Bcc ones included).
    ///
    /// `smime-lint 0.1.0; verdict=split; encryption=enveloped; recipients=2/3; findings=partial-encryption`
    ///
    /// A message that could not be checked (an internal error, a time-out, too large) and was
    /// accepted all the same (`on_error` accept) says `encryption=unchecked; error=internal`.
    pub fn header_value(&self) -> String {
        // A message that could not be checked says so, rather than "none".
        let encryption = match self.internal_error {
            Some(_) => "unchecked",
            None => self.encryption.code(),
        };
        let mut v = format!(
            "smime-lint {}; verdict={}; encryption={encryption}",
            env!("CARGO_PKG_VERSION"),
            self.action,
        );
        if matches!(self.encryption, EncryptionKind::Enveloped | EncryptionKind::AuthEnveloped) {
            let readable = self
                .recipients
                .iter()
                .filter(|r| r.can_decrypt == Some(true) && r.rule.is_none())
                .count();
            v.push_str(&format!("; recipients={readable}/{}", self.recipients.len()));
        }
        let rules: BTreeSet<&str> = self
            .findings
            .iter()
            .filter(|f| f.severity != audit::FindingSeverity::Info)
            .map(|f| f.rule.code())
            .collect();
        if !rules.is_empty() {
            v.push_str("; findings=");
            v.push_str(&rules.into_iter().collect::<Vec<_>>().join(","));
        }
        if self.internal_error.is_some() {
            v.push_str("; error=internal");
        }
        v
    }
}

pub(super) fn evaluate(
    raw: &[u8],
    envelope: &Envelope,
    store: &CertStore,
    at: Time,
    policy: &GatewayPolicy,
) -> Verdict {
    let options = AuditOptions {
        policy: policy.certificates.clone(),
        at: Some(at),
        ..AuditOptions::default()
    };
    let mut examined = match audit::examine(raw, store, &options, true) {
        Ok(examined) => examined,
        Err(why) => {
            let finding = audit::unreadable(&why).findings.remove(0);
            let recipients =
                envelope.rcpt_to.iter().map(|r| outcome(r, RecipientField::Bcc, None)).collect();
            return decide(recipients, vec![finding], EncryptionKind::None, policy);
        }
    };

    // Envelope recipients, in the header field that names them (Bcc when none does).
    let header = examined.header.recipients();
    let field = |a: &Address| {
        header.iter().find(|r| &r.address == a).map_or(RecipientField::Bcc, |r| r.field)
    };
    let judged: Vec<Recipient> = envelope
        .rcpt_to
        .iter()
        .filter_map(|r| r.address.as_ref().ok())
        .map(|a| Recipient::new(a.clone(), field(a)))
        .collect();
    let report = audit::judge(&mut examined, judged, Judging::Delivery, store, &options);
    let layers = &examined.layers;
    let encrypted = layers.is_encrypted();
    let mut findings = report.findings;
    let mut judged = report.recipients.iter();
    let mut recipients = Vec::with_capacity(envelope.rcpt_to.len());
    for r in &envelope.rcpt_to {
        let Ok(address) = &r.address else {
            let mut o = outcome(r, RecipientField::Bcc, None);
            if encrypted {
                let reason = format!("{:?} is not an address a certificate can name", r.path);
                findings.push(Finding::new(
                    Rule::PartialEncryption,
                    None,
                    format!("envelope recipient {reason}: they cannot decrypt this message"),
                    "send it unencrypted to this recipient",
                ));
                o.can_decrypt = Some(false);
                o.rule = Some(Rule::PartialEncryption);
                o.reason = Some(reason);
            }
            recipients.push(o);
            continue;
        };
        // `judged` holds the readable recipients in envelope order.
        let Some(j) = judged.next().filter(|j| &j.address == address) else {
            return internal_error(envelope, policy, "recipient bookkeeping out of step");
        };
        let mut o = outcome(r, j.field, j.can_decrypt);
        if encrypted {
            let problem = match j.can_decrypt {
                Some(false) => Some((Rule::PartialEncryption, not_covered_reason(store, address, at, policy))),
                None => Some((
                    Rule::UnconfirmedRecipient,
                    format!(
                        "no RecipientInfo matches a certificate known for them; they can read it only if one of the {} unknown RecipientInfos is theirs",
                        layers.unknown_recipient_infos()
                    ),
                )),
                Some(true) => unproven_reason(layers, store, address, at, policy).map(|why| {
                    findings.push(Finding::new(
                        Rule::PartialEncryption,
                        Some(address.clone()),
                        format!("{address} cannot be shown to decrypt: {why}"),
                        "verify the recipient's certificate (a trust anchor, or their own signed mail) before encrypting to it",
                    ));
                    (Rule::PartialEncryption, why)
                }),
            };
            if let Some((rule, reason)) = problem {
                o.rule = Some(rule);
                o.reason = Some(reason);
                if rule == Rule::PartialEncryption {
                    o.can_decrypt = Some(false);
                }
            }
        }
        recipients.push(o);
    }
    let kind = report.encryption.kind;
    decide(recipients, findings, kind, policy)
}

fn outcome(
    r: &EnvelopeRecipient,
    field: RecipientField,
    can_decrypt: Option<bool>,
) -> RecipientVerdict {
    RecipientVerdict {
        recipient: r.display().to_owned(),
        path: r.path.clone(),
        field,
        can_decrypt,
        rule: None,
        reason: None,
        delivered: true,
    }
}

/// Why a recipient with no RecipientInfo cannot decrypt: what the store knows of them.
fn not_covered_reason(
    store: &CertStore,
    address: &Address,
    at: Time,
    policy: &GatewayPolicy,
) -> String {
    let status = store.evaluate(address, at, &policy.certificates);
    match &status.chosen {
        Some(c) => format!(
            "the message is not encrypted to their certificate (sha256 {:.16}...)",
            c.certificate.sha256_hex()
        ),
        None => {
            let reasons: Vec<String> =
                status.reasons().iter().map(|r| r.message(address)).collect();
            format!("no RecipientInfo is theirs ({})", reasons.join("; "))
        }
    }
}

/// A recipient some RecipientInfo names through a certificate, when every such certificate's
/// link to them is unproven (harvested from mail that did not prove it, or not chaining to a
/// configured trust anchor): whoever holds that key may not be them.
fn unproven_reason(
    layers: &audit::analysis::Layers<'_>,
    store: &CertStore,
    address: &Address,
    at: Time,
    policy: &GatewayPolicy,
) -> Option<String> {
    let mut unproven = None;
    for cert in layers.message_envelopes().flat_map(|e| e.matches.iter().flatten()) {
        if cert.names(address).is_none() {
            continue;
        }
        let reasons = store.check(cert, address, at, &policy.certificates);
        match reasons
            .iter()
            .find(|r| matches!(r, Reason::HarvestedUnverified { .. } | Reason::Untrusted { .. }))
        {
            None => return None,
            Some(r) => {
                unproven = Some(format!(
                    "encrypted only to a certificate not proven to be theirs ({}: {})",
                    r.code(),
                    r.message(address)
                ))
            }
        }
    }
    unproven
}

fn decide(
    recipients: Vec<RecipientVerdict>,
    findings: Vec<Finding>,
    encryption: EncryptionKind,
    policy: &GatewayPolicy,
) -> Verdict {
    // The action each rule with findings (or with recipients it names) asks for.
    let mut asked: Vec<(Rule, Action)> = Vec::new();
    let rules = findings.iter().map(|f| f.rule).chain(recipients.iter().filter_map(|r| r.rule));
    for rule in rules {
        let action = policy.action(rule);
        if action != Action::Accept && !asked.iter().any(|(r, _)| *r == rule) {
            asked.push((rule, action));
        }
    }
    let strongest = asked.iter().map(|(_, a)| *a).max().unwrap_or(Action::Accept);
    let decided_by: Vec<Rule> =
        asked.iter().filter(|(_, a)| *a == strongest).map(|(r, _)| *r).collect();
    let mut verdict = Verdict {
        action: strongest,
        reply: None,
        recipients,
        encryption,
        findings,
        decided_by,
        internal_error: None,
    };
    match strongest {
        Action::Accept => {}
        Action::Split => {
            for r in &mut verdict.recipients {
                r.delivered = r.rule.is_none_or(|rule| policy.action(rule) != Action::Split);
            }
            // Only refused recipients: nobody is left to deliver to.
            if verdict.deliver().next().is_none() {
                verdict.action = Action::Reject;
                verdict.reply = Some(reply(&verdict, Action::Reject));
            }
        }
        Action::Tempfail | Action::Reject => {
            for r in &mut verdict.recipients {
                r.delivered = false;
            }
            verdict.reply = Some(reply(&verdict, strongest));
        }
    }
    verdict
}

/// The reply text: who cannot read it and why, then each other deciding finding.
fn reply(v: &Verdict, action: Action) -> SmtpReply {
    let mut text = Vec::new();
    let named: Vec<&RecipientVerdict> = v
        .unreadable()
        .filter(|r| r.rule.is_some_and(|rule| v.decided_by.contains(&rule)))
        .collect();
    let verb = if action == Action::Reject { "refused" } else { "deferred" };
    let total = v.recipients.len();
    if !named.is_empty() {
        text.push(format!(
            "Message {verb}: it is encrypted, and {} of {total} recipient{} cannot read it; it was delivered to no one:",
            named.len(),
            if total == 1 { "" } else { "s" }
        ));
        const SHOWN: usize = 25;
        for r in named.iter().take(SHOWN) {
            text.push(format!(
                "{}: {}",
                r.recipient,
                r.reason.as_deref().unwrap_or("cannot decrypt")
            ));
        }
        if named.len() > SHOWN {
            text.push(format!("... and {} more", named.len() - SHOWN));
        }
    }
    let mut others =
        v.findings.iter().filter(|f| v.decided_by.contains(&f.rule) && !splittable(f.rule));
    if let Some(first) = others.next() {
        if text.is_empty() {
            text.push(format!("Message {verb}: {}", first.message));
        } else {
            text.push(format!("Also: {}", first.message));
        }
        text.push(format!("What to do: {}", first.hint));
        for f in others {
            text.push(format!("Also: {}", f.message));
        }
    } else if !named.is_empty() {
        text.push(
            "What to do: send it again encrypted only to recipients who have certificates, or unencrypted"
                .to_owned(),
        );
    }
    let media_only =
        v.decided_by.iter().all(|r| matches!(r, Rule::MalformedSmime | Rule::Unreadable));
    match (action, media_only) {
        (Action::Reject, true) => SmtpReply::new(554, "5.6.0", &text),
        (Action::Reject, false) => SmtpReply::new(550, "5.7.1", &text),
        _ => SmtpReply::new(451, "4.7.1", &text),
    }
}

/// The verdict when the message could not be checked: the policy's `on_error` action.
pub(super) fn internal_error(envelope: &Envelope, policy: &GatewayPolicy, why: &str) -> Verdict {
    let accept = policy.on_error() == Action::Accept;
    let recipients = envelope
        .rcpt_to
        .iter()
        .map(|r| RecipientVerdict { delivered: accept, ..outcome(r, RecipientField::Bcc, None) })
        .collect();
    Verdict {
        action: if accept { Action::Accept } else { Action::Tempfail },
        reply: (!accept).then(|| {
            SmtpReply::new(
                451,
                "4.7.0",
                &["Temporary failure: the S/MIME check could not run; please try again later"
                    .to_owned()],
            )
        }),
        recipients,
        encryption: EncryptionKind::None,
        findings: Vec::new(),
        decided_by: Vec::new(),
        internal_error: Some(why.to_owned()),
    }
}
