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
//!
//! The exit status tells a script whose mistake a failure was: 2 for a
//! command line that can never work (clap's own code for usage errors), 1
//! for an environment that refused to serve it, such as a port in use.

use std::io::IsTerminal as _;
use std::net::{IpAddr, SocketAddr};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use appmixer_reference::{Config, Fault, UnknownFault};
use clap::Parser;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tracing_subscriber::EnvFilter;

/// The exit status when the environment refused to serve: the address is
/// in use or not this machine's, or serving failed.
const ENVIRONMENT_ERROR: u8 = 1;

/// What `--help` says after the options.
const AFTER_HELP: &str = "\
Exit status:
  0  stopped by Ctrl-C, or printed what --help, --version or --list-faults asked for
  1  the environment refused: the port is in use, the address is not this machine's,
     or serving failed
  2  the command line is wrong: an unknown option, a bad option value, or an unknown
     fault name (also from APPMIXER_REFERENCE_FAULTS)";

/// Serves an in-memory, Appmixer-compatible REST API.
#[derive(Debug, Parser)]
#[command(name = "appmixer-reference", version, after_help = AFTER_HELP)]
struct Args {
    /// The port to listen on; 0 picks a free one.
    #[arg(long, default_value_t = 2200)]
    port: u16,

    /// The IP address to listen on, such as `127.0.0.1` or `::1`.
    #[arg(long, value_name = "ADDRESS", default_value = "127.0.0.1", value_parser = ip_address)]
    host: IpAddr,

    /// Switch planted faults on: a comma-separated list of names,
    /// repeatable; the server then breaks those of Appmixer's rules on
    /// purpose. Spaces around names and empty items are ignored, so an
    /// empty value switches none on. `--list-faults` names them.
    #[arg(
        long = "fault",
        value_name = "NAME[,NAME…]",
        env = "APPMIXER_REFERENCE_FAULTS",
        value_parser = fault_list
    )]
    faults: Vec<FaultList>,

    /// Seconds a client may take to send a request head before its
    /// connection is closed.
    #[arg(long, value_name = "SECONDS", default_value = "30", value_parser = seconds)]
    header_read_timeout: Duration,

    /// Seconds a client may take to send a request body, counted from when
    /// the server starts reading it, before it answers 408 and closes the
    /// connection.
    #[arg(long, value_name = "SECONDS", default_value = "30", value_parser = seconds)]
    body_read_timeout: Duration,

    /// Seconds open requests may take to finish after Ctrl-C before their
    /// connections are dropped.
    #[arg(long, value_name = "SECONDS", default_value = "5", value_parser = seconds)]
    shutdown_grace: Duration,

    /// Print the catalogue of planted faults and exit.
    #[arg(long)]
    list_faults: bool,
}

/// The faults one `--fault` value names.
#[derive(Debug, Clone, PartialEq, Eq)]
struct FaultList(Vec<Fault>);

/// Parses `NAME,NAME`; spaces around names and empty items are ignored,
/// because lists assembled by scripts often have them (`a,` or `a,,b`), and
/// an empty environment variable is meant as no faults at all.
fn fault_list(text: &str) -> Result<FaultList, UnknownFault> {
    text.split(',')
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .map(str::parse)
        .collect::<Result<_, _>>()
        .map(FaultList)
}

/// An IP address to listen on; a host name is refused rather than looked
/// up, so that the server never listens somewhere its caller did not name.
fn ip_address(text: &str) -> Result<IpAddr, String> {
    text.parse()
        .map_err(|_| format!("expected an IP address such as `127.0.0.1` or `::1`, got `{text}`"))
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
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .init();
    // Usage errors end the process here, with clap's exit status 2.
    let args = Args::parse();
    if args.list_faults {
        print!("{}", appmixer_reference::catalogue());
        return ExitCode::SUCCESS;
    }
    match run(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(ENVIRONMENT_ERROR)
        }
    }
}

/// Listens as `args` say and serves until Ctrl-C.
async fn run(args: Args) -> anyhow::Result<()> {
    let wanted = SocketAddr::new(args.host, args.port);
    let listener = TcpListener::bind(wanted).await.with_context(|| {
        format!("cannot listen on `{wanted}`; pick a free port with `--port` or another `--host`")
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
        .flat_map(|FaultList(faults)| faults)
        .fold(Config::default(), Config::with_fault)
        .with_header_read_timeout(args.header_read_timeout)
        .with_body_read_timeout(args.body_read_timeout)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_fault_list_switches_no_fault_on() {
        for text in ["", " ", ",", " , ,"] {
            assert_eq!(fault_list(text), Ok(FaultList(Vec::new())), "{text:?}");
        }
    }

    #[test]
    fn a_fault_list_ignores_spaces_around_names_and_empty_items() {
        let expected: Vec<Fault> = Fault::ALL[..2].to_vec();
        let text = format!(" {} ,, {} ,", expected[0], expected[1]);

        assert_eq!(fault_list(&text), Ok(FaultList(expected)));
    }

    #[test]
    fn a_fault_list_with_an_unknown_name_is_refused_naming_it() {
        let text = format!("{},flows.no-such-fault", Fault::ALL[0]);

        let error = fault_list(&text).unwrap_err();

        assert_eq!(error, UnknownFault("flows.no-such-fault".to_owned()));
    }
}
