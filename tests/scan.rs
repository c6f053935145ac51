//! The input side of `smime-lint audit`: what is read under each kind of path, in which order,
//! what happens to bad input, and the ordered parallel pipeline.
//!
//! Fixtures: testdata/scan (made by testdata/scan/make.sh); odd cases (links, sockets, huge files)
//! are built in temporary folders.

use std::io::{self, Cursor, Read};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use proptest::prelude::*;
use rand::{rngs::StdRng, Rng, SeedableRng};
use rstest::rstest;
use smime_lint::scan::{
    estimate_total_bytes, messages, messages_from_reader, run_ordered, run_ordered_with,
    MessageSource, Origin, PathFilter, PendingMessage, PipelineLimits, Progress, RawMessage,
    ScanOptions,
};
use smime_lint::Error;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/scan")
}

/// (label relative to `base`, Subject or the error) for every message under `paths`.
fn scan(base: &Path, paths: &[PathBuf], options: &ScanOptions) -> Vec<(String, String)> {
    let prefix = format!("{}/", base.display());
    messages(paths, options)
        .expect("inputs open")
        .map(|m| {
            let label = m.source.label.strip_prefix(&prefix).unwrap_or(&m.source.label).to_string();
            (label, describe(&m.bytes))
        })
        .collect()
}

/// The Subject of a message, `ERR: reason` if unreadable, `?` if it has no Subject.
fn describe(bytes: &Result<Vec<u8>, String>) -> String {
    match bytes {
        Ok(bytes) => String::from_utf8_lossy(bytes)
            .lines()
            .find_map(|l| l.strip_prefix("Subject: ").map(str::to_string))
            .unwrap_or_else(|| "?".to_string()),
        Err(reason) => format!("ERR: {reason}"),
    }
}

fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
    expected.iter().map(|(l, s)| (l.to_string(), s.to_string())).collect()
}

fn defaults() -> ScanOptions {
    ScanOptions::default()
}

#[test]
fn maildir_reads_cur_then_new_then_maildirplusplus_folders() {
    let base = fixtures();
    let got = scan(&base, &[base.join("maildir")], &defaults());
    assert_eq!(
        got,
        pairs(&[
            ("maildir/cur/1700000001.M1P1.host:2,S", "inbox-cur-1"),
            ("maildir/cur/1700000002.M2P2.host:2,RS", "inbox-cur-2"),
            ("maildir/new/1700000000.M0P0.host", "inbox-new-1"),
            ("maildir/.Archive.2024/cur/1600000000.M1P1.host:2,S", "archive-cur-1"),
            ("maildir/.Sent/cur/1700000100.M1P1.host:2,S", "sent-cur-1"),
            ("maildir/.Sent/new/1700000101.M1P1.host", "sent-new-1"),
        ]),
        "tmp/, dovecot-uidlist and maildirfolder are not messages"
    );
}

#[test]
fn a_maildirplusplus_folder_named_alone_is_a_maildir() {
    let base = fixtures();
    let got = scan(&base, &[base.join("maildir/.Sent")], &defaults());
    assert_eq!(
        got,
        pairs(&[
            ("maildir/.Sent/cur/1700000100.M1P1.host:2,S", "sent-cur-1"),
            ("maildir/.Sent/new/1700000101.M1P1.host", "sent-new-1"),
        ])
    );
}

#[test]
fn folders_are_walked_depth_first_in_name_order() {
    let base = fixtures();
    let got = scan(&base, &[base.join("folder")], &defaults());
    assert_eq!(
        got,
        pairs(&[
            ("folder/a/10.eml", "folder-a-10"),
            ("folder/a/2.eml", "folder-a-2"),
            ("folder/b.eml", "folder-b"),
            ("folder/notes.txt", "?"),
            ("folder/z/inbox#1", "folder-z-inbox-1"),
            ("folder/z/inbox#2", "folder-z-inbox-2"),
        ]),
        ".DS_Store is skipped; notes.txt is read (the audit reports it); z/inbox is an mbox"
    );
}

#[test]
fn paths_are_read_in_the_order_given() {
    let base = fixtures();
    let paths = [base.join("folder/b.eml"), base.join("mboxo.mbox"), base.join("folder/a")];
    let got = scan(&base, &paths, &defaults());
    assert_eq!(
        got,
        pairs(&[
            ("folder/b.eml", "folder-b"),
            ("mboxo.mbox#1", "mboxo-1"),
            ("mboxo.mbox#2", "mboxo-2"),
            ("folder/a/10.eml", "folder-a-10"),
            ("folder/a/2.eml", "folder-a-2"),
        ])
    );
}

