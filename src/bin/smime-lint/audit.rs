//! `smime-lint audit`: who could actually open the mail that went out.
//!
//! Messages are read streaming and audited in parallel; reports are printed in input order (a
//! report whose Bcc finding another input may answer waits for it: see [`SeparateCopies`]).

use crate::common::{self, parse_time, StoreArgs};
use crate::harvesting;
use crate::output::{self, CliError};
use crate::separate_copies::{InOrder, SeparateCopies};
use crate::summary::Tally;
use crate::Outcome;
use clap::{Args, ValueEnum};
use smime_lint::audit::{audit_message, unreadable, AuditOptions, FindingSeverity, Report};
use smime_lint::decrypt::DecryptionKey;
use smime_lint::scan::{self, Origin, PathFilter, RawMessage, ScanOptions, WalkNotes};
use smime_lint::Time;
use std::io::{IsTerminal, Write};
use std::ops::ControlFlow;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Args, Debug)]
#[command(after_help = AFTER_HELP)]
pub struct AuditArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// First pass: add certificates from signed messages in the inputs (bound to an address only
    /// when the signature verifies and the certificate names the From address). `smime-lint
    /// certs --harvest PATH...` lists what it finds.
    #[arg(long)]
    harvest: bool,
    /// Judge certificates at this time (RFC 3339). Default: each message's Date.
    #[arg(long, value_parser = parse_time, value_name = "TIME")]
    at: Option<Time>,
    /// How far a message's Date may be off (the sending device's clock) when certificates are
    /// judged at it: validity periods are widened by this much at both ends. Not applied with
    /// --at. A number with s, m or h (`90s`, `10m`, `1h`; a bare number is seconds), at most 24h.
    #[arg(long = "clock-skew", value_name = "DURATION", default_value = "10m", value_parser = parse_skew)]
    clock_skew: Duration,
    /// Accept SHA-1 signatures on certificate chains (refused by default; old archived mail may
    /// need it). MD5 is refused whatever this says.
    #[arg(long = "allow-sha1")]
    allow_sha1: bool,
    /// The mailbox owner's private key (PEM; may also hold the certificate), to decrypt sent
    /// items and look inside. May be given several times. Keys are never printed.
    #[arg(long = "key", value_name = "PEM")]
    keys: Vec<PathBuf>,
    /// Output: `human` (a block per message with findings, then the totals), `json` (one JSON
    /// object per message, NDJSON), `summary` (the totals only).
    #[arg(long, value_enum, value_name = "FORMAT", default_value = "human")]
    format: Format,
    /// Worker threads. Default: all cores.
    #[arg(long, value_name = "N")]
    jobs: Option<usize>,
    /// Progress bar on standard error: `auto` shows it when standard error is a terminal.
    #[arg(long, value_enum, value_name = "WHEN", default_value = "auto")]
    progress: ProgressArg,
    /// Messages larger than this are reported `unreadable` without being read.
    #[arg(long = "max-message-size", value_name = "BYTES", default_value_t = 256 * 1024 * 1024)]
    max_message_size: u64,
    /// In folders, read only the files matching GLOB (a glob without `/` matches the file name,
    /// one with `/` the path below the folder given). May be given several times. Files named
    /// on the command line are always read.
    #[arg(long = "include", value_name = "GLOB")]
    include: Vec<String>,
    /// In folders, skip files and folders matching GLOB (same matching as --include; wins over
    /// it). May be given several times.
    #[arg(long = "exclude", value_name = "GLOB")]
    exclude: Vec<String>,
    /// An .eml file, a folder (recursive; symbolic links followed), a Maildir, an mbox file, or
    /// `-` for standard input.
    #[arg(value_name = "PATH", required = true)]
    paths: Vec<PathBuf>,
}

const AFTER_HELP: &str = "\
Examples:
  smime-lint audit --certs certs/ ~/Maildir/.Sent
  smime-lint audit --certs certs/ --harvest --format summary Sent.mbox
  smime-lint audit --certs certs/ --format json --exclude '*.json' archive/ > report.ndjson

