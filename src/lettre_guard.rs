//! A pre-send guard for [lettre](https://lettre.rs) (feature `lettre`): wrap any
//! [`lettre::Transport`] or [`lettre::AsyncTransport`] in a [`GuardedTransport`], and every
//! `send`/`send_raw` is judged with the gateway's [pre-send verdict](crate::gateway) before the
//! inner transport sees the message.
//!
//! The recipients judged are the real ones: lettre's [`Envelope`](lettre::address::Envelope)
//! (Bcc recipients included), not the header. The bytes judged are the ones the inner transport
//! gets ([`Message::formatted`](lettre::Message::formatted)). A message someone cannot read is
//! refused with [`GuardError::Refused`], naming who and why, and never reaches the inner
//! transport; the inner transport's own errors pass through as [`GuardError::Transport`].
//!
//! ```
//! use lettre::address::Envelope;
//! use lettre::transport::stub::StubTransport;
//! use lettre::Transport;
//! use smime_lint::lettre_guard::{GuardError, GuardedTransport};
//! use smime_lint::{CertStore, Time};
//!
//! let mut store = CertStore::new();
//! store.load_path("testdata/certs/store".as_ref())?;
//! let guard = GuardedTransport::new(StubTransport::new_ok(), store)
//!     .with_clock(|| Time::parse_rfc3339("2026-06-01T00:00:00Z").unwrap()); // default: now
//!
//! // iOS 7.1's Reply All: encrypted for carol (and alice), sent to dan as well.
//! let reply_all = std::fs::read("testdata/audit/ios71-reply-all.eml")?;
//! let envelope = Envelope::new(
//!     Some("alice@example.com".parse()?),
//!     vec!["dan@example.net".parse()?, "carol@example.org".parse()?],
//! )?;
//! match guard.send_raw(&envelope, &reply_all) {
//!     Err(GuardError::Refused(refusal)) => {
//!         let who: Vec<_> = refusal.unreadable().map(|r| r.recipient.as_str()).collect();
//!         assert_eq!(who, ["dan@example.net"]);
//!         assert!(refusal.to_string().contains("dan@example.net"));
//!     }
//!     other => panic!("{other:?}"),
//! }
//! assert!(guard.inner().messages().is_empty()); // never reached the transport
//!
//! // The same message to carol alone goes through.
//! let to_carol = Envelope::new(Some("alice@example.com".parse()?), vec!["carol@example.org".parse()?])?;
//! guard.send_raw(&to_carol, &reply_all)?;
//! assert_eq!(guard.inner().messages().len(), 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The policy is the gateway's ([`GatewayPolicy`], default: refuse partial encryption, the
//! blank SmartReply shape and unparseable S/MIME). Every verdict but accept refuses, split
//! included: a sender must learn when someone would have been left out. An error while judging
//! refuses too ([`Refusal::is_temporary`]) unless the policy's `on_error` is accept.

use crate::certs::CertStore;
use crate::gateway::{self, Action, Envelope, GatewayPolicy, RecipientVerdict, Verdict};
use crate::time::Time;
use std::fmt;
use std::sync::{Arc, PoisonError, RwLock};

type Clock = Arc<dyn Fn() -> Time + Send + Sync>;

/// A lettre transport that only sends what every recipient can read. See the [module
/// documentation](self).
pub struct GuardedTransport<T> {
    inner: T,
    store: RwLock<Arc<CertStore>>,
    policy: GatewayPolicy,
    clock: Clock,
}

impl<T> fmt::Debug for GuardedTransport<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GuardedTransport").field("policy", &self.policy).finish_non_exhaustive()
    }
}

/// Why a guarded `send` did not send.
#[derive(Debug, thiserror::Error)]
pub enum GuardError<E> {
    /// The verdict refused the message: it never reached the inner transport.
    #[error(transparent)]
    Refused(#[from] Refusal),
    /// The inner transport failed, as it reported it.
    #[error(transparent)]
    Transport(E),
}

/// A refused message: the verdict, with who cannot read it and why.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.text())]
pub struct Refusal {
    verdict: Box<Verdict>,
}

impl Refusal {
    /// The whole verdict: every recipient, the findings, the rules that decided.
    pub fn verdict(&self) -> &Verdict {
        &self.verdict
    }

    /// The recipients who cannot read the message (or cannot be shown to), with the rule and
    /// reason.
    pub fn unreadable(&self) -> impl Iterator<Item = &RecipientVerdict> {
        self.verdict.unreadable()
    }