#[rstest]
#[case::mboxo("mboxo.mbox", "Hello.\nFrom the archive, quoted by the writer.\n")]
#[case::mboxrd(
    "mboxrd.mbox",
    "Hello.\nFrom a quoted line.\n>From an already quoted line.\n> From not a From line.\n"
)]
fn mbox_entries_are_unquoted_and_lose_their_separators(#[case] file: &str, #[case] body: &str) {
    let path = fixtures().join(file);
    let entries: Vec<RawMessage> =
        messages(std::slice::from_ref(&path), &defaults()).unwrap().collect();
    assert_eq!(entries.len(), 2);
    let label = path.display().to_string();
    assert_eq!(entries[0].source, MessageSource::found(format!("{label}#1"), Origin::MboxEntry, 0));
    assert_eq!(entries[1].source, MessageSource::found(format!("{label}#2"), Origin::MboxEntry, 0));
    let first = String::from_utf8(entries[0].bytes.clone().unwrap()).unwrap();
    assert!(first.starts_with("From: alice@example.com\n"), "no mbox From line: {first:?}");
    assert!(first.ends_with(body), "{first:?}");
    let second = String::from_utf8(entries[1].bytes.clone().unwrap()).unwrap();
    assert!(second.ends_with("\nHello.\n"), "separator line removed: {second:?}");
}

#[test]
fn a_truncated_last_mbox_entry_is_reported_after_the_good_ones() {
    let base = fixtures();
    let got = scan(&base, &[base.join("truncated.mbox")], &defaults());
    assert_eq!(got.len(), 2);
    assert_eq!(got[0], ("truncated.mbox#1".to_string(), "truncated-1".to_string()));
    assert_eq!(got[1].0, "truncated.mbox#2");
    assert!(got[1].1.starts_with("ERR: truncated mbox entry"), "{}", got[1].1);
}

#[test]
fn a_missing_path_fails_before_scanning() {
    let base = fixtures();
    let missing = base.join("no-such-file.eml");
    let result = messages(&[base.join("folder"), missing.clone()], &defaults());
    match result {
        Err(Error::Io { path, source }) => {
            assert_eq!(path, missing);
            assert_eq!(source.kind(), io::ErrorKind::NotFound);
        }
        Err(other) => panic!("expected an I/O error, got {other}"),
        Ok(_) => panic!("a missing path must be an error"),
    }
}

#[test]
fn an_unreadable_named_file_fails_before_scanning_unless_root() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("secret.eml");
    std::fs::write(&path, "Subject: x\n\n").unwrap();
    set_mode(&path, 0o000);
    if std::fs::read(&path).is_ok() {
        // Running as root: permissions do not stop reading; nothing to test here.
        return;
    }
    assert!(matches!(messages(&[path], &defaults()), Err(Error::Io { .. })));
}

#[test]
fn an_unreadable_file_inside_a_folder_is_reported_and_the_scan_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("1.eml"), "Subject: one\n\n").unwrap();
    std::fs::write(dir.path().join("2.eml"), "Subject: two\n\n").unwrap();
    std::fs::write(dir.path().join("3.eml"), "Subject: three\n\n").unwrap();
    // A permission error where permissions apply, and in any case (tests may run as root) a
    // broken link followed on request and a socket, which cannot be read as a file.
    set_mode(&dir.path().join("2.eml"), 0o000);
    let root_reads_anything = std::fs::read(dir.path().join("2.eml")).is_ok();
    std::os::unix::fs::symlink(dir.path().join("gone.eml"), dir.path().join("1b.eml")).unwrap();
    let _socket = std::os::unix::net::UnixListener::bind(dir.path().join("2b.sock")).unwrap();

    let options = ScanOptions { follow_symlinks: true, ..defaults() };
    let got = scan(dir.path(), &[dir.path().to_path_buf()], &options);
    let labels: Vec<&str> = got.iter().map(|(l, _)| l.as_str()).collect();
    assert_eq!(labels, ["1.eml", "1b.eml", "2.eml", "2b.sock", "3.eml"]);
    assert_eq!(got[0].1, "one");
    assert!(got[1].1.starts_with("ERR: broken symbolic link"), "{}", got[1].1);
    if root_reads_anything {
        assert_eq!(got[2].1, "two");
    } else {
        assert!(got[2].1.starts_with("ERR: cannot open"), "{}", got[2].1);
    }
    assert!(got[3].1.starts_with("ERR: not a regular file"), "{}", got[3].1);
    assert_eq!(got[4].1, "three");
    set_mode(&dir.path().join("2.eml"), 0o644);
}

