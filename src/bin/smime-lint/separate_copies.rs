//! A Bcc recipient's separately encrypted copy, found among the audited inputs.
//!
//! Clients that keep Bcc recipients hidden send each of them a copy of their own, encrypted for
//! them; the copy in sent items then has no RecipientInfo for them, and the audit reports
//! `partial-encryption` for that Bcc recipient. When the inputs also hold the other copy (same
//! Message-ID, and the Bcc recipient can decrypt it: `can_decrypt: true` in its report, or a
//! RecipientInfo matching their certificate), that finding is dropped: they got a copy they can
//! read. This works on the reports alone, whatever severity the finding has.
//!
//! Reports still come out in input order, and the common case streams: a report waits only
//! when it carries such a Bcc finding that no copy seen so far answers. Then the inputs'
//! Message-IDs are indexed once (a quick pass reading only each file's header section, in 4 KiB
//! steps and at most 64 KiB: [`index_message_ids`]); the report waits until the last input sharing its Message-ID has
//! been audited (usually the next one), or is let go at once when no later input shares it.
//! The reports behind a waiting one wait with it. Standard input cannot be read twice: with
//! `-` among the inputs, a waiting report waits until the end.

use smime_lint::audit::{Report, Rule};
use smime_lint::message::{message_start, OutgoingMessage, RecipientField};
use smime_lint::scan::{self, Input, PendingMessage, RawMessage, ScanOptions};
use std::collections::hash_map::DefaultHasher;
use std::collections::{HashMap, VecDeque};
use std::hash::{Hash, Hasher};
use std::ops::ControlFlow;
use std::path::PathBuf;

/// The most of each file the Message-ID index reads (it stops at the end of the header).
const HEAD: usize = 64 * 1024;

/// What goes through in input order: a report, or something else that keeps its place (a
/// file skipped as not mail).
pub trait InOrder {
    fn report(&self) -> Option<&Report>;
    fn report_mut(&mut self) -> Option<&mut Report>;
}

/// Reports in input order, with Bcc findings answered by a separate copy dropped.
pub struct SeparateCopies<T> {
    paths: Vec<PathBuf>,
    options: ScanOptions,
    jobs: usize,
    /// Per Message-ID: the addresses that can decrypt some copy seen so far (hashes).
    covered: HashMap<u64, Vec<u64>>,
    index: Index,
    /// Reports waiting, in input order: (the sequence number up to which it must wait, the
    /// item). Items behind a waiting report wait with it.
    held: VecDeque<(u64, T)>,
    /// Sequence number of the next item.
    next: u64,
}

enum Index {
    /// Not needed yet.
    NotBuilt,
    /// Message-ID hash → sequence number of the last input that has it (only IDs found in
    /// more than one input).
    Built(HashMap<u64, u64>),
    /// The inputs cannot be read again (standard input).
    Unavailable,
}

impl<T: InOrder> SeparateCopies<T> {
    pub fn new(paths: &[PathBuf], options: &ScanOptions, jobs: usize) -> Self {
        let index = if paths.iter().any(|p| p.as_os_str() == "-") {
            Index::Unavailable
        } else {
            Index::NotBuilt
        };
        Self {
            paths: paths.to_vec(),
            options: options.clone(),
            jobs,
            covered: HashMap::new(),
            index,
            held: VecDeque::new(),
            next: 0,
        }
    }

    /// Takes the next item in input order; calls `emit` with every item now final, in order.
    pub fn push(
        &mut self,
        item: T,
        emit: &mut impl FnMut(T) -> ControlFlow<()>,
    ) -> ControlFlow<()> {
        let seq = self.next;
        self.next += 1;
        let mut wait_until = seq;
        if let Some(report) = item.report() {
            self.record(report);
            if let Some(id) = open_bcc_id(report, &self.covered) {
                wait_until = self.last_copy(id).max(seq);
            }
        }
        self.held.push_back((wait_until, item));
        self.release(seq, emit)
    }

    /// The end of the input: everything still waiting is final.
    pub fn finish(&mut self, emit: &mut impl FnMut(T) -> ControlFlow<()>) -> ControlFlow<()> {
        self.release(u64::MAX, emit)
    }

    /// Emits the waiting items whose wait is over (`passed` is the last sequence number seen),
    /// in order, stopping at the first that must go on waiting.
    fn release(
        &mut self,
        passed: u64,
        emit: &mut impl FnMut(T) -> ControlFlow<()>,
    ) -> ControlFlow<()> {
        while self.held.front().is_some_and(|(until, _)| *until <= passed) {
            let Some((_, mut item)) = self.held.pop_front() else { break };
            if let Some(report) = item.report_mut() {
                drop_answered(report, &self.covered);
            }
            emit(item)?;
        }
        ControlFlow::Continue(())
    }

    /// Remembers who can decrypt this copy, under its Message-ID. Once the index is built, only
    /// Message-IDs shared by several inputs are kept.
    fn record(&mut self, report: &Report) {
        let Some(id) = report.message_id.as_deref().map(hash) else { return };
        if !report.is_encrypted() {
            return;
        }
        if let Index::Built(shared) = &self.index {
            if !shared.contains_key(&id) {
                return;
            }
        }
        let readers = report
            .recipients
            .iter()
            .filter(|r| r.can_decrypt == Some(true))
            .map(|r| hash(r.address.as_str()))
            .chain(
                report
                    .encryption
                    .recipient_infos
                    .iter()
                    .filter_map(|ri| ri.address.as_ref())
                    .map(|a| hash(a.as_str())),
            );
        let entry = self.covered.entry(id).or_default();
        for reader in readers {
            if !entry.contains(&reader) {
                entry.push(reader);
            }
        }
    }

