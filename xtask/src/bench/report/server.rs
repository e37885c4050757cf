//! The reference-server sections: sustained load with its breakdown,
//! memory, and the many writers.

use std::fmt::Write as _;

use crate::bench::load::concurrency::Concurrency;
use crate::bench::load::memory::Memory;
use crate::bench::load::run::RunFigures;
use crate::bench::load::throughput::Throughput;
use crate::bench::stats::ratio;

use super::goals::{endpoint, growth_per_flow, median_of, memory_factor};
use super::table::{Align, Table, cell, mib, millis_from_us, thousands, times};
use super::{Results, section_error};

/// The reference-server sections.
pub(super) fn render_server(out: &mut String, results: &Results) {
    if results.throughput.is_none() && results.memory.is_none() && results.concurrency.is_none() {
        return;
    }
    out.push_str("## Reference server\n\n");
    if let Some(throughput) = &results.throughput {
        out.push_str("### Sustained load\n\n");
        match throughput {
            Ok(t) => render_throughput(out, t, results),
            Err(error) => section_error(out, error),
        }
    }
    if let Some(memory) = &results.memory {
        out.push_str("### Memory\n\n");
        match memory {
            Ok(m) => render_memory(out, m),
            Err(error) => section_error(out, error),
        }
    }
    if let Some(concurrency) = &results.concurrency {
        out.push_str("### Many writers\n\n");
        match concurrency {
            Ok(c) => render_concurrency(out, c),
            Err(error) => section_error(out, error),
        }
    }
}

fn render_throughput(out: &mut String, t: &Throughput, results: &Results) {
    let _ = writeln!(
        out,
        "The reference server (`appmixer-reference`, its own process) with {} real-sized flows \
         and {} records in one store, loaded in {:.1} s; the load generator (`xtask bench \
         load`, another process, one runtime thread, hyper with keep-alive) keeps {} \
         connections busy, one request at a time each (2 for the lists, whose answers take \
         far longer). Each row is {} run(s) of {} s after a \
         1 s warm-up. CPU columns are what each process used per answered request: on {} \
         cores shared by both, they bound the rate; the last column is how many cores the \
         machine's other processes kept busy meanwhile (`/proc/stat`).\n",
        thousands(t.flows as f64),
        thousands(t.records as f64),
        t.load_seconds,
        t.connections,
        results.runs,
        results.seconds,
        results.machine.cpus
    );
    let mut table = Table::new(&[
        ("request", Align::Left),
        ("connections", Align::Right),
        ("req/s", Align::Right),
        ("p50, ms", Align::Right),
        ("p99, ms", Align::Right),
        ("errors", Align::Right),
        ("KiB/answer", Align::Right),
        ("server CPU, µs/req", Align::Right),
        ("generator CPU, µs/req", Align::Right),
        ("other processes, cores busy", Align::Right),
    ]);
    for endpoint in &t.endpoints {
        let runs = &endpoint.runs;
        let errors: u64 = runs.iter().map(|r| r.errors).sum();
        table.row(vec![
            format!("`{}`", endpoint.route),
            endpoint.connections.to_string(),
            thousands(median_of(runs, |r| r.requests_per_second)),
            millis_from_us(median_of(runs, |r| r.p50_us as f64)),
            millis_from_us(median_of(runs, |r| r.p99_us as f64)),
            errors.to_string(),
            format!(
                "{:.1}",
                median_of(runs, |r| r.response_bytes as f64 / r.requests.max(1) as f64) / 1024.0
            ),
            format!(
                "{:.0}",
                median_of(runs, RunFigures::server_cpu_us_per_request)
            ),
            format!(
                "{:.0}",
                median_of(runs, RunFigures::generator_cpu_us_per_request)
            ),
            format!("{:.2}", median_of(runs, RunFigures::other_cores_busy)),
        ]);
    }
    out.push_str(&table.render());
    out.push('\n');
    for endpoint in &t.endpoints {
        if let Some(error) = endpoint.runs.iter().find_map(|r| r.first_error.as_ref()) {
            let _ = writeln!(
                out,
                "First error of `{}`: `{}`\n",
                endpoint.route,
                cell(error)
            );
        }
    }
    if let Some(breakdown) = throughput_breakdown(t, results.machine.cpus) {
        out.push_str(&breakdown);
        out.push('\n');
    }
}