Files in folders that are not mail at all (no header section: notes, keys, JSON) are counted on
standard error, not audited; a file named on the command line must be mail (else `unreadable`).
An input that yields no message, and an empty certificate store, are warnings on standard error.

Exit codes:
  0  nothing wrong (warnings and info findings do not count)
  1  findings of error severity
  2  usage or I/O error (a PATH that cannot be opened)
  3  not judged, and nothing of error severity was found: no certificate for any address was
     loaded (no --certs, or none found), so who can decrypt could not be told; or no message was
     found in any PATH";

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Format {
    Human,
    Json,
    Summary,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum ProgressArg {
    Auto,
    Never,
}

/// What the audit of one input gave, in input order.
enum Audited {
    Report {
        input: usize,
        report: Box<Report>,
    },
    /// A file found in a folder that is not mail at all: counted, not audited.
    NotMail {
        input: usize,
        label: String,
    },
}

impl InOrder for Audited {
    fn report(&self) -> Option<&Report> {
        match self {
            Audited::Report { report, .. } => Some(report),
            Audited::NotMail { .. } => None,
        }
    }

    fn report_mut(&mut self) -> Option<&mut Report> {
        match self {
            Audited::Report { report, .. } => Some(report),
            Audited::NotMail { .. } => None,
        }
    }
}

pub fn run(args: AuditArgs) -> Result<Outcome, CliError> {
    if let Some(jobs) = args.jobs {
        // Store loading and the scan of very large bodies use rayon's pool: --jobs bounds all
        // of the audit's parallelism, not only the per-message workers.
        let _ = rayon::ThreadPoolBuilder::new().num_threads(jobs.max(1)).build_global();
    }
    let filter = PathFilter::new(&args.include, &args.exclude)
        .map_err(|e| CliError::Usage(e.to_string()))?;
    let mut store = args.store.load()?;
    let scan_options =
        ScanOptions { max_message_size: args.max_message_size, filter, ..ScanOptions::default() };
    let jobs = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1);
    let show_progress = args.progress == ProgressArg::Auto;

    if args.harvest && args.paths.iter().any(|p| p.as_os_str() == "-") {
        // Harvesting is a first pass over the inputs; standard input cannot be read twice.
        return Err(CliError::Usage(
            "--harvest reads the inputs twice and cannot be used with standard input (-)".into(),
        ));
    }
    if args.harvest {
        let harvest =
            harvesting::harvest_into(&mut store, &args.paths, &scan_options, jobs, show_progress)?;
        eprintln!("smime-lint: {}", harvest.account());
    }
    let store_empty = !common::names_anyone(&store);
    if store_empty {
        common::warn_store_names_nobody(
            &args.store,
            &store,
            "a recipient left out of an envelope cannot be found (partial-encryption), and every RecipientInfo is reported as unknown",
            "Give --certs PATH with your correspondents' certificates, or --harvest.",
        );
    }

    let mut keys = Vec::new();
    for path in &args.keys {
        let key = DecryptionKey::load(path)?;
        keys.push(attach_certificate(key, &store));
    }
    let mut options = AuditOptions {
        at: args.at,
        fallback_time: Some(Time::now()),
        keys,
        ..AuditOptions::default()
    };
    options.policy.clock_skew = args.clock_skew;
    options.policy.allow_sha1_signatures = args.allow_sha1;

    // Files are opened in order on one thread and read by the workers, in parallel.
    let messages = scan::messages(&args.paths, &scan_options)?;
    let walk_notes = messages.notes();
    let inputs = messages.pending();
    let progress = scan::progress_bar_with_estimate(show_progress, &args.paths, &scan_options);
    let progress = progress.as_deref();
    // With the bar drawn on the terminal the report is printed on, every block is written with
    // the bar hidden and flushed at once: no stale bar in the scrollback, no line split.
    let through_bar = progress.filter(|_| std::io::stdout().is_terminal());
    let mut out = output::stdout();
    let mut tally = Tally::default();
    let mut per_input = vec![InputCount::default(); args.paths.len()];
    let mut not_mail = Vec::new();
    let mut write_error = None;
    let mut copies = SeparateCopies::new(&args.paths, &scan_options, jobs);
    let mut emit = |item: Audited| -> ControlFlow<()> {
        let report = match item {
            Audited::NotMail { input, label } => {
                if let Some(count) = per_input.get_mut(input) {
                    count.not_mail += 1;
                }
                not_mail.push(label);
                return ControlFlow::Continue(());
            }
            Audited::Report { input, report } => {
                if let Some(count) = per_input.get_mut(input) {
                    count.messages += 1;
                }
                report
            }
        };
        tally.add(&report);
        let mut block = Vec::new();
        let target: &mut dyn Write = if through_bar.is_some() { &mut block } else { &mut out };
        let mut written = match args.format {
            Format::Json => writeln!(target, "{}", report.to_json()),
            Format::Human => write_block(target, &report),
            Format::Summary => Ok(()),
        };
        if let (Some(bar), false, Ok(())) = (through_bar, block.is_empty(), &written) {
            bar.suspend(&mut || written = out.write_all(&block).and_then(|()| out.flush()));
        }
        match written {
            Ok(()) => ControlFlow::Continue(()),
            Err(e) => {
                write_error = Some(e);
                ControlFlow::Break(())
            }
        }
    };
    scan::run_ordered(
        inputs,
        jobs,
        |m: RawMessage| {
            let (source, bytes) = (m.source, m.bytes);
            let mut report = match bytes {
                Ok(bytes) if source.origin == Origin::InFolder && !is_mail(&bytes) => {
                    scan::recycle(bytes);
                    return Audited::NotMail { input: source.input, label: source.label };
                }
                Ok(bytes) => {
                    let report = audit_message(&bytes, &store, &options);
                    scan::recycle(bytes);
                    report
                }
                Err(why) => unreadable(&why),
            };
            report.path = source.label;
            Audited::Report { input: source.input, report: Box::new(report) }
        },
        |item: Audited| copies.push(item, &mut emit),
        progress,
    );
    let _ = copies.finish(&mut emit);
    if let Some(e) = write_error {
        return Err(e.into());
    }
    if args.format != Format::Json {
        tally.write(&mut out, store_empty)?;
    }
    out.flush()?;
    warn_about_inputs(&args.paths, &per_input, &not_mail, &walk_notes);
    if store_empty {
        eprintln!(
            "smime-lint: WARNING: not judged: no certificate for any address was loaded (exit status 3 unless errors were found)"
        );
    }
    let nothing = tally.summary.messages == 0;
    if nothing {
        eprintln!(
            "smime-lint: warning: not judged: no message was found in any PATH (exit status 3)"
        );
    }
    let outcome =
        if tally.summary.messages_with_errors > 0 { Outcome::Problems } else { Outcome::Clean };
    Ok(outcome.or_not_judged(store_empty || nothing))
}

