//! The milter callbacks: collect the envelope and the message, judge it at end of message,
//! and tell the MTA what to do.

use crate::log;
use crate::message::{Message, HEADER};
use crate::notice::{Notice, Notifier};
use crate::store::StoreHandle;
use bytes::Bytes;
use indymilter::{
    Actions, Callbacks, Context, ContextActions, EomContext, MacroStage, NegotiateContext,
    ProtoOpts, SetErrorReply, Status,
};
use smime_lint::gateway::{self, Action, Envelope, GatewayPolicy, SmtpReply, Verdict};
use smime_lint::Time;
use std::ffi::CString;
use std::sync::Arc;
use std::time::Duration;

/// What every session shares: the store (swapped on SIGHUP), the policy and the limits.
pub struct Shared {
    pub store: StoreHandle,
    pub policy: GatewayPolicy,
    /// The policy with `on_error` = accept: what `--on-oversize accept` gives.
    pub accept_unchecked: GatewayPolicy,
    pub max_size: u64,
    pub on_oversize: Action,
    pub timeout: Duration,
    pub notifier: Option<Notifier>,
    pub notify_on_reject: bool,
}

/// The actions the milter asks the MTA for: add its header, remove forged copies, remove
/// recipients when splitting, and name the macros it wants.
pub const WANTED_ACTIONS: Actions = Actions::ADD_HEADER
    .union(Actions::CHANGE_HEADER)
    .union(Actions::DELETE_RCPT)
    .union(Actions::REQUEST_MACROS);

/// Stages whose replies the MTA need not wait for: the milter never refuses a sender, a
/// recipient or a header field on its own (Postfix offers these with `milter_protocol = 6`).
/// Over TCP this relies on the connection acknowledging at once (see `daemon::QuickAck`).
const NO_REPLY: ProtoOpts =
    ProtoOpts::NOREPLY_MAIL.union(ProtoOpts::NOREPLY_RCPT).union(ProtoOpts::NOREPLY_HEADER);

/// One MTA connection.
#[derive(Debug, Default)]
pub struct Connection {
    /// The negotiated protocol options (which stages need no reply, whether SKIP is known).
    opts: ProtoOpts,
    /// The actions the MTA granted.
    actions: Actions,
    /// The message in progress, from MAIL FROM to end of message.
    message: Option<Message>,
}

impl Connection {
    /// Continue, or nothing when the MTA was told not to wait for a reply at this stage.
    fn reply(&self, noreply: ProtoOpts) -> Status {
        if self.opts.contains(noreply) {
            Status::Noreply
        } else {
            Status::Continue
        }
    }
}

/// The callbacks, sharing `shared`.
pub fn callbacks(shared: Arc<Shared>) -> Callbacks<Connection> {
    let (s1, s2, s3) = (shared.clone(), shared.clone(), shared);
    Callbacks::new()
        .on_negotiate(|cx, actions, opts| Box::pin(negotiate(cx, actions, opts)))
        .on_mail(|cx, args| Box::pin(mail(cx, args)))
        .on_rcpt(|cx, args| Box::pin(rcpt(cx, args)))
        .on_header(move |cx, name, value| Box::pin(header(s1.clone(), cx, name, value)))
        .on_body(move |cx, chunk| Box::pin(body(s2.clone(), cx, chunk)))
        .on_eom(move |cx| Box::pin(eom(s3.clone(), cx)))
        .on_abort(|cx| Box::pin(abort(cx)))
}

async fn negotiate(
    cx: &mut NegotiateContext<Connection>,
    offered: Actions,
    offered_opts: ProtoOpts,
) -> Status {
    cx.requested_actions = WANTED_ACTIONS & offered;
    cx.requested_opts |= offered_opts & NO_REPLY;
    if offered.contains(Actions::REQUEST_MACROS) {
        // The queue id for the log line, the MTA's host name for notices.
        if let Ok(names) = CString::new("i j") {
            cx.requested_macros.insert(MacroStage::Eom, names);
        }
    }
    cx.data =
        Some(Connection { opts: cx.requested_opts, actions: cx.requested_actions, message: None });
    Status::Continue
}

fn connection(data: &mut Option<Connection>) -> &mut Connection {
    data.get_or_insert_with(Connection::default)
}

fn first_arg(args: &[CString]) -> String {
    args.first().map(|a| String::from_utf8_lossy(a.as_bytes()).into_owned()).unwrap_or_default()
}

async fn mail(cx: &mut Context<Connection>, args: Vec<CString>) -> Status {
    let c = connection(&mut cx.data);
    c.message = Some(Message::new(first_arg(&args)));
    c.reply(ProtoOpts::NOREPLY_MAIL)
}

async fn rcpt(cx: &mut Context<Connection>, args: Vec<CString>) -> Status {
    let c = connection(&mut cx.data);
    if let Some(m) = c.message.as_mut() {
        m.add_recipient(first_arg(&args));
    }
    c.reply(ProtoOpts::NOREPLY_RCPT)
}

