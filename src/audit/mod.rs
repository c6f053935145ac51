//! The audit: given a message that went out (or is about to), who can actually open it, and
//! what else went wrong (DESIGN §5).
//!
//! [`audit_message`] is the one entry point: message bytes + certificate store + options →
//! [`Report`]. It never fails: a message that cannot be read gets a report with an `unreadable`
//! finding, an S/MIME part that cannot be parsed a `malformed-smime` finding.

pub mod analysis;
pub mod finding;
pub mod report;
mod rules;
pub mod skim;
pub mod summary;

pub use finding::{Finding, FindingSeverity, Rule};
pub use report::{
    DecryptionReport, EncryptionKind, EncryptionReport, EnvelopeKind, EnvelopeReport,
    RecipientInfoReport, RecipientReport, Report,
};
pub use summary::Summary;

use crate::certs::CertStore;
use crate::cms::RecipientKeyId;
use crate::decrypt::DecryptionKey;
use crate::message::OutgoingMessage;
use crate::time::Time;
use crate::usable::Policy;
use analysis::{EnvelopeRole, Layers};

/// How far a message's Date may be off when certificates are judged at it (`--clock-skew`).
///
/// Clients stamp `Date` from the device's clock: NSS's own test messages are dated 35 seconds
/// before their recipient certificate's notBefore. Ten minutes covers a clock that is not
/// synchronised without hiding a certificate that was really expired or not yet issued.
pub const DEFAULT_CLOCK_SKEW: std::time::Duration = std::time::Duration::from_secs(600);

/// How to audit.
pub struct AuditOptions {
    /// What certificates must satisfy. `policy.clock_skew` is allowed only when certificates are
    /// judged at the message's Date (default [`DEFAULT_CLOCK_SKEW`]); a time given with `at`,
    /// or the fallback time, is exact.
    pub policy: Policy,
    /// Judge certificates at this time instead of the message's Date (`--at`).
    pub at: Option<Time>,
    /// When a message has no usable Date and `at` is not set (the CLI passes "now").
    pub fallback_time: Option<Time>,
    /// The mailbox owner's keys, to decrypt and look inside (`--key`).
    pub keys: Vec<DecryptionKey>,
}

impl Default for AuditOptions {
    fn default() -> Self {
        AuditOptions {
            policy: Policy { clock_skew: DEFAULT_CLOCK_SKEW, ..Policy::default() },
            at: None,
            fallback_time: None,
            keys: Vec::new(),
        }
    }
}

/// Audits one message.
///
/// Never panics: parsing is bounded and errors become findings. As a last line of defence for
/// a scan over millions of messages, a panic below this call (a bug here or in a dependency,
/// such as mail-parser's quoted-printable overflow in builds with overflow checks) is caught and
/// reported as an `unreadable` finding for this message, so the scan goes on.
pub fn audit_message(raw: &[u8], store: &CertStore, options: &AuditOptions) -> Report {
    audit_guarded(raw, store, options, true)
}

/// [`audit_message`] without the fast path for large bodies ([`skim`]): every body is decoded
/// in full. The reports are the same; this is the reference that tests and benchmarks compare
/// the fast path with.
pub fn audit_message_unskimmed(raw: &[u8], store: &CertStore, options: &AuditOptions) -> Report {
    audit_guarded(raw, store, options, false)
}

fn audit_guarded(raw: &[u8], store: &CertStore, options: &AuditOptions, skim: bool) -> Report {
    let guarded = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        match examine(raw, store, options, skim) {
            Ok(mut examined) => {
                let recipients = examined.header.recipients();
                judge(&mut examined, recipients, Judging::SentCopy, store, options)
            }
            Err(why) => unreadable(&why),
        }
    }));
    guarded.unwrap_or_else(|_| {
        unreadable(
            "internal error while auditing this message (a bug: please report it with the message)",
        )
    })
}

/// What one message holds, read once: its header model and its S/MIME layers (with the
/// owner's decryptions when keys were given). Who the recipients are is decided afterwards:
/// the header's To/Cc/Bcc for a sent copy ([`audit_message`]), the SMTP envelope at a gateway.
pub(crate) struct Examined<'s> {
    pub header: OutgoingMessage,
    pub layers: Layers<'s>,
    pub decrypted: Vec<(String, Result<Vec<u8>, String>)>,
}

