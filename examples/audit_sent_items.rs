//! The shortest honest program that audits a Maildir with the library.
//!
//! Run: `cargo run --example audit_sent_items -- testdata/demo/Maildir testdata/certs/store`

use smime_lint::audit::{audit_message, AuditOptions};
use smime_lint::scan::{messages, ScanOptions};
use smime_lint::CertStore;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let maildir = args.next().ok_or("usage: audit_sent_items MAILDIR CERTS")?;
    let certs = args.next().ok_or("usage: audit_sent_items MAILDIR CERTS")?;

    let mut store = CertStore::new();
    store.load_path(certs.as_ref())?;
    let options = AuditOptions::default(); // certificates judged at each message's Date

    for message in messages(&[maildir.into()], &ScanOptions::default())? {
        let report = match &message.bytes {
            Ok(bytes) => audit_message(bytes, &store, &options),
            Err(why) => smime_lint::audit::unreadable(why),
        };
        for finding in &report.findings {
            println!("{}: {} {}", message.source.label, finding.rule, finding.message);
        }
    }
    Ok(())
}