/// The measured breakdown of the single-flow read, when it misses its goal.
fn throughput_breakdown(t: &Throughput, cpus: usize) -> Option<String> {
    let single = endpoint(t, "get-flow")?;
    let rps = median_of(&single.runs, |r| r.requests_per_second);
    let p99 = median_of(&single.runs, |r| r.p99_us as f64);
    if rps >= 20_000.0 && p99 < 5_000.0 {
        return None;
    }
    let server = median_of(&single.runs, RunFigures::server_cpu_us_per_request);
    let generator = median_of(&single.runs, RunFigures::generator_cpu_us_per_request);
    let others = median_of(&single.runs, RunFigures::other_cores_busy);
    let bound = cpus as f64 * 1e6 / (server + generator);
    let mut text = format!(
        "**Why the single-flow read misses its goal (measured):** each read cost the server \
         {server:.0} µs of CPU and the generator {generator:.0} µs; {cpus} cores shared by \
         both bound the rate at {cpus} × 10⁶ / ({server:.0} + {generator:.0}) ≈ {} req/s, \
         and the run reached {} while the machine's other processes kept {others:.2} cores \
         busy.",
        thousands(bound),
        thousands(rps)
    );
    let floor =
        endpoint(t, "get-user").map(|e| median_of(&e.runs, RunFigures::server_cpu_us_per_request));
    let named = endpoint(t, "get-flow-name")
        .map(|e| median_of(&e.runs, RunFigures::server_cpu_us_per_request));
    if let (Some(floor), Some(named)) = (floor, named) {
        let kib = median_of(&single.runs, |r| {
            r.response_bytes as f64 / r.requests.max(1) as f64
        }) / 1024.0;
        let _ = write!(
            text,
            " Of the server's {server:.0} µs, {floor:.0} µs is what any authenticated request \
             costs (`GET /user`: routing, token check, a tiny body), {:.0} µs more finds the \
             flow and projects its name (`?projection=name`), and the remaining {:.0} µs goes \
             to the {kib:.1} KiB descriptor, which `getFlow` copies out of the stored \
             `serde_json` document and serialises.",
            (named - floor).max(0.0),
            (server - named).max(0.0)
        );
    }
    if p99 >= 5_000.0 {
        let _ = write!(
            text,
            " With {} connections each waiting for its answer, a request queues behind the \
             others: Little's law puts the mean latency at {} connections / {} req/s = {:.2} \
             ms.",
            t.connections,
            t.connections,
            thousands(rps),
            t.connections as f64 / rps * 1000.0
        );
    }
    text.push('\n');
    Some(text)
}

fn render_memory(out: &mut String, m: &Memory) {
    let _ = writeln!(
        out,
        "A fresh server, real-sized flows loaded up to each checkpoint, `VmRSS` of \
         `/proc/PID/status` read after each (baseline {} MiB with one user and no flows). The \
         stored JSON is what `getFlow` answers for each flow.\n",
        mib(m.baseline_bytes as f64)
    );
    let mut table = Table::new(&[
        ("flows", Align::Right),
        ("stored JSON, MiB", Align::Right),
        ("VmRSS, MiB", Align::Right),
        ("growth over baseline, MiB", Align::Right),
        ("growth / JSON", Align::Right),
        ("growth per flow since the last row, KiB", Align::Right),
    ]);
    let slopes = growth_per_flow(m);
    for (checkpoint, slope) in m
        .checkpoints
        .iter()
        .zip(slopes.iter().chain(std::iter::repeat(&f64::NAN)))
    {
        let growth = checkpoint.resident_bytes as f64 - m.baseline_bytes as f64;
        table.row(vec![
            thousands(checkpoint.flows as f64),
            mib(checkpoint.stored_json_bytes as f64),
            mib(checkpoint.resident_bytes as f64),
            mib(growth),
            times(ratio(growth, checkpoint.stored_json_bytes as f64)),
            format!("{:.1}", slope / 1024.0),
        ]);
    }
    out.push_str(&table.render());
    out.push('\n');
    if let (Some(factor), Some(last)) = (memory_factor(m), m.checkpoints.last())
        && factor > 2.0
    {
        let json_per_flow = last.stored_json_bytes as f64 / last.flows.max(1) as f64;
        let growth_per_flow =
            (last.resident_bytes as f64 - m.baseline_bytes as f64) / last.flows.max(1) as f64;
        let _ = writeln!(
            out,
            "**Why memory misses its goal (measured):** each flow adds {:.1} KiB of resident \
             memory for {:.1} KiB of JSON ({factor:.2}×). The server keeps every flow as a \
             parsed `serde_json` value (one heap allocation per string, map and array, with \
             the map's index), not as its JSON text.\n",
            growth_per_flow / 1024.0,
            json_per_flow / 1024.0
        );
    }
    let _ = writeln!(
        out,
        "Loading took {:.1} s in all; it measures no time, so it runs alongside the \
         planted-fault runs.\n",
        m.load_seconds
    );
}

fn render_concurrency(out: &mut String, c: &Concurrency) {
    let _ = writeln!(
        out,
        "{} writers, each on its own connection, at once: every round sets a key of its own \
         and reads it back, sets one of 8 keys all writers share, and every fifth round creates \
         a flow. At the end every record and flow is read and compared with what the writers \
         were told was stored: a key must hold the last acknowledged write of one of its \
         writers. {} requests in {:.1} s.\n",
        c.writers, c.requests, c.seconds
    );
    let mut table = Table::new(&[
        ("compared", Align::Left),
        ("keys", Align::Right),
        ("writes", Align::Right),
        ("lost", Align::Right),
        ("torn", Align::Right),
        ("phantom", Align::Right),
    ]);
    for (name, verdict) in [("records", &c.records), ("flows", &c.flows)] {
        table.row(vec![
            name.into(),
            verdict.keys.to_string(),
            verdict.writes.to_string(),
            verdict.lost.len().to_string(),
            verdict.torn.len().to_string(),
            verdict.phantom.len().to_string(),
        ]);
    }
    out.push_str(&table.render());
    let _ = writeln!(
        out,
        "\nErrors: {}; reads of an own key that missed the writer's last write: {}.\n",
        c.errors, c.stale_reads
    );
    let problems: Vec<&String> = [&c.records, &c.flows]
        .iter()
        .flat_map(|v| v.lost.iter().chain(&v.torn).chain(&v.phantom))
        .take(10)
        .collect();
    for problem in problems {
        let _ = writeln!(out, "- {}", cell(problem));
    }
    if let Some(error) = &c.first_error {
        let _ = writeln!(out, "First error: `{}`\n", cell(error));
    }
}
