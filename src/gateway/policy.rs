//! What the gateway does about each rule: the administrator's policy.

use crate::audit::Rule;
use crate::usable::Policy;
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

/// What to do with a message (or, for [`Action::Split`], with some of its recipients).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Action {
    /// Deliver to every recipient.
    Accept,
    /// Deliver only to the recipients who can decrypt; refuse the others. Only for the rules
    /// that name recipients who cannot read this copy (`partial-encryption`,
    /// `unconfirmed-recipient`).
    Split,
    /// Refuse for now (SMTP 4xx): the sending server keeps the message and retries.
    Tempfail,
    /// Refuse (SMTP 5xx): the sender is told why.
    Reject,
}

impl Action {
    /// Every action, for help texts.
    pub const ALL: [Action; 4] = [Action::Accept, Action::Split, Action::Tempfail, Action::Reject];

    /// The stable name (`accept`, `split`, `tempfail`, `reject`).
    pub fn name(self) -> &'static str {
        match self {
            Action::Accept => "accept",
            Action::Split => "split",
            Action::Tempfail => "tempfail",
            Action::Reject => "reject",
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Action {
    type Err = PolicyError;
    fn from_str(s: &str) -> Result<Action, PolicyError> {
        Action::ALL
            .into_iter()
            .find(|a| a.name() == s)
            .ok_or_else(|| PolicyError::UnknownAction(s.to_owned()))
    }
}

/// A policy setting that cannot be.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    #[error("unknown action {0:?} (expected accept, split, tempfail or reject)")]
    UnknownAction(String),
    #[error("unknown rule {0:?}")]
    UnknownRule(String),
    #[error("{action} is not possible for {rule}: only rules that name recipients who cannot read the message can split it")]
    NotSplittable { rule: Rule, action: Action },
    #[error("expected RULE=ACTION, got {0:?}")]
    Syntax(String),
    #[error("an internal error can only be answered with tempfail or accept, not {0}")]
    OnError(Action),
}

/// The gateway's policy: an [`Action`] per rule, what an internal error gives, and the
/// certificate policy used to judge certificates.
///
/// Defaults: `partial-encryption`, `smartreply-blank-body`, `malformed-smime` and `unreadable`
/// reject; every other rule accepts (its findings still show in the verdict and the
/// `X-Smime-Lint` header); an internal error or time-out tempfails (451 4.7.0), so the sending
/// server keeps the message and nothing is lost. Plain mail is always accepted.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct GatewayPolicy {
    actions: BTreeMap<Rule, Action>,
    on_error: Action,
    /// How certificates are judged (key sizes, algorithms).
    pub certificates: Policy,
}

impl Default for GatewayPolicy {
    fn default() -> Self {
        let actions = [
            (Rule::PartialEncryption, Action::Reject),
            (Rule::SmartreplyBlankBody, Action::Reject),
            (Rule::MalformedSmime, Action::Reject),
            (Rule::Unreadable, Action::Reject),
        ]
        .into_iter()
        .collect();
        GatewayPolicy { actions, on_error: Action::Tempfail, certificates: Policy::default() }
    }
}

impl GatewayPolicy {
    /// What the gateway does about findings of `rule`.
    pub fn action(&self, rule: Rule) -> Action {
        self.actions.get(&rule).copied().unwrap_or(Action::Accept)
    }

    /// Sets the action for `rule`. [`Action::Split`] is refused for rules that do not name
    /// recipients who cannot read the message.
    pub fn set_action(&mut self, rule: Rule, action: Action) -> Result<(), PolicyError> {
        if action == Action::Split && !splittable(rule) {
            return Err(PolicyError::NotSplittable { rule, action });
        }
        self.actions.insert(rule, action);
        Ok(())
    }

    /// Reads `RULE=ACTION` (`partial-encryption=split`) and sets it.
    pub fn set_from_str(&mut self, setting: &str) -> Result<(), PolicyError> {
        let (rule, action) =
            setting.split_once('=').ok_or_else(|| PolicyError::Syntax(setting.to_owned()))?;
        let rule = Rule::ALL
            .into_iter()
            .find(|r| r.code() == rule.trim())
            .ok_or_else(|| PolicyError::UnknownRule(rule.trim().to_owned()))?;
        self.set_action(rule, action.trim().parse()?)
    }

    /// What an internal error, a panic or a time-out gives: [`Action::Tempfail`] (the default:
    /// the sending server keeps the message) or [`Action::Accept`] (fail open).
    pub fn on_error(&self) -> Action {
        self.on_error
    }

    /// Sets [`GatewayPolicy::on_error`]: only tempfail or accept.
    pub fn set_on_error(&mut self, action: Action) -> Result<(), PolicyError> {
        match action {
            Action::Tempfail | Action::Accept => {
                self.on_error = action;
                Ok(())
            }
            other => Err(PolicyError::OnError(other)),
        }
    }
}

/// Rules whose findings name recipients who cannot read this copy: removing them leaves a
/// delivery every remaining recipient can read.
pub(crate) fn splittable(rule: Rule) -> bool {
    matches!(rule, Rule::PartialEncryption | Rule::UnconfirmedRecipient)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_reject_the_three_delivery_breakers_and_accept_the_rest() {
        let p = GatewayPolicy::default();
        for rule in Rule::ALL {
            let expected = match rule {
                Rule::PartialEncryption
                | Rule::SmartreplyBlankBody
                | Rule::MalformedSmime
                | Rule::Unreadable => Action::Reject,
                _ => Action::Accept,
            };
            assert_eq!(p.action(rule), expected, "{rule}");
        }
        assert_eq!(p.on_error(), Action::Tempfail);
    }

    #[test]
    fn settings_parse_and_split_is_only_for_recipient_rules() {
        let mut p = GatewayPolicy::default();
        p.set_from_str("partial-encryption=split").unwrap();
        assert_eq!(p.action(Rule::PartialEncryption), Action::Split);
        p.set_from_str(" weak-content-cipher = reject ").unwrap();
        assert_eq!(p.action(Rule::WeakContentCipher), Action::Reject);
        assert!(matches!(
            p.set_from_str("smartreply-blank-body=split"),
            Err(PolicyError::NotSplittable { .. })
        ));
        assert!(matches!(p.set_from_str("no-such-rule=reject"), Err(PolicyError::UnknownRule(_))));
        assert!(matches!(p.set_from_str("bcc-disclosed=drop"), Err(PolicyError::UnknownAction(_))));
        assert!(matches!(p.set_from_str("bcc-disclosed"), Err(PolicyError::Syntax(_))));
        assert!(p.set_on_error(Action::Reject).is_err());
        p.set_on_error(Action::Accept).unwrap();
        assert_eq!(p.on_error(), Action::Accept);
    }
}
