//! Writes a reproducible corpus of sent S/MIME mail with the findings the audit should report.
//!
//! ```text
//! cargo run --release --example gen_corpus -- DIR N SEED   # N messages, e.g. 2000 42
//! cargo run --release --example gen_corpus -- --profile office DIR N SEED   # ordinary sent items
//! cargo run --release --example gen_corpus -- --demo DIR   # the bundled demo (testdata/demo)
//! ```
//!
//! Output: `DIR/Maildir/{cur,new,tmp}` and `DIR/ground-truth.ndjson`, one JSON object per
//! message (file, scenario, size, date, sender, cipher, expected rule codes and findings).
//! Everything comes from the library's builders (`smime_lint::build`) and the test PKI in
//! testdata/certs; nothing is fetched. The same SEED gives the same bytes. `DIR/Maildir` must
//! not exist yet.

mod corpus;
mod demo;
mod office;
mod people;
mod text;

use corpus::BoxError;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

const USAGE: &str =
    "usage: gen_corpus [--profile mixed|office] DIR N SEED\n       gen_corpus --demo DIR";

fn main() -> ExitCode {
    match run(std::env::args().skip(1).collect()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("gen_corpus: {e}");
            ExitCode::from(2)
        }
    }
}

fn run(mut args: Vec<String>) -> Result<(), BoxError> {
    let profile = match args.iter().position(|a| a == "--profile") {
        Some(i) => {
            let name = args.get(i + 1).cloned().ok_or(USAGE)?;
            args.drain(i..=i + 1);
            match name.as_str() {
                "mixed" => corpus::Profile::Mixed,
                "office" => corpus::Profile::Office,
                other => return Err(format!("unknown profile {other:?}\n{USAGE}").into()),
            }
        }
        None => corpus::Profile::Mixed,
    };
    let certs = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/certs");
    let pki = corpus::Pki::load(&certs)?;
    let started = std::time::Instant::now();
    match args.as_slice() {
        [flag, dir] if flag == "--demo" => {
            let truths = demo::write_demo(Path::new(dir), &pki)?;
            for t in &truths {
                println!("{:<48} {:<24} {}", t.file, t.scenario, t.rules.join(" "));
            }
        }
        [dir, n, seed] => {
            let n: usize = n.parse().map_err(|_| format!("N must be a number\n{USAGE}"))?;
            let seed: u64 = seed.parse().map_err(|_| format!("SEED must be a number\n{USAGE}"))?;
            let written = corpus::write_corpus(&PathBuf::from(dir), n, seed, profile, &pki)?;
            let elapsed = started.elapsed();
            println!(
                "{} messages, {:.1} MB in {:.2} s",
                written.messages,
                written.bytes as f64 / 1e6,
                elapsed.as_secs_f64()
            );
            for (scenario, count) in &written.by_scenario {
                println!("  {scenario:<24} {count}");
            }
        }
        _ => return Err(USAGE.into()),
    }
    Ok(())
}
