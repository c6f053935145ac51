//! `smime-lint milter ARGS...`: runs the `smime-lint-milter` executable with the same
//! arguments, like git's external subcommands.
//!
//! The milter daemon is a separate build (the workspace member `milter/`, package
//! `smime-lint-milter`): it links indymilter, which is GPL-3.0-or-later, so that build is too,
//! while this command and the library stay MIT OR Apache-2.0. It is looked for next to this
//! executable first (where `cargo build --workspace` and `cargo install` put it), then on PATH.

use clap::Args;
use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The executable this command runs.
pub const MILTER: &str = "smime-lint-milter";

/// `smime-lint milter`: every argument goes to `smime-lint-milter` unchanged.
#[derive(Args, Debug)]
#[command(disable_help_flag = true)]
pub struct MilterArgs {
    /// Arguments for smime-lint-milter (see `smime-lint milter --help` once it is built).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, value_name = "ARGS")]
    args: Vec<OsString>,
}

/// Runs the milter in place of this process (so that SIGHUP and SIGTERM from a service manager
/// reach it); returns only when it cannot be started.
pub fn run(args: MilterArgs) -> ExitCode {
    let Some(exe) = find() else {
        eprintln!(
            "smime-lint milter: the {MILTER} executable is not installed (looked next to {} and on PATH).\n\
             Build it with `cargo build --release -p {MILTER}` (or `cargo build --release --workspace`)\n\
             and run `smime-lint milter` again. That build is GPL-3.0-or-later: it links indymilter.",
            std::env::current_exe().map_or_else(|_| "smime-lint".into(), |p| p.display().to_string())
        );
        return ExitCode::from(2);
    };
    let mut command = std::process::Command::new(&exe);
    command.args(&args.args);
    let error = exec(&mut command);
    eprintln!("smime-lint milter: cannot run {}: {error}", exe.display());
    ExitCode::from(2)
}

#[cfg(unix)]
fn exec(command: &mut std::process::Command) -> std::io::Error {
    use std::os::unix::process::CommandExt;
    command.exec()
}

#[cfg(not(unix))]
fn exec(command: &mut std::process::Command) -> std::io::Error {
    match command.status() {
        Ok(status) => std::process::exit(status.code().unwrap_or(2)),
        Err(e) => e,
    }
}

fn find() -> Option<PathBuf> {
    let name = format!("{MILTER}{}", std::env::consts::EXE_SUFFIX);
    let beside = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join(&name)))
        .filter(|p| is_executable(p));
    beside.or_else(|| {
        let path = std::env::var_os("PATH")?;
        std::env::split_paths(&path)
            .map(|dir| dir.join(OsStr::new(&name)))
            .find(|p| is_executable(p))
    })
}

fn is_executable(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        path.metadata().is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    }
    #[cfg(not(unix))]
    {
        path.is_file()
    }
}
