//! The certificate store: loading (PEM, DER, PKCS #7 certs-only bundles, folders), indexing, and
//! per-address evaluation.
//!
//! Loading parses every certificate once, in parallel (files and PEM blocks), then builds the
//! indexes:
//!
//! * by every address a certificate names (all rfc822Name and SmtpUTF8Mailbox SANs and subject
//!   emailAddress values, normalised);
//! * by issuer and serial (RFC 5652 `IssuerAndSerialNumber`: issuer compared as a Name, serial
//!   as an integer);
//! * by subjectKeyIdentifier (RFC 5652 `SubjectKeyIdentifier` RecipientInfos).
//!
//! The same DER is stored once. Trust anchors (`--trust`) are kept apart: they do not name
//! recipients, they only end chains.

use crate::address::Address;
use crate::cert::{Certificate, Provenance};
use crate::error::Error;
use crate::name::{IssuerSerial, NameKey};
use crate::reason::Reason;
use crate::time::Time;
use crate::trust::{build_chains, issuer_key, subject_key, ChainOutcome, Issuer};
use crate::usable::{check_certificate, insert_blocking, AddressStatus, CertVerdict, Policy};
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine as _;
use der::{Decode, Reader, Tag, TagNumber};
use rayon::prelude::*;
use std::collections::hash_map::RandomState;
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::hash::{BuildHasher, BuildHasherDefault, Hasher};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;

/// Folder recursion limit (symlink loops are caught separately).
const MAX_FOLDER_DEPTH: usize = 32;
/// File name extensions loaded from folders (case-insensitive). A named file loads whatever its
/// name.
const CERT_EXTENSIONS: [&str; 8] = ["pem", "crt", "cer", "cert", "der", "p7b", "p7c", "p7"];
/// Largest file read (a bundle of 100,000 PEM certificates is about 130 MB).
const MAX_FILE_BYTES: u64 = 1 << 30;
/// Files are read this far before their size is asked for (most certificate files are smaller).
const FIRST_READ_BYTES: usize = 16 << 10;
/// Below this many PEM blocks, parsing in the calling thread is cheaper than fanning out.
const PARALLEL_BLOCKS: usize = 32;

/// A file or PEM block that could not be loaded while the rest went on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadWarning {
    /// The file (or the provenance label of in-memory bytes).
    pub path: PathBuf,
    /// Why.
    pub message: String,
}

impl fmt::Display for LoadWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.message)
    }
}

/// Where an issuer candidate lives.
#[derive(Clone, Copy, Debug)]
enum IssuerRef {
    Store(u32),
    Anchor(u32),
}

/// Hasher for keys that already are uniformly distributed (SHA-256 digests, hashes computed
/// with [`serial_hash`]): folds the bytes instead of hashing them again.
#[derive(Default)]
struct Prehashed(u64);

impl Hasher for Prehashed {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word.iter_mut().zip(chunk).for_each(|(w, b)| *w = *b);
            self.0 = self.0.rotate_left(29) ^ u64::from_le_bytes(word);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = self.0.rotate_left(29) ^ n;
    }
}

type PrehashedMap<K, V> = HashMap<K, V, BuildHasherDefault<Prehashed>>;

/// Hash of a serial number (as normalised hex), keyed per process so crafted serials cannot
/// flood one bucket. The issuer-and-serial index is keyed by the serial alone: preparing issuer
/// names for 100,000 certificates would cost more than the rest of the indexing, and serials
/// rarely repeat. Lookups then compare the whole key.
pub(crate) fn serial_hash(serial_hex: &str) -> u64 {
    static STATE: OnceLock<RandomState> = OnceLock::new();
    STATE.get_or_init(RandomState::new).hash_one(serial_hex)
}

/// Batches at least this large build the address index and the others on two threads.
const PARALLEL_INDEX: usize = 4096;

/// The certificates under one index key. Almost always one: no allocation for that case.
#[derive(Clone, Debug)]
enum Ids {
    One(u32),
    Many(Vec<u32>),
}

impl Ids {
    fn push(&mut self, id: u32) {
        match self {
            Ids::One(first) => *self = Ids::Many(vec![*first, id]),
            Ids::Many(ids) => ids.push(id),
        }
    }

    fn as_slice(&self) -> &[u32] {
        match self {
            Ids::One(id) => std::slice::from_ref(id),
            Ids::Many(ids) => ids,
        }
    }
}

fn insert_id<K: std::hash::Hash + Eq, S: BuildHasher>(
    map: &mut HashMap<K, Ids, S>,
    key: K,
    id: u32,
) {
    map.entry(key).and_modify(|ids| ids.push(id)).or_insert(Ids::One(id));
}