/// Reads a message: `Err` with the reason when it is not a message at all.
pub(crate) fn examine<'s>(
    raw: &[u8],
    store: &'s CertStore,
    options: &AuditOptions,
    skim: bool,
) -> Result<Examined<'s>, String> {
    let raw = match crate::message::message_start(raw) {
        Ok(raw) => raw,
        Err(crate::Error::Message { reason, .. }) => return Err(reason),
        Err(e) => return Err(e.to_string()),
    };
    // Bodies the audit does not read are cut out, and large S/MIME bodies skimmed, unless the
    // envelopes are to be decrypted (which needs their every byte); any doubt about the
    // skimmed parse falls back to the full one.
    let skimmed = if skim && options.keys.is_empty() { skim::skim(raw, true) } else { None };
    let parser = OutgoingMessage::shared_parser();
    let skimmed_parse = skimmed.as_ref().and_then(|s| {
        let msg = parser.parse(&s.bytes)?;
        let holes = s.holes_by_part(raw, &msg)?;
        let layers = analysis::analyse_skimmed(&msg, store, &holes)?;
        Some((OutgoingMessage::from_message(&msg), layers))
    });
    let (header, layers) = match skimmed_parse {
        Some(parsed) => parsed,
        None => {
            let Some(msg) = parser.parse(raw) else {
                return Err("not a mail message: no header section".to_owned());
            };
            let layers = analysis::analyse(&msg, store, &options.keys);
            (OutgoingMessage::from_message(&msg), layers)
        }
    };
    let decrypted = if options.keys.is_empty() {
        Vec::new()
    } else {
        analysis::decrypt_all(&layers, &options.keys)
    };
    Ok(Examined { header, layers, decrypted })
}

/// Whose copy the recipients are judged on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Judging {
    /// The copy in sent items, recipients from its header. A Bcc recipient missing from its
    /// RecipientInfos may have received a separately encrypted copy.
    SentCopy,
    /// This very copy is being delivered to these recipients (the SMTP envelope at a gateway,
    /// or a built message about to be sent): whoever lacks a RecipientInfo cannot read it.
    Delivery,
}

/// Judges the examined message for `recipients`: who can decrypt, and the findings.
pub(crate) fn judge(
    examined: &mut Examined<'_>,
    recipients: Vec<crate::message::Recipient>,
    judging: Judging,
    store: &CertStore,
    options: &AuditOptions,
) -> Report {
    let participants: Vec<&crate::address::Address> =
        recipients.iter().map(|r| &r.address).chain(examined.header.author()).collect();
    examined.layers.prefer_participants(&participants);
    let (header, layers) = (&examined.header, &examined.layers);
    let encrypted = layers.is_encrypted();
    let (known, unknown) = layers.decryptors();
    let recipients: Vec<RecipientReport> = recipients
        .into_iter()
        .map(|r| {
            let can_decrypt = if !encrypted {
                None
            } else if known.contains(&r.address) {
                Some(true)
            } else if unknown {
                None
            } else {
                Some(false)
            };
            RecipientReport { address: r.address, field: r.field, can_decrypt }
        })
        .collect();

    // The skew allows for the sending device's clock: only a Date has one.
    let at_date = options.at.is_none() && header.date.is_some();
    let at = options.at.or(header.date).or(options.fallback_time);
    let exact;
    let policy = if at_date {
        &options.policy
    } else {
        exact = Policy { clock_skew: std::time::Duration::ZERO, ..options.policy.clone() };
        &exact
    };
    let ctx = rules::Context {
        recipients: &recipients,
        author: header.author(),
        layers,
        store,
        policy,
        at,
        decrypted: &examined.decrypted,
        judging,
    };
    let findings = rules::run(&ctx);

    Report {
        path: String::new(),
        message_id: header.message_id.clone(),
        date: header.date,
        from: header.author().cloned(),
        subject: header.subject.clone(),
        reply: header.is_reply(),
        encryption: encryption_report(layers, &examined.decrypted),
        recipients,
        findings,
    }
}

