//! `smime-lint audit`: who could actually open the mail that went out (DESIGN §5-7).
//!
//! Messages are read streaming and audited in parallel; reports are printed in input order.

use crate::common::{parse_time, StoreArgs};
use crate::output::{self, CliError};
use crate::Outcome;
use clap::{Args, ValueEnum};
use smime_lint::audit::{
    audit_message, unreadable, AuditOptions, FindingSeverity, Report, Rule, Summary,
};
use smime_lint::decrypt::DecryptionKey;
use smime_lint::scan::{self, RawMessage, ScanOptions};
use smime_lint::Time;
use std::io::Write;
use std::ops::ControlFlow;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Args, Debug)]
pub struct AuditArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// First pass: add certificates from signed messages in the inputs (bound to an address only
    /// when the signature verifies and the certificate names the From address).
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
    #[arg(long, value_enum, default_value = "human")]
    format: Format,
    /// Worker threads. Default: all cores.
    #[arg(long, value_name = "N")]
    jobs: Option<usize>,
    /// Progress bar on standard error: `auto` shows it when standard error is a terminal.
    #[arg(long, value_enum, default_value = "auto")]
    progress: ProgressArg,
    /// Messages larger than this are reported `unreadable` without being read.
    #[arg(long = "max-message-size", value_name = "BYTES", default_value_t = 256 * 1024 * 1024)]
    max_message_size: u64,
    /// An .eml file, a folder (recursive), a Maildir, an mbox file, or `-` for standard input.
    #[arg(value_name = "PATH", required = true)]
    paths: Vec<PathBuf>,
}

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

pub fn run(args: AuditArgs) -> Result<Outcome, CliError> {
    if let Some(jobs) = args.jobs {
        // Store loading and the scan of very large bodies use rayon's pool: --jobs bounds all
        // of the audit's parallelism, not only the per-message workers.
        let _ = rayon::ThreadPoolBuilder::new().num_threads(jobs.max(1)).build_global();
    }
    let mut store = args.store.load()?;
    let scan_options =
        ScanOptions { max_message_size: args.max_message_size, ..ScanOptions::default() };
    let jobs = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1);

    if args.harvest && args.paths.iter().any(|p| p.as_os_str() == "-") {
        // Harvesting is a first pass over the inputs; standard input cannot be read twice.
        return Err(CliError::Usage(
            "--harvest reads the inputs twice and cannot be used with standard input (-)".into(),
        ));
    }
    if args.harvest {
        let inputs = scan::messages(&args.paths, &scan_options)?.pending();
        let mut found = Vec::new();
        scan::run_ordered(
            inputs,
            jobs,
            |m: RawMessage| match m.bytes {
                Ok(bytes) => {
                    let found = smime_lint::harvest::harvest_message(&bytes, &m.source.label);
                    scan::recycle(bytes);
                    found
                }
                Err(_) => Vec::new(),
            },
            |certs| {
                found.extend(certs);
                ControlFlow::Continue(())
            },
            None,
        );
        let added = found.into_iter().filter(|c| store.add(c.clone())).count();
        if args.format != Format::Json {
            eprintln!("smime-lint: harvested {added} certificates from signed messages");
        }
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
    let inputs = scan::messages(&args.paths, &scan_options)?.pending();
    let progress = scan::progress_bar_with_estimate(
        args.progress == ProgressArg::Auto,
        &args.paths,
        &scan_options,
    );
    let mut out = output::stdout();
    let mut summary = Summary::default();
    let mut write_error = None;
    scan::run_ordered(
        inputs,
        jobs,
        |m: RawMessage| {
            let mut report = match m.bytes {
                Ok(bytes) => {
                    let report = audit_message(&bytes, &store, &options);
                    scan::recycle(bytes);
                    report
                }
                Err(why) => unreadable(&why),
            };
            report.path = m.source.label;
            report
        },
        |report: Report| {
            summary.add(&report);
            let written = match args.format {
                Format::Json => writeln!(out, "{}", report.to_json()),
                Format::Human => write_block(&mut out, &report),
                Format::Summary => Ok(()),
            };
            match written {
                Ok(()) => ControlFlow::Continue(()),
                Err(e) => {
                    write_error = Some(e);
                    ControlFlow::Break(())
                }
            }
        },
        progress.as_deref(),
    );
    if let Some(e) = write_error {
        return Err(e.into());
    }
    if args.format != Format::Json {
        write_summary(&mut out, &summary)?;
    }
    out.flush()?;
    Ok(if summary.messages_with_errors > 0 { Outcome::Problems } else { Outcome::Clean })
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
fn write_block(out: &mut impl Write, r: &Report) -> std::io::Result<()> {
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

fn write_summary(out: &mut impl Write, s: &Summary) -> std::io::Result<()> {
    writeln!(out, "Messages scanned     {:>8}", s.messages)?;
    writeln!(out, "  encrypted          {:>8}", s.encrypted)?;
    writeln!(out, "  signed only        {:>8}", s.signed_only)?;
    writeln!(out, "  with errors        {:>8}", s.messages_with_errors)?;
    writeln!(out, "  with warnings only {:>8}", s.messages_with_warnings)?;
    writeln!(out)?;
    writeln!(out, "Findings by rule")?;
    for rule in Rule::ALL {
        let n = s.by_rule.get(&rule).copied().unwrap_or(0);
        writeln!(out, "  {:<36} {:>8}  ({})", rule.code(), n, severity_word(rule))?;
    }
    let recipients = s.top_recipients(10);
    if !recipients.is_empty() {
        writeln!(out)?;
        writeln!(out, "Most affected recipients")?;
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

fn severity_word(rule: Rule) -> &'static str {
    match rule {
        Rule::WeakContentCipher => "warning/error",
        Rule::PartialEncryption => "error/warning",
        r => match r.default_severity() {
            FindingSeverity::Error => "error",
            FindingSeverity::Warning => "warning",
            FindingSeverity::Info => "info",
        },
    }
}
