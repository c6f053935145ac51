//! `smime-lint`: the command line. A thin layer over the library: parse arguments, load inputs,
//! call the library, print. Exit codes: 0 nothing wrong, 1 findings of error severity (for
//! `check`: refused, or encryption requested and not possible), 2 usage or I/O error, 3 not
//! judged: the certificate store holds no certificate for any address, so who can decrypt could
//! not be told, or `audit` found no message at all (when nothing else gave 1). A closed pipe (`smime-lint audit … | head`) ends
//! quietly.
#![forbid(unsafe_code)]

mod audit;
mod built;
mod certs;
mod check;
mod common;
mod harvesting;
mod input;
mod milter;
mod output;
mod sendmail;
mod separate_copies;
mod summary;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "smime-lint", version, about, long_about = None, after_help = EXIT_CODES)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// May this draft go out encrypted? Decides from the final recipient set.
    Check(check::CheckArgs),
    /// Who could actually open the mail that went out: scan messages, Maildirs, mbox files.
    Audit(audit::AuditArgs),
    /// List the certificate store: every certificate, its addresses, and whether it is usable.
    Certs(certs::CertsArgs),
    /// A drop-in for the sendmail command of mail clients: checks the message, then runs the
    /// real sendmail, or refuses with a sysexits code.
    Sendmail(sendmail::SendmailArgs),
    /// Run the gateway milter for Postfix/Sendmail (the separate smime-lint-milter build,
    /// GPL-3.0-or-later); every argument is passed to it.
    Milter(milter::MilterArgs),
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            // A mail client reads sendmail's exit status as a sysexits code.
            let sendmail = std::env::args_os().nth(1).is_some_and(|a| a == "sendmail");
            return match e.exit_code() {
                0 => ExitCode::SUCCESS,
                _ if sendmail => ExitCode::from(sendmail::sysexits::EX_USAGE),
                code => ExitCode::from(u8::try_from(code).unwrap_or(2)),
            };
        }
    };
    let result = match cli.command {
        Command::Check(args) => check::run(args),
        Command::Certs(args) => certs::run(args),
        Command::Audit(args) => audit::run(args),
        Command::Sendmail(args) => return sendmail::run(args),
        Command::Milter(args) => return milter::run(args),
    };
    match result {
        Ok(code) => code.into(),
        Err(e) if e.is_broken_pipe() => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("smime-lint: {e}");
            ExitCode::from(2)
        }
    }
}

/// The exit codes, for `--help`.
pub const EXIT_CODES: &str = "\
Exit codes:
  0  nothing wrong
  1  findings of error severity (check: refused, or --encrypt on and not possible)
  2  usage or I/O error
  3  not judged: no certificate for any address was loaded (no --certs, or none found),
     so who can decrypt could not be told; or audit found no message in any PATH";

/// How a run ended when it ran to completion.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Nothing wrong: exit 0.
    Clean,
    /// Findings of error severity, or a refused/impossible encryption: exit 1.
    Problems,
    /// Nothing of error severity, but the store held no certificate for any address (so the
    /// answer says nothing about who can decrypt), or `audit` found no message at all: exit 3,
    /// never mistaken for a clean result.
    NotJudged,
}

impl Outcome {
    /// `self`, or [`Outcome::NotJudged`] when `not_judged` (the store was empty, or there was
    /// nothing to audit) and nothing worse was found.
    pub fn or_not_judged(self, not_judged: bool) -> Outcome {
        match self {
            Outcome::Clean if not_judged => Outcome::NotJudged,
            other => other,
        }
    }
}

impl From<Outcome> for ExitCode {
    fn from(o: Outcome) -> ExitCode {
        match o {
            Outcome::Clean => ExitCode::SUCCESS,
            Outcome::Problems => ExitCode::from(1),
            Outcome::NotJudged => ExitCode::from(3),
        }
    }
}