    /// The sequence number of the last input sharing Message-ID `id` (building the index the
    /// first time it is needed); `u64::MAX` when it cannot be known.
    fn last_copy(&mut self, id: u64) -> u64 {
        if let Index::NotBuilt = self.index {
            self.index = match index_message_ids(&self.paths, &self.options, self.jobs) {
                Ok(shared) => {
                    // From now on, only Message-IDs found more than once need remembering.
                    self.covered.retain(|id, _| shared.contains_key(id));
                    Index::Built(shared)
                }
                Err(_) => Index::Unavailable,
            };
        }
        match &self.index {
            Index::Built(shared) => shared.get(&id).copied().unwrap_or(0),
            Index::Unavailable | Index::NotBuilt => u64::MAX,
        }
    }
}

/// The Message-ID hash of a report with a `partial-encryption` finding for a Bcc recipient that
/// no copy seen so far answers.
fn open_bcc_id(report: &Report, covered: &HashMap<u64, Vec<u64>>) -> Option<u64> {
    let id = hash(report.message_id.as_deref()?);
    let readers = covered.get(&id);
    let open = bcc_findings(report)
        .any(|address| !readers.is_some_and(|readers| readers.contains(&hash(address))));
    open.then_some(id)
}

/// The addresses of the Bcc recipients with a `partial-encryption` finding.
fn bcc_findings(report: &Report) -> impl Iterator<Item = &str> {
    report
        .findings
        .iter()
        .filter(|f| f.rule == Rule::PartialEncryption)
        .filter_map(|f| f.address.as_ref())
        .filter(|address| {
            report
                .recipients
                .iter()
                .any(|r| r.field == RecipientField::Bcc && &r.address == *address)
        })
        .map(|address| address.as_str())
}

/// Drops the `partial-encryption` findings of Bcc recipients who can decrypt another copy.
fn drop_answered(report: &mut Report, covered: &HashMap<u64, Vec<u64>>) {
    let Some(id) = report.message_id.as_deref().map(hash) else { return };
    let Some(readers) = covered.get(&id) else { return };
    let answered: Vec<String> = bcc_findings(report)
        .filter(|address| readers.contains(&hash(address)))
        .map(str::to_owned)
        .collect();
    if answered.is_empty() {
        return;
    }
    report.findings.retain(|f| {
        !(f.rule == Rule::PartialEncryption
            && f.address.as_ref().is_some_and(|a| answered.iter().any(|x| x == a.as_str())))
    });
}

fn hash(text: &str) -> u64 {
    let mut h = DefaultHasher::new();
    text.hash(&mut h);
    h.finish()
}

/// A pending file, read only up to its first [`HEAD`] bytes.
struct Head(PendingMessage);

impl Input for Head {
    fn size(&self) -> u64 {
        self.0.size_hint().min(HEAD as u64)
    }

    fn into_message(self) -> RawMessage {
        self.0.read_head(HEAD)
    }
}

/// Message-ID hash → the sequence number (input order, as the audit numbers the messages) of
/// the last input that has it, for the Message-IDs found in more than one input.
pub fn index_message_ids(
    paths: &[PathBuf],
    options: &ScanOptions,
    jobs: usize,
) -> Result<HashMap<u64, u64>, smime_lint::Error> {
    let inputs = scan::messages(paths, options)?.pending().map(Head);
    let mut seen: HashMap<u64, (u32, u64)> = HashMap::new();
    let mut seq = 0u64;
    scan::run_ordered(
        inputs,
        jobs,
        |m: RawMessage| m.bytes.ok().as_deref().and_then(message_id).map(|id| hash(&id)),
        |id: Option<u64>| {
            if let Some(id) = id {
                let entry = seen.entry(id).or_insert((0, seq));
                entry.0 = entry.0.saturating_add(1);
                entry.1 = seq;
            }
            seq += 1;
            ControlFlow::Continue(())
        },
        None,
    );
    Ok(seen.into_iter().filter(|(_, (n, _))| *n > 1).map(|(id, (_, last))| (id, last)).collect())
}

/// The Message-ID as the audit reads it, from the header section at the start of `bytes`.
fn message_id(bytes: &[u8]) -> Option<String> {
    let raw = message_start(bytes).ok()?;
    let end = header_end(raw).unwrap_or(raw.len());
    let msg = OutgoingMessage::parser().parse_headers(raw.get(..end)?)?;
    OutgoingMessage::from_message(&msg).message_id
}

/// Where the header section ends (just past the blank line).
fn header_end(raw: &[u8]) -> Option<usize> {
    let lf = raw.windows(2).position(|w| w == b"\n\n").map(|i| i + 2);
    let crlf = raw.windows(4).position(|w| w == b"\r\n\r\n").map(|i| i + 4);
    match (lf, crlf) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}
