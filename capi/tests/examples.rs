//! The C ABI as C and Python see it: `examples/presend.c` compiled with `cc` against the header
//! and linked with the built library (shared and static), run on the iOS 7.1 Reply All (refused,
//! naming dan) and on a message everyone can read (accepted); the same under valgrind; and
//! `examples/presend.py` through ctypes.
//!
//! The library is found beside this test's executable (`target/<profile>/`, wherever
//! `CARGO_TARGET_DIR` puts it); when it is missing (the test binary run on its own), it is
//! built first with the cargo that runs the tests.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

/// 2026-06-01T00:00:00Z: the fixtures' evaluation time.
const AT: &str = "1780272000";
const IOS71: &str = "testdata/audit/ios71-reply-all.eml";
const READABLE: &str = "testdata/audit/all-can-decrypt.eml";

fn workspace() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("capi/ is inside the workspace")
}

fn capi() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `target/<profile>`: this executable lives in its `deps/` folder.
fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    let deps = exe.parent().expect("deps folder");
    deps.parent().expect("profile folder").to_path_buf()
}

/// The folder holding libsmime_lint.so and libsmime_lint.a, built now.
///
/// `cargo test` does not build a library that tests cannot link (a cdylib and staticlib have
/// no rlib), so a test that only looked for the files could run an old build. Building here is
/// a no-op when it is up to date; it uses the cargo running the tests, the same target folder
/// and the same profile.
fn library_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = profile_dir();
        let target = dir.parent().expect("target folder");
        let mut cargo = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
        cargo
            .args(["build", "--quiet", "-p", "smime-lint-capi", "--lib"])
            .current_dir(workspace())
            .env("CARGO_TARGET_DIR", target);
        match dir.file_name().and_then(|n| n.to_str()) {
            Some("debug") | None => {}
            Some("release") => {
                cargo.arg("--release");
            }
            Some(profile) => {
                cargo.args(["--profile", profile]);
            }
        }
        let status = cargo.status().unwrap_or_else(|e| panic!("{cargo:?}: {e}"));
        assert!(status.success(), "{cargo:?} failed");
        for lib in ["libsmime_lint.so", "libsmime_lint.a"] {
            assert!(dir.join(lib).is_file(), "{} missing after {cargo:?}", dir.join(lib).display());
        }
        dir
    })
}

fn run(cmd: &mut Command) -> Output {
    cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Compiles presend.c, strict warnings as errors, against the shared or the static library.
fn compile(static_link: bool) -> PathBuf {
    let lib = library_dir();
    let exe = Path::new(env!("CARGO_TARGET_TMPDIR")).join(if static_link {
        "presend-static"
    } else {
        "presend-shared"
    });
    let mut cc = Command::new("cc");
    cc.args(["-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", "-g"])
        .arg("-I")
        .arg(capi().join("include"))
        .arg(capi().join("examples/presend.c"))
        .arg("-o")
        .arg(&exe);
    if static_link {
        // What `rustc --print native-static-libs` lists for this target.
        cc.arg(lib.join("libsmime_lint.a")).args([
            "-lgcc_s",
            "-lutil",
            "-lrt",
            "-lpthread",
            "-lm",
            "-ldl",
            "-lc",
        ]);
    } else {
        cc.arg("-L").arg(lib).arg("-lsmime_lint").arg(format!("-Wl,-rpath,{}", lib.display()));
    }
    let out = run(&mut cc);
    assert!(out.status.success(), "{cc:?}\n{}", text(&out.stderr));
    exe
}

fn shared_example() -> &'static Path {
    static EXE: OnceLock<PathBuf> = OnceLock::new();
    EXE.get_or_init(|| compile(false))
}

/// Runs `exe` (the example), behind `runner` (valgrind and its options) if not empty, in the
/// workspace root.
fn presend(runner: &[&str], exe: &Path, message: &str, recipients: &[&str]) -> Output {
    let mut cmd = match runner.split_first() {
        Some((first, options)) => {
            let mut cmd = Command::new(first);
            cmd.args(options).arg(exe);
            cmd
        }
        None => Command::new(exe),
    };
    cmd.current_dir(workspace()).args(["-t", AT, "testdata/certs/store", message]).args(recipients);
    run(&mut cmd)
}

