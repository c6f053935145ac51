//! `smime-lint certs`: what is in the certificate store, and what each certificate is good for.
//!
//! JSON output is NDJSON, one object per certificate (in load order):
//! `{"sha256", "subject", "issuer", "serial", "ski", "not_before", "not_after", "key", "source",
//!   "addresses": [{"address", "named_in", "usable", "reasons": [{"code","message","hint"}]}]}`.

use crate::common::{parse_time, StoreArgs};
use crate::output::{self, key_description, CliError};
use crate::Outcome;
use clap::{Args, ValueEnum};
use serde_json::json;
use smime_lint::cert::{AddressSource, Certificate};
use smime_lint::usable::Policy;
use smime_lint::Time;
use std::io::Write;

#[derive(Args, Debug)]
pub struct CertsArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// Evaluation time (RFC 3339). Default: now.
    #[arg(long, value_parser = parse_time, value_name = "TIME")]
    at: Option<Time>,
    #[arg(long, value_enum, default_value = "human")]
    format: Format,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Format {
    Human,
    Json,
}

fn source_name(s: AddressSource) -> &'static str {
    match s {
        AddressSource::Rfc822Name => "rfc822Name",
        AddressSource::SmtpUtf8Mailbox => "SmtpUTF8Mailbox",
        AddressSource::SubjectEmail => "subject emailAddress",
    }
}

pub fn run(args: CertsArgs) -> Result<Outcome, CliError> {
    if args.store.certs.is_empty() && args.store.trust.is_empty() {
        return Err(CliError::Usage("give at least one --certs PATH (or --trust PATH)".into()));
    }
    let store = args.store.load()?;
    let at = args.at.unwrap_or_else(Time::now);
    let policy = Policy::default();
    let mut out = output::stdout();
    let mut usable_addresses = 0usize;
    let mut addresses = 0usize;
    for cert in store.iter() {
        let entries: Vec<_> = cert
            .addresses()
            .iter()
            .map(|named| (named, store.check(cert, &named.address, at, &policy)))
            .collect();
        addresses += entries.len();
        usable_addresses +=
            entries.iter().filter(|(_, reasons)| reasons.iter().all(|r| !r.is_blocking())).count();
        match args.format {
            Format::Json => output::write_json(&mut out, &cert_json(cert, &entries))?,
            Format::Human => write_human(&mut out, cert, &entries)?,
        }
    }
    if let Format::Human = args.format {
        writeln!(
            out,
            "{} certificates, {} addresses, {} usable for encryption at {}",
            store.len(),
            addresses,
            usable_addresses,
            at
        )?;
    }
    out.flush()?;
    Ok(Outcome::Clean)
}

type Entry<'a> = (&'a smime_lint::cert::NamedAddress, Vec<smime_lint::Reason>);

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

fn write_human(
    out: &mut impl Write,
    cert: &Certificate,
    entries: &[Entry<'_>],
) -> std::io::Result<()> {
    writeln!(out, "{}", cert.subject_display())?;
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