/// Certificates indexed for recipient lookup, plus optional trust anchors.
///
/// `Send + Sync`: evaluation takes `&self`; chain results are cached per certificate with
/// [`OnceLock`], so concurrent evaluations share the work.
#[derive(Debug, Default)]
pub struct CertStore {
    certs: Vec<Certificate>,
    by_sha256: PrehashedMap<[u8; 32], u32>,
    by_address: HashMap<Address, Ids>,
    /// By [`serial_hash`]; lookups compare issuer and serial themselves.
    by_issuer_serial: PrehashedMap<u64, Ids>,
    by_ski: HashMap<Vec<u8>, Ids>,
    anchors: Vec<Certificate>,
    anchor_sha256: HashSet<[u8; 32]>,
    /// CA certificates of the store and every anchor, by subject: issuer candidates.
    issuers: HashMap<NameKey, Vec<IssuerRef>>,
    /// Signature-verified paths per stored certificate (same index as `certs`), built lazily.
    chains: Vec<OnceLock<ChainOutcome>>,
    /// Some entry of `chains` is filled (so a new issuer must reset them).
    chains_used: AtomicBool,
    warnings: Vec<LoadWarning>,
}

impl CertStore {
    /// An empty store without trust anchors.
    pub fn new() -> Self {
        Self::default()
    }

    /// Loads a file or a folder (recursively). Returns how many certificates were added (copies
    /// of certificates already in the store do not count).
    ///
    /// A named file that cannot be read or holds no certificate is an `Err`. Inside a folder,
    /// such a file becomes a [`LoadWarning`] and the rest still loads; folders load files named
    /// `*.pem`, `*.crt`, `*.cer`, `*.cert`, `*.der`, `*.p7b`, `*.p7c`, `*.p7` and skip hidden
    /// ones. A PEM file with some bad blocks loads the good ones and warns about the others.
    pub fn load_path(&mut self, path: &Path) -> Result<usize, Error> {
        let loaded = load(path)?;
        Ok(self.absorb(loaded, Target::Store))
    }

    /// Loads trust anchors from a file or folder, with the same formats and rules as
    /// [`load_path`](Self::load_path). Returns how many anchors were added.
    pub fn load_trust_path(&mut self, path: &Path) -> Result<usize, Error> {
        let loaded = load(path)?;
        Ok(self.absorb(loaded, Target::Anchors))
    }

    /// Adds the certificates in `bytes`: PEM (any number of CERTIFICATE, X509 CERTIFICATE,
    /// TRUSTED CERTIFICATE, PKCS7 or CMS blocks; other blocks are ignored), one DER certificate,
    /// or a DER PKCS #7 certs-only bundle (RFC 2315 / RFC 5652 SignedData). Returns how many
    /// were added. `Err` when nothing could be read.
    pub fn add_bytes(&mut self, bytes: &[u8], provenance: Provenance) -> Result<usize, Error> {
        let label = PathBuf::from(provenance.label());
        let parsed = parse_bundle(bytes, &provenance)?;
        let loaded = Loaded { files: vec![(label, Ok(parsed))], warnings: Vec::new() };
        Ok(self.absorb(loaded, Target::Store))
    }

    /// Adds one certificate. `false` if the same DER (SHA-256) is already stored; then the two
    /// provenances merge: a loaded copy replaces a harvested one, a verified harvest replaces an
    /// unverified one, and two verified harvests bind the certificate to both From addresses
    /// (so signed mail from an address lifts `harvested-unverified` for that address only).
    pub fn add(&mut self, cert: Certificate) -> bool {
        let start = self.certs.len();
        let fresh = self.admit(cert);
        self.index_from(start);
        fresh
    }

    /// Deduplicates and appends; the address, issuer-serial and SKI indexes follow in
    /// [`index_from`](Self::index_from).
    fn admit(&mut self, cert: Certificate) -> bool {
        if let Some(&index) = self.by_sha256.get(cert.sha256()) {
            if let Some(existing) = self.certs.get_mut(index as usize) {
                if let Some(merged) = existing.provenance().merged_with(cert.provenance()) {
                    existing.set_provenance(merged);
                }
            }
            return false;
        }
        let Ok(index) = u32::try_from(self.certs.len()) else { return false };
        self.by_sha256.insert(*cert.sha256(), index);
        // Only a CA's subject is needed, and reading it decodes the whole certificate.
        if let Some(subject) = cert.is_ca().then(|| subject_key(&cert)).flatten() {
            self.issuers.entry(subject).or_default().push(IssuerRef::Store(index));
            self.invalidate_chains();
        }
        self.certs.push(cert);
        self.chains.push(OnceLock::new());
        true
    }

