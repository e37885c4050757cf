//! The `appmixer-reference` binary: serves the in-memory Appmixer API on a
//! local port until Ctrl-C.
//!
//! `cargo run -p appmixer-reference -- --port 2200` serves on Appmixer's
//! default port; `--port 0` lets the system pick one. The first line printed
//! is the address, so scripts can read it. `--fault NAME` (repeatable, or
//! `APPMIXER_REFERENCE_FAULTS=NAME,NAME`) switches planted faults on, to
//! check that a conformance harness catches them; `--list-faults` prints
//! their catalogue.
//!
//! The first Ctrl-C stops accepting connections and gives open requests
//! `--shutdown-grace` seconds to finish; a second Ctrl-C stops at once.

use std::io::IsTerminal as _;
use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use appmixer_reference::{Config, Fault};
use clap::Parser;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tracing_subscriber::EnvFilter;

/// Serves an in-memory, Appmixer-compatible REST API.
#[derive(Debug, Parser)]
#[command(name = "appmixer-reference", version)]
struct Args {
    /// The port to listen on; 0 picks a free one.
    #[arg(long, default_value_t = 2200)]
    port: u16,

    /// The address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,

    /// Switch a planted fault on (repeatable); the server then breaks one of
    /// Appmixer's rules on purpose. `--list-faults` names them.
    #[arg(
        long = "fault",
        value_name = "NAME",
        env = "APPMIXER_REFERENCE_FAULTS",
        value_delimiter = ','
    )]
    faults: Vec<Fault>,

    /// Seconds a client may take to send a request head before its
    /// connection is closed.
    #[arg(long, value_name = "SECONDS", default_value = "30", value_parser = seconds)]
    header_read_timeout: Duration,

    /// Seconds open requests may take to finish after Ctrl-C before their
    /// connections are dropped.
    #[arg(long, value_name = "SECONDS", default_value = "5", value_parser = seconds)]
    shutdown_grace: Duration,

    /// Print the catalogue of planted faults and exit.
    #[arg(long)]
    list_faults: bool,
}

/// A duration given in seconds, fractions allowed (`0.5`).
fn seconds(text: &str) -> Result<Duration, String> {
    text.parse::<f64>()
        .ok()
        .and_then(|seconds| Duration::try_from_secs_f64(seconds).ok())
        .ok_or_else(|| format!("expected a number of seconds such as `5` or `0.5`, got `{text}`"))
}

/// Ctrl-C, as the operating system delivers it.
#[cfg(unix)]
type Interrupts = tokio::signal::unix::Signal;
#[cfg(windows)]
type Interrupts = tokio::signal::windows::CtrlC;

/// Starts watching for Ctrl-C. Presses are counted from here on, so one
/// that comes while the server is busy between two waits is not lost.
#[cfg(unix)]
fn watch_interrupts() -> std::io::Result<Interrupts> {
    tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())
}

/// Starts watching for Ctrl-C. Presses are counted from here on, so one
/// that comes while the server is busy between two waits is not lost.
#[cfg(windows)]
fn watch_interrupts() -> std::io::Result<Interrupts> {
    tokio::signal::windows::ctrl_c()
}

/// Waits for the next Ctrl-C; without a watch, waits forever, so that the
/// server keeps serving until it is killed.
async fn next_interrupt(interrupts: &mut Option<Interrupts>) {
    if let Some(interrupts) = interrupts
        && interrupts.recv().await.is_some()
    {
        return;
    }
    std::future::pending::<()>().await;
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    if args.list_faults {
        print!("{}", appmixer_reference::catalogue());
        return Ok(());
    }

    let listener = TcpListener::bind((args.host.as_str(), args.port))
        .await
        .with_context(|| {
            format!(
                "cannot listen on `{}:{}`; pick a free port with `--port` or another `--host`",
                args.host, args.port
            )
        })?;
    let addr: SocketAddr = listener.local_addr()?;
    // Watched before the address is announced, so that a script that reads
    // it and sends Ctrl-C at once does not find Ctrl-C still unwatched.
    let mut interrupts = watch_interrupts()
        .inspect_err(|error| {
            tracing::error!(%error, "cannot watch for Ctrl-C; the server runs until it is killed");
        })
        .ok();
    println!("appmixer-reference listening on http://{addr}");

    let grace = args.shutdown_grace;
    let config = args
        .faults
        .into_iter()
        .fold(Config::default(), Config::with_fault)
        .with_header_read_timeout(args.header_read_timeout)
        .with_shutdown_grace(grace);
    let (stop, stopped) = oneshot::channel::<()>();
    let mut serving = tokio::spawn(appmixer_reference::serve(listener, config, async {
        let _ = stopped.await;
    }));

    tokio::select! {
        finished = &mut serving => return finished.context("the server task failed"),
        () = next_interrupt(&mut interrupts) => {}
    }
    tracing::info!(
        ?grace,
        "Ctrl-C received; finishing open requests (Ctrl-C again stops at once)"
    );
    let _ = stop.send(());
    tokio::select! {
        finished = &mut serving => finished.context("the server task failed"),
        () = next_interrupt(&mut interrupts) => {
            tracing::warn!("Ctrl-C received again; stopping without waiting for open requests");
            Ok(())
        }
    }
}
