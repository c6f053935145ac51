//! The sendmail guard's settings: a small TOML file (`--config`), so that a muttrc line stays
//! short, with the command-line options on top.
//!
//! ```toml
//! sendmail = "/usr/sbin/sendmail"      # the real sendmail; else give it after `--`
//! certs = ["~/.smime/certs"]           # files or folders, as --certs
//! trust = ["~/.smime/roots.pem"]       # as --trust
//! keep = "~/Mail/smime-refused"        # refused messages are saved here
//! max_size = 67108864                  # bytes read from standard input at most
//!
//! [policy]                             # RULE = ACTION, as at the gateway
//! weak-content-cipher = "reject"
//! on-error = "tempfail"                # or "accept" (fail open)
//! ```
//!
//! Relative paths are relative to the file's folder; `~/` is the home folder.

use crate::common::StoreArgs;
use crate::input::DEFAULT_MAX_MESSAGE;
use smime_lint::gateway::{Action, GatewayPolicy};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The file's contents. Unknown keys are errors: a misspelt `kepp` must not silently lose
/// refused messages.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    sendmail: Option<String>,
    #[serde(default)]
    certs: Vec<PathBuf>,
    #[serde(default)]
    trust: Vec<PathBuf>,
    keep: Option<PathBuf>,
    max_size: Option<u64>,
    #[serde(default)]
    policy: BTreeMap<String, String>,
}

/// The largest `max_size` accepted: the message is held in memory.
pub const MAX_MAX_SIZE: u64 = 1 << 30;

/// What the guard runs with: the file and the command line merged.
#[derive(Debug)]
pub struct Settings {
    /// The real sendmail, when the file names it.
    pub sendmail: Option<PathBuf>,
    pub store: StoreArgs,
    pub keep: Option<PathBuf>,
    pub max_size: u64,
    pub policy: GatewayPolicy,
}

/// The command line's share of the settings.
pub struct Overrides<'a> {
    pub store: &'a StoreArgs,
    pub keep: Option<&'a Path>,
    pub max_size: Option<u64>,
    pub policy: &'a [String],
}

impl Settings {
    /// Reads `file` (when given) and puts the command line on top: `--certs` and `--trust` add
    /// to the file's, `--keep` and `--max-size` replace its values, `--policy` settings come
    /// after its `[policy]` table.
    pub fn resolve(file: Option<&Path>, cli: Overrides<'_>) -> Result<Settings, String> {
        let (config, base) = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| format!("reading the configuration {}: {e}", path.display()))?;
                let config: ConfigFile = toml::from_str(&text)
                    .map_err(|e| format!("configuration {}: {e}", path.display()))?;
                (config, path.parent().map(Path::to_path_buf).unwrap_or_default())
            }
            None => (ConfigFile::default(), PathBuf::new()),
        };
        let home = std::env::var_os("HOME").map(PathBuf::from);
        let place = |p: &Path| resolve_path(p, &base, home.as_deref());
        let mut policy = GatewayPolicy::default();
        let settings = config
            .policy
            .iter()
            .map(|(rule, action)| format!("{rule}={action}"))
            .chain(cli.policy.iter().cloned());
        for setting in settings {
            apply_policy(&mut policy, &setting)?;
        }
        let max_size = cli.max_size.or(config.max_size).unwrap_or(DEFAULT_MAX_MESSAGE);
        if max_size == 0 || max_size > MAX_MAX_SIZE {
            return Err(format!(
                "max_size must be between 1 and {MAX_MAX_SIZE} bytes, not {max_size}"
            ));
        }
        Ok(Settings {
            sendmail: config.sendmail.as_deref().map(|s| expand_home(s, home.as_deref())),
            store: StoreArgs {
                certs: config
                    .certs
                    .iter()
                    .map(|p| place(p))
                    .chain(cli.store.certs.iter().cloned())
                    .collect(),
                trust: config
                    .trust
                    .iter()
                    .map(|p| place(p))
                    .chain(cli.store.trust.iter().cloned())
                    .collect(),
            },
            keep: cli.keep.map(Path::to_path_buf).or_else(|| config.keep.as_deref().map(place)),
            max_size,
            policy,
        })
    }
}