#[test]
fn symbolic_links_are_followed_by_default_and_a_loop_is_read_once() {
    let dir = tempfile::tempdir().unwrap();
    let inner = dir.path().join("inner");
    std::fs::create_dir(&inner).unwrap();
    std::fs::write(inner.join("1.eml"), "Subject: one\n\n").unwrap();
    std::os::unix::fs::symlink(&inner, inner.join("loop")).unwrap();
    std::os::unix::fs::symlink(inner.join("1.eml"), dir.path().join("link.eml")).unwrap();

    let all = messages(&[dir.path().to_path_buf()], &defaults()).unwrap();
    let notes = all.notes();
    let got: Vec<(String, String)> = all
        .map(|m| {
            let prefix = format!("{}/", dir.path().display());
            (m.source.label.strip_prefix(&prefix).unwrap().to_string(), describe(&m.bytes))
        })
        .collect();
    assert_eq!(got, pairs(&[("inner/1.eml", "one"), ("link.eml", "one")]));
    // The loop is not an error (nothing is left unread): it is noted, with the path it leads to.
    assert_eq!(notes.repeated_folders(), [(inner.join("loop"), inner.clone())]);

    let skip = ScanOptions { follow_symlinks: false, ..defaults() };
    let got = scan(dir.path(), &[dir.path().to_path_buf()], &skip);
    assert_eq!(got, pairs(&[("inner/1.eml", "one")]));
}

#[test]
fn a_folder_of_symbolic_links_is_read_like_mairix_results() {
    // testdata/scan/links: mairix/notmuch-style, a Maildir whose cur/ holds links to the
    // messages of ../maildir, and a link to the whole of ../folder/a.
    let base = fixtures();
    let got = scan(&base, &[base.join("links")], &defaults());
    assert_eq!(
        got,
        pairs(&[
            ("links/a/10.eml", "folder-a-10"),
            ("links/a/2.eml", "folder-a-2"),
            ("links/results/cur/1700000001.M1P1.host:2,S", "inbox-cur-1"),
            ("links/results/cur/1700000100.M1P1.host:2,S", "sent-cur-1"),
        ])
    );
}

#[test]
fn two_links_to_one_folder_read_it_once() {
    let dir = tempfile::tempdir().unwrap();
    let real = dir.path().join("real");
    std::fs::create_dir(&real).unwrap();
    std::fs::write(real.join("1.eml"), "Subject: one\n\n").unwrap();
    std::os::unix::fs::symlink(&real, dir.path().join("alias")).unwrap();
    let all = messages(&[dir.path().to_path_buf()], &defaults()).unwrap();
    let notes = all.notes();
    let labels: Vec<String> = all.map(|m| m.source.label).collect();
    let alias = dir.path().join("alias");
    assert_eq!(labels, [alias.join("1.eml").display().to_string()], "alias sorts first");
    assert_eq!(notes.repeated_folders(), [(real.clone(), alias)]);
}

#[test]
fn a_file_named_mbox_holding_one_message_is_that_message() {
    let dir = tempfile::tempdir().unwrap();
    let single = dir.path().join("saved.mbox");
    std::fs::write(&single, "From: alice@example.com\nSubject: alone\n\nhi\n").unwrap();
    let blank_first = dir.path().join("blank.mbox");
    std::fs::write(&blank_first, "\n\nFrom a Sat Jan  3 01:05:34 2026\nSubject: boxed\n\nhi\n")
        .unwrap();
    let plain_blank = dir.path().join("blank.eml");
    std::fs::write(&plain_blank, "\nFrom a Sat Jan  3 01:05:34 2026\nSubject: not boxed\n\n")
        .unwrap();
    let got = scan(dir.path(), &[single, blank_first, plain_blank], &defaults());
    assert_eq!(
        got,
        pairs(&[("saved.mbox", "alone"), ("blank.mbox#1", "boxed"), ("blank.eml", "not boxed")]),
        "decided by content; blank lines before the From line only for a .mbox name"
    );
}

#[test]
fn messages_say_how_they_were_found_and_under_which_path() {
    let base = fixtures();
    let paths = [base.join("folder/b.eml"), base.join("folder"), base.join("maildir/.Sent")];
    let got: Vec<(String, Origin, usize)> = messages(&paths, &defaults())
        .unwrap()
        .map(|m| {
            let label = m.source.label.strip_prefix(&format!("{}/", base.display())).unwrap();
            (label.to_string(), m.source.origin, m.source.input)
        })
        .collect();
    let expected = [
        ("folder/b.eml", Origin::Named, 0),
        ("folder/a/10.eml", Origin::InFolder, 1),
        ("folder/a/2.eml", Origin::InFolder, 1),
        ("folder/b.eml", Origin::InFolder, 1),
        ("folder/notes.txt", Origin::InFolder, 1),
        ("folder/z/inbox#1", Origin::MboxEntry, 1),
        ("folder/z/inbox#2", Origin::MboxEntry, 1),
        ("maildir/.Sent/cur/1700000100.M1P1.host:2,S", Origin::InMaildir, 2),
        ("maildir/.Sent/new/1700000101.M1P1.host", Origin::InMaildir, 2),
    ];
    let expected: Vec<(String, Origin, usize)> =
        expected.iter().map(|(l, o, i)| (l.to_string(), *o, *i)).collect();
    assert_eq!(got, expected);
}

