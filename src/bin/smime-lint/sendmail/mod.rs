//! `smime-lint sendmail`: a drop-in for the `sendmail` command that mutt/NeoMutt, aerc,
//! git send-email, mailx and many other clients run to send a message.
//!
//! It reads the message from standard input as sendmail does, judges it with the gateway's
//! pre-send verdict against the recipients sendmail would deliver to, and then either runs the
//! real sendmail with the same arguments, feeding it the identical bytes, and exits with its
//! status; or refuses with a `sysexits.h` code and one paragraph on standard error, which the
//! client shows. Nothing is passed on half-checked, and a refused message is never dropped
//! silently: the client keeps its copy (it sees a failure), and `--keep DIR` saves one too.

mod args;
mod config;
mod keep;

use crate::common::{parse_time, StoreArgs};
use crate::input::{human_size, read_limited, ReadError};
use args::{split_recipients, SendmailCall};
use clap::Args;
use config::{Overrides, Settings};
use smime_lint::audit::Rule;
use smime_lint::gateway::{self, Action, Envelope, HeaderRecipients, Verdict};
use smime_lint::Time;
use std::ffi::OsString;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

/// `sysexits.h` codes, as sendmail and its callers know them.
pub mod sysexits {
    /// The command line is wrong.
    pub const EX_USAGE: u8 = 64;
    /// The message is not acceptable data: not mail, empty, too large, S/MIME that cannot be
    /// parsed.
    pub const EX_DATAERR: u8 = 65;
    /// The real sendmail cannot be run.
    pub const EX_UNAVAILABLE: u8 = 69;
    /// An internal error: the real sendmail died of a signal.
    pub const EX_SOFTWARE: u8 = 70;
    /// Reading the message failed.
    pub const EX_IOERR: u8 = 74;
    /// Try again later (the policy's tempfail, an error while checking).
    pub const EX_TEMPFAIL: u8 = 75;
    /// Refused by the S/MIME policy: some recipients could not read it, or the blank
    /// SmartReply shape.
    pub const EX_NOPERM: u8 = 77;
    /// The configuration file or the certificate store cannot be loaded.
    pub const EX_CONFIG: u8 = 78;
}
use sysexits::*;

/// No `-h`: it is sendmail's hop count, and a client's `-h` must be refused, never answered
/// with help and exit status 0 (the client would think the message sent).
#[derive(Args, Debug)]
#[command(disable_help_flag = true)]
pub struct SendmailArgs {
    /// Print help.
    #[arg(long, action = clap::ArgAction::Help)]
    help: Option<bool>,
    #[command(flatten)]
    store: StoreArgs,
    /// Settings from a TOML file: sendmail, certs, trust, keep, max_size and a policy table.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Save each message that is not sent (refused, or the real sendmail failed) in DIR.
    #[arg(long, value_name = "DIR")]
    keep: Option<PathBuf>,
    /// What to do about a rule's findings (RULE=ACTION, as at the gateway; several allowed;
    /// `on-error=tempfail|accept` for errors while checking). Split is not possible here.
    #[arg(long = "policy", value_name = "RULE=ACTION")]
    policy: Vec<String>,
    /// The largest message accepted on standard input, in bytes (default 64 MiB).
    #[arg(long = "max-size", value_name = "BYTES")]
    max_size: Option<u64>,
    /// Judge certificates at this time (RFC 3339) instead of now.
    #[arg(long, value_parser = parse_time, value_name = "TIME")]
    at: Option<Time>,
    /// The real sendmail and its arguments, as the client gave them. When the configuration
    /// names the real sendmail, only the client's arguments.
    #[arg(
        value_name = "REAL_SENDMAIL [ARGS]",
        trailing_var_arg = true,
        allow_hyphen_values = true
    )]
    command: Vec<OsString>,
}

/// How the guard ends: an exit status and, unless it is the real sendmail's own, the paragraph
/// for standard error.
struct Ending {
    code: u8,
    text: Option<String>,
}

impl Ending {
    fn fail(code: u8, text: impl Into<String>) -> Ending {
        Ending { code, text: Some(text.into()) }
    }
}

pub fn run(args: SendmailArgs) -> ExitCode {
    let ending = guard(&args);
    if let Some(text) = &ending.text {
        // One paragraph: clients show standard error as it is.
        let _ = writeln!(io::stderr().lock(), "smime-lint: {text}");
    }
    ExitCode::from(ending.code)
}

