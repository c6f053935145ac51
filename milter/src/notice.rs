//! The sender notice: when a message was split (and, if asked, when it was rejected), a short
//! mail to the sender saying who did not get it and why, with the Subject and Message-ID of
//! the message, never its body. Sent over SMTP with lettre to `--notify-smtp`; a notice that
//! cannot be sent is logged and changes nothing else.

use crate::log;
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::Mailbox;
use lettre::transport::smtp::extension::ClientId;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use smime_lint::gateway::{Action, EnvelopeRecipient, Verdict};
use smime_lint::OutgoingMessage;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

/// Notices waiting to be sent at most; beyond it a notice is dropped (and logged), so a dead
/// relay never holds memory or delays a verdict.
const QUEUE: usize = 1000;

/// How long one SMTP exchange with the relay may take.
const SMTP_TIMEOUT: Duration = Duration::from_secs(30);

/// Recipients listed in one notice at most.
const LISTED: usize = 50;

/// One notice to send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notice {
    /// Who gets it: the `MAIL FROM` address, else the From address.
    pub to: String,
    /// Split (some recipients did not get it) or reject (nobody did).
    pub action: Action,
    /// Recipients who did not get it, with why.
    pub refused: Vec<(String, String)>,
    /// How many got it.
    pub delivered: usize,
    /// The SMTP reply of a rejection.
    pub reply: Vec<String>,
    pub subject: Option<String>,
    pub message_id: Option<String>,
    pub queue_id: Option<String>,
    /// The MTA's host name (its `j` macro): the default From domain.
    pub mta_host: Option<String>,
}

impl Notice {
    /// The notice for `verdict` on the message whose header is `header`; `None` when there is
    /// nobody to send it to.
    pub fn new(
        mail_from: &str,
        header: &[u8],
        verdict: &Verdict,
        queue_id: Option<String>,
        mta_host: Option<String>,
    ) -> Option<Notice> {
        let mut block = header.to_vec();
        block.extend_from_slice(b"\r\n");
        let parsed = OutgoingMessage::parse(&block).ok();
        let to = EnvelopeRecipient::new(mail_from)
            .address
            .ok()
            .map(|a| a.as_str().to_owned())
            .or_else(|| parsed.as_ref()?.author().map(|a| a.as_str().to_owned()))?;
        let refused = match verdict.action {
            Action::Split => verdict.refused().collect::<Vec<_>>(),
            _ => verdict.unreadable().collect(),
        };
        Some(Notice {
            to,
            action: verdict.action,
            refused: refused
                .iter()
                .map(|r| {
                    (
                        r.recipient.clone(),
                        r.reason.clone().unwrap_or_else(|| "cannot decrypt it".into()),
                    )
                })
                .collect(),
            delivered: verdict.deliver().count(),
            reply: verdict.reply.as_ref().map(|r| r.lines.clone()).unwrap_or_default(),
            subject: parsed.as_ref().and_then(|p| p.subject.clone()),
            message_id: parsed.as_ref().and_then(|p| p.message_id.clone()),
            queue_id,
            mta_host,
        })
    }

    /// The Subject of the notice.
    pub fn title(&self) -> String {
        let what = match self.action {
            Action::Split => format!(
                "Not delivered to {} recipient{}",
                self.refused.len(),
                if self.refused.len() == 1 { "" } else { "s" }
            ),
            _ => "Not delivered".to_owned(),
        };
        match &self.subject {
            Some(s) if !s.trim().is_empty() => format!("{what}: {}", s.trim()),
            _ => what,
        }
    }