async fn header(
    shared: Arc<Shared>,
    cx: &mut Context<Connection>,
    name: CString,
    value: CString,
) -> Status {
    let c = connection(&mut cx.data);
    if let Some(m) = c.message.as_mut() {
        m.add_header(name.as_bytes(), value.as_bytes(), shared.max_size);
    }
    c.reply(ProtoOpts::NOREPLY_HEADER)
}

async fn body(shared: Arc<Shared>, cx: &mut Context<Connection>, chunk: Bytes) -> Status {
    let c = connection(&mut cx.data);
    let Some(m) = c.message.as_mut() else { return Status::Continue };
    m.add_body(&chunk, shared.max_size);
    if !m.oversize {
        return Status::Continue;
    }
    // Too large to check: refuse now rather than read the rest, or let the rest pass by.
    match shared.on_oversize {
        Action::Reject | Action::Tempfail => {
            let queue_id = macro_value(&cx.macros, "i");
            let status = refuse_oversize(&shared, &mut cx.reply);
            log::oversize(queue_id.as_deref(), m, shared.on_oversize, shared.max_size);
            c.message = None;
            status
        }
        // Accept unchecked at end of message: the rest of the body is not needed.
        _ if c.opts.contains(ProtoOpts::SKIP) => Status::Skip,
        _ => Status::Continue,
    }
}

async fn abort(cx: &mut Context<Connection>) -> Status {
    connection(&mut cx.data).message = None;
    Status::Continue
}

fn macro_value(macros: &indymilter::Macros, name: &str) -> Option<String> {
    let name = CString::new(name).ok()?;
    let v = macros.get(&name)?;
    let v = String::from_utf8_lossy(v.to_bytes()).trim().to_owned();
    (!v.is_empty()).then_some(v)
}

/// `--on-oversize reject|tempfail`: 552 5.3.4 / 451 4.3.4.
fn refuse_oversize(shared: &Shared, reply: &mut impl SetErrorReply) -> Status {
    let (code, enhanced, status) = match shared.on_oversize {
        Action::Reject => (552, "5.3.4", Status::Reject),
        _ => (451, "4.3.4", Status::Tempfail),
    };
    let text = format!(
        "Message too large for the S/MIME check: more than {} bytes{}",
        shared.max_size,
        if status == Status::Tempfail { "; please try again later" } else { "" }
    );
    let r = SmtpReply::new(code, enhanced, &[text]);
    set_reply(reply, &r);
    status
}

/// Sets the SMTP reply. libmilter treats the text as a format string, so every `%` is doubled
/// (Postfix and Sendmail undo it).
fn set_reply(reply: &mut impl SetErrorReply, r: &SmtpReply) {
    let code = r.code.to_string();
    let lines: Vec<String> = r.lines.iter().map(|l| l.replace('%', "%%")).collect();
    if reply.set_error_reply(&code, Some(&r.enhanced), lines).is_err() {
        // Only a library defect could get here (the reply is printable ASCII within limits):
        // the bare status still refuses the message.
        log::warn(&format!("the reply {code} {} could not be set", r.enhanced));
    }
}

async fn eom(shared: Arc<Shared>, cx: &mut EomContext<Connection>) -> Status {
    let queue_id = macro_value(&cx.macros, "i");
    let mta_host = macro_value(&cx.macros, "j");
    let c = connection(&mut cx.data);
    let granted = c.actions;
    let Some(mut m) = c.message.take() else {
        // End of message without MAIL FROM: nothing to judge, a confused client.
        let v = gateway::error_verdict(&Envelope::default(), &shared.policy, "no envelope");
        return refuse(&mut cx.reply, &v);
    };
    m.end_of_header(shared.max_size);
    let envelope = Envelope::new(&m.mail_from, m.rcpt.iter().map(String::as_str));

    let (verdict, raw) = if m.oversize {
        match shared.on_oversize {
            Action::Accept => {
                let why = format!("larger than --max-size ({} bytes)", shared.max_size);
                (gateway::error_verdict(&envelope, &shared.accept_unchecked, &why), None)
            }
            _ => {
                let status = refuse_oversize(&shared, &mut cx.reply);
                log::oversize(queue_id.as_deref(), &m, shared.on_oversize, shared.max_size);
                return status;
            }
        }
    } else if m.too_many_recipients {
        let why = format!("more than {} recipients", crate::message::MAX_RECIPIENTS);
        (gateway::error_verdict(&envelope, &shared.policy, &why), None)
    } else {
        judge(&shared, envelope.clone(), std::mem::take(&mut m.raw)).await
    };

    // The actions at end of message; a failure means the MTA went away or refused an action
    // it granted: the message is then not accepted as judged.
    let mut status = match verdict.action {
        Action::Accept | Action::Split => match edit(&cx.actions, granted, &m, &verdict).await {
            Ok(()) => Status::Continue,
            Err(why) => {
                let v = gateway::error_verdict(&envelope, &shared.policy, &why);
                log::verdict(queue_id.as_deref(), &m, &v);
                return if v.action == Action::Accept {
                    Status::Continue
                } else {
                    refuse(&mut cx.reply, &v)
                };
            }
        },
        _ => Status::Continue,
    };
    if matches!(verdict.action, Action::Reject | Action::Tempfail) {
        status = refuse(&mut cx.reply, &verdict);
    }
    log::verdict(queue_id.as_deref(), &m, &verdict);

    let notify = match verdict.action {
        Action::Split => true,
        Action::Reject => shared.notify_on_reject,
        _ => false,
    };
    if let (true, Some(notifier), Some(raw)) = (notify, shared.notifier.as_ref(), raw) {
        let header = &raw[..m.header_len.min(raw.len())];
        if let Some(n) = Notice::new(&m.mail_from, header, &verdict, queue_id, mta_host) {
            notifier.send(n);
        }
    }
    status
}

