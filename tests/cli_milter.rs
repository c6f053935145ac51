//! `smime-lint milter ARGS...` runs the separately built `smime-lint-milter` (found next to
//! `smime-lint`, then on PATH) with the arguments unchanged, in its place; without it, it says
//! how to build it. Checked with a copy of the real binary beside a stand-in script.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A copy of the real `smime-lint` in `dir`.
fn smime_lint_in(dir: &Path) -> PathBuf {
    let exe = dir.join("smime-lint");
    std::fs::copy(env!("CARGO_BIN_EXE_smime-lint"), &exe).expect("copy the binary");
    exe
}

/// A stand-in `smime-lint-milter` in `dir` that records its arguments and exits with 7.
fn stand_in(dir: &Path) {
    let script = dir.join("smime-lint-milter");
    std::fs::write(&script, "#!/bin/sh\nprintf '%s\\n' \"$@\" > \"${0%/*}/args\"\nexit 7\n")
        .expect("script");
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}

/// Runs, retrying the rare "text file busy" of a just-written executable under parallel tests.
fn run(exe: &Path, args: &[&str], path: &Path) -> Output {
    for _ in 0..20 {
        let out = Command::new(exe).args(args).env("PATH", path).output().expect("runs");
        if !String::from_utf8_lossy(&out.stderr).contains("Text file busy") {
            return out;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    panic!("{} stayed busy", exe.display());
}

const ARGS: [&str; 7] =
    ["milter", "--listen", "inet:127.0.0.1:7999", "--help", "--certs", "a dir/with space", "-x"];

#[test]
fn arguments_pass_through_unchanged_and_the_exit_code_comes_back() {
    let dir = tempfile::tempdir().unwrap();
    let exe = smime_lint_in(dir.path());
    stand_in(dir.path());
    let out = run(&exe, &ARGS, Path::new("/nonexistent"));
    assert_eq!(out.status.code(), Some(7), "{}", String::from_utf8_lossy(&out.stderr));
    let args = std::fs::read_to_string(dir.path().join("args")).unwrap();
    assert_eq!(args.lines().collect::<Vec<_>>(), ARGS[1..]);
}

#[test]
fn the_milter_is_found_on_path_when_it_is_not_beside_smime_lint() {
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    let exe = smime_lint_in(dir.path());
    stand_in(&bin);
    let out = run(&exe, &["milter", "--version"], &bin);
    assert_eq!(out.status.code(), Some(7));
    assert_eq!(std::fs::read_to_string(bin.join("args")).unwrap(), "--version\n");
}

#[test]
fn without_the_milter_it_says_how_to_build_it() {
    let dir = tempfile::tempdir().unwrap();
    let exe = smime_lint_in(dir.path());
    let out = run(&exe, &ARGS, dir.path());
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("the smime-lint-milter executable is not installed"), "{err}");
    assert!(err.contains("cargo build --release -p smime-lint-milter"), "{err}");
    assert!(err.contains("GPL-3.0-or-later"), "{err}");
}
