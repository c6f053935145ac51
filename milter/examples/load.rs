//! Load benchmark for the milter (not a test: it measures).
//!
//! `load milter`: starts the release `smime-lint-milter` found next to this example's folder
//! and drives it over its TCP socket from `--sessions` threads (default 50), each opening a
//! milter connection per message as Postfix does for a one-message SMTP session: negotiate,
//! MAIL, RCPT, header fields, body, end of message. The message: 20 KB, encrypted (AES-256-CBC)
//! for alice and bob, sent to both; every one must be accepted with the `X-Smime-Lint` header.
//!
//! `load postfix`: a private Postfix on loopback (testkit, as root), the same messages
//! submitted over SMTP by `--clients` threads (default 20), first through Postfix alone, then
//! through the same Postfix set up with the milter, in one run. Every message has its own
//! Message-ID; the Maildirs are read back to count them: none lost, none twice.
//!
//! Both print throughput and latency percentiles. Build and run:
//!
//! ```sh
//! cargo build --release -p smime-lint-milter --bins --examples
//! target/release/examples/load milter --messages 20000 --rate 2000
//! target/release/examples/load postfix --messages 4000 --rounds 3
//! ```

use rand::SeedableRng;
use smime_lint::build::{self, mime, BuildCipher};
use smime_lint_milter::client::{Client, Reply};
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const RCPT: [&str; 2] = ["bob@example.com", "alice@example.com"];

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn cert(name: &str) -> x509_cert::Certificate {
    let pem =
        std::fs::read(repo().join(format!("testdata/certs/store/{name}.pem"))).expect("test PKI");
    <x509_cert::Certificate as der::DecodePem>::from_pem(&pem).expect("certificate")
}

/// A 20 KB message encrypted for alice and bob, with Message-ID `<load-N@example.com>`.
fn messages(n: usize) -> Vec<Vec<u8>> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(20);
    let text: String = (0..240)
        .map(|i| format!("Line {i:03} of the quarterly figures, as discussed on Tuesday.\r\n"))
        .collect();
    let inner = mime::text_entity(&text);
    let der =
        build::envelope(&inner, &[&cert("alice"), &cert("bob")], BuildCipher::Aes256Cbc, &mut rng)
            .expect("envelope");
    let entity = mime::pkcs7_mime_entity(&der, mime::SmimeType::EnvelopedData);
    (0..n)
        .map(|i| {
            let headers = mime::Headers::new()
                .with("From", "Alice <alice@example.com>")
                .with("To", "bob@example.com")
                .with("Subject", "the figures")
                .with("Date", "Mon, 01 Jun 2026 09:00:00 +0000")
                .with("Message-ID", &format!("<load-{i}@example.com>"));
            mime::message(&headers, &entity)
        })
        .collect()
}

fn arg(args: &[String], name: &str, default: usize) -> usize {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map(|v| v.parse().unwrap_or_else(|_| panic!("{name} {v}: a number")))
        .unwrap_or(default)
}

/// Latency percentiles of `samples` (sorted in place).
fn report(label: &str, samples: &mut [Duration], wall: Duration) -> (f64, Duration) {
    samples.sort_unstable();
    let pick = |q: f64| samples[((samples.len() as f64 * q) as usize).min(samples.len() - 1)];
    let rate = samples.len() as f64 / wall.as_secs_f64();
    println!(
        "{label}: {} messages in {:.2} s = {rate:.0} messages/s; latency p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        samples.len(),
        wall.as_secs_f64(),
        ms(pick(0.50)),
        ms(pick(0.90)),
        ms(pick(0.99)),
        ms(samples[samples.len() - 1]),
    );
    (rate, pick(0.99))
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The release daemon next to `target/release/examples/`.
fn daemon_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("own path");
    let dir = exe.parent().and_then(|d| d.parent()).expect("target/<profile>");
    let bin = dir.join("smime-lint-milter");
    assert!(
        bin.exists(),
        "{} is missing: cargo build --release -p smime-lint-milter --bins --examples",
        bin.display()
    );
    bin
}

struct Milter {
    child: Child,
    judged: Arc<AtomicUsize>,
}

impl Milter {
    fn start(port: u16, extra: &[&str]) -> Milter {
        let mut child = Command::new(daemon_binary())
            .arg("--listen")
            .arg(format!("inet:127.0.0.1:{port}"))
            .arg("--certs")
            .arg(repo().join("testdata/certs/store"))
            .args(extra)
            .stderr(Stdio::piped())
            .spawn()
            .expect("the milter starts");
        let judged = Arc::new(AtomicUsize::new(0));
        let (ready_tx, ready) = std::sync::mpsc::channel();
        let stderr = child.stderr.take().expect("stderr");
        let count = judged.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if line.contains("listening on") {
                    let _ = ready_tx.send(());
                } else if line.contains(": accept; ") {
                    count.fetch_add(1, Ordering::Relaxed);
                } else {
                    eprintln!("milter: {line}");
                }
            }
        });
        ready.recv_timeout(Duration::from_secs(30)).expect("the milter listens");
        Milter { child, judged }
    }

    fn cpu_seconds(&self) -> f64 {
        let stat =
            std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap_or_default();
        let fields: Vec<&str> = stat.rsplit(')').next().unwrap_or("").split_whitespace().collect();
        let ticks: f64 = fields
            .get(11..13)
            .map_or(0.0, |f| f.iter().filter_map(|v| v.parse::<f64>().ok()).sum());
        ticks / 100.0
    }

    fn peak_rss_mb(&self) -> f64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .map_or(0.0, |kb| kb / 1024.0)
    }
}