    /// The text of the notice.
    pub fn text(&self) -> String {
        let mut t = String::new();
        match self.action {
            Action::Split => {
                let total = self.delivered + self.refused.len();
                t.push_str(&format!(
                    "Your message was delivered to {} of its {total} recipients.\n\
                     The others did not get it: it is encrypted (S/MIME),\n\
                     and they could not have decrypted it.\n\n",
                    self.delivered
                ));
            }
            _ => {
                t.push_str(
                    "Your message was not delivered to anyone.\nThe mail server answered:\n\n",
                );
                for line in &self.reply {
                    t.push_str(&format!("  {line}\n"));
                }
                t.push('\n');
            }
        }
        if !self.refused.is_empty() {
            t.push_str("Who cannot read it, and why:\n");
            for (who, why) in self.refused.iter().take(LISTED) {
                t.push_str(&format!("  {who}: {why}\n"));
            }
            if self.refused.len() > LISTED {
                t.push_str(&format!("  ... and {} more\n", self.refused.len() - LISTED));
            }
            t.push_str(
                "\nWhat to do: send it to them again unencrypted, or encrypted once\n\
                 your mail program has their certificate (for instance after they\n\
                 have sent you a signed message).\n",
            );
        }
        t.push_str("\nThe message:\n");
        t.push_str(&format!("  Subject: {}\n", self.subject.as_deref().unwrap_or("(none)")));
        t.push_str(&format!("  Message-ID: {}\n", self.message_id.as_deref().unwrap_or("(none)")));
        if let Some(q) = &self.queue_id {
            t.push_str(&format!("  Queue id: {q}\n"));
        }
        t.push_str("\n-- \nThe S/MIME check of your mail server (smime-lint)\n");
        t
    }
}

/// Queues notices for the worker that sends them; cloned into every session.
#[derive(Clone)]
pub struct Notifier {
    queue: mpsc::Sender<Notice>,
}

/// The task that sends the queued notices one after another.
pub struct NoticeWorker {
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl Notifier {
    /// A notifier relaying through `relay` (HOST:PORT) with From `from` (default postmaster at
    /// the MTA's host name), and its worker. Must be called inside the tokio runtime.
    pub fn start(relay: &str, from: Option<String>) -> Result<(Notifier, NoticeWorker), String> {
        let (host, port) = relay
            .rsplit_once(':')
            .and_then(|(h, p)| {
                Some((h.trim_start_matches('[').trim_end_matches(']'), p.parse::<u16>().ok()?))
            })
            .filter(|(h, _)| !h.is_empty())
            .ok_or_else(|| format!("--notify-smtp {relay:?}: expected HOST:PORT"))?;
        if let Some(f) = &from {
            f.parse::<lettre::Address>().map_err(|e| format!("--notify-from {f:?}: {e}"))?;
        }
        let transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
            .port(port)
            .timeout(Some(SMTP_TIMEOUT))
            .hello_name(ClientId::Domain("localhost".into()))
            .build();
        let (queue, mut rx) = mpsc::channel::<Notice>(QUEUE);
        let (stop, mut stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            loop {
                let notice = tokio::select! {
                    n = rx.recv() => n,
                    _ = &mut stopped => {
                        // Shutting down: send what is queued, accept nothing new.
                        rx.close();
                        while let Some(n) = rx.recv().await {
                            deliver(&transport, from.as_deref(), &n).await;
                        }
                        None
                    }
                };
                match notice {
                    Some(n) => deliver(&transport, from.as_deref(), &n).await,
                    None => break,
                }
            }
        });
        Ok((Notifier { queue }, NoticeWorker { stop, task }))
    }

    /// Queues `notice`; when the queue is full it is dropped and logged.
    pub fn send(&self, notice: Notice) {
        if let Err(e) = self.queue.try_send(notice) {
            let n = match &e {
                mpsc::error::TrySendError::Full(n) | mpsc::error::TrySendError::Closed(n) => n,
            };
            log::warn(&format!(
                "{}: the notice to {} was dropped: the queue of {QUEUE} notices is full or closed",
                n.queue_id.as_deref().unwrap_or("-"),
                n.to,
            ));
        }
    }
}

impl NoticeWorker {
    /// Sends what is queued, for at most `grace`, and stops.
    pub async fn finish(self, grace: Duration) {
        let _ = self.stop.send(());
        let mut task = self.task;
        if tokio::time::timeout(grace, &mut task).await.is_err() {
            log::warn("notices still queued at shutdown were not sent");
            task.abort();
        }
    }
}

