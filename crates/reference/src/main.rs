//! The `appmixer-reference` binary: serves the in-memory Appmixer API on a
//! local port until Ctrl-C.
//!
//! `cargo run -p appmixer-reference -- --port 2200` serves on Appmixer's
//! default port; `--port 0` lets the system pick one. The first line printed
//! is the address, so scripts can read it. `--fault NAME` (repeatable, or
//! `APPMIXER_REFERENCE_FAULTS=NAME,NAME`) switches planted faults on, to
//! check that a conformance harness catches them; `--list-faults` prints
//! their catalogue.

use std::io::IsTerminal as _;
use std::net::SocketAddr;

use anyhow::Context;
use appmixer_reference::{Config, Fault};
use clap::Parser;
use tokio::net::TcpListener;
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

    /// Print the catalogue of planted faults and exit.
    #[arg(long)]
    list_faults: bool,
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
    println!("appmixer-reference listening on http://{addr}");

    let config = args
        .faults
        .into_iter()
        .fold(Config::default(), Config::with_fault);
    let app = appmixer_reference::router(config);
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            if let Err(error) = tokio::signal::ctrl_c().await {
                tracing::error!(%error, "cannot wait for Ctrl-C; stopping");
            }
            tracing::info!("Ctrl-C received; finishing open requests");
        })
        .await
        .context("the server stopped with an error")?;
    Ok(())
}