    /// Whether trying again later may succeed: the policy's tempfail, or an error while
    /// judging.
    pub fn is_temporary(&self) -> bool {
        self.verdict.action == Action::Tempfail
    }

    fn text(&self) -> String {
        let v = &self.verdict;
        match (&v.reply, v.action) {
            (Some(reply), _) => reply.paragraph(),
            (None, Action::Split) => {
                let who: Vec<&str> = v.refused().map(|r| r.recipient.as_str()).collect();
                format!(
                    "the policy would deliver it only to some recipients; these cannot read it: {}",
                    who.join(", ")
                )
            }
            (None, action) => format!("the verdict is {action}"),
        }
    }
}

impl<T> GuardedTransport<T> {
    /// Guards `inner` with `store` (a [`CertStore`] or an `Arc` of one), the gateway's default
    /// policy and the system clock.
    pub fn new(inner: T, store: impl Into<Arc<CertStore>>) -> Self {
        GuardedTransport {
            inner,
            store: RwLock::new(store.into()),
            policy: GatewayPolicy::default(),
            clock: Arc::new(Time::now),
        }
    }

    /// Judges with `policy` instead of the default.
    pub fn with_policy(mut self, policy: GatewayPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// Reads the time from `clock` at each send instead of the system clock (for tests, or a
    /// client with its own notion of time).
    pub fn with_clock(mut self, clock: impl Fn() -> Time + Send + Sync + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Replaces the certificate store (the address book changed); sends already judging keep
    /// the store they started with.
    pub fn replace_store(&self, store: impl Into<Arc<CertStore>>) {
        *self.store.write().unwrap_or_else(PoisonError::into_inner) = store.into();
    }

    /// The inner transport.
    pub fn inner(&self) -> &T {
        &self.inner
    }

    /// The inner transport, unguarded.
    pub fn into_inner(self) -> T {
        self.inner
    }

    /// The verdict on `raw` going to `envelope`'s recipients now: `Ok` when it may be sent,
    /// else the refusal. Every `send` runs this first.
    pub fn judge(
        &self,
        envelope: &lettre::address::Envelope,
        raw: &[u8],
    ) -> Result<Verdict, Refusal> {
        let from = envelope.from().map_or("", |a| a.as_ref());
        let ours = Envelope::new(from, envelope.to().iter().map(|a| a.as_ref()));
        let store = Arc::clone(&self.store.read().unwrap_or_else(PoisonError::into_inner));
        let verdict = gateway::verdict(raw, &ours, &store, (self.clock)(), &self.policy);
        if verdict.action == Action::Accept {
            Ok(verdict)
        } else {
            Err(Refusal { verdict: Box::new(verdict) })
        }
    }
}

impl<T: lettre::Transport> lettre::Transport for GuardedTransport<T> {
    type Ok = T::Ok;
    type Error = GuardError<T::Error>;

    fn send(&self, message: &lettre::Message) -> Result<Self::Ok, Self::Error> {
        self.judge(message.envelope(), &message.formatted())?;
        self.inner.send(message).map_err(GuardError::Transport)
    }

    fn send_raw(
        &self,
        envelope: &lettre::address::Envelope,
        email: &[u8],
    ) -> Result<Self::Ok, Self::Error> {
        self.judge(envelope, email)?;
        self.inner.send_raw(envelope, email).map_err(GuardError::Transport)
    }

    fn shutdown(&self) {
        self.inner.shutdown()
    }
}

#[async_trait::async_trait]
impl<T> lettre::AsyncTransport for GuardedTransport<T>
where
    T: lettre::AsyncTransport + Send + Sync,
    T::Ok: Send,
    T::Error: Send,
{
    type Ok = T::Ok;
    type Error = GuardError<T::Error>;

    async fn send(&self, message: lettre::Message) -> Result<Self::Ok, Self::Error> {
        self.judge(message.envelope(), &message.formatted())?;
        self.inner.send(message).await.map_err(GuardError::Transport)
    }

    async fn send_raw(
        &self,
        envelope: &lettre::address::Envelope,
        email: &[u8],
    ) -> Result<Self::Ok, Self::Error> {
        self.judge(envelope, email)?;
        self.inner.send_raw(envelope, email).await.map_err(GuardError::Transport)
    }

    async fn shutdown(&self) {
        self.inner.shutdown().await
    }
}