    /// Indexes `certs[start..]` by address, serial and SKI; large batches on two threads.
    fn index_from(&mut self, start: usize) {
        let CertStore { certs, by_address, by_issuer_serial, by_ski, .. } = self;
        let Ok(first) = u32::try_from(start) else { return };
        let fresh = certs.get(start..).unwrap_or_default();
        let mut addresses = || {
            by_address.reserve(fresh.len());
            for (index, cert) in (first..).zip(fresh) {
                for named in cert.addresses() {
                    insert_id(by_address, named.address.clone(), index);
                }
            }
        };
        let mut identifiers = || {
            by_issuer_serial.reserve(fresh.len());
            for (index, cert) in (first..).zip(fresh) {
                insert_id(by_issuer_serial, cert.serial_hash(), index);
                if let Some(ski) = cert.subject_key_identifier() {
                    insert_id(by_ski, ski.to_vec(), index);
                }
            }
        };
        if fresh.len() >= PARALLEL_INDEX {
            rayon::join(addresses, identifiers);
        } else {
            addresses();
            identifiers();
        }
    }

    /// Adds a trust anchor (a copy already there is ignored). Anchors end chains; they are not
    /// recipients' certificates unless also [`add`](Self::add)ed.
    pub fn add_trust_anchor(&mut self, cert: Certificate) {
        self.add_trust_anchor_new(cert);
    }

    /// [`add_trust_anchor`](Self::add_trust_anchor), saying whether it was new.
    fn add_trust_anchor_new(&mut self, cert: Certificate) -> bool {
        let Ok(index) = u32::try_from(self.anchors.len()) else { return false };
        if !self.anchor_sha256.insert(*cert.sha256()) {
            return false;
        }
        if let Some(subject) = subject_key(&cert) {
            self.issuers.entry(subject).or_default().push(IssuerRef::Anchor(index));
        }
        self.anchors.push(cert);
        self.invalidate_chains();
        true
    }

    /// Whether trust anchors are configured (then [`check`](Self::check) requires a chain).
    pub fn has_trust_anchors(&self) -> bool {
        !self.anchors.is_empty()
    }

    /// The trust anchors.
    pub fn trust_anchors(&self) -> &[Certificate] {
        &self.anchors
    }

    /// Files and blocks skipped while loading, in load order.
    pub fn warnings(&self) -> &[LoadWarning] {
        &self.warnings
    }

    /// Number of certificates (anchors not counted).
    pub fn len(&self) -> usize {
        self.certs.len()
    }

    /// No certificates.
    pub fn is_empty(&self) -> bool {
        self.certs.is_empty()
    }

    /// Every certificate, in load order.
    pub fn iter(&self) -> impl Iterator<Item = &Certificate> {
        self.certs.iter()
    }

    /// Certificates naming `address` (in any of the places it can be named), in load order.
    pub fn for_address(&self, address: &Address) -> impl Iterator<Item = &Certificate> {
        self.resolve(self.by_address.get(address))
    }

    /// Certificates with this issuer (as a Name) and serial (as an integer).
    ///
    /// More than one result is possible and meaningful: two CA generations may share a name and
    /// reuse serials (the test PKI's bob and zoe). An `IssuerAndSerialNumber` RecipientInfo that
    /// matches several certificates is ambiguous; callers must say so rather than pick one.
    /// [`by_ski`](Self::by_ski) tells such certificates apart.
    pub fn by_issuer_serial<'s, 'k>(
        &'s self,
        key: &'k IssuerSerial,
    ) -> impl Iterator<Item = &'s Certificate> + 'k
    where
        's: 'k,
    {
        self.resolve(self.by_issuer_serial.get(&serial_hash(&key.serial_hex())))
            .filter(move |c| c.issuer_serial() == Some(key))
    }

    /// Certificates with this subjectKeyIdentifier.
    pub fn by_ski(&self, ski: &[u8]) -> impl Iterator<Item = &Certificate> {
        self.resolve(self.by_ski.get(ski))
    }

    /// The stored certificate with this SHA-256 fingerprint.
    pub fn by_sha256(&self, sha256: &[u8; 32]) -> Option<&Certificate> {
        self.by_sha256.get(sha256).and_then(|&i| self.certs.get(i as usize))
    }

    /// [`check_certificate`] plus, when trust anchors are configured, [`Reason::Untrusted`] if
    /// no chain to an anchor is valid at `at` and acceptable to `policy` (then a chain that is
    /// also drops the [`Reason::HarvestedSelfSigned`] warning). Chains of stored certificates are built once and
    /// cached; later calls only re-check validity times.
    pub fn check(
        &self,
        cert: &Certificate,
        address: &Address,
        at: Time,
        policy: &Policy,
    ) -> Vec<Reason> {
        let index = self.by_sha256.get(cert.sha256()).copied();
        self.check_indexed(index, cert, address, at, policy)
    }