/// `RULE=ACTION`, or `on-error=tempfail|accept`. Split is refused: a client that is told
/// "sent" cannot learn that some recipients were left out.
fn apply_policy(policy: &mut GatewayPolicy, setting: &str) -> Result<(), String> {
    let bad = |e: &dyn std::fmt::Display| format!("policy {setting:?}: {e}");
    if let Some((key, value)) = setting.split_once('=') {
        if key.trim() == "on-error" {
            let action: Action = value.trim().parse().map_err(|e| bad(&e))?;
            return policy.set_on_error(action).map_err(|e| bad(&e));
        }
        if value.trim() == "split" {
            return Err(bad(
                &"split is not possible in the sendmail guard: the mail client would \
                            report the message as sent without learning who was left out",
            ));
        }
    }
    policy.set_from_str(setting).map_err(|e| bad(&e))
}

fn expand_home(s: &str, home: Option<&Path>) -> PathBuf {
    match (s.strip_prefix("~/"), home) {
        (Some(rest), Some(home)) => home.join(rest),
        _ => PathBuf::from(s),
    }
}

fn resolve_path(p: &Path, base: &Path, home: Option<&Path>) -> PathBuf {
    let expanded = match p.to_str() {
        Some(s) => expand_home(s, home),
        None => p.to_path_buf(),
    };
    if expanded.is_absolute() {
        expanded
    } else {
        base.join(expanded)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use smime_lint::audit::Rule;

    fn no_cli() -> StoreArgs {
        StoreArgs { certs: vec![], trust: vec![] }
    }

    fn resolve(toml_text: &str, policy: &[String]) -> Result<Settings, String> {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("guard.toml");
        std::fs::write(&file, toml_text).unwrap();
        let store = no_cli();
        let cli = Overrides { store: &store, keep: None, max_size: None, policy };
        Settings::resolve(Some(&file), cli).map(|mut s| {
            // Paths relative to the file's folder: make them comparable.
            for p in s.store.certs.iter_mut().chain(&mut s.keep) {
                if let Ok(rel) = p.strip_prefix(dir.path()) {
                    *p = PathBuf::from("CONFIG_DIR").join(rel);
                }
            }
            s
        })
    }

    #[test]
    fn a_full_file_reads_with_paths_relative_to_it() {
        let s = resolve(
            "sendmail = \"/usr/sbin/sendmail\"\ncerts = [\"certs\", \"/etc/smime/certs\"]\n\
             keep = \"refused\"\nmax_size = 1000\n[policy]\nweak-content-cipher = \"reject\"\n\
             on-error = \"accept\"\n",
            &[],
        )
        .unwrap();
        assert_eq!(s.sendmail, Some(PathBuf::from("/usr/sbin/sendmail")));
        assert_eq!(
            s.store.certs,
            [PathBuf::from("CONFIG_DIR/certs"), PathBuf::from("/etc/smime/certs")]
        );
        assert_eq!(s.keep, Some(PathBuf::from("CONFIG_DIR/refused")));
        assert_eq!(s.max_size, 1000);
        assert_eq!(s.policy.action(Rule::WeakContentCipher), Action::Reject);
        assert_eq!(s.policy.on_error(), Action::Accept);
    }

    #[test]
    fn the_command_line_policy_comes_last() {
        let s = resolve("[policy]\nbcc-disclosed = \"reject\"\n", &["bcc-disclosed=accept".into()])
            .unwrap();
        assert_eq!(s.policy.action(Rule::BccDisclosed), Action::Accept);
        assert_eq!(s.max_size, DEFAULT_MAX_MESSAGE);
    }

    #[test]
    fn mistakes_are_errors_that_say_where() {
        let typo = resolve("kepp = \"/tmp\"\n", &[]).unwrap_err();
        assert!(typo.contains("kepp"), "{typo}");
        let split = resolve("[policy]\npartial-encryption = \"split\"\n", &[]).unwrap_err();
        assert!(split.contains("split is not possible"), "{split}");
        let rule = resolve("[policy]\nno-such-rule = \"reject\"\n", &[]).unwrap_err();
        assert!(rule.contains("no-such-rule"), "{rule}");
        let on_error = resolve("[policy]\non-error = \"reject\"\n", &[]).unwrap_err();
        assert!(on_error.contains("tempfail or accept"), "{on_error}");
        assert!(resolve("max_size = 0\n", &[]).is_err());
        assert!(resolve("certs = \"not a list\"\n", &[]).is_err());
        let store = no_cli();
        let cli = Overrides { store: &store, keep: None, max_size: None, policy: &[] };
        let missing = Settings::resolve(Some(Path::new("/nonexistent/guard.toml")), cli);
        assert!(missing.unwrap_err().contains("/nonexistent/guard.toml"));
    }
}