/// Messages audited and files skipped as not mail, per path given.
#[derive(Clone, Copy, Default)]
struct InputCount {
    messages: u64,
    not_mail: u64,
}

/// Whether `bytes` starts with a header section at all: files found in folders that do not
/// (a README, a key, a JSON export) are not mail and are not audited. Beyond RFC 5322's syntax
/// (which a JSON object's `{"key":` also fits), the first field's name must look like the names
/// mail uses: letters, digits, `-` and `_`.
fn is_mail(bytes: &[u8]) -> bool {
    let Ok(start) = smime_lint::message::message_start(bytes) else { return false };
    let name = start.split(|&b| b == b':').next().unwrap_or_default();
    let name = name.trim_ascii_end();
    !name.is_empty() && name.iter().all(|&b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// After the scan, on standard error: files skipped as not mail, folders reached twice through
/// links, and every path that yielded no message at all (a warning, whatever the format).
fn warn_about_inputs(
    paths: &[PathBuf],
    per_input: &[InputCount],
    not_mail: &[String],
    notes: &WalkNotes,
) {
    if !not_mail.is_empty() {
        let shown: Vec<&str> = not_mail.iter().take(5).map(String::as_str).collect();
        let more = if not_mail.len() > shown.len() {
            format!(", and {} more", not_mail.len() - shown.len())
        } else {
            String::new()
        };
        eprintln!(
            "smime-lint: note: {} found in folders {} not mail (no header section) and {} not audited: {}{more}",
            output::count_usize(not_mail.len(), "file", "files"),
            if not_mail.len() == 1 { "is" } else { "are" },
            if not_mail.len() == 1 { "was" } else { "were" },
            shown.join(", ")
        );
    }
    for (reached, first) in notes.repeated_folders() {
        eprintln!(
            "smime-lint: note: {} is {} again (through a symbolic link): read once",
            reached.display(),
            first.display()
        );
    }
    let excluded = notes.excluded();
    for (path, count) in paths.iter().zip(per_input) {
        if count.messages > 0 {
            continue;
        }
        let mut why = Vec::new();
        if count.not_mail > 0 {
            why.push(format!("{} not mail", output::count(count.not_mail, "file", "files")));
        }
        if excluded > 0 {
            why.push(format!(
                "{} left out by --include/--exclude",
                output::count(excluded, "entry", "entries")
            ));
        }
        let why = if why.is_empty() { String::new() } else { format!(" ({})", why.join("; ")) };
        eprintln!("smime-lint: warning: {}: no message found{why}", path.display());
    }
}

/// `--clock-skew`: `90s`, `10m`, `1h`, or a bare number of seconds; at most a day, since a
/// larger allowance would hide certificates that really had expired.
fn parse_skew(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (digits, unit) = match text.find(|c: char| !c.is_ascii_digit()) {
        Some(at) => text.split_at(at),
        None => (text, "s"),
    };
    let scale = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        _ => return Err(format!("{text:?}: expected a number with s, m or h, e.g. 10m")),
    };
    let secs = digits
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(scale))
        .ok_or_else(|| format!("{text:?}: expected a number with s, m or h, e.g. 10m"))?;
    if secs > 24 * 3600 {
        return Err(format!("{text:?}: at most 24h; clock skew is minutes, not days"));
    }
    Ok(Duration::from_secs(secs))
}