    /// Every certificate naming `address` judged, best first; the best usable one chosen
    /// (usable, then strongest key, then latest notAfter: see [`CertVerdict::better_than`]).
    pub fn evaluate(&self, address: &Address, at: Time, policy: &Policy) -> AddressStatus<'_> {
        let candidates = self
            .by_address
            .get(address)
            .map(|indices| {
                indices
                    .as_slice()
                    .iter()
                    .filter_map(|&i| {
                        let cert = self.certs.get(i as usize)?;
                        let reasons = self.check_indexed(Some(i), cert, address, at, policy);
                        Some(CertVerdict { certificate: cert, reasons })
                    })
                    .collect()
            })
            .unwrap_or_default();
        AddressStatus::from_candidates(address.clone(), candidates)
    }

    fn check_indexed(
        &self,
        index: Option<u32>,
        cert: &Certificate,
        address: &Address,
        at: Time,
        policy: &Policy,
    ) -> Vec<Reason> {
        let mut reasons = check_certificate(cert, address, at, policy);
        if self.has_trust_anchors() {
            let cached = index.and_then(|i| self.chains.get(i as usize));
            let verdict = match cached {
                Some(slot) => slot
                    .get_or_init(|| {
                        self.chains_used.store(true, Ordering::Relaxed);
                        self.build_chains(cert)
                    })
                    .check(at, policy),
                None => self.build_chains(cert).check(at, policy),
            };
            match verdict {
                Err(detail) => insert_blocking(&mut reasons, Reason::Untrusted { detail }),
                // An anchor vouches for it: a self-signed harvest is no longer only the word
                // of whoever sent the mail.
                Ok(()) => reasons.retain(|r| *r != Reason::HarvestedSelfSigned),
            }
        }
        reasons
    }

    /// Paths from `cert` to an anchor through the store's CA certificates and the anchors.
    fn build_chains(&self, cert: &Certificate) -> ChainOutcome {
        let issuers_of = |child: &Certificate| -> Vec<Issuer<'_>> {
            let Some(refs) = issuer_key(child).and_then(|k| self.issuers.get(&k)) else {
                return Vec::new();
            };
            refs.iter()
                .filter_map(|r| match *r {
                    IssuerRef::Store(i) => {
                        self.certs.get(i as usize).map(|cert| Issuer { cert, anchor: false })
                    }
                    IssuerRef::Anchor(i) => {
                        self.anchors.get(i as usize).map(|cert| Issuer { cert, anchor: true })
                    }
                })
                .collect()
        };
        build_chains(cert, self.anchor_sha256.contains(cert.sha256()), &issuers_of)
    }

    /// A new issuer may open new paths: forget cached chains (only if any were built).
    fn invalidate_chains(&mut self) {
        if std::mem::take(self.chains_used.get_mut()) {
            self.chains.iter_mut().for_each(|slot| drop(slot.take()));
        }
    }

    fn resolve<'s>(&'s self, indices: Option<&'s Ids>) -> impl Iterator<Item = &'s Certificate> {
        indices.into_iter().flat_map(Ids::as_slice).filter_map(|&i| self.certs.get(i as usize))
    }

    /// Adds what was loaded to the store or the anchors, records warnings; returns how many
    /// certificates were new.
    fn absorb(&mut self, loaded: Loaded, target: Target) -> usize {
        self.warnings.extend(loaded.warnings);
        let start = self.certs.len();
        let mut added = 0;
        for (path, result) in loaded.files {
            match result {
                Ok(parsed) => {
                    for message in parsed.problems {
                        self.warnings.push(LoadWarning { path: path.clone(), message });
                    }
                    self.certs.reserve(parsed.certs.len());
                    self.chains.reserve(parsed.certs.len());
                    self.by_sha256.reserve(parsed.certs.len());
                    for cert in parsed.certs {
                        added += usize::from(match target {
                            Target::Store => self.admit(cert),
                            Target::Anchors => self.add_trust_anchor_new(cert),
                        });
                    }
                }
                Err(e) => self.warnings.push(LoadWarning { path, message: reason_of(&e) }),
            }
        }
        self.index_from(start);
        added
    }
}

/// Where loaded certificates go.
#[derive(Clone, Copy)]
enum Target {
    Store,
    Anchors,
}

/// The reason part of an error, without the path the warning already carries.
fn reason_of(e: &Error) -> String {
    match e {
        Error::Io { source, .. } => source.to_string(),
        Error::Certificate { reason, .. } => reason.clone(),
        other => other.to_string(),
    }
}

/// Certificates read from one input, and blocks of it that could not be read.
#[derive(Debug, Default)]
struct Parsed {
    certs: Vec<Certificate>,
    problems: Vec<String>,
}

/// Files read for one `load_path` call, in path order, and folder-level warnings.
struct Loaded {
    files: Vec<(PathBuf, Result<Parsed, Error>)>,
    warnings: Vec<LoadWarning>,
}

/// Reads a file (errors are fatal) or a folder (errors per file are warnings).
fn load(path: &Path) -> Result<Loaded, Error> {
    let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
    if !meta.is_dir() {
        let parsed = read_file(path)?;
        return Ok(Loaded { files: vec![(path.to_path_buf(), Ok(parsed))], warnings: Vec::new() });
    }
    let mut walk = Walk::default();
    std::fs::read_dir(path).map_err(|e| Error::io(path, e))?;
    walk.visit(path, 0);
    let files = walk.files.into_par_iter().map(|file| {
        let parsed = read_file(&file);
        (file, parsed)
    });
    Ok(Loaded { files: files.collect(), warnings: walk.warnings })
}

