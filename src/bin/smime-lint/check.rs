//! `smime-lint check`: the compose-time decision for a draft (the JSON is in the README); a
//! message that is already S/MIME-encrypted is judged as built (`built.rs`).

use crate::built::{self, BuiltCheck};
use crate::common::{parse_time, StoreArgs};
use crate::input::{human_size, read_limited, ReadError, DEFAULT_MAX_MESSAGE};
use crate::output::{self, key_description, CliError};
use crate::Outcome;
use clap::{Args, ValueEnum};
use smime_lint::compose::{self, ComposeDecision, ComposeOptions, Decision, Intent, OnPartial};
use smime_lint::message::{OutgoingMessage, Recipient, RecipientField};
use smime_lint::reply::{derive_reply, ReplyKind};
use smime_lint::usable::AddressStatus;
use smime_lint::{Address, Time};
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Args, Debug)]
#[command(after_help = AFTER_HELP)]
pub struct CheckArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// Evaluation time (RFC 3339). Default: now.
    #[arg(long, value_parser = parse_time, value_name = "TIME")]
    at: Option<Time>,
    /// Your own addresses (aliases), removed from Reply / Reply All. Default: the sender.
    #[arg(long = "me", value_name = "ADDR")]
    me: Vec<String>,
    /// Whether to encrypt. Default: `on` for a reply to an encrypted message, else `auto`
    /// (encrypt exactly when every recipient can decrypt).
    #[arg(long, value_enum, value_name = "MODE")]
    encrypt: Option<IntentArg>,
    /// With --encrypt on and a recipient lacking a usable certificate: refuse to send, or send
    /// unencrypted (reported as `downgrade`, so a client can ask first).
    #[arg(long = "on-partial", value_enum, value_name = "ACTION", default_value = "refuse")]
    on_partial: OnPartialArg,
    /// Output: `human` (a headline and a line per recipient) or `json` (one JSON object).
    #[arg(long, value_enum, value_name = "FORMAT", default_value = "human")]
    format: Format,
    /// A draft (.eml, or `-` for standard input) whose From/To/Cc/Bcc are checked. A message
    /// that is already S/MIME-encrypted is judged as built: can every recipient decrypt it?
    #[arg(value_name = "DRAFT.eml", conflicts_with_all = ["reply_all_to", "reply_to"])]
    draft: Option<PathBuf>,
    /// A recipient the header does not name (Bcc, an envelope-only recipient).
    #[arg(long = "rcpt", value_name = "ADDR")]
    rcpt: Vec<String>,
    /// The sender (default: the draft's From, or the first --me when replying).
    #[arg(long, value_name = "ADDR")]
    from: Option<String>,
    /// A To recipient (`bob@example.com` or `Bob <bob@example.com>`). May be given several
    /// times; added to the draft's or the reply's recipients.
    #[arg(long = "to", value_name = "ADDR")]
    to: Vec<String>,
    /// A Cc recipient. May be given several times.
    #[arg(long = "cc", value_name = "ADDR")]
    cc: Vec<String>,
    /// A Bcc recipient. May be given several times.
    #[arg(long = "bcc", value_name = "ADDR")]
    bcc: Vec<String>,
    /// Derive the recipients as Reply All to this message would (plus any --to/--cc/--bcc).
    #[arg(long = "reply-all-to", value_name = "ORIGINAL.eml", conflicts_with = "reply_to")]
    reply_all_to: Option<PathBuf>,
    /// Derive the recipients as Reply to this message would (plus any --to/--cc/--bcc).
    #[arg(long = "reply-to", value_name = "ORIGINAL.eml")]
    reply_to: Option<PathBuf>,
}

const AFTER_HELP: &str = "\
Examples:
  smime-lint check --certs certs/ --from alice@example.com --to bob@example.com --cc carol@example.org
  smime-lint check --certs certs/ --me alice@example.com --reply-all-to original.eml
  smime-lint check --certs certs/ --format json draft.eml

