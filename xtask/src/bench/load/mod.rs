//! The load generator: `cargo xtask bench` runs it as a separate process,
//! built with the `xbench` profile, against a reference server on 127.0.0.1.
//!
//! Each scenario is a hidden subcommand (`xtask bench load throughput …`)
//! that sets up a fresh server through its API, measures, and prints one
//! JSON object on stdout (progress goes to stderr). A separate process keeps
//! the generator's work out of the orchestrating process, and the optimised
//! build keeps the generator from being the bottleneck it measures.

/// Many writers at once, then the consistency check.
pub mod concurrency;
/// What the many-writers run compares: the ledger and the verdict.
pub mod consistency;
/// Real-sized flows from the flow files.
pub mod flows;
/// Keep-alive HTTP/1.1 connections on hyper.
pub mod http;
/// Resident size as flows pile up.
pub mod memory;
/// The loopback ceiling for the harness's mix of methods.
pub mod mix;
/// The harness's recorded requests, sent again.
pub mod replay;
/// Timed runs and their figures.
pub mod run;
/// Users, flows, stores and records for a fresh server.
pub mod setup;
/// Sustained load per endpoint on a loaded server.
pub mod throughput;

use clap::Subcommand;
use serde::Serialize;

/// A load scenario.
#[derive(Debug, Clone, Subcommand)]
pub enum Scenario {
    /// Loads flows and records, then measures each endpoint's throughput.
    Throughput(throughput::Args),
    /// Loads flows checkpoint by checkpoint and reads the resident size.
    Memory(memory::Args),
    /// Many writers at once, then a consistency check.
    Concurrency(concurrency::Args),
    /// The harness's method mix as fast as the server answers.
    Mix(mix::Args),
    /// A harness run's recorded requests, sent again in order.
    Replay(replay::Args),
    /// Signs a user up and prints its token, for tools that need one.
    Signup,
}

/// The server a scenario runs against.
#[derive(Debug, Clone, clap::Args)]
pub struct Target {
    /// The server's base URL; only `http://127.0.0.1:PORT` is accepted.
    #[arg(long, global = true, default_value = "")]
    pub url: String,
    /// The server's process id, to read its CPU time and resident size.
    #[arg(long, global = true, default_value_t = 0)]
    pub server_pid: u32,
}

/// The options of every scenario.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Worker threads of the generator's runtime; the rest of the cores are
    /// left to the server.
    #[arg(long, default_value_t = 1, global = true)]
    pub threads: usize,

    #[command(flatten)]
    /// The server to aim at.
    pub target: Target,

    #[command(subcommand)]
    /// What to run.
    pub scenario: Scenario,
}

/// Runs the scenario and prints its result as one JSON line.
pub fn run(args: &Args) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.threads.max(1))
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let target = &args.target;
        match &args.scenario {
            Scenario::Throughput(args) => print(&throughput::run(target, args).await?),
            Scenario::Memory(args) => print(&memory::run(target, args).await?),
            Scenario::Concurrency(args) => print(&concurrency::run(target, args).await?),
            Scenario::Mix(args) => print(&mix::run(target, args).await?),
            Scenario::Replay(args) => print(&replay::run(target, args).await?),
            Scenario::Signup => {
                let api = http::Api::new(&target.url)?;
                let token = setup::signup_token(&api, "tool").await?;
                print(&serde_json::json!({ "token": token }))
            }
        }
    })
}

fn print(result: &impl Serialize) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string(result)?);
    Ok(())
}

/// Progress on stderr; stdout carries only the result.
pub fn progress(line: &str) {
    eprintln!("bench: {line}");
}