fn read_file(path: &Path) -> Result<Parsed, Error> {
    use std::io::Read;
    let io = |e| Error::io(path, e);
    let mut file = std::fs::File::open(path).map_err(io)?;
    // Certificates are small: read the first bytes without asking for the size (one system
    // call less per file of a large folder); only a file that fills them is measured, and
    // refused before reading on when it is too large.
    let mut bytes = Vec::with_capacity(FIRST_READ_BYTES);
    (&mut file).take(FIRST_READ_BYTES as u64).read_to_end(&mut bytes).map_err(io)?;
    if bytes.len() == FIRST_READ_BYTES {
        let len = file.metadata().map_err(io)?.len();
        if len > MAX_FILE_BYTES {
            return Err(Error::Certificate {
                context: path.display().to_string(),
                reason: format!(
                    "{len} bytes; certificate files over {MAX_FILE_BYTES} bytes are not read"
                ),
            });
        }
        bytes.reserve(usize::try_from(len).unwrap_or(0).saturating_sub(bytes.len()));
        file.take(MAX_FILE_BYTES - FIRST_READ_BYTES as u64).read_to_end(&mut bytes).map_err(io)?;
    }
    parse_bundle(&bytes, &Provenance::File(path.to_path_buf()))
}

/// Recursive folder listing: sorted, hidden entries skipped, symlink loops and depth bounded.
#[derive(Default)]
struct Walk {
    files: Vec<PathBuf>,
    warnings: Vec<LoadWarning>,
    visited: HashSet<PathBuf>,
}

impl Walk {
    fn visit(&mut self, dir: &Path, depth: usize) {
        let warn = |w: &mut Vec<LoadWarning>, path: &Path, message: String| {
            w.push(LoadWarning { path: path.to_path_buf(), message });
        };
        match std::fs::canonicalize(dir) {
            Ok(real) => {
                if !self.visited.insert(real) {
                    return; // already listed (a symlink loop)
                }
            }
            Err(e) => return warn(&mut self.warnings, dir, e.to_string()),
        }
        let entries = match std::fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) => return warn(&mut self.warnings, dir, e.to_string()),
        };
        let mut paths: Vec<(PathBuf, Option<std::fs::FileType>)> = Vec::new();
        for entry in entries {
            match entry {
                Ok(entry) if !entry.file_name().to_string_lossy().starts_with('.') => {
                    // The listing usually knows the type: no stat per file.
                    paths.push((entry.path(), entry.file_type().ok()));
                }
                Ok(_) => {}
                Err(e) => warn(&mut self.warnings, dir, e.to_string()),
            }
        }
        // One folder: comparing the names' bytes orders like comparing the paths, only faster.
        paths.sort_unstable_by(|a, b| a.0.as_os_str().cmp(b.0.as_os_str()));
        for (path, file_type) in paths {
            // Follows symlinks: a linked certificate or folder counts like a real one.
            let is_dir = match file_type {
                Some(t) if t.is_file() => Ok(false),
                Some(t) if t.is_dir() => Ok(true),
                _ => std::fs::metadata(&path).map(|m| m.is_dir()),
            };
            match is_dir {
                Ok(true) => {
                    if depth < MAX_FOLDER_DEPTH {
                        self.visit(&path, depth + 1);
                    } else {
                        warn(
                            &mut self.warnings,
                            &path,
                            format!("deeper than {MAX_FOLDER_DEPTH} folders; skipped"),
                        );
                    }
                }
                Ok(false) if has_cert_extension(&path) => self.files.push(path),
                Ok(false) => {}
                Err(e) => warn(&mut self.warnings, &path, e.to_string()),
            }
        }
    }
}

fn has_cert_extension(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| CERT_EXTENSIONS.iter().any(|x| x.eq_ignore_ascii_case(e)))
}

/// Certificates in one input: PEM (many blocks) or DER (certificate or PKCS #7 bundle).
fn parse_bundle(bytes: &[u8], provenance: &Provenance) -> Result<Parsed, Error> {
    let fail = |reason: String| Error::Certificate { context: provenance.label(), reason };
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(fail("empty: no certificate".to_owned()));
    }
    let text = std::str::from_utf8(bytes).ok();
    if let Some(text) = text.filter(|t| t.contains("-----BEGIN ")) {
        return parse_pem(text, provenance);
    }
    if text.is_none() && contains(bytes, b"-----BEGIN ") {
        // PEM with stray non-UTF-8 bytes in its explanatory text: the blocks are ASCII.
        return parse_pem(&String::from_utf8_lossy(bytes), provenance);
    }
    let certs = parse_der(bytes, provenance).map_err(fail)?;
    split_results(certs).map_err(fail)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Good certificates and problems, or one error when nothing was good.
