//! `smime-lint-milter --listen inet:127.0.0.1:7999 --certs DIR`: see `--help`.

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    smime_lint_milter::daemon::run(smime_lint_milter::options::Options::parse())
}
