//! The command line: where to listen, which certificates, and what to do about each finding.

use clap::{Args, Parser, ValueEnum};
use smime_lint::audit::Rule;
use smime_lint::gateway::{Action, GatewayPolicy, PolicyError};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Default `--max-size`: 25 MiB, a common limit for outgoing mail (Postfix's own default
/// `message_size_limit` is 10 MB).
pub const DEFAULT_MAX_SIZE: u64 = 25 * 1024 * 1024;

/// `smime-lint-milter`: the gateway in front of Postfix or Sendmail.
#[derive(Parser, Debug, Clone)]
#[command(
    name = "smime-lint-milter",
    version,
    about = "A milter for Postfix and Sendmail: rejects, defers or splits S/MIME mail that some \
             of its envelope recipients cannot decrypt, and blank SmartReply replies.",
    long_about = None,
    after_help = "Signals: SIGHUP reloads the certificates (a failed reload keeps the old ones), \
                  SIGTERM or SIGINT stops after the messages in progress.\n\
                  This build is GPL-3.0-or-later (it links indymilter)."
)]
pub struct Options {
    /// Where Postfix or Sendmail connects: `inet:HOST:PORT` (also `inet:PORT@HOST`) or
    /// `unix:PATH` (also `local:PATH`).
    #[arg(long, value_name = "SOCKET", value_parser = Listen::parse)]
    pub listen: Listen,

    #[command(flatten)]
    pub store: StoreOptions,

    #[command(flatten)]
    pub policy: PolicyOptions,

    /// Send a notice over SMTP to the sender (MAIL FROM, else From) when a message is split:
    /// who did not get it and why. HOST:PORT of a relay that accepts mail from here, such as
    /// the local Postfix (plain SMTP, no TLS). Off when not given.
    #[arg(long, value_name = "HOST:PORT")]
    pub notify_smtp: Option<String>,

    /// Also send the notice when a message is rejected (the sending client already sees the
    /// SMTP reply; the notice reaches a sender whose client hides it).
    #[arg(long, requires = "notify_smtp")]
    pub notify_on_reject: bool,

    /// The From address of notices (their envelope sender is always `<>`, like a bounce).
    /// Default: postmaster at the MTA's host name (its `j` macro), else postmaster@localhost.
    #[arg(long, value_name = "ADDR", requires = "notify_smtp")]
    pub notify_from: Option<String>,

    /// Largest message checked, headers and body, in bytes. A larger one is not buffered
    /// beyond this: it gets `--on-oversize`.
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_MAX_SIZE)]
    pub max_size: u64,

    /// What a message larger than --max-size gets.
    #[arg(long, value_name = "ACTION", value_enum, default_value_t = OversizeAction::Tempfail)]
    pub on_oversize: OversizeAction,

    /// Longest time the check of one message may take, in seconds; then --on-error applies.
    /// Guards messages above 64 KiB or 100 recipients (smaller ones take well under 1 ms).
    #[arg(long, value_name = "SECONDS", default_value_t = 30.0, value_parser = positive_seconds)]
    pub verdict_timeout: f64,

    /// Most MTA connections served at once (further ones wait to be accepted).
    #[arg(long, value_name = "N", default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_sessions: u32,

    /// Permissions of a `unix:` socket (octal). The MTA's user must be able to write to it.
    #[arg(long, value_name = "OCTAL", default_value = "660", value_parser = octal_mode)]
    pub socket_mode: u32,
}

/// `--certs` / `--trust`.
#[derive(Args, Debug, Clone)]
pub struct StoreOptions {
    /// Recipients' certificates: PEM, DER, PKCS#7 bundles (.p7b/.p7c), or folders (recursive).
    /// May be given several times. Reloaded on SIGHUP.
    #[arg(long = "certs", value_name = "PATH", required = true)]
    pub certs: Vec<PathBuf>,
    /// Trust anchors: when given, a certificate must chain to one of them to count.
    #[arg(long = "trust", value_name = "PATH")]
    pub trust: Vec<PathBuf>,
}