impl Drop for Milter {
    fn drop(&mut self) {
        let _ = Command::new("kill").arg(self.child.id().to_string()).status();
        let _ = self.child.wait();
    }
}

fn milter(args: &[String]) {
    let sessions = arg(args, "--sessions", 50);
    let total = arg(args, "--messages", 40_000);
    let rate = arg(args, "--rate", 2_000);
    let msgs = Arc::new(messages(64));
    println!(
        "message size: {} bytes; {sessions} concurrent sessions; {total} messages",
        msgs[0].len()
    );
    let port = smime_lint_testkit::free_port();
    let daemon = Milter::start(port, &[]);
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let rcpt: Vec<String> = RCPT.iter().map(|r| format!("<{r}>")).collect();
    // A warm-up that is not measured.
    run_milter_load(addr, &msgs, &rcpt, sessions, sessions * 20, None, false);
    let judged = daemon.judged.load(Ordering::Relaxed);
    let runs = [(None, false), (Some(rate), false), (None, true), (Some(rate), true)];
    for (rate, keep) in runs {
        let cpu = daemon.cpu_seconds();
        let start = Instant::now();
        let mut lat = run_milter_load(addr, &msgs, &rcpt, sessions, total, rate, keep);
        let wall = start.elapsed();
        let how = if keep { "sessions held open" } else { "a connection per message" };
        let label = match rate {
            None => format!("milter alone, {how}, as fast as it goes"),
            Some(r) => format!("milter alone, {how}, {r} messages/s offered"),
        };
        report(&label, &mut lat, wall);
        let cpu = daemon.cpu_seconds() - cpu;
        println!("  daemon CPU {:.0} µs per message", cpu / total as f64 * 1e6);
    }
    std::thread::sleep(Duration::from_millis(300));
    let logged = daemon.judged.load(Ordering::Relaxed) - judged;
    println!(
        "daemon peak RSS {:.0} MB; log lines for accepted messages: {logged}",
        daemon.peak_rss_mb()
    );
    assert_eq!(logged, runs.len() * total, "one log line per message");
}

/// `total` messages from `sessions` threads, one milter connection each. With `rate`, message
/// i starts at i/rate seconds (open loop) and its latency counts from then, so time spent
/// waiting behind a slow message counts too; without, each thread sends as fast as it can.
fn run_milter_load(
    addr: SocketAddr,
    msgs: &Arc<Vec<Vec<u8>>>,
    rcpt: &[String],
    sessions: usize,
    total: usize,
    rate: Option<usize>,
    keep: bool,
) -> Vec<Duration> {
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let threads: Vec<_> = (0..sessions)
        .map(|_| {
            let (next, msgs, rcpt) = (next.clone(), msgs.clone(), rcpt.to_vec());
            std::thread::spawn(move || {
                let rcpt: Vec<&str> = rcpt.iter().map(String::as_str).collect();
                let mut lat = Vec::new();
                let mut held: Option<Client> = None;
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= total {
                        return lat;
                    }
                    let t = match rate {
                        Some(r) => {
                            let due = start + Duration::from_secs_f64(i as f64 / r as f64);
                            if let Some(wait) = due.checked_duration_since(Instant::now()) {
                                std::thread::sleep(wait);
                            }
                            due
                        }
                        None => Instant::now(),
                    };
                    let mut c = match held.take() {
                        Some(c) => c,
                        None => Client::open(addr).expect("connect"),
                    };
                    let out = c
                        .message("<alice@example.com>", &rcpt, &msgs[i % msgs.len()])
                        .expect("a message");
                    lat.push(t.elapsed());
                    assert_eq!(out.reply, Reply::Continue, "{out:?}");
                    assert!(out
                        .added_header("X-Smime-Lint")
                        .is_some_and(|h| h.contains("verdict=accept")));
                    if keep {
                        held = Some(c);
                    } else {
                        let _ = c.quit();
                    }
                }
            })
        })
        .collect();
    threads.into_iter().flat_map(|t| t.join().expect("a load thread")).collect()
}