Exit codes:
  0  the draft can go out as decided (encrypted, or not encrypted in auto/off mode)
  1  refused, or --encrypt on and not every recipient can decrypt (also with --on-partial downgrade)
  2  usage or I/O error
  3  not judged: no certificate for any address was loaded (no --certs, or none found), so every
     recipient lacks one; the decision says nothing about your correspondents";

#[derive(Clone, Copy, Debug, ValueEnum)]
enum IntentArg {
    On,
    Off,
    Auto,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum OnPartialArg {
    Refuse,
    Downgrade,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Format {
    Human,
    Json,
}

fn read(path: &Path) -> Result<Vec<u8>, CliError> {
    std::fs::read(path).map_err(|e| smime_lint::Error::io(path, e).into())
}

/// A draft from a file, or from standard input for `-`.
fn read_draft(path: &Path) -> Result<Vec<u8>, CliError> {
    if path != Path::new("-") {
        return read(path);
    }
    match read_limited(&mut std::io::stdin().lock(), DEFAULT_MAX_MESSAGE) {
        Ok(raw) => Ok(raw),
        Err(ReadError::TooLarge { limit, .. }) => Err(CliError::Usage(format!(
            "standard input: the message is larger than {}",
            human_size(limit)
        ))),
        Err(ReadError::Io(error)) => Err(smime_lint::Error::io(path, error).into()),
    }
}

pub fn run(args: CheckArgs) -> Result<Outcome, CliError> {
    let mut sender = args.from.as_deref().map(Address::parse).transpose()?;
    let mut recipients = Vec::new();
    let mut replying_to_encrypted = false;

    if let Some(path) = &args.draft {
        let raw = read_draft(path)?;
        if built::applies(&raw) {
            let extra = [&args.rcpt, &args.to, &args.cc, &args.bcc];
            let built = BuiltCheck {
                store: &args.store,
                at: args.at,
                from: args.from.as_deref(),
                extra: extra.into_iter().flatten().map(String::as_str).collect(),
                downgrade: matches!(args.on_partial, OnPartialArg::Downgrade),
                json: matches!(args.format, Format::Json),
                source: &path.to_string_lossy(),
            };
            return built::run(built, &raw);
        }
        let draft = OutgoingMessage::parse(&raw)?;
        for bad in &draft.invalid {
            eprintln!("smime-lint: warning: {}: {}: {}", path.display(), bad.header, bad.error);
        }
        sender = sender.or_else(|| draft.author().cloned());
        recipients.extend(draft.recipients());
    }
    let reply = match (&args.reply_all_to, &args.reply_to) {
        (Some(p), _) => Some((p, ReplyKind::ReplyAll)),
        (None, Some(p)) => Some((p, ReplyKind::Reply)),
        (None, None) => None,
    };
    if let Some((path, kind)) = reply {
        let raw = read(path)?;
        let original = OutgoingMessage::parse(&raw)?;
        replying_to_encrypted = compose::is_encrypted_message(&raw);
        let mut me = args.me.iter().map(|a| Address::parse(a)).collect::<Result<Vec<_>, _>>()?;
        me.extend(sender.clone());
        if me.is_empty() {
            return Err(CliError::Usage(
                "--reply-to/--reply-all-to need --me or --from: who is replying?".into(),
            ));
        }
        // The one replying sends it: their first identity is the sender when --from is absent.
        sender = sender.or_else(|| me.first().cloned());
        recipients.extend(derive_reply(&original, &me, kind).recipients());
    }
    for (list, field) in [
        (&args.to, RecipientField::To),
        (&args.cc, RecipientField::Cc),
        (&args.bcc, RecipientField::Bcc),
        (&args.rcpt, RecipientField::Bcc),
    ] {
        for a in list {
            recipients.push(Recipient { address: Address::parse(a)?, field });
        }
    }
    if recipients.is_empty() {
        return Err(CliError::Usage(
            "no recipients: give a draft, --to/--cc/--bcc, or --reply-to/--reply-all-to".into(),
        ));
    }

    let store = args.store.load()?;
    let store_empty = !crate::common::names_anyone(&store);
    if store_empty {
        crate::common::warn_store_names_nobody(
            &args.store,
            &store,
            "every recipient is reported without a certificate, so the decision below is not about your correspondents",
            "Give --certs PATH with your correspondents' certificates.",
        );
    }
    let at = args.at.unwrap_or_else(Time::now);
    let intent = match args.encrypt {
        Some(IntentArg::On) => Intent::On,
        Some(IntentArg::Off) => Intent::Off,
        Some(IntentArg::Auto) => Intent::Auto,
        None => Intent::default_for(replying_to_encrypted),
    };
    let on_partial = match args.on_partial {
        OnPartialArg::Refuse => OnPartial::Refuse,
        OnPartialArg::Downgrade => OnPartial::Downgrade,
    };
    let options = ComposeOptions { intent, on_partial, ..ComposeOptions::default() };
    let decision = compose::decide(&store, sender.as_ref(), &recipients, at, &options);

    let mut out = output::stdout();
    match args.format {
        Format::Json => output::write_json(&mut out, &decision)?,
        Format::Human => write_human(&mut out, &decision, intent)?,
    }
    out.flush()?;
    let outcome = match decision.decision {
        Decision::Refuse => Outcome::Problems,
        Decision::Downgrade if intent == Intent::On => Outcome::Problems,
        _ => Outcome::Clean,
    };
    Ok(outcome.or_not_judged(store_empty))
}

fn write_human(
    out: &mut impl Write,
    d: &ComposeDecision<'_>,
    intent: Intent,
) -> std::io::Result<()> {
    let headline = match d.decision {
        Decision::Encrypt => "Encrypted: every recipient can decrypt".to_owned(),
        Decision::Plaintext if intent == Intent::Off => {
            "Not Encrypted: encryption is off".to_owned()
        }
        Decision::Plaintext => {
            format!("Not Encrypted: {}", lacking_of(d))
        }
        Decision::Refuse => {
            format!("Refused: encryption is required and {}", lacking_of(d))
        }
        Decision::Downgrade => {
            format!("Not Encrypted (downgraded): encryption was requested but {}", lacking_of(d))
        }
    };
    writeln!(out, "{headline}")?;
    for r in &d.recipients {
        let field = match r.field {
            RecipientField::To => "to",
            RecipientField::Cc => "cc",
            RecipientField::Bcc => "bcc",
        };
        write_status(out, field, &r.status)?;
    }
    if let Some(s) = &d.sender {
        write_status(out, "from", s)?;
    }
    for w in &d.warnings {
        writeln!(out, "warning [{}]: {}", w.code, w.message)?;
    }
    Ok(())
}

/// "1 of 2 recipients cannot decrypt", "1 of 1 recipient cannot decrypt".
fn lacking_of(d: &ComposeDecision<'_>) -> String {
    let (lacking, all) = (d.lacking().count(), d.recipients.len());
    format!(
        "{lacking} of {} cannot decrypt",
        crate::output::count_usize(all, "recipient", "recipients")
    )
}

fn write_status(out: &mut impl Write, field: &str, s: &AddressStatus<'_>) -> std::io::Result<()> {
    match &s.chosen {
        Some(c) => writeln!(
            out,
            "  {field:<4} {:<32} can decrypt ({}, valid until {}, sha256 {:.16}…)",
            s.address.as_str(),
            key_description(c.certificate.key()),
            c.certificate.not_after(),
            c.certificate.sha256_hex()
        )?,
        None => writeln!(out, "  {field:<4} {:<32} CANNOT decrypt", s.address.as_str())?,
    }
    for r in s.reasons() {
        writeln!(out, "         {}: {}", r.code(), r.message(&s.address))?;
        writeln!(out, "         hint: {}", r.hint(&s.address))?;
    }
    Ok(())
}
