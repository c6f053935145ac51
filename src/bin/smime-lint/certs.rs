//! `smime-lint certs`: what is in the certificate store, and what each certificate is good for.
//!
//! JSON output is NDJSON, one object per certificate (in load order):
//! `{"sha256", "subject", "issuer", "serial", "ski", "not_before", "not_after", "key", "source",
//!   "addresses": [{"address", "named_in", "usable", "reasons": [{"code","message","hint"}]}]}`.

use crate::common::{parse_time, StoreArgs};
use crate::harvesting::{self, Harvested};
use crate::output::{self, count_usize, key_description, CliError};
use crate::Outcome;
use clap::{Args, ValueEnum};
use serde_json::json;
use smime_lint::cert::{AddressSource, Certificate};
use smime_lint::scan::ScanOptions;
use smime_lint::usable::Policy;
use smime_lint::{CertStore, Time};
use std::io::Write;
use std::path::PathBuf;

#[derive(Args, Debug)]
#[command(after_help = AFTER_HELP)]
pub struct CertsArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// Evaluation time (RFC 3339). Default: now.
    #[arg(long, value_parser = parse_time, value_name = "TIME")]
    at: Option<Time>,
    /// Output: `human` (a block per certificate, then the totals) or `json` (one JSON object per
    /// certificate, NDJSON).
    #[arg(long, value_enum, value_name = "FORMAT", default_value = "human")]
    format: Format,
    /// Harvest certificates from the signed messages under these paths (files, folders,
    /// Maildirs, mbox files, as `audit` reads them) and list those instead of the store: whether
    /// each is bound to its sender's address and why not, and whether the store (--certs)
    /// already held it.
    #[arg(long, value_name = "PATH", num_args = 1..)]
    harvest: Vec<PathBuf>,
    /// Progress bar on standard error while harvesting: `auto` shows it when standard error is
    /// a terminal.
    #[arg(long, value_enum, value_name = "WHEN", default_value = "auto")]
    progress: ProgressArg,
}

const AFTER_HELP: &str = "\
Examples:
  smime-lint certs --certs certs/
  smime-lint certs --certs certs/ --at 2027-01-01T00:00:00Z --format json
  smime-lint certs --certs certs/ --harvest ~/Maildir

Exit codes:
  0  listed
  2  usage or I/O error (no --certs/--trust/--harvest, or a PATH that cannot be read)";

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Format {
    Human,
    Json,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum ProgressArg {
    Auto,
    Never,
}

fn source_name(s: AddressSource) -> &'static str {
    match s {
        AddressSource::Rfc822Name => "rfc822Name",
        AddressSource::SmtpUtf8Mailbox => "SmtpUTF8Mailbox",
        AddressSource::SubjectEmail => "subject emailAddress",
    }
}

pub fn run(args: CertsArgs) -> Result<Outcome, CliError> {
    if args.store.certs.is_empty() && args.store.trust.is_empty() && args.harvest.is_empty() {
        return Err(CliError::Usage(
            "give at least one --certs PATH (or --trust PATH, or --harvest PATH)".into(),
        ));
    }
    let mut store = args.store.load()?;
    let at = args.at.unwrap_or_else(Time::now);
    let policy = Policy::default();
    let mut out = output::stdout();
    if !args.harvest.is_empty() {
        let jobs = std::thread::available_parallelism().map_or(1, |n| n.get());
        let harvest = harvesting::harvest_into(
            &mut store,
            &args.harvest,
            &ScanOptions::default(),
            jobs,
            args.progress == ProgressArg::Auto,
        )?;
        let listing = Listing { store: &store, at, policy: &policy };
        for found in &harvest.found {
            // The store's copy: what encryption would use (a bound copy lifts an unbound one).
            let used = store.by_sha256(found.cert.sha256()).unwrap_or(&found.cert);
            let entries = listing.entries(used);
            match args.format {
                Format::Json => {
                    let mut v = cert_json(used, &entries);
                    v["harvest"] = harvest_json(found);
                    output::write_json(&mut out, &v)?;
                }
                Format::Human => {
                    write_human(&mut out, used, &entries, at, Some(found))?;
                }
            }
        }
        if let Format::Human = args.format {
            writeln!(out, "{}", harvest.account())?;
        } else {
            eprintln!("smime-lint: {}", harvest.account());
        }
        out.flush()?;
        return Ok(Outcome::Clean);
    }
    let listing = Listing { store: &store, at, policy: &policy };
    let mut usable_addresses = 0usize;
    let mut addresses = 0usize;
    for cert in store.iter() {
        let entries = listing.entries(cert);
        addresses += entries.len();
        usable_addresses +=
            entries.iter().filter(|(_, reasons)| reasons.iter().all(|r| !r.is_blocking())).count();
        match args.format {
            Format::Json => output::write_json(&mut out, &cert_json(cert, &entries))?,
            Format::Human => write_human(&mut out, cert, &entries, at, None)?,
        }
    }
    if let Format::Human = args.format {
        writeln!(
            out,
            "{}, {}, {} usable for encryption at {}",
            count_usize(store.len(), "certificate", "certificates"),
            count_usize(addresses, "address", "addresses"),
            usable_addresses,
            at
        )?;
    }
    out.flush()?;
    Ok(Outcome::Clean)
}