/// A key file without a certificate: find the owner's certificate in the store by public key,
/// so the right RecipientInfo is tried first.
fn attach_certificate(key: DecryptionKey, store: &smime_lint::CertStore) -> DecryptionKey {
    let public = key.public_key_der();
    let owner = store.iter().find(|c| {
        use der::Encode;
        c.x509().is_ok_and(|x| {
            x.tbs_certificate.subject_public_key_info.to_der().is_ok_and(|d| d == public)
        })
    });
    match owner {
        Some(cert) => match cert.x509() {
            Ok(x509) => key.with_certificate(x509.clone()),
            Err(_) => key,
        },
        None => key,
    }
}

fn severity_label(s: FindingSeverity) -> &'static str {
    match s {
        FindingSeverity::Error => "error  ",
        FindingSeverity::Warning => "warning",
        FindingSeverity::Info => "info   ",
    }
}

/// One block per message with findings.
fn write_block(out: &mut (impl Write + ?Sized), r: &Report) -> std::io::Result<()> {
    if r.findings.is_empty() {
        return Ok(());
    }
    let from = r.from.as_ref().map_or("?", |a| a.as_str());
    let date = r.date.map(|d| d.to_rfc3339()).unwrap_or_else(|| "no date".into());
    writeln!(out, "{}", r.path)?;
    writeln!(out, "  {date}  from {from}  {:?}", r.subject.as_deref().unwrap_or(""))?;
    for f in &r.findings {
        writeln!(out, "  {} {}: {}", severity_label(f.severity), f.rule, f.message)?;
        if f.severity != FindingSeverity::Info {
            writeln!(out, "          hint: {}", f.hint)?;
        }
    }
    writeln!(out)
}
