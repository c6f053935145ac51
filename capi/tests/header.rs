//! The committed header is what cbindgen generates from the crate now: a change to the ABI
//! without regenerating `include/smime_lint.h` fails here.
//! `UPDATE_EXPECTED=1 cargo test -p smime-lint-capi --test header` rewrites it; review the diff.

use std::path::Path;

#[test]
fn committed_header_matches_cbindgen_output() {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config =
        cbindgen::Config::from_file(crate_dir.join("cbindgen.toml")).expect("cbindgen.toml");
    let bindings = cbindgen::Builder::new()
        .with_crate(crate_dir)
        .with_config(config)
        .generate()
        .expect("cbindgen generates the header");
    let mut generated = Vec::new();
    bindings.write(&mut generated);
    let path = crate_dir.join("include/smime_lint.h");
    if std::env::var_os("UPDATE_EXPECTED").is_some() {
        std::fs::write(&path, &generated).unwrap();
        return;
    }
    let committed = std::fs::read(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "{} is out of date; UPDATE_EXPECTED=1 cargo test -p smime-lint-capi --test header \
         rewrites it. Generated now:\n{}",
        path.display(),
        String::from_utf8_lossy(&generated)
    );
}