/// The Reply All is refused, naming dan; the readable message is accepted.
fn assert_refused_then_accepted(runner: &[&str], exe: &Path) {
    let out = presend(runner, exe, IOS71, &["<dan@example.net>", "<carol@example.org>"]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{}", text(&out.stderr));
    assert!(stdout.starts_with("verdict: reject\n"), "{stdout}");
    assert!(
        stdout.contains("  dan@example.net: CANNOT decrypt (partial-encryption): "),
        "{stdout}"
    );
    assert!(stdout.contains("  carol@example.org: can decrypt\n"), "{stdout}");
    assert!(stdout.contains("reply:\n550-5.7.1 Message refused"), "{stdout}");
    assert!(stdout.contains("5.7.1 dan@example.net: "), "{stdout}");

    let out = presend(runner, exe, READABLE, &["bob@example.com", "carol@example.org"]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{}", text(&out.stderr));
    assert_eq!(
        stdout,
        "verdict: accept\n  bob@example.com: can decrypt\n  carol@example.org: can decrypt\n"
    );
}

#[test]
fn c_example_refuses_the_ios71_reply_all_and_accepts_a_readable_message() {
    assert_refused_then_accepted(&[], shared_example());
}

#[test]
fn c_example_linked_statically_gives_the_same_answers() {
    assert_refused_then_accepted(&[], &compile(true));
}

#[test]
fn c_example_reports_errors_with_their_status_and_message() {
    let out = run(Command::new(shared_example()).current_dir(workspace()).args([
        "-t",
        AT,
        "testdata/no-such-store",
        IOS71,
        "dan@example.net",
    ]));
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr.starts_with("presend: testdata/no-such-store: io: testdata/no-such-store: "),
        "{stderr}"
    );
}

#[test]
fn header_compiles_as_cpp() {
    let out = run(Command::new("c++")
        .args(["-fsyntax-only", "-Wall", "-Wextra", "-Werror", "-x", "c++"])
        .arg(capi().join("include/smime_lint.h")));
    assert!(out.status.success(), "{}", text(&out.stderr));
}

/// Valgrind is required when `SMIME_LINT_REQUIRE_VALGRIND` is set (CI installs it); elsewhere
/// its absence skips this test with a notice.
#[test]
fn c_example_has_no_leaks_or_memory_errors_under_valgrind() {
    let valgrind = Command::new("valgrind").arg("--version").output();
    if !valgrind.as_ref().is_ok_and(|o| o.status.success()) {
        if std::env::var_os("SMIME_LINT_REQUIRE_VALGRIND").is_some() {
            panic!(
                "valgrind is required (SMIME_LINT_REQUIRE_VALGRIND is set) but does not run: {valgrind:?}"
            );
        }
        eprintln!("\n*** SKIPPED valgrind test: valgrind is not installed ***\n");
        return;
    }
    let runner = [
        "valgrind",
        "--quiet",
        "--leak-check=full",
        // Memory lost for good is an error. rayon's global worker threads (started when a
        // folder loads in parallel) live until the process exits, and their thread stacks show
        // as "possibly lost": not a leak of this library.
        "--errors-for-leak-kinds=definite,indirect",
        "--show-leak-kinds=definite,indirect",
        "--error-exitcode=3", // told apart from the example's own 0, 1 and 2
    ];
    assert_refused_then_accepted(&runner, shared_example());
}

#[test]
fn python_ctypes_example_gives_the_same_answers() {
    let lib = library_dir().join("libsmime_lint.so");
    let python = |message: &str, recipients: &[&str]| {
        run(Command::new("python3")
            .arg(capi().join("examples/presend.py"))
            .arg("--lib")
            .arg(&lib)
            .args(["-t", AT, "testdata/certs/store", message])
            .args(recipients)
            .current_dir(workspace()))
    };
    let out = python(IOS71, &["<dan@example.net>", "<carol@example.org>"]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{}", text(&out.stderr));
    assert!(stdout.starts_with("verdict: reject\n"), "{stdout}");
    assert!(
        stdout.contains("  dan@example.net: CANNOT decrypt (partial-encryption): "),
        "{stdout}"
    );
    assert!(stdout.contains("reply: 550 5.7.1\n"), "{stdout}");
    assert!(
        stdout.contains("a new message to them: plaintext (dan@example.net cannot decrypt)"),
        "{stdout}"
    );

    let out = python(READABLE, &["bob@example.com", "carol@example.org"]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{}", text(&out.stderr));
    assert_eq!(
        stdout,
        "verdict: accept\n  bob@example.com: can decrypt\n  carol@example.org: can decrypt\n\
         a new message to them: encrypt\n"
    );
}
