//! Serving the API: the accept loop, and running a server on a local port.
//!
//! [`serve`] answers HTTP/1.1 on a listener until its shutdown signal
//! fires. It bounds what a client can hold: a request head must arrive
//! within [`Config::header_read_timeout`], its body within
//! [`Config::body_read_timeout`] of the server starting to read it (a 408
//! that closes the connection otherwise), and once shutdown begins, open
//! requests have [`Config::shutdown_grace`] to finish before their
//! connections are dropped, so a stalled client can delay a shutdown but
//! never prevent it. [`spawn`] and [`spawn_with`] bind 127.0.0.1 on a port
//! the system picks and serve in a background task until the [`Server`] is
//! shut down or dropped.

use std::future::Future;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::pin::pin;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::{JoinHandle, JoinSet};

use crate::{Config, router};

/// How long to wait before accepting again after the listener failed for a
/// reason other than one peer going away (e.g. out of file descriptors).
const ACCEPT_RETRY: Duration = Duration::from_secs(1);

/// A reference server serving in the background.
///
/// Dropping it stops it like [`Server::shutdown`] does, without waiting:
/// the listener closes, and open requests get the shutdown grace to finish.
#[derive(Debug)]
pub struct Server {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

/// Starts a server with [`Config::default`] on `127.0.0.1`, port 0.
pub async fn spawn() -> io::Result<Server> {
    spawn_with(Config::default()).await
}

/// Starts a server with `config` on `127.0.0.1`, port 0.
pub async fn spawn_with(config: Config) -> io::Result<Server> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
    let addr = listener.local_addr()?;
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(serve(listener, config, async {
        // A dropped sender stops the server as well as a sent value.
        let _ = stopped.await;
    }));
    tracing::info!(%addr, "appmixer-reference listening");
    Ok(Server {
        addr,
        stop: Some(stop),
        task: Some(task),
    })
}

/// Serves the API with `config` on `listener` until `shutdown` completes,
/// then closes the listener, lets open requests finish for the configured
/// grace, drops the connections still open, and returns.
///
/// Connections speak HTTP/1.1. A client that takes longer than the header
/// read timeout to send a request head, or leaves a kept-alive connection
/// idle that long, is disconnected without an answer; one that takes
/// longer than the body read timeout to send a body the server reads is
/// answered 408 and disconnected.
pub async fn serve(listener: TcpListener, config: Config, shutdown: impl Future<Output = ()>) {
    let grace = config.shutdown_grace;
    let mut http = http1::Builder::new();
    // Requests hyper cannot parse never reach the router, so they are the
    // one kind of refusal without a Boom body: hyper answers them itself,
    // with an empty body, and offers no hook to give it one. That is 400
    // for a malformed request line or header (a raw `"` in the query, which
    // the `http` crate's URI parser refuses), 414 for a request target over
    // 64 KiB (a constant in hyper) and 431 for a head over hyper's read
    // buffer. None of these is a limit the server sets, so there is none to
    // raise; a client that percent-encodes its URIs never meets them.
    http.timer(TokioTimer::new())
        .header_read_timeout(config.header_read_timeout);
    let app = router(config);
    let graceful = GracefulShutdown::new();
    let mut connections = JoinSet::new();
    let mut shutdown = pin!(shutdown);

    loop {
        tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    let service = TowerToHyperService::new(app.clone());
                    let connection =
                        graceful.watch(http.serve_connection(TokioIo::new(stream), service));
                    connections.spawn(async move {
                        if let Err(error) = connection.await {
                            tracing::debug!(%peer, %error, "a connection ended with an error");
                        }
                    });
                }
                Err(error) if is_peer_error(&error) => {
                    tracing::debug!(%error, "a peer left before its connection was accepted");
                }
                Err(error) => {
                    tracing::error!(%error, "accepting a connection failed; retrying in a second");
                    tokio::time::sleep(ACCEPT_RETRY).await;
                }
            },
            // Finished connections are collected as they end, so that a
            // long-running server does not keep one entry per connection.
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }

    drop(listener);
    while connections.try_join_next().is_some() {}
    tracing::debug!(
        open = connections.len(),
        ?grace,
        "shutting down: open requests may finish within the grace"
    );
    if tokio::time::timeout(grace, graceful.shutdown())
        .await
        .is_err()
    {
        while connections.try_join_next().is_some() {}
        tracing::warn!(
            open = connections.len(),
            ?grace,
            "connections still open after the shutdown grace are dropped"
        );
    }
    connections.shutdown().await;
}

/// Whether an accept error concerns one peer only, so that accepting the
/// next connection at once is right.
fn is_peer_error(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionReset
    )
}

impl Server {
    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The base URL of the API, e.g. `http://127.0.0.1:41234`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting connections, lets open requests finish for the
    /// shutdown grace, drops the connections still open after it, and waits
    /// until the server has stopped.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take()
            && let Err(error) = task.await
        {
            tracing::warn!(%error, "the server task failed");
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
