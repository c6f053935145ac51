//! Test support for smime-lint's end-to-end tests: a private Postfix instance on loopback.
//!
//! [`Postfix::start`] configures an instance of Debian's `postfix` package in a temporary
//! folder (its own queue, its own SMTP port on 127.0.0.1, virtual delivery into one Maildir per
//! recipient address), starts it, and [`Drop`] stops it. The recipe avoids the traps of a fresh
//! `postfix` package: it has no `/etc/postfix/main.cf`, `postfix -c DIR` refuses a config
//! directory the default `main.cf` does not list in `alternate_config_directories`, and without
//! syslog fatal errors vanish unless `maillog_file` is set.
//!
//! Instances are serialised across test processes by a lock file: the default `main.cf` is
//! shared, and one instance at a time keeps its `alternate_config_directories` line simple.
//!
//! When Postfix is not installed or the tests do not run as root, [`Postfix::available`] says
//! why, and the test is skipped with that message on standard error; with
//! `SMIME_LINT_REQUIRE_POSTFIX=1` (set by `.ci/run`, which installs Postfix) it fails instead.

use std::fs::{self, File};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// Domains the instance delivers locally.
pub const DOMAINS: [&str; 3] = ["example.com", "example.org", "example.net"];

/// Addresses with a Maildir of their own (`mail/DOMAIN/LOCAL/`): the people of the test PKI.
/// Any other address in [`DOMAINS`] is delivered to `mail/DOMAIN/other/` (Postfix allows no
/// regular-expression substitution in virtual mailbox maps).
pub const MAILBOXES: [&str; 16] = [
    "alice@example.com",
    "bob@example.com",
    "carol@example.org",
    "dan@example.net",
    "dave@example.com",
    "erin@example.com",
    "heidi@example.com",
    "judy@example.com",
    "kim@example.net",
    "nina@example.org",
    "oscar@example.com",
    "peggy@example.com",
    "uma@example.com",
    "victor@example.com",
    "victor.alias@example.net",
    "zoe@example.com",
];

const POSTFIX: &str = "/usr/sbin/postfix";
const LOCK: &str = "/tmp/smime-lint-postfix.lock";

/// How to configure an instance.
#[derive(Clone, Debug, Default)]
pub struct PostfixOptions {
    /// `smtpd_milters` and `non_smtpd_milters`, e.g. `inet:127.0.0.1:7999`; none when `None`.
    pub milter: Option<String>,
    /// Extra `main.cf` lines (`name = value`).
    pub extra: Vec<String>,
    /// Addresses that get a Maildir of their own besides [`MAILBOXES`].
    pub mailboxes: Vec<String>,
}

/// A running private Postfix instance; stopped and removed on drop.
pub struct Postfix {
    dir: tempfile::TempDir,
    smtp: SocketAddr,
    _lock: File,
}

/// Why Postfix cannot be used here, or `Ok` when it can.
pub fn available() -> Result<(), String> {
    if !Path::new(POSTFIX).exists() {
        return Err(format!(
            "{POSTFIX} is not installed (Debian package `postfix`; .ci/run installs it)"
        ));
    }
    let uid = Command::new("id").arg("-u").output().map_err(|e| format!("id -u: {e}"))?;
    if String::from_utf8_lossy(&uid.stdout).trim() != "0" {
        return Err("a private Postfix instance needs root".into());
    }
    Ok(())
}

/// `Some(instance options)` when the end-to-end test can run; `None` after printing a loud
/// skip message. Panics (fails the test) instead of skipping when `SMIME_LINT_REQUIRE_POSTFIX`
/// is set.
pub fn require(test: &str) -> bool {
    match available() {
        Ok(()) => true,
        Err(why) if std::env::var_os("SMIME_LINT_REQUIRE_POSTFIX").is_some() => {
            panic!("{test}: Postfix is required (SMIME_LINT_REQUIRE_POSTFIX is set) but {why}")
        }
        Err(why) => {
            eprintln!("\n*** SKIPPED {test}: {why} ***\n");
            false
        }
    }
}

