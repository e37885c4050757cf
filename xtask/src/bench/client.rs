//! The client section: runs the client's benchmark program
//! (`crates/client-bench`) against a fresh reference server and
//! reads the JSON it prints.

use std::process::Command;
use std::time::Duration;

use anyhow::{Context, bail};
use serde::Deserialize;

use super::Context as BenchContext;
use super::process::{ServerProcess, run_bounded, shown_command};

/// What the client bench printed.
#[derive(Debug, Clone, Deserialize)]
pub struct ClientFigures {
    /// Per-call overhead.
    pub overhead: Overhead,
    /// Decoding a large answer.
    pub decoding: Decoding,
}

/// Per-call overhead of the generated client against a hand-written call.
#[derive(Debug, Clone, Deserialize)]
pub struct Overhead {
    /// `getFlow` of one real-sized flow.
    pub get_flow: Paired,
    /// `getFlows` with `limit=100` of real-sized flows.
    pub list_flows: Paired,
    /// Calls per round of `get_flow` (a tenth of them for `list_flows`).
    pub calls: usize,
}

/// Microseconds per call of each side, one entry per round.
#[derive(Debug, Clone, Deserialize)]
pub struct Paired {
    /// The generated client.
    pub client_us: Vec<f64>,
    /// `reqwest` and `serde_json` by hand.
    pub raw_us: Vec<f64>,
}

/// Decoding a `getFlows` answer.
#[derive(Debug, Clone, Deserialize)]
pub struct Decoding {
    /// Flows in the answer.
    pub flows: usize,
    /// Bytes of the answer.
    pub bytes: u64,
    /// Through `ResponseValue::from_response`, as the generated code decodes.
    pub client_ms: Vec<f64>,
    /// `serde_json::from_slice` into `Vec<types::Flow>`.
    pub typed_ms: Vec<f64>,
    /// `serde_json::from_slice` into `serde_json::Value`.
    pub value_ms: Vec<f64>,
}

/// Runs the client bench and parses its output.
pub fn run(context: &mut BenchContext, rounds: usize) -> anyhow::Result<ClientFigures> {
    let server = context.start_server("client", &[])?;
    let mut command = client_command(context, &server, rounds);
    context.note_command(&command);
    let log = context.logs.join("client-bench.log");
    let finished = run_bounded(&mut command, Duration::from_secs(600), Some(&log))?;
    if !finished.status.success() {
        bail!(
            "`{}` failed ({}); its log is {}",
            shown_command(&command),
            finished.status,
            log.display()
        );
    }
    parse(&finished.stdout)
        .with_context(|| format!("the client bench's output; see {}", log.display()))
}

fn client_command(context: &BenchContext, server: &ServerProcess, rounds: usize) -> Command {
    let mut command = Command::new(&context.executables.client_bench);
    command
        .current_dir(&context.root)
        .arg("--url")
        .arg(server.base_url())
        .arg("--flows-dir")
        .arg(context.flows_dir_arg())
        .arg("--rounds")
        .arg(rounds.to_string());
    command
}

/// The last line of the bench's stdout, as JSON.
fn parse(stdout: &str) -> anyhow::Result<ClientFigures> {
    let line = stdout
        .lines()
        .rev()
        .find(|line| line.trim_start().starts_with('{'))
        .context("it printed no JSON object")?;
    serde_json::from_str(line).context("its JSON does not have the expected fields")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_is_read_from_its_last_json_line() {
        let stdout = "warming up\n{\"overhead\":{\"get_flow\":{\"client_us\":[1.0],\"raw_us\":[0.9]},\
                      \"list_flows\":{\"client_us\":[10.0],\"raw_us\":[9.5]},\"calls\":200},\
                      \"decoding\":{\"flows\":10000,\"bytes\":90000000,\"client_ms\":[300.0],\
                      \"typed_ms\":[290.0],\"value_ms\":[400.0]},\"seconds\":12.5}\n";

        let figures = parse(stdout).unwrap();

        assert_eq!(figures.overhead.get_flow.raw_us, vec![0.9]);
        assert_eq!(figures.decoding.flows, 10_000);
        assert_eq!(figures.decoding.value_ms, vec![400.0]);
    }

    #[test]
    fn output_without_json_is_an_error() {
        assert!(parse("error: no server\n").is_err());
    }
}
