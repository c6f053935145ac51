//! The daemon: listen, serve sessions, reload on SIGHUP, stop on SIGTERM.

use crate::log;
use crate::notice::Notifier;
use crate::options::{Listen, Options};
use crate::session::{self, Shared, WANTED_ACTIONS};
use crate::store::{self, StoreHandle};
use indymilter::{Config, EitherListener};
use smime_lint::gateway::Action;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, UnixListener};
use tokio::signal::unix::{signal, SignalKind};

/// How long notices still queued at shutdown may take.
const NOTICE_GRACE: Duration = Duration::from_secs(10);

/// Runs the daemon until SIGTERM or SIGINT. Exit codes: 0 after a clean stop, 1 when the
/// socket fails, 2 for a usage or start-up error (bad policy, unreadable certificates, a socket
/// that cannot be bound).
pub fn run(options: Options) -> ExitCode {
    let policy = match options.policy.policy() {
        Ok(p) => p,
        Err(e) => {
            log::warn(&format!("{e}"));
            return ExitCode::from(2);
        }
    };
    let store = match store::load(&options.store, false) {
        Ok(s) => s,
        Err(e) => {
            log::warn(&format!("cannot load the certificates: {e}"));
            return ExitCode::from(2);
        }
    };
    if store.is_empty() {
        log::warn("no certificate loaded: every encrypted message will be judged unreadable");
    }
    let mut accept_unchecked = policy.clone();
    // Only tempfail and accept exist for errors; accept always succeeds.
    let _ = accept_unchecked.set_on_error(Action::Accept);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            log::warn(&format!("cannot start: {e}"));
            return ExitCode::from(2);
        }
    };
    runtime.block_on(async move {
        let (notifier, worker) = match &options.notify_smtp {
            Some(relay) => match Notifier::start(relay, options.notify_from.clone()) {
                Ok((n, w)) => (Some(n), Some(w)),
                Err(e) => {
                    log::warn(&e);
                    return ExitCode::from(2);
                }
            },
            None => (None, None),
        };
        let certificates = store.len();
        let shared = Arc::new(Shared {
            store: StoreHandle::new(store),
            policy,
            accept_unchecked,
            max_size: options.max_size,
            on_oversize: options.on_oversize.into(),
            timeout: options.verdict_timeout(),
            notifier,
            notify_on_reject: options.notify_on_reject,
        });
        let code = serve(options, shared, certificates).await;
        // The sessions are done; the notices they queued go out now.
        if let Some(w) = worker {
            w.finish(NOTICE_GRACE).await;
        }
        code
    })
}

async fn serve(options: Options, shared: Arc<Shared>, certificates: usize) -> ExitCode {
    let listener = match bind(&options).await {
        Ok(l) => l,
        Err(e) => {
            log::warn(&format!("cannot listen on {}: {e}", options.listen));
            return ExitCode::from(2);
        }
    };
    let (mut hangup, mut terminate, mut interrupt) = match (
        signal(SignalKind::hangup()),
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) {
        (Ok(h), Ok(t), Ok(i)) => (h, t, i),
        _ => {
            log::warn("cannot install the signal handlers");
            return ExitCode::from(2);
        }
    };

    let reloading = shared.clone();
    let store_options = options.store.clone();
    let reloader = tokio::spawn(async move {
        while hangup.recv().await.is_some() {
            let opts = store_options.clone();
            let loaded = tokio::task::spawn_blocking(move || store::load(&opts, true)).await;
            let before = reloading.store.current().len();
            match loaded {
                Ok(Ok(store)) => {
                    let n = store.len();
                    reloading.store.replace(store);
                    log::info(&format!("certificates reloaded: {n} (before: {before})"));
                }
                Ok(Err(e)) => log::warn(&format!(
                    "reload failed, keeping the {before} certificates loaded before: {e}"
                )),
                Err(e) => log::warn(&format!(
                    "reload failed, keeping the {before} certificates loaded before: {e}"
                )),
            }
        }
    });

    let shutdown = async move {
        tokio::select! {
            _ = terminate.recv() => {}
            _ = interrupt.recv() => {}
        }
        log::info("stopping: finishing the messages in progress");
    };
    let config = Config {
        max_connections: options.max_sessions as usize,
        actions: WANTED_ACTIONS,
        ..Config::default()
    };
    log::info(&format!(
        "listening on {} with {certificates} certificates (max size {} bytes)",
        options.listen, options.max_size
    ));
    let result = indymilter::run(listener, session::callbacks(shared), config, shutdown).await;
    reloader.abort();
    if let Listen::Unix(path) = &options.listen {
        let _ = std::fs::remove_file(path);
    }
    match result {
        Ok(()) => {
            log::info("stopped");
            ExitCode::SUCCESS
        }
        Err(e) => {
            log::warn(&format!("the socket failed: {e}"));
            ExitCode::from(1)
        }
    }
}

/// A TCP listener for MTA connections that answer at once in both directions.
///
/// At end of message the milter writes several packets in a row (header edits, then the
/// verdict), which Nagle's algorithm would hold back: TCP_NODELAY. And the MTA sends several
/// packets the milter does not answer (macros; MAIL, RCPT and header fields under NOREPLY);
/// Postfix writes with Nagle on, so each of its small writes waits for the ACK of the one
/// before, which Linux delays up to 40 ms when it has nothing to send back: TCP_QUICKACK after
/// every read ([`QuickAck`]).
struct TcpListenerQuick(TcpListener);

impl indymilter::Listener for TcpListenerQuick {
    type Io = QuickAck;

    fn poll_accept(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<Self::Io>> {
        self.0.poll_accept(cx).map_ok(|(stream, _)| {
            let _ = stream.set_nodelay(true);
            let _ = socket2::SockRef::from(&stream).set_tcp_quickack(true);
            QuickAck(stream)
        })
    }
}

/// A TCP stream that goes back to quick-ACK mode after each read (the kernel leaves it on its
/// own).
pub struct QuickAck(tokio::net::TcpStream);

impl tokio::io::AsyncRead for QuickAck {
    fn poll_read(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        let this = self.get_mut();
        let polled = std::pin::Pin::new(&mut this.0).poll_read(cx, buf);
        if let std::task::Poll::Ready(Ok(())) = polled {
            let _ = socket2::SockRef::from(&this.0).set_tcp_quickack(true);
        }
        polled
    }
}

impl tokio::io::AsyncWrite for QuickAck {
    fn poll_write(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::pin::Pin::new(&mut self.get_mut().0).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::pin::Pin::new(&mut self.get_mut().0).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.0.is_write_vectored()
    }

    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.get_mut().0).poll_flush(cx)
    }

    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.get_mut().0).poll_shutdown(cx)
    }
}

async fn bind(
    options: &Options,
) -> std::io::Result<EitherListener<TcpListenerQuick, UnixListener>> {
    match &options.listen {
        Listen::Inet(addr) => {
            Ok(EitherListener::Tcp(TcpListenerQuick(TcpListener::bind(addr).await?)))
        }
        Listen::Unix(path) => {
            use std::os::unix::fs::{FileTypeExt, PermissionsExt};
            // A socket left by a previous run is replaced; any other file is not touched.
            if let Ok(meta) = std::fs::symlink_metadata(path) {
                if meta.file_type().is_socket() {
                    std::fs::remove_file(path)?;
                } else {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::AlreadyExists,
                        "a file that is not a socket is in the way",
                    ));
                }
            }
            let listener = UnixListener::bind(path)?;
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(options.socket_mode))?;
            Ok(EitherListener::Unix(listener))
        }
    }
}