/// The actions per rule.
#[derive(Args, Debug, Clone)]
pub struct PolicyOptions {
    /// An envelope recipient cannot decrypt the message (`partial-encryption`): refuse it
    /// (550 5.7.1), defer it (451 4.7.1), or deliver only to the recipients who can (split).
    #[arg(long, value_name = "ACTION", value_enum, default_value_t = PartialAction::Reject)]
    pub on_partial: PartialAction,
    /// The encrypted payload travels beside an empty body (`smartreply-blank-body`).
    #[arg(long, value_name = "ACTION", value_enum, default_value_t = MessageAction::Reject)]
    pub on_blank: MessageAction,
    /// An S/MIME part, or the message itself, cannot be parsed (`malformed-smime`,
    /// `unreadable`).
    #[arg(long, value_name = "ACTION", value_enum, default_value_t = MessageAction::Reject)]
    pub on_malformed: MessageAction,
    /// The check could not run: an internal error, a time-out. `accept` fails open: the
    /// message goes out unchecked.
    #[arg(long, value_name = "ACTION", value_enum, default_value_t = ErrorAction::Tempfail)]
    pub on_error: ErrorAction,
    /// Any rule's action, as RULE=ACTION (`weak-content-cipher=reject`,
    /// `unconfirmed-recipient=split`). Applied after the --on-* options. May be repeated.
    #[arg(long = "action", value_name = "RULE=ACTION")]
    pub actions: Vec<String>,
}

/// `--on-partial`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum PartialAction {
    Reject,
    Tempfail,
    Split,
}

/// `--on-blank`, `--on-malformed`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum MessageAction {
    Reject,
    Tempfail,
    Accept,
}

/// `--on-error`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ErrorAction {
    Tempfail,
    Accept,
}

/// `--on-oversize`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OversizeAction {
    Tempfail,
    Reject,
    Accept,
}

impl From<PartialAction> for Action {
    fn from(a: PartialAction) -> Action {
        match a {
            PartialAction::Reject => Action::Reject,
            PartialAction::Tempfail => Action::Tempfail,
            PartialAction::Split => Action::Split,
        }
    }
}

impl From<MessageAction> for Action {
    fn from(a: MessageAction) -> Action {
        match a {
            MessageAction::Reject => Action::Reject,
            MessageAction::Tempfail => Action::Tempfail,
            MessageAction::Accept => Action::Accept,
        }
    }
}

impl From<ErrorAction> for Action {
    fn from(a: ErrorAction) -> Action {
        match a {
            ErrorAction::Tempfail => Action::Tempfail,
            ErrorAction::Accept => Action::Accept,
        }
    }
}

impl From<OversizeAction> for Action {
    fn from(a: OversizeAction) -> Action {
        match a {
            OversizeAction::Tempfail => Action::Tempfail,
            OversizeAction::Reject => Action::Reject,
            OversizeAction::Accept => Action::Accept,
        }
    }
}

impl PolicyOptions {
    /// The gateway policy these options describe.
    pub fn policy(&self) -> Result<GatewayPolicy, PolicyError> {
        let mut p = GatewayPolicy::default();
        p.set_action(Rule::PartialEncryption, self.on_partial.into())?;
        p.set_action(Rule::SmartreplyBlankBody, self.on_blank.into())?;
        p.set_action(Rule::MalformedSmime, self.on_malformed.into())?;
        p.set_action(Rule::Unreadable, self.on_malformed.into())?;
        p.set_on_error(self.on_error.into())?;
        for setting in &self.actions {
            p.set_from_str(setting)?;
        }
        Ok(p)
    }
}

impl Options {
    /// `--verdict-timeout` as a duration.
    pub fn verdict_timeout(&self) -> Duration {
        Duration::from_secs_f64(self.verdict_timeout)
    }
}

/// Where the milter listens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Listen {
    /// `inet:HOST:PORT`: a TCP socket.
    Inet(SocketAddr),
    /// `unix:PATH`: a Unix-domain socket.
    Unix(PathBuf),
}

impl Listen {
    /// Reads `inet:HOST:PORT`, `inet:PORT@HOST` (Sendmail's spelling), `inet6:...`,
    /// `unix:PATH` or `local:PATH`. HOST is an IP address (IPv6 in brackets for `HOST:PORT`)
    /// or `localhost`.
    pub fn parse(text: &str) -> Result<Listen, String> {
        let bad = || {
            format!("{text:?}: expected inet:HOST:PORT (such as inet:127.0.0.1:7999) or unix:PATH")
        };
        let (kind, rest) = text.split_once(':').ok_or_else(bad)?;
        match kind {
            "unix" | "local" if !rest.is_empty() => Ok(Listen::Unix(PathBuf::from(rest))),
            "inet" | "inet6" => {
                let (host, port) = match rest.split_once('@') {
                    Some((port, host)) => (host, port),
                    None => rest.rsplit_once(':').ok_or_else(bad)?,
                };
                let host = host.trim_start_matches('[').trim_end_matches(']');
                let host = if host == "localhost" { "127.0.0.1" } else { host };
                let ip: std::net::IpAddr = host.parse().map_err(|_| {
                    format!("{text:?}: {host:?} is not an IP address (a milter listens on one)")
                })?;
                let port: u16 = port.parse().map_err(|_| bad())?;
                Ok(Listen::Inet(SocketAddr::new(ip, port)))
            }
            _ => Err(bad()),
        }
    }
}