fn split_results(results: Vec<Result<Certificate, String>>) -> Result<Parsed, String> {
    let mut parsed = Parsed::default();
    for result in results {
        match result {
            Ok(cert) => parsed.certs.push(cert),
            Err(problem) => parsed.problems.push(problem),
        }
    }
    if parsed.certs.is_empty() {
        return Err(if parsed.problems.is_empty() {
            "no certificate found".to_owned()
        } else {
            parsed.problems.join("; ")
        });
    }
    Ok(parsed)
}

/// One DER input: a certificate, or a PKCS #7 certs-only bundle (its certificates, each parsed
/// on its own so one bad entry does not hide the others).
fn parse_der(
    der: &[u8],
    provenance: &Provenance,
) -> Result<Vec<Result<Certificate, String>>, String> {
    let cert_error = match Certificate::from_der(der, provenance.clone()) {
        Ok(cert) => return Ok(vec![Ok(cert)]),
        Err(e) => reason_of(&e),
    };
    match pkcs7_certificates(der) {
        Ok(Some(ders)) => Ok(ders
            .into_iter()
            .enumerate()
            .map(|(i, der)| {
                Certificate::from_der(der, provenance.clone())
                    .map_err(|e| format!("PKCS #7 certificate #{}: {}", i + 1, reason_of(&e)))
            })
            .collect()),
        Ok(None) => Err(cert_error),
        Err(pkcs7_error) => Err(pkcs7_error),
    }
}

/// id-signedData (RFC 5652 §5.1).
const ID_SIGNED_DATA: const_oid::ObjectIdentifier =
    const_oid::ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");

/// The certificate DERs of a PKCS #7 / CMS SignedData (RFC 5652 §5.1). `Ok(None)` when the input
/// is not a ContentInfo at all (so the certificate error is the one to report).
///
/// ```asn1
/// ContentInfo ::= SEQUENCE { contentType ContentType, content [0] EXPLICIT ANY }
/// SignedData ::= SEQUENCE { version CMSVersion, digestAlgorithms DigestAlgorithmIdentifiers,
///   encapContentInfo EncapsulatedContentInfo, certificates [0] IMPLICIT CertificateSet OPTIONAL,
///   crls [1] IMPLICIT RevocationInfoChoices OPTIONAL, signerInfos SignerInfos }
/// ```
///
/// Walked by hand rather than decoded with `cms`: a SET OF decoder rejects duplicate entries
/// and one malformed certificate would fail the whole bundle.
fn pkcs7_certificates(der: &[u8]) -> Result<Option<Vec<&[u8]>>, String> {
    let bad = |e: der::Error| format!("malformed PKCS #7 bundle: {e}");
    let mut reader = der::SliceReader::new(der).map_err(bad)?;
    let outer = der::Header::decode(&mut reader).map_err(bad)?;
    if outer.tag != Tag::Sequence || reader.peek_tag().ok() != Some(Tag::ObjectIdentifier) {
        return Ok(None);
    }
    let content_type = const_oid::ObjectIdentifier::decode(&mut reader).map_err(bad)?;
    if content_type != ID_SIGNED_DATA {
        return Err(format!("PKCS #7 content type {content_type} is not signedData"));
    }
    let explicit = der::Header::decode(&mut reader).map_err(bad)?;
    let signed = der::Header::decode(&mut reader).map_err(bad)?;
    if explicit.tag != context(0) || signed.tag != Tag::Sequence {
        return Err("malformed PKCS #7 bundle: content is not a SignedData".to_owned());
    }
    for _ in 0..3 {
        // version, digestAlgorithms, encapContentInfo
        reader.tlv_bytes().map_err(bad)?;
    }
    let mut certs = Vec::new();
    if reader.peek_tag().ok() == Some(context(0)) {
        let header = der::Header::decode(&mut reader).map_err(bad)?;
        let body = reader.read_slice(header.length).map_err(bad)?;
        let mut set = der::SliceReader::new(body).map_err(bad)?;
        while !set.is_finished() {
            let tlv = set.tlv_bytes().map_err(bad)?;
            // CertificateChoices: only the plain `certificate` alternative is a SEQUENCE.
            if tlv.first() == Some(&0x30) {
                certs.push(tlv);
            }
        }
    }
    if certs.is_empty() {
        return Err("PKCS #7 bundle holds no certificates".to_owned());
    }
    Ok(Some(certs))
}

fn context(number: u8) -> Tag {
    Tag::ContextSpecific { constructed: true, number: TagNumber::new(number) }
}

/// One `-----BEGIN label-----` ... `-----END label-----` block (RFC 7468 §2).
struct PemBlock<'a> {
    number: usize,
    label: &'a str,
    body: &'a str,
}

/// Labels holding one certificate (RFC 7468 §5.1, plus OpenSSL's older and "trusted" forms).
const CERT_LABELS: [&str; 3] = ["CERTIFICATE", "X509 CERTIFICATE", "TRUSTED CERTIFICATE"];
/// Labels holding a PKCS #7 / CMS structure (RFC 7468 §8 and §9).
const PKCS7_LABELS: [&str; 3] = ["PKCS7", "CMS", "PKCS #7 SIGNED DATA"];

