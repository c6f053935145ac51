//! `smime-lint`: the command line (DESIGN §6). A thin layer over the library: parse arguments,
//! load inputs, call the library, print. Exit codes: 0 nothing wrong, 1 findings of error
//! severity (for `check`: refused, or encryption requested and not possible), 2 usage or I/O
//! error. A closed pipe (`smime-lint audit … | head`) ends quietly.
#![forbid(unsafe_code)]

mod audit;
mod certs;
mod check;
mod common;
mod milter;
mod output;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "smime-lint", version, about, long_about = None)]
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
    /// Run the gateway milter for Postfix/Sendmail (the separate smime-lint-milter build,
    /// GPL-3.0-or-later); every argument is passed to it.
    Milter(milter::MilterArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Check(args) => check::run(args),
        Command::Certs(args) => certs::run(args),
        Command::Audit(args) => audit::run(args),
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

/// How a run ended when it ran to completion.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Nothing wrong: exit 0.
    Clean,
    /// Findings of error severity, or a refused/impossible encryption: exit 1.
    Problems,
}

impl From<Outcome> for ExitCode {
    fn from(o: Outcome) -> ExitCode {
        match o {
            Outcome::Clean => ExitCode::SUCCESS,
            Outcome::Problems => ExitCode::from(1),
        }
    }
}
