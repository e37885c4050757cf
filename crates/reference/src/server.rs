//! Running a reference server on a local port.
//!
//! [`spawn`] and [`spawn_with`] bind 127.0.0.1 on a port the system picks and
//! serve in a background task until the [`Server`] is shut down or dropped.

use std::io;
use std::net::{Ipv4Addr, SocketAddr};

use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::{Config, router};

/// A reference server serving in the background.
///
/// Dropping it stops it: the listener closes and open connections finish
/// their current request.
#[derive(Debug)]
pub struct Server {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<io::Result<()>>>,
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
    let app = router(config);
    let task = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                // A dropped sender stops the server as well as a sent value.
                let _ = stopped.await;
            })
            .await
    });
    tracing::info!(%addr, "appmixer-reference listening");
    Ok(Server {
        addr,
        stop: Some(stop),
        task: Some(task),
    })
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

    /// Stops accepting connections, lets open requests finish, and waits
    /// until the server has stopped.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            match task.await {
                Ok(Ok(())) => {}
                Ok(Err(error)) => tracing::warn!(%error, "the server stopped with an error"),
                Err(error) => tracing::warn!(%error, "the server task failed"),
            }
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