fn guard(args: &SendmailArgs) -> Ending {
    let overrides = Overrides {
        store: &args.store,
        keep: args.keep.as_deref(),
        max_size: args.max_size,
        policy: &args.policy,
    };
    let settings = match Settings::resolve(args.config.as_deref(), overrides) {
        Ok(s) => s,
        Err(e) => return Ending::fail(EX_CONFIG, format!("{e}; nothing was sent")),
    };
    let (real, words) = match real_sendmail(&settings, &args.command) {
        Ok(found) => found,
        Err(e) => return Ending::fail(EX_USAGE, format!("{e}; nothing was sent")),
    };
    let call = match args::parse(&words) {
        Ok(call) => call,
        Err(e) => return Ending::fail(EX_USAGE, format!("{e}; nothing was sent")),
    };
    let keeper = Keeper { dir: settings.keep.as_deref() };

    let mut stdin = io::stdin().lock();
    let raw = match read_limited(&mut stdin, settings.max_size) {
        Ok(raw) => raw,
        Err(ReadError::TooLarge { limit, head }) => {
            let why = format!(
                "the message is larger than {} (max_size), so it was not checked.",
                human_size(limit)
            );
            return keeper.refuse(EX_DATAERR, why, &head, Some(&mut stdin));
        }
        Err(ReadError::Io(error)) => {
            return Ending::fail(
                EX_IOERR,
                format!(
                    "reading the message from standard input failed ({error}); nothing was sent"
                ),
            )
        }
    };
    if raw.is_empty() {
        return Ending::fail(
            EX_DATAERR,
            "the message on standard input is empty; nothing was sent",
        );
    }
    let store = match settings.store.load() {
        Ok(store) => store,
        Err(e) => {
            let why = format!(
                "the certificate store cannot be loaded ({e}), so the message was not checked."
            );
            return keeper.refuse(EX_CONFIG, why, &raw, None);
        }
    };

    // Without -i a line holding a single dot ends the message: the real sendmail delivers
    // only what comes before it, so that is what is judged.
    let judged = if call.ignore_dots { &raw[..] } else { before_dot_line(&raw) };
    let envelope = match envelope(&call, judged) {
        Ok(envelope) => envelope,
        Err((code, why)) => return keeper.refuse(code, why, &raw, None),
    };
    let at = args.at.unwrap_or_else(Time::now);
    let verdict = gateway::verdict(judged, &envelope, &store, at, &settings.policy);
    match verdict.action {
        Action::Accept => {
            if call.verbose {
                eprintln!("smime-lint: {}", verdict.header_value());
            }
            deliver(&real, &words, &raw, &keeper)
        }
        _ => {
            let (code, why) = refusal(&verdict, &real);
            keeper.refuse(code, why, &raw, None)
        }
    }
}

