//! The reference-server section: sustained load, memory and many writers,
//! each against a fresh server process, measured by the load generator in a
//! process of its own.
//!
//! Memory and the many writers measure no time, so they may run while other
//! correctness runs share the machine; they take a [`Launcher`] for that.

use super::load::concurrency::Concurrency;
use super::load::memory::Memory;
use super::load::throughput::Throughput;
use super::{Context, Launcher};

/// Sustained load with 10,000 flows and 100,000 records loaded.
pub fn throughput(
    context: &mut Context,
    runs: usize,
    seconds: f64,
    connections: usize,
) -> anyhow::Result<Throughput> {
    let server = context.start_server("throughput", &[])?;
    let args = [
        "throughput",
        "--flows-dir",
        &context.flows_dir_arg(),
        "--flows",
        "10000",
        "--records",
        "100000",
        "--connections",
        &connections.to_string(),
        "--runs",
        &runs.to_string(),
        "--seconds",
        &seconds.to_string(),
    ]
    .map(String::from);
    context.load(&server, &args)
}

/// The arguments of the memory scenario: 10,000, 50,000 and 100,000 flows.
pub fn memory_args(context: &Context) -> Vec<String> {
    [
        "memory",
        "--flows-dir",
        &context.flows_dir_arg(),
        "--checkpoints",
        "10000,50000,100000",
    ]
    .map(String::from)
    .to_vec()
}

/// The arguments of the many-writers scenario: 64 writers, 100 rounds each.
pub fn concurrency_args() -> Vec<String> {
    ["concurrency", "--writers", "64", "--rounds", "100"]
        .map(String::from)
        .to_vec()
}

/// Runs the memory scenario with `args` on a fresh server.
pub fn memory(launcher: &Launcher, args: &[String]) -> anyhow::Result<Memory> {
    let server = launcher.start_server("memory", &[])?;
    launcher.load(&server, args)
}

/// Runs the many-writers scenario with `args` on a fresh server.
pub fn concurrency(launcher: &Launcher, args: &[String]) -> anyhow::Result<Concurrency> {
    let server = launcher.start_server("writers", &[])?;
    launcher.load(&server, args)
}
