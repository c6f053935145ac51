//! The sendmail command line mail clients use (the Sendmail and Postfix `sendmail(1)`
//! conventions): what the guard must know of it to judge the message, and a clear refusal of
//! anything it does not understand rather than a guess.
//!
//! Options follow POSIX `getopt` as Sendmail's and Postfix's do: flags may be clustered
//! (`-ti`), an option's value may be attached or the next word (`-fADDR`, `-f ADDR`), `--`
//! ends the options, and recipients follow them.

use std::fmt;

/// What the guard reads from a sendmail command line. The words themselves are passed on to
/// the real sendmail unchanged.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SendmailCall {
    /// `-t`: recipients also come from the message's To/Cc/Bcc (and Resent-) fields.
    pub extract: bool,
    /// `-f ADDR` / `-r ADDR`: the envelope sender.
    pub sender: Option<String>,
    /// `-i` / `-oi`: a line holding a single dot does not end the message.
    pub ignore_dots: bool,
    /// `-v`: say what was decided.
    pub verbose: bool,
    /// Recipients given as arguments (each may hold a comma-separated list).
    pub recipients: Vec<String>,
}

/// Why a sendmail command line is refused (exit `EX_USAGE`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ArgsError {
    /// A flag the guard does not know: it might change who receives the message.
    UnknownFlag(String),
    /// A `-o` or `-b` setting the guard does not know.
    UnknownSetting { flag: char, value: String },
    /// A mode other than delivering one message (`-bs`, `-bp`, `-bv`, ...).
    UnsupportedMode(String),
    /// An option that needs a value came last.
    MissingValue(char),
    /// An option after a recipient: sendmail implementations disagree on what that means.
    OptionAfterRecipient(String),
}

impl fmt::Display for ArgsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ArgsError::UnknownFlag(flag) => write!(
                f,
                "unknown sendmail option {flag:?}: smime-lint sendmail knows -t, -i, -v, -m, \
                 -f/-r ADDR, -F NAME, -C FILE, -B TYPE, -N DSN, -R RET, -V ENVID, -o{{i,m,e*,d*}} \
                 and -bm, and refuses anything else rather than guess who the message goes to"
            ),
            ArgsError::UnknownSetting { flag, value } => {
                write!(f, "unknown sendmail option -{flag}{value}")
            }
            ArgsError::UnsupportedMode(mode) => write!(
                f,
                "sendmail mode {mode} is not a message to deliver: smime-lint sendmail only \
                 guards -bm (the default); run the real sendmail directly for {mode}"
            ),
            ArgsError::MissingValue(flag) => write!(f, "sendmail option -{flag} needs a value"),
            ArgsError::OptionAfterRecipient(word) => write!(
                f,
                "sendmail option {word:?} after a recipient: put the options first, or use -- \
                 before recipients"
            ),
        }
    }
}

/// Reads the sendmail arguments (everything after the real sendmail's name).
pub fn parse(words: &[String]) -> Result<SendmailCall, ArgsError> {
    let mut call = SendmailCall::default();
    let mut words = words.iter();
    let mut options_ended = false;
    while let Some(word) = words.next() {
        if options_ended {
            call.recipients.push(word.clone());
            continue;
        }
        if word == "--" {
            options_ended = true;
            continue;
        }
        let Some(flags) = word.strip_prefix('-').filter(|f| !f.is_empty()) else {
            if !word.is_empty() {
                call.recipients.push(word.clone());
            }
            continue;
        };
        if !call.recipients.is_empty() {
            return Err(ArgsError::OptionAfterRecipient(word.clone()));
        }
        if flags.starts_with('-') {
            return Err(ArgsError::UnknownFlag(word.clone()));
        }
        for (i, flag) in flags.char_indices() {
            match flag {
                't' => call.extract = true,
                'i' => call.ignore_dots = true,
                'v' => call.verbose = true,
                // "me too": also deliver to the sender when expanding aliases.
                'm' => {}
                'f' | 'r' | 'F' | 'C' | 'B' | 'N' | 'R' | 'V' | 'o' | 'b' => {
                    let attached = &flags[i + flag.len_utf8()..];
                    let value = if attached.is_empty() {
                        words.next().cloned().ok_or(ArgsError::MissingValue(flag))?
                    } else {
                        attached.to_owned()
                    };
                    value_option(&mut call, flag, value)?;
                    break;
                }
                _ => return Err(ArgsError::UnknownFlag(format!("-{flag}"))),
            }
        }
    }
    Ok(call)
}