/// The report of a message that could not be read at all.
pub fn unreadable(why: &str) -> Report {
    Report {
        findings: vec![Finding::new(
            Rule::Unreadable,
            None,
            why.to_owned(),
            "check the file: it is not a message smime-lint can read",
        )],
        ..Report::default()
    }
}

fn encryption_report(
    layers: &Layers<'_>,
    decrypted: &[(String, Result<Vec<u8>, String>)],
) -> EncryptionReport {
    let carrying: Vec<_> = layers.message_envelopes().collect();
    let kind = match carrying.first() {
        Some(e) if e.summary.auth_enveloped => EncryptionKind::AuthEnveloped,
        Some(_) => EncryptionKind::Enveloped,
        None if layers.malformed.iter().any(|m| m.role == EnvelopeRole::Message)
            || !layers.not_examined.is_empty() =>
        {
            EncryptionKind::Malformed
        }
        None if !layers.envelopes.is_empty() => EncryptionKind::EncryptedAttachment,
        None if layers.signed => EncryptionKind::SignedOnly,
        None => EncryptionKind::None,
    };
    let mut recipient_infos = Vec::new();
    for env in &layers.envelopes {
        for (ri, certs) in env.summary.recipient_infos.iter().zip(&env.matches) {
            let (issuer, serial, ski) = match &ri.id {
                Some(RecipientKeyId::IssuerSerial { issuer, serial_hex, .. }) => {
                    (Some(issuer.clone()), Some(serial_hex.clone()), None)
                }
                Some(RecipientKeyId::SubjectKeyIdentifier(ski)) => {
                    (None, None, Some(hex::encode(ski)))
                }
                None => (None, None, None),
            };
            let address =
                certs.first().and_then(|c| c.addresses().first()).map(|n| n.address.clone());
            recipient_infos.push(RecipientInfoReport {
                kind: ri.kind,
                layer: env.path.clone(),
                issuer,
                serial,
                ski,
                address,
            });
        }
    }
    let decryption = decrypted
        .iter()
        .map(|(path, outcome)| match outcome {
            Ok(plain) => DecryptionReport {
                layer: path.clone(),
                status: "decrypted",
                blank_body: rules::decrypted_body_is_blank(plain),
                reason: None,
            },
            Err(why) => DecryptionReport {
                layer: path.clone(),
                status: "failed",
                blank_body: None,
                reason: Some(why.clone()),
            },
        })
        .collect();
    EncryptionReport {
        kind,
        signed: layers.signed,
        envelopes: envelope_reports(layers),
        content_cipher: carrying
            .first()
            .copied()
            .or(layers.envelopes.first())
            .map(|e| e.summary.content_cipher.name.clone()),
        ber_indefinite: layers.envelopes.iter().any(|e| e.summary.ber_indefinite),
        recipient_infos,
        decryption,
    }
}

/// `encryption.envelopes`: the envelopes and the unreadable S/MIME parts, in MIME order.
fn envelope_reports(layers: &Layers<'_>) -> Vec<EnvelopeReport> {
    let envelopes = layers.envelopes.iter().map(|e| EnvelopeReport {
        layer: e.path.clone(),
        kind: if e.summary.auth_enveloped {
            EnvelopeKind::AuthEnveloped
        } else {
            EnvelopeKind::Enveloped
        },
        role: e.role,
        content_cipher: Some(e.summary.content_cipher.name.clone()),
        ber_indefinite: e.summary.ber_indefinite,
        recipient_info_count: e.summary.recipient_infos.len(),
        error: None,
    });
    let malformed = layers.malformed.iter().map(|m| EnvelopeReport {
        layer: m.path.clone(),
        kind: EnvelopeKind::Malformed,
        role: m.role,
        content_cipher: None,
        ber_indefinite: false,
        recipient_info_count: 0,
        error: Some(m.why.clone()),
    });
    let mut all: Vec<EnvelopeReport> = envelopes.chain(malformed).collect();
    all.sort_by_key(|e| mime_order(&e.layer));
    all
}

/// A MIME path (`2.10.1`) as numbers, so that part 10 sorts after part 9.
fn mime_order(path: &str) -> Vec<u64> {
    path.split('.').map(|n| n.parse().unwrap_or(u64::MAX)).collect()
}