/// Lenient base64: RFC 7468 §3 asks parsers to accept missing padding and any line length.
const PEM_BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

fn parse_pem(text: &str, provenance: &Provenance) -> Result<Parsed, Error> {
    let (blocks, mut problems) = pem_blocks(text);
    let parse = |block: &PemBlock<'_>| parse_pem_block(block, provenance);
    let mut all: Vec<Result<Certificate, String>> = if blocks.len() >= PARALLEL_BLOCKS {
        blocks.par_iter().flat_map_iter(parse).collect()
    } else {
        blocks.iter().flat_map(parse).collect()
    };
    all.extend(problems.drain(..).map(Err));
    split_results(all).map_err(|reason| Error::Certificate { context: provenance.label(), reason })
}

fn parse_pem_block(
    block: &PemBlock<'_>,
    provenance: &Provenance,
) -> Vec<Result<Certificate, String>> {
    let is_cert = CERT_LABELS.contains(&block.label);
    if !is_cert && !PKCS7_LABELS.contains(&block.label) {
        return Vec::new(); // keys, CRLs, parameters: not ours, not an error
    }
    let what = || format!("PEM block #{} ({})", block.number, block.label);
    let der = match decode_pem_body(block.body) {
        Ok(der) => der,
        Err(e) => return vec![Err(format!("{}: bad base64: {e}", what()))],
    };
    if !is_cert {
        return match parse_der(&der, provenance) {
            Ok(results) => {
                results.into_iter().map(|r| r.map_err(|e| format!("{}: {e}", what()))).collect()
            }
            Err(e) => vec![Err(format!("{}: {e}", what()))],
        };
    }
    let der = if block.label == "TRUSTED CERTIFICATE" {
        // OpenSSL appends trust settings after the certificate: keep the first TLV only.
        match first_tlv(&der) {
            Some(cert) => cert.to_vec(),
            None => return vec![Err(format!("{}: not DER", what()))],
        }
    } else {
        der
    };
    vec![Certificate::from_der_vec(der, provenance.clone())
        .map_err(|e| format!("{}: {}", what(), reason_of(&e)))]
}

/// Decodes a PEM body, ignoring white space anywhere (RFC 7468 §3). Line breaks and the white
/// space around lines go first, in one cheap pass; white space inside lines is rare, and the
/// decoder rejects it, so it is only searched for (and dropped) when decoding fails.
fn decode_pem_body(body: &str) -> Result<Vec<u8>, base64::DecodeError> {
    /// RFC 7468 §2: generators wrap base64 lines at exactly 64 characters.
    const LINE: usize = 64;
    let mut compact = Vec::with_capacity(body.len());
    let mut rest = body.as_bytes();
    while !rest.is_empty() {
        // Look where the line break usually is before searching for it byte by byte.
        let end = if rest.get(LINE) == Some(&b'\n') {
            LINE
        } else {
            rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len())
        };
        let (line, tail) = rest.split_at(end);
        compact.extend_from_slice(line.trim_ascii());
        rest = tail.get(1..).unwrap_or_default();
    }
    match PEM_BASE64.decode(&compact) {
        Err(_) if compact.iter().any(u8::is_ascii_whitespace) => {
            compact.retain(|b| !b.is_ascii_whitespace());
            PEM_BASE64.decode(&compact)
        }
        decoded => decoded,
    }
}

/// The base64 text of a PEM body without any white space: what [`decode_pem_body`] decodes.
#[cfg(test)]
fn compact_base64(body: &str) -> Vec<u8> {
    body.bytes().filter(|b| !b.is_ascii_whitespace()).collect()
}

fn first_tlv(der: &[u8]) -> Option<&[u8]> {
    der::SliceReader::new(der).ok()?.tlv_bytes().ok()
}

/// Where `-----END label-----` starts in `text`, and its length.
fn find_end_line(text: &str, label: &str) -> Option<(usize, usize)> {
    const END: &str = "-----END ";
    const DASHES: &str = "-----";
    let mut from = 0;
    while let Some(found) = text.get(from..)?.find(END) {
        let start = from + found;
        let after = text.get(start + END.len()..)?;
        if after.strip_prefix(label).is_some_and(|tail| tail.starts_with(DASHES)) {
            return Some((start, END.len() + label.len() + DASHES.len()));
        }
        from = start + END.len();
    }
    None
}