fn postfix(args: &[String]) {
    use smime_lint_testkit::{smtp_send, Postfix, PostfixOptions};
    let clients = arg(args, "--clients", 20);
    let total = arg(args, "--messages", 6000);
    let rounds = arg(args, "--rounds", 1);
    let msgs = Arc::new(messages(total));
    println!(
        "message size: {} bytes; {clients} concurrent SMTP clients; {total} messages per run",
        msgs[0].len()
    );
    // Alone and with the milter in turn, `rounds` times: a shared machine's load drifts.
    let mut results = Vec::new();
    for with_milter in (0..rounds).flat_map(|_| [false, true]) {
        let port = smime_lint_testkit::free_port();
        let options = PostfixOptions {
            milter: with_milter.then(|| format!("inet:127.0.0.1:{port}")),
            ..PostfixOptions::default()
        };
        let pf = Postfix::start(&options).expect("postfix (run as root, with the postfix package)");
        let daemon = with_milter.then(|| Milter::start(port, &[]));
        let smtp = pf.smtp();
        let next = Arc::new(AtomicUsize::new(0));
        let start = Instant::now();
        let threads: Vec<_> = (0..clients)
            .map(|_| {
                let (next, msgs) = (next.clone(), msgs.clone());
                std::thread::spawn(move || {
                    let mut lat = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= msgs.len() {
                            return lat;
                        }
                        let t = Instant::now();
                        let reply =
                            smtp_send(smtp, "alice@example.com", &RCPT, &msgs[i]).expect("SMTP");
                        lat.push(t.elapsed());
                        assert!(reply.starts_with("250"), "message {i}: {reply}");
                    }
                })
            })
            .collect();
        let mut lat: Vec<Duration> =
            threads.into_iter().flat_map(|t| t.join().expect("client")).collect();
        let accepted = start.elapsed();
        // Delivered: both recipients' Maildirs hold every message.
        let expect = total * RCPT.len();
        let deadline = Instant::now() + Duration::from_secs(600);
        while pf.delivered_count() < expect && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        let wall = start.elapsed();
        std::thread::sleep(Duration::from_secs(2));
        let label = if with_milter { "postfix + milter" } else { "postfix alone" };
        let (rate, p99) = report(label, &mut lat, wall);
        println!(
            "  accepted all in {:.2} s; delivered all in {:.2} s",
            accepted.as_secs_f64(),
            wall.as_secs_f64()
        );
        let (lost, twice) = count_in_maildirs(&pf, total);
        println!("  Maildirs: {lost} lost, {twice} duplicated");
        assert_eq!((lost, twice), (0, 0), "every message delivered exactly once to each recipient");
        if let Some(d) = &daemon {
            println!("  daemon peak RSS {:.0} MB", d.peak_rss_mb());
        }
        lat.sort_unstable();
        let _ = p99;
        results.push((rate, p99, lat, with_milter));
    }
    // Sums over the rounds: messages over wall time, latencies pooled.
    let pool = |milter: bool| {
        let runs: Vec<&(f64, Duration, Vec<Duration>, bool)> =
            results.iter().filter(|r| r.3 == milter).collect();
        let wall: f64 = runs.iter().map(|r| r.2.len() as f64 / r.0).sum();
        let mut lat: Vec<Duration> = runs.iter().flat_map(|r| r.2.iter().copied()).collect();
        lat.sort_unstable();
        (lat.len() as f64 / wall, lat)
    };
    let (alone, with) = (pool(false), pool(true));
    let pct = |v: &Vec<Duration>, q: f64| v[((v.len() as f64 * q) as usize).min(v.len() - 1)];
    println!(
        "over {rounds} round(s): Postfix alone {:.0} messages/s, with the milter {:.0} messages/s = {:.0}%",
        alone.0,
        with.0,
        with.0 / alone.0 * 100.0
    );
    for (name, q) in [("p50", 0.5), ("p90", 0.9), ("p99", 0.99)] {
        println!(
            "  latency {name}: alone {:.2} ms, with the milter {:.2} ms, added {:+.2} ms",
            ms(pct(&alone.1, q)),
            ms(pct(&with.1, q)),
            ms(pct(&with.1, q)) - ms(pct(&alone.1, q))
        );
    }
    println!(
        "  latency max: alone {:.2} ms, with the milter {:.2} ms",
        ms(alone.1[alone.1.len() - 1]),
        ms(with.1[with.1.len() - 1])
    );
}

/// Reads every delivered message back and counts Message-IDs per recipient: (missing, extra).
fn count_in_maildirs(pf: &smime_lint_testkit::Postfix, total: usize) -> (usize, usize) {
    let (mut lost, mut twice) = (0, 0);
    for r in RCPT {
        let mut seen = vec![0u32; total];
        for m in pf.delivered(r) {
            let text = String::from_utf8_lossy(&m);
            let id = text
                .lines()
                .find_map(|l| l.strip_prefix("Message-ID: <load-"))
                .and_then(|rest| rest.split('@').next())
                .and_then(|n| n.parse::<usize>().ok());
            match id {
                Some(i) if i < total => seen[i] += 1,
                _ => twice += 1,
            }
        }
        lost += seen.iter().filter(|&&n| n == 0).count();
        twice += seen.iter().map(|&n| n.saturating_sub(1) as usize).sum::<usize>();
    }
    (lost, twice)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("milter") => milter(&args[2..]),
        Some("postfix") => postfix(&args[2..]),
        _ => {
            eprintln!("usage: load milter [--sessions N] [--messages N] | load postfix [--clients N] [--messages N]");
            std::process::exit(2);
        }
    }
}