#[rstest]
#[case::exclude_by_name(&[], &["*.txt"], &["folder/a/10.eml", "folder/a/2.eml", "folder/b.eml", "folder/z/inbox#1", "folder/z/inbox#2"], 1)]
#[case::include_by_name(&["*.eml"], &[], &["folder/a/10.eml", "folder/a/2.eml", "folder/b.eml"], 2)]
#[case::exclude_a_folder(&[], &["z"], &["folder/a/10.eml", "folder/a/2.eml", "folder/b.eml", "folder/notes.txt"], 1)]
#[case::path_glob(&[], &["a/*"], &["folder/b.eml", "folder/notes.txt", "folder/z/inbox#1", "folder/z/inbox#2"], 2)]
fn include_and_exclude_choose_the_files_read_in_folders(
    #[case] include: &[&str],
    #[case] exclude: &[&str],
    #[case] expected: &[&str],
    #[case] excluded: u64,
) {
    let own = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let filter = PathFilter::new(&own(include), &own(exclude)).unwrap();
    let options = ScanOptions { filter, ..defaults() };
    let base = fixtures();
    // A file named on the command line is read whatever the filters say.
    let named = base.join("folder/notes.txt");
    let all = messages(&[base.join("folder"), named], &options).unwrap();
    let notes = all.notes();
    let prefix = format!("{}/", base.display());
    let labels: Vec<String> =
        all.map(|m| m.source.label.strip_prefix(&prefix).unwrap().to_string()).collect();
    let mut want: Vec<String> = expected.iter().map(|s| s.to_string()).collect();
    want.push("folder/notes.txt".into());
    assert_eq!(labels, want);
    assert_eq!(notes.excluded(), excluded);
}

#[test]
fn the_header_section_of_a_pending_message_is_read_alone() {
    let dir = tempfile::tempdir().unwrap();
    let body = "x".repeat(20_000);
    let long_header = format!("X-Long: {}", "y".repeat(9_000));
    let cases = [
        // (message, max, bytes read): after the 5 bytes read to tell an mbox from a message, a
        // short header is read in one 4 KiB step, a long one to its empty line in several, and
        // never more than `max`.
        (format!("Subject: big\n\n{body}"), 65_536, 5 + 4096),
        (format!("Subject: big\r\n{long_header}\r\n\r\n{body}"), 65_536, 5 + 3 * 4096),
        (format!("Subject: big\n{long_header}\n\n{body}"), 100, 100),
        ("Subject: tiny\n".to_string(), 65_536, 14),
    ];
    for (i, (text, max, expected)) in cases.into_iter().enumerate() {
        let path = dir.path().join(format!("{i}.eml"));
        std::fs::write(&path, &text).unwrap();
        let pending: Vec<PendingMessage> =
            messages(&[path], &defaults()).unwrap().pending().collect();
        let head = pending.into_iter().next().unwrap().read_head(max).bytes.unwrap();
        assert_eq!(head.len(), expected, "case {i}");
        assert_eq!(head, text.as_bytes()[..expected], "case {i}");
    }
}

#[test]
fn a_folder_that_cannot_be_listed_is_reported_unless_root() {
    let dir = tempfile::tempdir().unwrap();
    let locked = dir.path().join("locked");
    std::fs::create_dir(&locked).unwrap();
    std::fs::write(locked.join("1.eml"), "Subject: one\n\n").unwrap();
    std::fs::write(dir.path().join("z.eml"), "Subject: z\n\n").unwrap();
    set_mode(&locked, 0o000);
    let listable = std::fs::read_dir(&locked).is_ok();
    let got = scan(dir.path(), &[dir.path().to_path_buf()], &defaults());
    set_mode(&locked, 0o755);
    if listable {
        return; // root
    }
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].0, "locked");
    assert!(got[0].1.starts_with("ERR: cannot list folder"), "{}", got[0].1);
    assert_eq!(got[1], ("z.eml".to_string(), "z".to_string()));
}

#[test]
fn messages_over_the_size_limit_are_reported_and_the_scan_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("big.eml"), format!("Subject: big\n\n{}", "x".repeat(200)))
        .unwrap();
    std::fs::write(dir.path().join("small.eml"), "Subject: small\n\n").unwrap();
    let mut mbox = String::from("From a Sat Jan  3 01:05:34 2026\nSubject: m1\n\n");
    mbox.push_str(&"y".repeat(200));
    mbox.push_str("\n\nFrom b Sat Jan  3 01:05:34 2026\nSubject: m2\n\n");
    std::fs::write(dir.path().join("box.mbox"), mbox).unwrap();

    let options = ScanOptions { max_message_size: 100, ..defaults() };
    let got = scan(dir.path(), &[dir.path().to_path_buf()], &options);
    assert_eq!(
        got,
        pairs(&[
            ("big.eml", "ERR: 214 bytes, larger than the 100-byte limit"),
            ("box.mbox#1", "ERR: 215 bytes, larger than the 100-byte limit"),
            ("box.mbox#2", "m2"),
            ("small.eml", "small"),
        ])
    );
}