fn value_option(call: &mut SendmailCall, flag: char, value: String) -> Result<(), ArgsError> {
    match flag {
        'f' | 'r' => call.sender = Some(value),
        // The full name, the alternate configuration file, the body type, DSN requests and
        // the envelope id change nothing about who receives the message.
        'F' | 'C' | 'B' | 'N' | 'R' | 'V' => {}
        'o' => match value.as_str() {
            "i" => call.ignore_dots = true,
            // Error reporting (-oem mail, -oep print, -oeq quiet, -oew write, -oee exit),
            // delivery mode (-odb background, -odi interactive, -odq queue, -odd deferred) and
            // "me too".
            "m" | "em" | "ep" | "eq" | "ew" | "ee" | "db" | "di" | "dq" | "dd" => {}
            _ => return Err(ArgsError::UnknownSetting { flag, value }),
        },
        'b' => match value.as_str() {
            "m" => {}
            _ => return Err(ArgsError::UnsupportedMode(format!("-b{value}"))),
        },
        _ => return Err(ArgsError::UnknownFlag(format!("-{flag}"))),
    }
    Ok(())
}

/// The recipients one argument names: sendmail accepts a comma-separated list in one word
/// (`"bob@example.com, carol@example.org"`); commas inside quotes, angle brackets or comments
/// do not separate.
pub fn split_recipients(word: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let (mut quoted, mut angle, mut comment, mut escaped) = (false, 0u32, 0u32, false);
    for c in word.chars() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '"' if comment == 0 => quoted = !quoted,
            '<' if !quoted && comment == 0 => angle += 1,
            '>' if !quoted && comment == 0 => angle = angle.saturating_sub(1),
            '(' if !quoted => comment += 1,
            ')' if !quoted => comment = comment.saturating_sub(1),
            ',' if !quoted && angle == 0 && comment == 0 => {
                out.push(std::mem::take(&mut current));
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    out.push(current);
    out.into_iter().map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    fn words(line: &str) -> Vec<String> {
        line.split_whitespace().map(str::to_owned).collect()
    }

    fn call(line: &str) -> SendmailCall {
        parse(&words(line)).unwrap_or_else(|e| panic!("{line}: {e}"))
    }

    #[rstest]
    #[case::extract("-t", true, None, false, &[])]
    #[case::sender_separate("-f alice@example.com bob@example.com", false, Some("alice@example.com"), false, &["bob@example.com"])]
    #[case::sender_attached("-falice@example.com bob@example.com", false, Some("alice@example.com"), false, &["bob@example.com"])]
    #[case::sender_r_obsolete_form("-r alice@example.com -t", true, Some("alice@example.com"), false, &[])]
    #[case::null_sender("-f <> bob@example.com", false, Some("<>"), false, &["bob@example.com"])]
    #[case::full_name_separate("-F Alice -t", true, None, false, &[])]
    #[case::full_name_attached("-FAlice -t", true, None, false, &[])]
    #[case::ignore_dots_i("-i bob@example.com", false, None, true, &["bob@example.com"])]
    #[case::ignore_dots_oi("-oi bob@example.com", false, None, true, &["bob@example.com"])]
    #[case::ignore_dots_o_separate("-o i bob@example.com", false, None, true, &["bob@example.com"])]
    #[case::mutt_default("-oem -oi -- bob@example.com carol@example.org", false, None, true, &["bob@example.com", "carol@example.org"])]
    #[case::error_modes("-oep -oeq -oew -oee -t", true, None, false, &[])]
    #[case::background_delivery("-odb -t", true, None, false, &[])]
    #[case::interactive_delivery("-odi -t", true, None, false, &[])]
    #[case::queue_only("-odq -t", true, None, false, &[])]
    #[case::deliver_mode("-bm -t", true, None, false, &[])]
    #[case::deliver_mode_separate("-b m -t", true, None, false, &[])]
    #[case::verbose("-v bob@example.com", false, None, false, &["bob@example.com"])]
    #[case::clustered("-ti", true, None, true, &[])]
    #[case::clustered_with_value("-tif alice@example.com", true, Some("alice@example.com"), true, &[])]
    #[case::clustered_attached_value("-itfalice@example.com", true, Some("alice@example.com"), true, &[])]
    #[case::alternate_config("-C /etc/postfix-out -t -i", true, None, true, &[])]
    #[case::mutt_dsn_and_8bit("-B8BITMIME -N success,failure -R hdrs -V env1 -- bob@example.com", false, None, false, &["bob@example.com"])]
    #[case::me_too("-m -om -t", true, None, false, &[])]
    #[case::git_send_email("-i bob@example.com carol@example.org", false, None, true, &["bob@example.com", "carol@example.org"])]
    #[case::after_double_dash_even_dashes("-- -t bob@example.com", false, None, false, &["-t", "bob@example.com"])]
    #[case::nothing("", false, None, false, &[])]
    fn flag_forms(
        #[case] line: &str,
        #[case] extract: bool,
        #[case] sender: Option<&str>,
        #[case] ignore_dots: bool,
        #[case] recipients: &[&str],
    ) {
        let c = call(line);
        assert_eq!(c.extract, extract, "-t in {line}");
        assert_eq!(c.sender.as_deref(), sender, "sender in {line}");
        assert_eq!(c.ignore_dots, ignore_dots, "-i in {line}");
        assert_eq!(c.recipients, recipients, "recipients in {line}");
        assert_eq!(c.verbose, line.contains("-v"));
    }

    #[rstest]
    #[case::unknown_flag("-x bob@example.com", ArgsError::UnknownFlag("-x".into()))]
    #[case::unknown_flag_in_a_cluster("-tX", ArgsError::UnknownFlag("-X".into()))]
    #[case::hop_count("-h 3 bob@example.com", ArgsError::UnknownFlag("-h".into()))]
    #[case::queue_run("-q", ArgsError::UnknownFlag("-q".into()))]
    #[case::unknown_o_setting("-oQ/tmp -t", ArgsError::UnknownSetting { flag: 'o', value: "Q/tmp".into() })]
    #[case::smtp_on_stdin("-bs", ArgsError::UnsupportedMode("-bs".into()))]
    #[case::print_queue("-bp", ArgsError::UnsupportedMode("-bp".into()))]
    #[case::verify_only("-bv bob@example.com", ArgsError::UnsupportedMode("-bv".into()))]
    #[case::missing_sender("-t -f", ArgsError::MissingValue('f'))]
    #[case::option_after_recipient("bob@example.com -t", ArgsError::OptionAfterRecipient("-t".into()))]
    #[case::long_option("--help", ArgsError::UnknownFlag("--help".into()))]
    fn refused_forms(#[case] line: &str, #[case] error: ArgsError) {
        assert_eq!(parse(&words(line)), Err(error.clone()), "{line}");
        assert!(!error.to_string().is_empty());
    }

    #[rstest]
    #[case("bob@example.com", &["bob@example.com"])]
    #[case("bob@example.com, carol@example.org", &["bob@example.com", "carol@example.org"])]
    #[case("\"Smith, Bob\" <bob@example.com>,carol@example.org", &["\"Smith, Bob\" <bob@example.com>", "carol@example.org"])]
    #[case("bob@example.com (Bob, at work)", &["bob@example.com (Bob, at work)"])]
    #[case(" , ", &[])]
    fn recipient_lists(#[case] word: &str, #[case] expected: &[&str]) {
        assert_eq!(split_recipients(word), expected);
    }
}