impl std::fmt::Display for Listen {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Listen::Inet(a) => write!(f, "inet:{a}"),
            Listen::Unix(p) => write!(f, "unix:{}", p.display()),
        }
    }
}

fn positive_seconds(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(s) if s.is_finite() && s > 0.0 && s < 86_400.0 => Ok(s),
        _ => Err(format!("{text:?}: expected a number of seconds above 0 (such as 30 or 0.5)")),
    }
}

fn octal_mode(text: &str) -> Result<u32, String> {
    u32::from_str_radix(text, 8)
        .ok()
        .filter(|m| *m <= 0o777)
        .ok_or_else(|| format!("{text:?}: expected octal permissions such as 660"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listen_addresses() {
        let inet = |s: &str| Listen::Inet(s.parse().unwrap());
        assert_eq!(Listen::parse("inet:127.0.0.1:7999"), Ok(inet("127.0.0.1:7999")));
        assert_eq!(Listen::parse("inet:7999@127.0.0.1"), Ok(inet("127.0.0.1:7999")));
        assert_eq!(Listen::parse("inet:localhost:25"), Ok(inet("127.0.0.1:25")));
        assert_eq!(Listen::parse("inet6:[::1]:7999"), Ok(inet("[::1]:7999")));
        assert_eq!(
            Listen::parse("unix:/run/smime-lint/milter.sock"),
            Ok(Listen::Unix("/run/smime-lint/milter.sock".into()))
        );
        for bad in ["", "inet:", "inet:127.0.0.1", "inet:host.example:25", "tcp:1.2.3.4:5", "unix:"]
        {
            assert!(Listen::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn policy_flags_map_to_rules_and_action_comes_last() {
        let o = Options::try_parse_from([
            "smime-lint-milter",
            "--listen",
            "inet:127.0.0.1:7999",
            "--certs",
            "x",
            "--on-partial",
            "split",
            "--on-blank",
            "tempfail",
            "--on-malformed",
            "accept",
            "--on-error",
            "accept",
            "--action",
            "weak-content-cipher=reject",
            "--action",
            "smartreply-blank-body=reject",
        ])
        .unwrap();
        let p = o.policy.policy().unwrap();
        assert_eq!(p.action(Rule::PartialEncryption), Action::Split);
        assert_eq!(p.action(Rule::SmartreplyBlankBody), Action::Reject);
        assert_eq!(p.action(Rule::MalformedSmime), Action::Accept);
        assert_eq!(p.action(Rule::Unreadable), Action::Accept);
        assert_eq!(p.action(Rule::WeakContentCipher), Action::Reject);
        assert_eq!(p.on_error(), Action::Accept);
        assert_eq!(o.max_size, DEFAULT_MAX_SIZE);
        assert_eq!(o.on_oversize, OversizeAction::Tempfail);
    }

    #[test]
    fn a_bad_rule_setting_is_refused() {
        let mut o = PolicyOptions {
            on_partial: PartialAction::Reject,
            on_blank: MessageAction::Reject,
            on_malformed: MessageAction::Reject,
            on_error: ErrorAction::Tempfail,
            actions: vec!["smartreply-blank-body=split".into()],
        };
        assert!(o.policy().is_err());
        o.actions = vec!["no-such-rule=reject".into()];
        assert!(o.policy().is_err());
    }

    #[test]
    fn certs_are_required_and_timeouts_positive() {
        assert!(Options::try_parse_from(["m", "--listen", "inet:127.0.0.1:1"]).is_err());
        assert!(Options::try_parse_from([
            "m",
            "--listen",
            "inet:127.0.0.1:1",
            "--certs",
            "x",
            "--verdict-timeout",
            "0"
        ])
        .is_err());
    }
}