#[test]
fn a_2_gib_message_is_refused_from_its_size_without_being_read() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.eml");
    let file = std::fs::File::create(&path).unwrap();
    file.set_len(2 << 30).unwrap(); // sparse: no disk space, and reading it would take seconds
    let started = std::time::Instant::now();
    let got: Vec<RawMessage> = messages(&[path], &defaults()).unwrap().collect();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].bytes, Err("2147483648 bytes, larger than the 256 MiB limit".to_string()));
    assert!(started.elapsed() < Duration::from_secs(2), "took {:?}", started.elapsed());
}

#[test]
fn a_stream_is_one_message_or_an_mbox() {
    let one =
        messages_from_reader("-", Cursor::new(b"Subject: alone\n\nhi\n".to_vec()), &defaults());
    let got: Vec<(String, String)> = one.map(|m| (m.source.label, describe(&m.bytes))).collect();
    assert_eq!(got, pairs(&[("-", "alone")]));

    let mbox = b"From a Sat Jan  3 01:05:34 2026\nSubject: s1\n\nFrom b Sat Jan  3 01:05:34 2026\nSubject: s2\n";
    let got: Vec<(String, String)> =
        messages_from_reader("-", Cursor::new(mbox.to_vec()), &defaults())
            .map(|m| (m.source.label, describe(&m.bytes)))
            .collect();
    assert_eq!(got, pairs(&[("-#1", "s1"), ("-#2", "s2")]));

    let options = ScanOptions { max_message_size: 10, ..defaults() };
    let got: Vec<RawMessage> =
        messages_from_reader("-", Cursor::new(vec![b'x'; 100]), &options).collect();
    assert_eq!(got[0].bytes, Err("more than 10 bytes, larger than the 10-byte limit".to_string()));
}

#[test]
fn empty_and_binary_streams_are_handed_over_for_the_audit_to_judge() {
    let junk: Vec<u8> = (0..=255u8).cycle().take(1000).collect();
    let got: Vec<RawMessage> =
        messages_from_reader("-", Cursor::new(junk.clone()), &defaults()).collect();
    assert_eq!(got, [RawMessage { source: MessageSource::new("-"), bytes: Ok(junk) }]);
    let got: Vec<RawMessage> = messages_from_reader("-", io::empty(), &defaults()).collect();
    assert_eq!(got, [RawMessage { source: MessageSource::new("-"), bytes: Ok(Vec::new()) }]);
}

/// An endless mbox: entry N says `Subject: N`. Counts the bytes handed out.
struct EndlessMbox {
    pending: Vec<u8>,
    next: u64,
    served: std::sync::Arc<AtomicU64>,
}

