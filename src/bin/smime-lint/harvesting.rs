//! `--harvest`: certificates from the signed messages in the inputs, added to the store, with
//! what became of each (bound or not, new or already there) for `certs --harvest` to list and
//! for the one-line account both commands print.

use crate::output::{count, count_usize};
use smime_lint::message::OutgoingMessage;
use smime_lint::scan::{self, RawMessage, ScanOptions};
use smime_lint::{Address, CertStore, Certificate, HarvestBinding, Provenance};
use std::collections::HashMap;
use std::ops::ControlFlow;
use std::path::PathBuf;

/// One certificate found by harvesting (the first copy found, or a bound copy if any).
pub struct Harvested {
    /// With [`Provenance::Harvested`]: the message and the binding.
    pub cert: Certificate,
    /// The From address of that message.
    pub from: Option<Address>,
    /// How many messages carried it.
    pub messages: u64,
    /// `Some(source)` when the store already held it before harvesting (loaded from `source`):
    /// the copy there is the one used.
    pub already: Option<String>,
}

impl Harvested {
    /// The binding of the harvested copy.
    pub fn binding(&self) -> Option<&HarvestBinding> {
        match self.cert.provenance() {
            Provenance::Harvested { binding, .. } => Some(binding),
            _ => None,
        }
    }

    /// Bound: the signature verifies with it, it may sign, and it names the From address.
    pub fn is_bound(&self) -> bool {
        matches!(self.binding(), Some(HarvestBinding::Verified { .. }))
    }

    /// The message it was harvested from.
    pub fn message(&self) -> String {
        self.cert.provenance().label()
    }

    /// "bound to alice@example.com: ..." or "NOT bound: why", for people.
    pub fn binding_text(&self) -> String {
        match (self.binding(), &self.from) {
            (Some(HarvestBinding::Verified { senders }), _) if !senders.is_empty() => {
                let who: Vec<&str> = senders.iter().map(|a| a.as_str()).collect();
                format!(
                    "bound to {} only: the signature verifies with it, it may sign, and it names the From address",
                    who.join(", ")
                )
            }
            (Some(HarvestBinding::Verified { .. }), Some(from)) => format!(
                "bound to {from} only: the signature verifies with it, it may sign, and it names the From address"
            ),
            (Some(HarvestBinding::Verified { .. }), None) => {
                "bound: the signature verifies with it and it names the From address".into()
            }
            (Some(HarvestBinding::Unverified(why)), _) => {
                format!("NOT bound (never used to encrypt): {why}")
            }
            (None, _) => "not harvested".into(),
        }
    }
}

/// What a harvest pass found and did.
pub struct Harvest {
    /// Messages read (files that are not mail, or could not be read, left out).
    pub messages: u64,
    /// Messages that carried at least one certificate.
    pub signed: u64,
    /// Every certificate found, in the order found.
    pub found: Vec<Harvested>,
}

/// Reads every message under `paths` (with a progress bar when `progress` and standard error
/// is a terminal), collects the certificates of their signed layers, and adds them to `store`.
pub fn harvest_into(
    store: &mut CertStore,
    paths: &[PathBuf],
    options: &ScanOptions,
    jobs: usize,
    progress: bool,
) -> Result<Harvest, smime_lint::Error> {
    let inputs = scan::messages(paths, options)?.pending();
    let bar = scan::progress_bar_with_estimate(progress, paths, options);
    if let Some(bar) = bar.as_deref() {
        bar.set_label("harvesting certificates");
    }
    let mut harvest = Harvest { messages: 0, signed: 0, found: Vec::new() };
    let mut by_sha256: HashMap<[u8; 32], usize> = HashMap::new();
    scan::run_ordered(
        inputs,
        jobs,
        |m: RawMessage| match m.bytes {
            Ok(bytes) if smime_lint::message::message_start(&bytes).is_err() => {
                scan::recycle(bytes);
                (false, Vec::new(), None)
            }
            Ok(bytes) => {
                let certs = smime_lint::harvest::harvest_message(&bytes, &m.source.label);
                // The From address, to say whom a bound certificate is bound to: parsed again
                // only for the few messages that carry certificates.
                let from = if certs.is_empty() {
                    None
                } else {
                    OutgoingMessage::parser()
                        .parse(&bytes[..])
                        .and_then(|msg| OutgoingMessage::from_message(&msg).author().cloned())
                };
                scan::recycle(bytes);
                (true, certs, from)
            }
            Err(_) => (false, Vec::new(), None),
        },
        |(mail, certs, from): (bool, Vec<Certificate>, Option<Address>)| {
            harvest.messages += u64::from(mail);
            harvest.signed += u64::from(!certs.is_empty());
            for cert in certs {
                match by_sha256.get(cert.sha256()).and_then(|&i| harvest.found.get_mut(i)) {
                    Some(known) => {
                        known.messages += 1;
                        let verified = matches!(
                            cert.provenance(),
                            Provenance::Harvested { binding: HarvestBinding::Verified { .. }, .. }
                        );
                        if verified && !known.is_bound() {
                            known.cert = cert;
                            known.from = from.clone();
                        }
                    }
                    None => {
                        by_sha256.insert(*cert.sha256(), harvest.found.len());
                        let already =
                            store.by_sha256(cert.sha256()).map(|c| c.provenance().label());
                        harvest.found.push(Harvested {
                            cert,
                            from: from.clone(),
                            messages: 1,
                            already,
                        });
                    }
                }
            }
            ControlFlow::Continue(())
        },
        bar.as_deref(),
    );
    for found in &harvest.found {
        store.add(found.cert.clone());
    }
    Ok(harvest)
}

impl Harvest {
    /// Certificates the store did not hold before.
    pub fn new_ones(&self) -> impl Iterator<Item = &Harvested> {
        self.found.iter().filter(|h| h.already.is_none())
    }

    /// The one-line account: how many were found, how many were new, bound or not, and why
    /// "0 new" (they were all in the store already).
    pub fn account(&self) -> String {
        let new = self.new_ones().count();
        let bound = self.new_ones().filter(|h| h.is_bound()).count();
        let already = self.found.len() - new;
        let mut line = format!(
            "harvested {} from {} (of {} read)",
            count_usize(new, "new certificate", "new certificates"),
            count(self.signed, "signed message", "signed messages"),
            count(self.messages, "message", "messages"),
        );
        if new > 0 {
            line.push_str(&format!(
                ": {bound} bound to their sender, {} not bound (never used to encrypt)",
                new - bound
            ));
        }
        if already > 0 {
            let were = if already == 1 { "was" } else { "were" };
            line.push_str(&format!(
                "; {} found {were} already in the store",
                count_usize(already, "certificate", "certificates")
            ));
        }
        if self.signed == 0 {
            line.push_str("; no message carried a certificate");
        }
        line
    }
}