/// The real sendmail and the client's arguments: the configured one and every word, else the
/// first word and the rest.
fn real_sendmail(
    settings: &Settings,
    command: &[OsString],
) -> Result<(OsString, Vec<String>), String> {
    let (real, words) = match (&settings.sendmail, command.split_first()) {
        (Some(real), _) => (real.clone().into_os_string(), command),
        (None, Some((real, rest))) => (real.clone(), rest),
        (None, None) => {
            return Err("no real sendmail: give it after -- (smime-lint sendmail -- \
                        /usr/sbin/sendmail -t -i) or set `sendmail` in the --config file"
                .to_owned())
        }
    };
    let words = words
        .iter()
        .map(|w| {
            w.to_str()
                .map(str::to_owned)
                .ok_or_else(|| format!("sendmail argument {w:?} is not UTF-8"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok((real, words))
}

/// The envelope sendmail would use: recipients from the arguments (and the header with -t),
/// the sender from -f (else the header's author).
fn envelope(call: &SendmailCall, raw: &[u8]) -> Result<Envelope, (u8, String)> {
    let header = if call.extract || call.sender.is_none() {
        match HeaderRecipients::parse(raw) {
            Ok(h) => Some(h),
            Err(e) if call.extract => return Err((EX_DATAERR, format!("{e}."))),
            // Without -t the verdict names what is wrong with the message.
            Err(_) => None,
        }
    } else {
        None
    };
    let mut recipients: Vec<String> =
        call.recipients.iter().flat_map(|w| split_recipients(w)).collect();
    if let Some(command) = recipients.iter().find(|r| r.starts_with('/')) {
        return Err((
            EX_USAGE,
            format!(
                "recipient {command:?} looks like a command, not an address (when the \
                 configuration names the real sendmail, give only the client's arguments)."
            ),
        ));
    }
    if call.extract {
        recipients.extend(header.iter().flat_map(|h| h.recipients.iter().cloned()));
    }
    if recipients.is_empty() {
        return Err(if call.extract {
            (EX_DATAERR, "the message names no recipients (To, Cc, Bcc).".to_owned())
        } else {
            (EX_USAGE, "no recipients: give them as arguments or use -t.".to_owned())
        });
    }
    let author = header.as_ref().and_then(|h| h.author.as_ref()).map(|a| a.as_str().to_owned());
    let sender = call.sender.clone().or(author).unwrap_or_default();
    Ok(Envelope::new(&sender, recipients.iter().map(String::as_str)))
}

/// The message as sendmail reads it without -i: up to a line holding a single dot.
fn before_dot_line(raw: &[u8]) -> &[u8] {
    let mut start = 0;
    for line in raw.split_inclusive(|&b| b == b'\n') {
        let text = line.strip_suffix(b"\n").unwrap_or(line);
        let text = text.strip_suffix(b"\r").unwrap_or(text);
        if text == b"." {
            return &raw[..start];
        }
        start += line.len();
    }
    raw
}

/// The exit code and paragraph of a verdict that is not accept.
fn refusal(verdict: &Verdict, real: &OsString) -> (u8, String) {
    let media_only =
        verdict.decided_by.iter().all(|r| matches!(r, Rule::MalformedSmime | Rule::Unreadable));
    let code = match verdict.action {
        Action::Tempfail => EX_TEMPFAIL,
        _ if media_only => EX_DATAERR,
        _ => EX_NOPERM,
    };
    let text = verdict.reply.as_ref().map(|r| r.paragraph()).unwrap_or_default();
    // "message not sent: it is encrypted, and ..." rather than "... Message refused: it is".
    let text = ["Message refused: ", "Message deferred: "]
        .iter()
        .find_map(|p| text.strip_prefix(p))
        .map_or(text.clone(), str::to_owned);
    let deferred = if code == EX_TEMPFAIL { " Try again later." } else { "" };
    (code, format!("{text} Nothing was passed to {}.{deferred}", Path::new(real).display()))
}

/// Runs the real sendmail with the client's arguments and the identical bytes on its
/// standard input, and ends with its exit status.
fn deliver(real: &OsString, words: &[String], raw: &[u8], keeper: &Keeper<'_>) -> Ending {
    let shown = Path::new(real).display().to_string();
    let mut child = match Command::new(real).args(words).stdin(Stdio::piped()).spawn() {
        Ok(child) => child,
        Err(e) => {
            let why = format!("the real sendmail {shown} cannot be run ({e}).");
            return keeper.refuse(EX_UNAVAILABLE, why, raw, None);
        }
    };
    // A sendmail may stop reading early (a dot line without -i) and still succeed: a closed
    // pipe is its answer, its exit status decides.
    let written = child.stdin.take().map(|mut stdin| stdin.write_all(raw));
    let status = match child.wait() {
        Ok(status) => status,
        Err(e) => {
            let why = format!("waiting for the real sendmail {shown} failed ({e}); whether it queued the message is unknown.");
            return keeper.refuse(EX_SOFTWARE, why, raw, None);
        }
    };
    match (status.code(), written) {
        (Some(0), Some(Err(e))) if e.kind() != io::ErrorKind::BrokenPipe => {
            let why = format!("writing the message to the real sendmail {shown} failed ({e}) although it reported success; it may have received part of it.");
            keeper.refuse(EX_IOERR, why, raw, None)
        }
        (Some(0), _) => Ending { code: 0, text: None },
        (Some(code), _) => {
            let why = format!("the real sendmail {shown} failed with exit status {code} (its own messages are above).");
            let kept = keeper.refuse(u8::try_from(code).unwrap_or(EX_SOFTWARE), why, raw, None);
            // The real sendmail's own status is what the client expects to see.
            Ending { code: u8::try_from(code).unwrap_or(EX_SOFTWARE), ..kept }
        }
        (None, _) => {
            let why = format!("the real sendmail {shown} was killed ({status}); whether it queued the message is unknown.");
            keeper.refuse(EX_SOFTWARE, why, raw, None)
        }
    }
}

/// Ends a refusal: saves the message when `--keep` is set, and says so.
struct Keeper<'a> {
    dir: Option<&'a Path>,
}

impl Keeper<'_> {
    fn refuse(&self, code: u8, why: String, head: &[u8], rest: Option<&mut dyn Read>) -> Ending {
        let kept = match self.dir {
            None => " Your mail client still has the message.".to_owned(),
            Some(dir) => match keep::keep(dir, head, rest) {
                Ok(path) => format!(
                    " Your mail client still has the message, and a copy was saved as {}.",
                    path.display()
                ),
                Err(e) => format!(
                    " Your mail client still has the message; saving a copy in {} failed ({e}).",
                    dir.display()
                ),
            },
        };
        Ending::fail(code, format!("message not sent: {why}{kept}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case(b"a\n.\nb\n", b"a\n")]
    #[case(b"a\r\n.\r\nb\r\n", b"a\r\n")]
    #[case(b".\nall gone\n", b"")]
    #[case(b"a\n..\n. \nb", b"a\n..\n. \nb")]
    #[case(b"a\n.", b"a\n")]
    fn a_lone_dot_ends_the_message_without_i(#[case] raw: &[u8], #[case] judged: &[u8]) {
        assert_eq!(before_dot_line(raw), judged);
    }
}
