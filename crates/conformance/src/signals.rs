//! The operator's requests to stop a run: Ctrl-C, and on Unix SIGTERM and
//! SIGHUP.
//!
//! `kill`, `timeout`, a cancelled CI job and `docker stop` send SIGTERM; a
//! closed terminal sends SIGHUP. Each is taken as Ctrl-C is: the run stops
//! sending checks, cleans up what it created and writes its report. Their
//! handlers are installed when [`StopSignals::install`] is called, at the
//! start of a run, so that a signal arriving at any later moment is seen
//! and not left to the default action, which ends the process at once.

use std::future::pending;

/// The handlers of the signals that ask a run to stop.
pub struct StopSignals {
    #[cfg(unix)]
    unix: Option<UnixSignals>,
}

#[cfg(unix)]
struct UnixSignals {
    interrupt: tokio::signal::unix::Signal,
    terminate: tokio::signal::unix::Signal,
    hangup: tokio::signal::unix::Signal,
}

impl StopSignals {
    /// Installs the handlers. Where one cannot be installed, the run
    /// falls back to Ctrl-C alone.
    pub fn install() -> Self {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let unix = (|| {
                Some(UnixSignals {
                    interrupt: signal(SignalKind::interrupt()).ok()?,
                    terminate: signal(SignalKind::terminate()).ok()?,
                    hangup: signal(SignalKind::hangup()).ok()?,
                })
            })();
            if unix.is_none() {
                tracing::warn!(
                    "cannot handle SIGTERM and SIGHUP; only Ctrl-C stops the run cleanly"
                );
            }
            Self { unix }
        }
        #[cfg(not(unix))]
        {
            Self {}
        }
    }

    /// Waits for the next request to stop and names it: `Ctrl-C`,
    /// `SIGTERM` or `SIGHUP`. Never resolves when no handler could be
    /// installed at all.
    pub async fn next(&mut self) -> &'static str {
        #[cfg(unix)]
        if let Some(unix) = &mut self.unix {
            return tokio::select! {
                _ = unix.interrupt.recv() => "Ctrl-C",
                _ = unix.terminate.recv() => "SIGTERM",
                _ = unix.hangup.recv() => "SIGHUP",
            };
        }
        if tokio::signal::ctrl_c().await.is_err() {
            pending::<()>().await;
        }
        "Ctrl-C"
    }
}