/// Messages up to this size and recipient count are judged on the session's own thread: the
/// library's bounds keep such a verdict well under a millisecond (about 100 µs for 20 KB),
/// and handing it to a blocking thread and back cost a quarter of the daemon's CPU per message
/// in the load benchmark. Larger ones go to a blocking thread under `--verdict-timeout`; an
/// inline verdict that took longer than the limit all the same is answered as a time-out, so
/// the limit means the same for every message.
const INLINE_BYTES: usize = 64 * 1024;
const INLINE_RECIPIENTS: usize = 100;

/// The verdict, within the time limit for anything large. Returns the message bytes back when
/// the check finished (for the notice).
async fn judge(
    shared: &Arc<Shared>,
    envelope: Envelope,
    raw: Vec<u8>,
) -> (Verdict, Option<Vec<u8>>) {
    let at = Time::now();
    let store = shared.store.current();
    if raw.len() <= INLINE_BYTES && envelope.rcpt_to.len() <= INLINE_RECIPIENTS {
        let started = std::time::Instant::now();
        let v = gateway::verdict(&raw, &envelope, &store, at, &shared.policy);
        if started.elapsed() > shared.timeout {
            let why = format!("the check took longer than {:?}", shared.timeout);
            return (gateway::error_verdict(&envelope, &shared.policy, &why), None);
        }
        return (v, Some(raw));
    }
    let s = shared.clone();
    let env = envelope.clone();
    let task = tokio::task::spawn_blocking(move || {
        let v = gateway::verdict(&raw, &env, &store, at, &s.policy);
        (v, raw)
    });
    match tokio::time::timeout(shared.timeout, task).await {
        Ok(Ok((v, raw))) => (v, Some(raw)),
        Ok(Err(e)) => {
            let why = if e.is_panic() { "the check panicked" } else { "the check was cancelled" };
            (gateway::error_verdict(&envelope, &shared.policy, why), None)
        }
        Err(_) => {
            let why = format!("the check took longer than {:?}", shared.timeout);
            (gateway::error_verdict(&envelope, &shared.policy, &why), None)
        }
    }
}

/// Accept or split: remove forged copies of the header, remove the refused recipients, add the
/// header.
async fn edit(
    actions: &impl ContextActions,
    granted: Actions,
    m: &Message,
    v: &Verdict,
) -> Result<(), String> {
    if v.action == Action::Split {
        if !granted.contains(Actions::DELETE_RCPT) {
            return Err("the MTA does not let the milter remove recipients".into());
        }
        for r in v.refused() {
            actions
                .delete_recipient(r.path.as_str())
                .await
                .map_err(|e| format!("removing recipient {}: {e}", r.path))?;
        }
    }
    if m.forged_headers > 0 {
        if !granted.contains(Actions::CHANGE_HEADER) {
            return Err(format!(
                "the MTA does not let the milter remove the {HEADER} header the message carries"
            ));
        }
        // Last first: the indexes of the earlier ones stay as they were.
        for index in (1..=m.forged_headers).rev() {
            actions
                .change_header(HEADER, index, None::<&str>)
                .await
                .map_err(|e| format!("removing {HEADER} #{index}: {e}"))?;
        }
    }
    if granted.contains(Actions::ADD_HEADER) {
        actions
            .add_header(HEADER, v.header_value())
            .await
            .map_err(|e| format!("adding {HEADER}: {e}"))?;
    }
    Ok(())
}

/// Reject or tempfail with the verdict's reply.
fn refuse(reply: &mut impl SetErrorReply, v: &Verdict) -> Status {
    if let Some(r) = &v.reply {
        set_reply(reply, r);
    }
    match v.action {
        Action::Reject => Status::Reject,
        Action::Accept | Action::Split => Status::Continue,
        _ => Status::Tempfail,
    }
}