impl Read for EndlessMbox {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.pending.is_empty() {
            self.next += 1;
            self.pending =
                format!("From x Sat Jan  3 01:05:34 2026\nSubject: {}\n\n", self.next).into_bytes();
        }
        let n = buf.len().min(self.pending.len());
        buf[..n].copy_from_slice(&self.pending[..n]);
        self.pending.drain(..n);
        self.served.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

#[test]
fn mbox_streams_are_read_as_needed() {
    let served = std::sync::Arc::new(AtomicU64::new(0));
    let reader = EndlessMbox { pending: Vec::new(), next: 0, served: served.clone() };
    let first: Vec<String> = messages_from_reader("-", reader, &defaults())
        .take(3)
        .map(|m| describe(&m.bytes))
        .collect();
    assert_eq!(first, ["1", "2", "3"]);
    assert!(served.load(Ordering::Relaxed) < 256 * 1024, "read far ahead");
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

// ---------------------------------------------------------------------------------------------
// run_ordered

/// `n` numbered messages of `size` bytes each.
fn numbered(n: usize, size: usize) -> impl Iterator<Item = RawMessage> + Send {
    (0..n).map(move |i| RawMessage {
        source: MessageSource::new(i.to_string()),
        bytes: Ok(vec![b'x'; size]),
    })
}

fn index(message: &RawMessage) -> usize {
    message.source.label.parse().unwrap()
}

#[rstest]
fn results_come_back_in_input_order(#[values(1, 2, 8)] jobs: usize) {
    let delays: Vec<u64> = {
        let mut rng = StdRng::seed_from_u64(jobs as u64);
        (0..200).map(|_| rng.gen_range(0..300)).collect()
    };
    let mut got = Vec::new();
    run_ordered(
        numbered(200, 10),
        jobs,
        |m| {
            let i = index(&m);
            std::thread::sleep(Duration::from_micros(delays[i]));
            i
        },
        |i| {
            got.push(i);
            ControlFlow::Continue(())
        },
        None,
    );
    assert_eq!(got, (0..200).collect::<Vec<_>>());
}

#[test]
fn break_stops_reading_and_working() {
    let taken = AtomicUsize::new(0);
    let worked = AtomicUsize::new(0);
    let inputs = numbered(100_000, 1).inspect(|_| {
        taken.fetch_add(1, Ordering::SeqCst);
    });
    let mut got = Vec::new();
    run_ordered(
        inputs,
        4,
        |m| {
            worked.fetch_add(1, Ordering::SeqCst);
            index(&m)
        },
        |i| {
            got.push(i);
            if got.len() == 10 {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        },
        None,
    );
    assert_eq!(got, (0..10).collect::<Vec<_>>());
    let bound = 10 + PipelineLimits::for_jobs(4).max_in_flight;
    assert!(
        taken.load(Ordering::SeqCst) <= bound,
        "read {} messages",
        taken.load(Ordering::SeqCst)
    );
    assert!(worked.load(Ordering::SeqCst) <= bound);
}

#[rstest]
fn a_slow_first_message_holds_back_the_input(#[values(1, 2, 8)] jobs: usize) {
    let limits = PipelineLimits::for_jobs(jobs);
    let in_flight = AtomicUsize::new(0);
    let peak = AtomicUsize::new(0);
    let inputs = numbered(300, 1).inspect(|_| {
        let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        peak.fetch_max(now, Ordering::SeqCst);
    });
    let mut count = 0;
    run_ordered(
        inputs,
        jobs,
        |m| {
            if index(&m).is_multiple_of(100) {
                std::thread::sleep(Duration::from_millis(30));
            }
        },
        |()| {
            in_flight.fetch_sub(1, Ordering::SeqCst);
            count += 1;
            ControlFlow::Continue(())
        },
        None,
    );
    assert_eq!(count, 300);
    let peak = peak.load(Ordering::SeqCst);
    assert!(peak <= limits.max_in_flight, "{peak} in flight, bound {}", limits.max_in_flight);
    if jobs == 1 {
        // The calling thread is the only worker: one message at a time.
        assert_eq!(peak, 1);
    } else {
        assert_eq!(peak, limits.max_in_flight, "the slow message lets the pipeline fill up");
    }
}

#[test]
fn bytes_in_flight_stay_under_the_budget_plus_the_message_being_admitted() {
    let limits = PipelineLimits { max_in_flight: 100, max_in_flight_bytes: 1000 };
    let sizes: Vec<usize> =
        (0..200).map(|i| if i == 50 { 5000 } else { 100 + i % 7 * 50 }).collect();
    let bytes_in_flight = AtomicUsize::new(0);
    let violations = Mutex::new(Vec::new());
    let inputs = sizes.clone().into_iter().enumerate().map(|(i, size)| RawMessage {
        source: MessageSource::new(i.to_string()),
        bytes: Ok(vec![0; size]),
    });
    let inputs = inputs.inspect(|m| {
        let size = m.bytes.as_ref().unwrap().len();
        let now = bytes_in_flight.fetch_add(size, Ordering::SeqCst) + size;
        // Admitted bytes stay within the budget, or are the one large message let in alone; the
        // reader also holds the message it waits to admit (its size is only known once read).
        let admitted = now - size;
        if admitted > 1000 && admitted != 5000 {
            violations.lock().unwrap().push(now);
        }
    });
    let mut order = Vec::new();
    run_ordered_with(
        inputs,
        4,
        limits,
        |m| {
            std::thread::sleep(Duration::from_micros(200));
            (index(&m), m.bytes.map_or(0, |b| b.len()))
        },
        |(i, size)| {
            bytes_in_flight.fetch_sub(size, Ordering::SeqCst);
            order.push(i);
            ControlFlow::Continue(())
        },
        None,
    );
    assert_eq!(order, (0..200).collect::<Vec<_>>());
    assert_eq!(violations.into_inner().unwrap(), Vec::<usize>::new());
}

/// With pending messages a file is admitted by its size before it is read: the bytes read and
/// not yet handed to the sink stay within the budget, but for one larger message let in alone.
#[test]
fn pending_files_are_admitted_by_size_before_they_are_read() {
    let dir = tempfile::tempdir().unwrap();
    let sizes: Vec<usize> =
        (0..120).map(|i| if i == 50 { 5000 } else { 100 + i % 7 * 50 }).collect();
    for (i, size) in sizes.iter().enumerate() {
        std::fs::write(dir.path().join(format!("{i:03}.eml")), vec![b'x'; *size]).unwrap();
    }
    let limits = PipelineLimits { max_in_flight: 100, max_in_flight_bytes: 1000 };
    let in_flight = AtomicUsize::new(0);
    let violations = Mutex::new(Vec::new());
    let mut order = Vec::new();
    run_ordered_with(
        messages(&[dir.path().to_path_buf()], &defaults()).unwrap().pending(),
        4,
        limits,
        |m: RawMessage| {
            let size = m.bytes.as_ref().map_or(0, Vec::len);
            let now = in_flight.fetch_add(size, Ordering::SeqCst) + size;
            if now > 1000 && now != 5000 {
                violations.lock().unwrap().push(now);
            }
            std::thread::sleep(Duration::from_micros(200));
            (m.source.label, size)
        },
        |(label, size)| {
            in_flight.fetch_sub(size, Ordering::SeqCst);
            order.push(label);
            ControlFlow::Continue(())
        },
        None,
    );
    assert_eq!(order.len(), 120);
    assert!(order.windows(2).all(|w| w[0] < w[1]), "input order");
    assert_eq!(violations.into_inner().unwrap(), Vec::<usize>::new());
}

/// A recycled buffer is reused for the next read on the thread, and nothing of the message it
/// held shows through.
#[test]
fn a_recycled_buffer_holds_only_the_next_message() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("1-large.eml"), vec![b'L'; 100_000]).unwrap();
    std::fs::write(dir.path().join("2-small.eml"), "Subject: small\n\nhi\n").unwrap();
    let mut pending = messages(&[dir.path().to_path_buf()], &defaults()).unwrap().pending();
    let large = pending.next().unwrap().read().bytes.unwrap();
    assert_eq!(large.len(), 100_000);
    let capacity = large.capacity();
    smime_lint::scan::recycle(large);
    let small = pending.next().unwrap().read().bytes.unwrap();
    assert_eq!(small, b"Subject: small\n\nhi\n");
    assert_eq!(small.capacity(), capacity, "the large message's buffer, reused");
}

#[derive(Default)]
struct Recorder {
    messages: AtomicU64,
    bytes: AtomicU64,
    finished: AtomicU64,
}

impl Progress for Recorder {
    fn message_done(&self, bytes: u64) {
        self.messages.fetch_add(1, Ordering::SeqCst);
        self.bytes.fetch_add(bytes, Ordering::SeqCst);
    }
    fn finish(&self) {
        self.finished.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn progress_counts_messages_and_bytes_and_is_finished_once() {
    let recorder = Recorder::default();
    let mut inputs: Vec<RawMessage> = numbered(20, 7).collect();
    inputs.push(RawMessage { source: MessageSource::new("20"), bytes: Err("gone".into()) });
    run_ordered(inputs.into_iter(), 3, |_| (), |()| ControlFlow::Continue(()), Some(&recorder));
    assert_eq!(recorder.messages.load(Ordering::SeqCst), 21);
    assert_eq!(recorder.bytes.load(Ordering::SeqCst), 140);
    assert_eq!(recorder.finished.load(Ordering::SeqCst), 1);
}

#[test]
fn a_panic_in_the_work_function_reaches_the_caller() {
    let result = std::panic::catch_unwind(|| {
        run_ordered(
            numbered(1000, 1),
            4,
            |m| assert_ne!(index(&m), 17, "boom"),
            |()| ControlFlow::Continue(()),
            None,
        );
    });
    assert!(result.is_err());
}

#[test]
fn the_pipeline_reads_the_fixtures_in_the_same_order_as_a_plain_loop() {
    let base = fixtures();
    let paths = [base.join("maildir"), base.join("folder"), base.join("mboxrd.mbox")];
    let sequential: Vec<String> =
        messages(&paths, &defaults()).unwrap().map(|m| m.source.label).collect();
    let mut parallel = Vec::new();
    run_ordered(
        messages(&paths, &defaults()).unwrap(),
        4,
        |m| m.source.label,
        |label| {
            parallel.push(label);
            ControlFlow::Continue(())
        },
        None,
    );
    assert_eq!(parallel, sequential);
    assert_eq!(parallel.len(), 14);
}

/// Workers reading the files themselves (`pending`) see exactly what a plain loop reads: the
/// same labels and bytes in the same order, oversized and unreadable files and mbox entries
/// included; the size used for the byte budget is the file's.
#[test]
fn pending_messages_are_read_by_the_workers_and_match_a_plain_loop() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.eml"), "Subject: a\n\nbody\n").unwrap();
    std::fs::write(dir.path().join("big.eml"), format!("Subject: big\n\n{}", "x".repeat(500)))
        .unwrap();
    std::fs::write(dir.path().join("box.mbox"), "From a\nSubject: m1\n\nFrom b\nSubject: m2\n\n")
        .unwrap();
    std::fs::write(dir.path().join("z.eml"), "Subject: z\n\n").unwrap();
    let base = fixtures();
    let paths = [base.join("maildir"), dir.path().to_path_buf(), base.join("mboxrd.mbox")];
    let options = ScanOptions { max_message_size: 300, ..defaults() };

    let plain: Vec<RawMessage> = messages(&paths, &options).unwrap().collect();
    let sizes: Vec<(String, u64)> = messages(&paths, &options)
        .unwrap()
        .pending()
        .map(|p: PendingMessage| (p.label().to_string(), p.size_hint()))
        .collect();
    assert_eq!(sizes.len(), plain.len());
    let a = sizes.iter().find(|(label, _)| label.ends_with("/a.eml")).expect("a.eml");
    assert_eq!(a.1, 17, "a file is admitted by its size before it is read");

    for jobs in [1, 2, 8] {
        let mut got = Vec::new();
        run_ordered(
            messages(&paths, &options).unwrap().pending(),
            jobs,
            |m: RawMessage| m,
            |m| {
                got.push(m);
                ControlFlow::Continue(())
            },
            None,
        );
        assert_eq!(got, plain, "jobs {jobs}");
    }
    let big = plain.iter().find(|m| m.source.label.ends_with("big.eml")).expect("big.eml");
    assert_eq!(big.bytes, Err("514 bytes, larger than the 300-byte limit".to_string()));
    assert!(plain.iter().any(|m| m.source.label.ends_with("box.mbox#2")));
}

#[test]
fn a_panic_in_the_input_reaches_the_caller() {
    let result = std::panic::catch_unwind(|| {
        let inputs = numbered(1000, 1).inspect(|m| assert_ne!(index(m), 17, "boom"));
        run_ordered(inputs, 4, |m| index(&m), |_| ControlFlow::Continue(()), None);
    });
    assert!(result.is_err());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn order_is_preserved_whatever_the_timing(
        delays in prop::collection::vec(0u64..200, 0..80),
        jobs in 1usize..9,
        max_in_flight in 1usize..20,
        max_in_flight_bytes in 0u64..64,
    ) {
        let n = delays.len();
        let limits = PipelineLimits { max_in_flight, max_in_flight_bytes };
        let inputs = delays.clone().into_iter().enumerate().map(|(i, d)| RawMessage {
            source: MessageSource::new(i.to_string()),
            bytes: Ok(vec![0; (d % 16) as usize]),
        });
        let mut got = Vec::with_capacity(n);
        run_ordered_with(
            inputs,
            jobs,
            limits,
            |m| {
                let i = index(&m);
                std::thread::sleep(Duration::from_micros(delays[i]));
                i
            },
            |i| {
                got.push(i);
                ControlFlow::Continue(())
            },
            None,
        );
        prop_assert_eq!(got, (0..n).collect::<Vec<_>>());
    }
}

#[test]
fn the_size_estimate_adds_up_the_files_that_are_read() {
    let base = fixtures();
    let paths = [base.join("maildir"), base.join("mboxo.mbox")];
    let expected: u64 = [
        "maildir/cur/1700000001.M1P1.host:2,S",
        "maildir/cur/1700000002.M2P2.host:2,RS",
        "maildir/new/1700000000.M0P0.host",
        "maildir/.Archive.2024/cur/1600000000.M1P1.host:2,S",
        "maildir/.Sent/cur/1700000100.M1P1.host:2,S",
        "maildir/.Sent/new/1700000101.M1P1.host",
        "mboxo.mbox",
    ]
    .iter()
    .map(|p| std::fs::metadata(base.join(p)).unwrap().len())
    .sum();
    assert_eq!(estimate_total_bytes(&paths, &defaults()), Some(expected));
    let with_stdin = [base.join("mboxo.mbox"), PathBuf::from("-")];
    assert_eq!(estimate_total_bytes(&with_stdin, &defaults()), None);
}

#[test]
fn a_panic_in_the_sink_reaches_the_caller_without_hanging() {
    let result = std::panic::catch_unwind(|| {
        run_ordered(
            numbered(100_000, 1),
            2,
            |m| index(&m),
            |i| {
                assert_ne!(i, 5, "sink fails");
                ControlFlow::Continue(())
            },
            None,
        );
    });
    assert!(result.is_err());
}

#[test]
fn a_maildir_inside_a_plain_folder_is_recognised() {
    let base = fixtures();
    let got = scan(&base, std::slice::from_ref(&base), &defaults());
    let in_maildir: Vec<&str> =
        got.iter().map(|(l, _)| l.as_str()).filter(|l| l.starts_with("maildir/")).collect();
    assert_eq!(
        in_maildir,
        [
            "maildir/cur/1700000001.M1P1.host:2,S",
            "maildir/cur/1700000002.M2P2.host:2,RS",
            "maildir/new/1700000000.M0P0.host",
            "maildir/.Archive.2024/cur/1600000000.M1P1.host:2,S",
            "maildir/.Sent/cur/1700000100.M1P1.host:2,S",
            "maildir/.Sent/new/1700000101.M1P1.host",
        ]
    );
    // Everything else is there too, in name order: folder/, make.sh, the mbox files.
    let mut first_level: Vec<&str> =
        got.iter().map(|(l, _)| l.split(['/', '#']).next().unwrap_or_default()).collect();
    first_level.dedup();
    assert_eq!(
        first_level,
        ["folder", "links", "maildir", "make.sh", "mboxo.mbox", "mboxrd.mbox", "truncated.mbox"]
    );
    // links/a leads to folder/a, already read: it is not read twice.
    assert!(!got.iter().any(|(l, _)| l.starts_with("links/a/")), "{got:?}");
}