/// A free TCP port on 127.0.0.1 (bound and released: good enough for tests).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port on 127.0.0.1")
}

fn run(cmd: &mut Command) -> Result<Output, String> {
    let out = cmd.output().map_err(|e| format!("{cmd:?}: {e}"))?;
    if out.status.success() {
        Ok(out)
    } else {
        Err(format!(
            "{cmd:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

fn id_of(flag: &str, name: &str) -> Result<String, String> {
    let out = run(Command::new("id").args([flag, name]))?;
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

impl Postfix {
    /// Configures and starts an instance; waits until its SMTP port answers.
    pub fn start(options: &PostfixOptions) -> Result<Postfix, String> {
        available()?;
        let lock = File::create(LOCK).map_err(|e| format!("{LOCK}: {e}"))?;
        lock.lock().map_err(|e| format!("locking {LOCK}: {e}"))?;
        let dir = tempfile::Builder::new()
            .prefix("smime-lint-postfix-")
            .tempdir()
            .map_err(|e| e.to_string())?;
        let d = dir.path();
        let chmod = |p: &Path, mode: u32| {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(p, fs::Permissions::from_mode(mode))
                .map_err(|e| format!("{}: {e}", p.display()))
        };
        // Postfix's own user must get through the temporary folder (created 0700).
        chmod(d, 0o755)?;
        for sub in ["conf", "mail", "spool", "data"] {
            fs::create_dir_all(d.join(sub)).map_err(|e| e.to_string())?;
        }
        let port = free_port();
        let master =
            fs::read_to_string("/etc/postfix/master.cf").map_err(|e| format!("master.cf: {e}"))?;
        let mut master: String = master
            .lines()
            .map(|l| {
                if l.starts_with("smtp      inet") {
                    l.replacen("smtp      inet", &format!("127.0.0.1:{port} inet"), 1)
                } else {
                    l.to_owned()
                }
            })
            .collect::<Vec<_>>()
            .join("\n");
        if !master.lines().any(|l| l.starts_with("postlog")) {
            master.push_str("\npostlog   unix-dgram n  -       n       -       1       postlogd");
        }
        master.push('\n');
        fs::write(d.join("conf/master.cf"), master).map_err(|e| e.to_string())?;
        // One Maildir per address (mail/DOMAIN/LOCAL/), the rest of each domain in `other`.
        let mut map: String = MAILBOXES
            .iter()
            .chain(options.mailboxes.iter().map(String::as_str).collect::<Vec<_>>().iter())
            .filter_map(|a| a.rsplit_once('@').map(|(l, dom)| format!("{a} {dom}/{l}/\n")))
            .collect();
        for dom in DOMAINS {
            map.push_str(&format!("@{dom} {dom}/other/\n"));
        }
        fs::write(d.join("conf/vmailbox"), map).map_err(|e| e.to_string())?;
        let nobody_uid = id_of("-u", "nobody")?;
        let nobody_gid = id_of("-g", "nobody")?;
        let milters = match &options.milter {
            Some(m) => format!("smtpd_milters = {m}\nnon_smtpd_milters = $smtpd_milters\nmilter_default_action = tempfail\nmilter_protocol = 6\n"),
            None => String::new(),
        };
        let main = format!(
            "compatibility_level = 3.6\n\
             queue_directory = {q}\n\
             data_directory = {data}\n\
             inet_interfaces = 127.0.0.1\n\
             inet_protocols = ipv4\n\
             myhostname = mx.test.example\n\
             mydestination =\n\
             mynetworks = 127.0.0.0/8\n\
             virtual_mailbox_domains = {domains}\n\
             virtual_mailbox_base = {mail}\n\
             virtual_mailbox_maps = texthash:{conf}/vmailbox\n\
             virtual_uid_maps = static:{nobody_uid}\n\
             virtual_gid_maps = static:{nobody_gid}\n\
             virtual_minimum_uid = 1\n\
             {milters}\
             maillog_file = {d}/maillog\n\
             maillog_file_prefixes = /var, {d}\n\
             alias_maps =\n\
             alias_database =\n\
             smtpd_client_connection_count_limit = 0\n\
             smtpd_client_message_rate_limit = 0\n\
             default_process_limit = 200\n\
             {extra}\n",
            q = d.join("spool").display(),
            data = d.join("data").display(),
            domains = DOMAINS.join(", "),
            mail = d.join("mail").display(),
            conf = d.join("conf").display(),
            d = d.display(),
            extra = options.extra.join("\n"),
        );
        fs::write(d.join("conf/main.cf"), main).map_err(|e| e.to_string())?;
        run(Command::new("chown")
            .args(["-R", "postfix"])
            .arg(d.join("spool"))
            .arg(d.join("data")))?;
        run(Command::new("chown")
            .args(["-R", &format!("nobody:{nobody_gid}")])
            .arg(d.join("mail")))?;
        // The default main.cf must list the private config directory (a fresh package has no
        // main.cf at all); postconf -e replaces the line, so one instance at a time.
        if !Path::new("/etc/postfix/main.cf").exists() {
            fs::write("/etc/postfix/main.cf", "compatibility_level = 3.6\n")
                .map_err(|e| e.to_string())?;
        }
        run(Command::new("postconf").args([
            "-c",
            "/etc/postfix",
            "-e",
            &format!("alternate_config_directories = {}", d.join("conf").display()),
        ]))?;
        let conf = d.join("conf");
        run(Command::new(POSTFIX).arg("-c").arg(&conf).arg("check"))?;
        let instance = Postfix { dir, smtp: SocketAddr::from(([127, 0, 0, 1], port)), _lock: lock };
        run(Command::new(POSTFIX).arg("-c").arg(&conf).arg("start"))?;
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(instance.smtp).is_err() {
            if Instant::now() > deadline {
                return Err(format!(
                    "Postfix did not listen on {}: {}",
                    instance.smtp,
                    instance.log()
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(instance)
    }

    /// The instance's SMTP address (127.0.0.1:PORT).
    pub fn smtp(&self) -> SocketAddr {
        self.smtp
    }

    /// The instance's configuration directory (for `sendmail -C`, `postqueue -c`).
    pub fn conf_dir(&self) -> PathBuf {
        self.dir.path().join("conf")
    }

    /// The instance's log.
    pub fn log(&self) -> String {
        fs::read_to_string(self.dir.path().join("maillog")).unwrap_or_default()
    }

    /// The Maildir of one address ([`MAILBOXES`], the instance's own, else its domain's
    /// `other`).
    pub fn maildir(&self, address: &str) -> PathBuf {
        let (local, domain) = address.rsplit_once('@').unwrap_or((address, ""));
        let own = fs::read_to_string(self.conf_dir().join("vmailbox"))
            .is_ok_and(|m| m.lines().any(|l| l.split_whitespace().next() == Some(address)));
        let local = if own { local } else { "other" };
        self.dir.path().join("mail").join(domain).join(local)
    }

    /// The messages delivered to `address`, oldest first (by file name).
    pub fn delivered(&self, address: &str) -> Vec<Vec<u8>> {
        let dir = self.maildir(address);
        let mut files: Vec<PathBuf> = ["new", "cur"]
            .iter()
            .filter_map(|sub| fs::read_dir(dir.join(sub)).ok())
            .flatten()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        files.sort();
        files.iter().filter_map(|f| fs::read(f).ok()).collect()
    }

    /// Every message delivered to any address in the instance.
    pub fn delivered_count(&self) -> usize {
        fn count(dir: &Path) -> usize {
            let Ok(entries) = fs::read_dir(dir) else { return 0 };
            entries
                .filter_map(|e| e.ok())
                .map(|e| {
                    let p = e.path();
                    let name = e.file_name();
                    if p.is_dir() && name != "tmp" {
                        if name == "new" || name == "cur" {
                            fs::read_dir(&p).map(|d| d.count()).unwrap_or(0)
                        } else {
                            count(&p)
                        }
                    } else {
                        0
                    }
                })
                .sum()
        }
        count(&self.dir.path().join("mail"))
    }

    /// Waits until `address` has `n` messages (or the time-out passes); returns them.
    pub fn wait_for(&self, address: &str, n: usize, timeout: Duration) -> Vec<Vec<u8>> {
        let deadline = Instant::now() + timeout;
        loop {
            let got = self.delivered(address);
            if got.len() >= n || Instant::now() > deadline {
                return got;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Messages in the queue (deferred and active), by `postqueue -j`.
    pub fn queued(&self) -> usize {
        Command::new("postqueue")
            .arg("-c")
            .arg(self.conf_dir())
            .arg("-j")
            .output()
            .map(|o| o.stdout.split(|&b| b == b'\n').filter(|l| !l.is_empty()).count())
            .unwrap_or(0)
    }

    /// Retries deferred mail now (`postfix flush`).
    pub fn flush(&self) -> Result<(), String> {
        run(Command::new(POSTFIX).arg("-c").arg(self.conf_dir()).arg("flush")).map(|_| ())
    }

    /// The command line of this instance's `sendmail` (Postfix's, with `-C CONF`).
    pub fn sendmail(&self) -> Vec<String> {
        vec!["/usr/sbin/sendmail".into(), "-C".into(), self.conf_dir().display().to_string()]
    }
}

impl Drop for Postfix {
    fn drop(&mut self) {
        let _ = Command::new(POSTFIX).arg("-c").arg(self.conf_dir()).arg("stop").output();
        // master exits asynchronously (its pid file stays): wait for the process to go before
        // the folder does.
        let pid =
            fs::read_to_string(self.dir.path().join("spool/pid/master.pid")).unwrap_or_default();
        let proc_dir = PathBuf::from(format!("/proc/{}", pid.trim()));
        let deadline = Instant::now() + Duration::from_secs(10);
        while !pid.trim().is_empty() && proc_dir.exists() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// A plain SMTP submission (RFC 5321), for tests that need every byte under control: returns
/// the server's final reply to the message (`250 ...`, `550 ...`) or the first failing reply.
pub fn smtp_send(
    server: SocketAddr,
    from: &str,
    rcpt: &[&str],
    data: &[u8],
) -> Result<String, String> {
    use std::io::{BufRead, BufReader, Write};
    let stream = TcpStream::connect(server).map_err(|e| format!("connect {server}: {e}"))?;
    stream.set_read_timeout(Some(Duration::from_secs(60))).map_err(|e| e.to_string())?;
    let mut reader = BufReader::new(stream.try_clone().map_err(|e| e.to_string())?);
    let mut writer = stream;
    let mut reply = || -> Result<String, String> {
        let mut all = String::new();
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).map_err(|e| format!("reading the reply: {e}"))?;
            if line.is_empty() {
                return Err(format!("connection closed after {all:?}"));
            }
            all.push_str(&line);
            if line.as_bytes().get(3) != Some(&b'-') {
                return Ok(all);
            }
        }
    };
    let expect = |r: String, ok: &str| if r.starts_with(ok) { Ok(r) } else { Err(r) };
    expect(reply()?, "220")?;
    let say = |w: &mut TcpStream, line: &str| {
        w.write_all(format!("{line}\r\n").as_bytes()).map_err(|e| e.to_string())
    };
    say(&mut writer, "EHLO client.test.example")?;
    expect(reply()?, "250")?;
    say(&mut writer, &format!("MAIL FROM:<{from}>"))?;
    expect(reply()?, "250")?;
    for r in rcpt {
        say(&mut writer, &format!("RCPT TO:<{r}>"))?;
        expect(reply()?, "250")?;
    }
    say(&mut writer, "DATA")?;
    expect(reply()?, "354")?;
    // Dot-stuffing (RFC 5321 §4.5.2) and CRLF line ends.
    let mut body = Vec::with_capacity(data.len() + 64);
    for line in data.split_inclusive(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\n").unwrap_or(line);
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.first() == Some(&b'.') {
            body.push(b'.');
        }
        body.extend_from_slice(line);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(b".\r\n");
    writer.write_all(&body).map_err(|e| e.to_string())?;
    let last = reply()?;
    let _ = say(&mut writer, "QUIT");
    Ok(last)
}