/// Splits PEM text into blocks; text outside blocks is ignored (RFC 7468 §2 explanatory text).
fn pem_blocks(text: &str) -> (Vec<PemBlock<'_>>, Vec<String>) {
    const BEGIN: &str = "-----BEGIN ";
    const DASHES: &str = "-----";
    let mut blocks = Vec::new();
    let mut problems = Vec::new();
    let mut rest = text;
    let mut number = 0;
    while let Some(start) = rest.find(BEGIN) {
        number += 1;
        let after_begin = &rest[start + BEGIN.len()..];
        let line_end = after_begin.find('\n').unwrap_or(after_begin.len());
        let Some(label_len) = after_begin[..line_end].find(DASHES) else {
            problems.push(format!("PEM block #{number}: malformed BEGIN line"));
            rest = &after_begin[line_end..];
            continue;
        };
        let label = &after_begin[..label_len];
        let body_and_rest = &after_begin[label_len + DASHES.len()..];
        let Some((body_len, end_len)) = find_end_line(body_and_rest, label) else {
            problems.push(format!("PEM block #{number} ({label}): no END line"));
            break;
        };
        blocks.push(PemBlock { number, label, body: &body_and_rest[..body_len] });
        rest = &body_and_rest[body_len + end_len..];
    }
    (blocks, problems)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn store_is_send_and_sync() {
        assert_send_sync::<CertStore>();
    }

    #[test]
    fn pem_blocks_skip_text_and_report_missing_end() {
        let text = "hello\n-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\nbye\n\
                    -----BEGIN PKCS7-----\nBBBB\n";
        let (blocks, problems) = pem_blocks(text);
        assert_eq!(blocks.len(), 1);
        assert_eq!(blocks[0].label, "CERTIFICATE");
        assert_eq!(blocks[0].body.trim(), "AAAA");
        assert_eq!(problems, ["PEM block #2 (PKCS7): no END line"]);
    }

    #[test]
    fn base64_bodies_lose_all_white_space() {
        assert_eq!(compact_base64("\r\nAB CD\r\n\tEF==  \n"), b"ABCDEF==");
    }

    /// The decoder reads every text exactly as decoding the text without white space does.
    fn decodes_like_compacted(body: &str) {
        let expected = PEM_BASE64.decode(compact_base64(body)).ok();
        assert_eq!(decode_pem_body(body).ok(), expected, "{body:?}");
    }

    #[rstest::rstest]
    #[case::whole_quads("QUJD\nREVG\nR0g=\n")]
    #[case::lines_of_64("QUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJD\nQUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJD\nQUJD\n")]
    #[case::crlf_after_64("QUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJD\r\nQUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJD\r\nQUJD\r\n")]
    #[case::space_at_64("QUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJD UJD\nQUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJD\nQUJD\n")]
    #[case::crlf_and_blank_lines("\r\nQUJD\r\n\r\nREVGR0g=\r\n")]
    #[case::padding_before_more_text("QQ==\nQUJD\n")]
    #[case::padding_then_blank_line("QUJDRA==\n\n")]
    #[case::short_middle_line("QUI\nDREVG\n")]
    #[case::space_inside_a_line("QU JD\nREVG\n")]
    #[case::space_inside_a_quad_sized_line("QU J\nREVG\n")]
    #[case::missing_padding("QUJDRA\n")]
    #[case::not_base64("!!!!\n")]
    #[case::empty("\n")]
    fn pem_bodies_decode_as_without_white_space(#[case] body: &str) {
        decodes_like_compacted(body);
    }

    proptest::proptest! {
        #[test]
        fn any_line_split_decodes_as_without_white_space(
            der in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200),
            widths in proptest::collection::vec(1usize..80, 1..8),
            junk in "[ \t\r=A!]{0,3}",
        ) {
            let text = base64::engine::general_purpose::STANDARD.encode(&der);
            let mut body = String::from("\n");
            let mut rest = text.as_str();
            for width in widths.iter().cycle() {
                if rest.is_empty() {
                    break;
                }
                let (line, tail) = rest.split_at((*width).min(rest.len()));
                body.push_str(line);
                body.push('\n');
                rest = tail;
            }
            decodes_like_compacted(&body);
            body.insert_str(body.len() / 2, &junk);
            decodes_like_compacted(&body);
        }
    }

    #[test]
    fn private_keys_alone_are_no_certificate() {
        let key = std::fs::read("testdata/certs/keys/bob.key").unwrap();
        let err =
            CertStore::new().add_bytes(&key, Provenance::Inline("bob.key".into())).unwrap_err();
        assert!(err.to_string().contains("bob.key: no certificate found"), "{err}");
    }

    #[test]
    fn bad_block_among_good_ones_is_a_warning() {
        let mut pem = std::fs::read_to_string("testdata/certs/store/bob.pem").unwrap();
        pem.push_str("-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n");
        let mut store = CertStore::new();
        assert_eq!(
            store.add_bytes(pem.as_bytes(), Provenance::Inline("mixed.pem".into())).unwrap(),
            1
        );
        assert_eq!(store.warnings().len(), 1);
        assert_eq!(store.warnings()[0].path, PathBuf::from("mixed.pem"));
        assert!(store.warnings()[0].message.starts_with("PEM block #2 (CERTIFICATE): bad base64"));
    }
}