async fn deliver(transport: &AsyncSmtpTransport<Tokio1Executor>, from: Option<&str>, n: &Notice) {
    let id = n.queue_id.as_deref().unwrap_or("-");
    match send(transport, from, n).await {
        Ok(()) => log::info(&format!("{id}: notice sent to {}", n.to)),
        Err(why) => log::warn(&format!("{id}: the notice to {} could not be sent: {why}", n.to)),
    }
}

async fn send(
    transport: &AsyncSmtpTransport<Tokio1Executor>,
    from: Option<&str>,
    notice: &Notice,
) -> Result<(), String> {
    let from_address = match from {
        Some(f) => f.to_owned(),
        None => format!("postmaster@{}", notice.mta_host.as_deref().unwrap_or("localhost")),
    };
    let from: Mailbox = format!("smime-lint gateway <{from_address}>")
        .parse()
        .map_err(|e| format!("From {from_address:?}: {e}"))?;
    let to_address: lettre::Address =
        notice.to.parse().map_err(|e| format!("address {:?}: {e}", notice.to))?;
    let mut builder = lettre::Message::builder()
        .from(from)
        .to(Mailbox::new(None, to_address.clone()))
        .subject(notice.title())
        .header(ContentType::TEXT_PLAIN)
        // RFC 3834: an automatic message; auto-responders must not answer it.
        .raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str("Auto-Submitted"),
            "auto-generated".to_owned(),
        ));
    if let Some(id) =
        notice.message_id.as_ref().filter(|id| id.is_ascii() && !id.contains(['\r', '\n']))
    {
        let id = if id.starts_with('<') { id.clone() } else { format!("<{id}>") };
        builder = builder.in_reply_to(id.clone()).references(id);
    }
    let email = builder.body(notice.text()).map_err(|e| e.to_string())?;
    // The null reverse path, like a bounce: nothing answers a notice.
    let envelope =
        lettre::address::Envelope::new(None, vec![to_address]).map_err(|e| e.to_string())?;
    transport.send_raw(&envelope, &email.formatted()).await.map(|_| ()).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn notice(action: Action) -> Notice {
        Notice {
            to: "alice@example.com".into(),
            action,
            refused: vec![("dan@example.net".into(), "no certificate".into())],
            delivered: 2,
            reply: vec!["Message refused".into()],
            subject: Some("Plans".into()),
            message_id: Some("<m1@example.com>".into()),
            queue_id: Some("4ABC".into()),
            mta_host: None,
        }
    }

    #[test]
    fn a_split_notice_names_who_did_not_get_it_and_the_message() {
        let n = notice(Action::Split);
        assert_eq!(n.title(), "Not delivered to 1 recipient: Plans");
        let t = n.text();
        assert!(t.contains("delivered to 2 of its 3 recipients."), "{t}");
        assert!(t.contains("  dan@example.net: no certificate\n"), "{t}");
        assert!(t.contains("Message-ID: <m1@example.com>"), "{t}");
    }

    #[test]
    fn a_reject_notice_quotes_the_reply() {
        let n = notice(Action::Reject);
        assert_eq!(n.title(), "Not delivered: Plans");
        assert!(n.text().contains("  Message refused\n"));
    }

    #[test]
    fn the_sender_is_mail_from_else_from() {
        use smime_lint::gateway::{error_verdict, Envelope, GatewayPolicy};
        let v = error_verdict(&Envelope::default(), &GatewayPolicy::default(), "x");
        let header = b"From: Alice <alice@example.com>\r\nSubject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=\r\n";
        let n = Notice::new("<bounce@example.org>", header, &v, None, None).unwrap();
        assert_eq!(n.to, "bounce@example.org");
        assert_eq!(n.subject.as_deref(), Some("Grüße"));
        let n = Notice::new("<>", header, &v, None, None).unwrap();
        assert_eq!(n.to, "alice@example.com");
        assert!(Notice::new("<>", b"Subject: x\r\n", &v, None, None).is_none());
    }

    #[tokio::test]
    async fn a_bad_relay_is_refused_at_start() {
        assert!(Notifier::start("no-port", None).is_err());
        assert!(Notifier::start("127.0.0.1:25", Some("not an address".into())).is_err());
    }
}