type Entry<'a> = (&'a smime_lint::cert::NamedAddress, Vec<smime_lint::Reason>);

/// What the listing judges certificates with.
struct Listing<'s> {
    store: &'s CertStore,
    at: Time,
    policy: &'s Policy,
}

impl Listing<'_> {
    /// Every address `cert` names, with the reasons it is not (or is only with warnings)
    /// usable for it.
    fn entries<'c>(&self, cert: &'c Certificate) -> Vec<Entry<'c>> {
        cert.addresses()
            .iter()
            .map(|named| (named, self.store.check(cert, &named.address, self.at, self.policy)))
            .collect()
    }
}

/// `"harvest"` in `certs --harvest --format json`.
fn harvest_json(found: &Harvested) -> serde_json::Value {
    let (bound, reason) = match found.binding() {
        Some(smime_lint::HarvestBinding::Unverified(why)) => (false, Some(why.clone())),
        Some(smime_lint::HarvestBinding::Verified { .. }) => (true, None),
        None => (false, None),
    };
    json!({
        "message": found.message(),
        "messages": found.messages,
        "from": found.from,
        "bound": bound,
        "address": if bound { found.from.as_ref() } else { None },
        "reason": reason,
        "already_in_store": found.already,
    })
}

fn cert_json(cert: &Certificate, entries: &[Entry<'_>]) -> serde_json::Value {
    let addresses: Vec<_> = entries
        .iter()
        .map(|(named, reasons)| {
            json!({
                "address": named.address,
                "named_in": source_name(named.source),
                "usable": reasons.iter().all(|r| !r.is_blocking()),
                "reasons": reasons.iter().map(|r| r.report(&named.address)).collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({
        "sha256": cert.sha256_hex(),
        "subject": cert.subject_display(),
        "issuer": cert.issuer_display(),
        "serial": cert.serial_hex(),
        "ski": cert.subject_key_identifier().map(hex::encode),
        "not_before": cert.not_before().to_rfc3339(),
        "not_after": cert.not_after().to_rfc3339(),
        "key": key_description(cert.key()),
        "ca": cert.is_ca(),
        "source": cert.provenance().label(),
        "addresses": addresses,
    })
}

/// `[CA]`, `[EXPIRED]`, `[NOT YET VALID]` after the subject, at `at`.
fn marks(cert: &Certificate, at: Time) -> String {
    let mut marks = String::new();
    if cert.is_ca() {
        marks.push_str("  [CA]");
    }
    if cert.not_after() < at {
        marks.push_str("  [EXPIRED]");
    } else if cert.not_before() > at {
        marks.push_str("  [NOT YET VALID]");
    }
    marks
}

fn write_human(
    out: &mut impl Write,
    cert: &Certificate,
    entries: &[Entry<'_>],
    at: Time,
    harvested: Option<&Harvested>,
) -> std::io::Result<()> {
    writeln!(out, "{}{}", cert.subject_display(), marks(cert, at))?;
    writeln!(
        out,
        "  {} | issuer {} | serial {} | {} .. {}",
        key_description(cert.key()),
        cert.issuer_display(),
        cert.serial_hex(),
        cert.not_before(),
        cert.not_after()
    )?;
    writeln!(out, "  sha256 {} | from {}", cert.sha256_hex(), cert.provenance().label())?;
    if let Some(found) = harvested {
        let more = if found.messages > 1 {
            let n = found.messages - 1;
            format!(" (and {n} more {})", if n == 1 { "message" } else { "messages" })
        } else {
            String::new()
        };
        writeln!(out, "  harvested from {}{more}: {}", found.message(), found.binding_text())?;
        if let Some(already) = &found.already {
            writeln!(out, "  already in the store (from {already}): that copy is the one used")?;
        }
    }
    for (named, reasons) in entries {
        let usable = reasons.iter().all(|r| !r.is_blocking());
        writeln!(
            out,
            "  {} {} ({})",
            if usable { "usable    " } else { "NOT usable" },
            named.address,
            source_name(named.source)
        )?;
        for r in reasons {
            writeln!(out, "      {}: {}", r.code(), r.message(&named.address))?;
        }
    }
    if entries.is_empty() && !cert.is_ca() {
        writeln!(out, "  names no e-mail address")?;
    }
    writeln!(out)
}
