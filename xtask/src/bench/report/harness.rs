//! The harness sections: the standard profile against its loopback ceiling,
//! the head-to-head run with Schemathesis, and the planted faults.

use std::fmt::Write as _;

use crate::bench::catches::Catch;
use crate::bench::stats::{median, ratio};

use super::goals::{harness_ratio, median_of, process_rate, replay_ceiling};
use super::table::{Align, Table, cell, thousands, times};
use super::{Results, section_error};

/// The harness against its loopback ceiling, with the breakdown of a miss.
pub(super) fn render_harness(out: &mut String, results: &Results) {
    let Some(harness) = &results.harness else {
        return;
    };
    out.push_str("## Harness\n\n### Standard profile against its loopback ceiling\n\n");
    let h = match harness {
        Ok(h) => h,
        Err(error) => return section_error(out, error),
    };
    let source = if h.features.bench {
        "its own `--bench` figures"
    } else {
        "its wall time measured from outside and the request count of its verdict line (this \
         build has no `--bench`)"
    };
    let profile = if h.features.profile {
        "`--profile standard`"
    } else {
        "its default budgets (this build has no `--profile`)"
    };
    let _ = writeln!(
        out,
        "`appmixer-conformance` with {profile} and `--seed {seed}`, {} runs against its \
         embedded server and as many against a fresh reference server process each \
         (`--url … --signup`), from {source}. The ceiling is the load generator on a fresh \
         reference server process, over one connection, as the harness sends one request at \
         a time: the very requests of one more run of the harness against a server process, \
         recorded with `--record` and sent again in order, as fast as the server answers. \
         The goal sets the runs against server processes beside it, like with like. For \
         comparison, small requests in the harness's mix of methods (`GET` reads a flow, \
         `POST` creates one, `PUT` renames one, `DELETE` deletes one it created), over one \
         connection and over 16.\n",
        h.runs.len(),
        seed = crate::bench::harness::SEED,
    );
    let rates: Vec<f64> = h
        .runs
        .iter()
        .filter_map(|r| r.requests_per_second)
        .collect();
    let walls: Vec<f64> = h.runs.iter().map(|r| r.wall_seconds).collect();
    let requests: Vec<f64> = h
        .runs
        .iter()
        .filter_map(|r| r.requests.map(|n| n as f64))
        .collect();
    let checks: Vec<f64> = h.runs.iter().filter_map(|r| r.checks_per_second).collect();
    let mut table = Table::new(&[
        ("who", Align::Left),
        ("req/s", Align::Right),
        ("wall, s", Align::Right),
        ("requests", Align::Right),
        ("checks/s", Align::Right),
        ("harness ÷ this", Align::Right),
    ]);
    let harness_rate = median(&rates);
    table.row(vec![
        "harness, standard profile, embedded server".into(),
        harness_rate.map_or("–".into(), thousands),
        median(&walls).map_or("–".into(), |w| format!("{w:.2}")),
        median(&requests).map_or("–".into(), thousands),
        median(&checks).map_or("–".into(), thousands),
        String::new(),
    ]);
    let process_rate = process_rate(h);
    if let Some(rate) = process_rate {
        let of = |pick: fn(&crate::bench::harness::HarnessRun) -> Option<f64>| {
            let values: Vec<f64> = h.process_runs.iter().filter_map(pick).collect();
            median(&values)
        };
        table.row(vec![
            format!(
                "harness, standard profile, a server process each ({} runs)",
                h.process_runs.len()
            ),
            thousands(rate),
            of(|r| Some(r.wall_seconds)).map_or("–".into(), |w| format!("{w:.2}")),
            of(|r| r.requests.map(|n| n as f64)).map_or("–".into(), thousands),
            of(|r| r.checks_per_second).map_or("–".into(), thousands),
            String::new(),
        ]);
    }
    let against = |rate: f64| {
        let mut shown = format!(
            "embedded {}",
            times(harness_rate.and_then(|h| ratio(h, rate)))
        );
        if let Some(process) = process_rate {
            let _ = write!(shown, ", process {}", times(ratio(process, rate)));
        }
        shown
    };
    let replay_rate = replay_ceiling(h);
    if let Some(rate) = replay_rate {
        table.row(vec![
            "ceiling: the harness's requests sent again, 1 connection".into(),
            thousands(rate),
            format!("{:.2}", median_of(&h.replays, |r| r.seconds)),
            h.replays
                .first()
                .map_or("–".into(), |r| thousands(r.requests as f64)),
            String::new(),
            against(rate),
        ]);
    }
    let single_ceiling = h.ceiling.as_ref().and_then(|ceiling| {
        let level = ceiling.levels.iter().find(|level| level.connections == 1)?;
        Some(median_of(&level.runs, |r| r.requests_per_second))
    });
    if let Some(ceiling) = &h.ceiling {
        for level in &ceiling.levels {
            let rate = median_of(&level.runs, |r| r.requests_per_second);
            let shown = if level.connections == 1 {
                against(rate)
            } else {
                format!(
                    "embedded {}",
                    times(harness_rate.and_then(|h| ratio(h, rate)))
                )
            };
            table.row(vec![
                format!("ceiling: method mix, {} connection(s)", level.connections),
                thousands(rate),
                String::new(),
                String::new(),
                String::new(),
                shown,
            ]);
        }
    }
    out.push_str(&table.render());
    out.push('\n');
    if let Some(ceiling) = &h.ceiling {
        let mix: Vec<String> = ceiling
            .weights
            .iter()
            .map(|(method, weight)| format!("{method} {weight}"))
            .collect();
        let empty: Vec<String> = ceiling
            .levels
            .iter()
            .map(|level| {
                format!(
                    "{} over {} connection(s)",
                    level.empty_deletes, level.connections
                )
            })
            .collect();
        let _ = writeln!(
            out,
            "The harness's requests by method: {}. `DELETE`s of the ceiling that had no flow of \
             their own left and asked for an unknown one instead: {}.\n",
            mix.join(", "),
            empty.join(", ")
        );
    }
    if let Some(error) = &h.ceiling_error {
        let _ = writeln!(out, "No method-mix ceiling: {error}\n");
    }
    render_replay_fidelity(out, h);
    let exits = |runs: &[crate::bench::harness::HarnessRun]| {
        runs.iter()
            .map(|r| r.exit_code.map_or("signal".into(), |c| c.to_string()))
            .collect::<Vec<String>>()
            .join(", ")
    };
    let _ = write!(
        out,
        "Exit statuses of the harness runs: embedded {}",
        exits(&h.runs)
    );
    if !h.process_runs.is_empty() {
        let _ = write!(out, "; server processes {}", exits(&h.process_runs));
    }
    out.push_str(".\n\n");
    let ceiling = replay_rate.or(single_ceiling);
    if let (Some(value), Some(ceiling)) = (harness_ratio(h), ceiling)
        && value < 0.5
    {
        // The runs the goal is judged on: against server processes when
        // there are such runs.
        let judged = if h.process_runs.is_empty() {
            &h.runs
        } else {
            &h.process_runs
        };
        let pick = |f: fn(&crate::bench::harness::HarnessRun) -> Option<f64>| {
            median(&judged.iter().filter_map(f).collect::<Vec<_>>())
        };
        if let (Some(waiting), Some(inside), Some(wall), Some(sent)) = (
            pick(|r| r.waiting_seconds),
            pick(|r| r.in_harness_seconds),
            pick(|r| Some(r.wall_seconds)),
            pick(|r| r.requests.map(|n| n as f64)),
        ) {
            let _ = writeln!(
                out,
                "**Why the harness misses its goal (measured):** of its {wall:.2} s, it spent \
                 {inside:.2} s ({:.0} %) in itself (building requests, validating every answer \
                 against the spec's schemas, checking the semantic properties) and {waiting:.2} \
                 s waiting for answers: {:.0} µs per request, where a request of the ceiling \
                 takes {:.0} µs.\n",
                100.0 * inside / wall,
                waiting * 1e6 / sent,
                1e6 / ceiling
            );
        }
    }
}

/// How faithfully the replays sent the harness's requests again.
fn render_replay_fidelity(out: &mut String, h: &crate::bench::harness::HarnessFigures) {
    if let Some(error) = &h.replay_error {
        let _ = writeln!(out, "No replay of the harness's requests: {error}\n");
        return;
    }
    let Some(first) = h.replays.first() else {
        return;
    };
    let same: Vec<String> = h
        .replays
        .iter()
        .map(|r| {
            format!(
                "{} of {}",
                thousands(r.same_status as f64),
                thousands(r.requests as f64)
            )
        })
        .collect();
    let server_us = median_of(&h.replays, |r| {
        r.server_cpu_seconds * 1e6 / (r.requests.max(1) as f64)
    });
    let generator_us = median_of(&h.replays, |r| {
        r.generator_cpu_seconds * 1e6 / (r.requests.max(1) as f64)
    });
    let _ = writeln!(
        out,
        "The replays sent the recorded run's {} requests with the fresh server's own ids and \
         tokens ({} learned from its answers). Answers with the recorded status, per replay: \
         {}. CPU per request: the server {server_us:.0} µs, the load generator \
         {generator_us:.0} µs.",
        thousands(first.requests as f64),
        thousands(first.mapped as f64),
        same.join(", "),
    );
    if first.differing.is_empty() {
        out.push('\n');
    } else {
        let _ = writeln!(
            out,
            " The first answers of the first replay that differ: {}.\n",
            first
                .differing
                .iter()
                .map(|d| format!("`{d}`"))
                .collect::<Vec<_>>()
                .join("; ")
        );
    }
}

fn catch_cell(catch: &Catch) -> String {
    match catch {
        Catch::Caught(how) => format!("caught ({how})"),
        Catch::Missed => "missed".into(),
        Catch::Error(error) => format!("error: {error}"),
    }
}

/// The head-to-head run with Schemathesis and the planted-fault table.
pub(super) fn render_comparison(out: &mut String, results: &Results) {
    let Some(comparison) = &results.comparison else {
        return;
    };
    out.push_str("### Side by side with Schemathesis\n\n");
    let c = match comparison {
        Ok(c) => c,
        Err(error) => return section_error(out, error),
    };
    let h = &c.head_to_head;
    let _ = writeln!(
        out,
        "Each tool against a fresh reference server process with the same request budget: the \
         harness's standard profile sent {} requests, so Schemathesis {} (from PyPI, in \
         `target/bench/venv`) got `--max-examples {}` ({} requests ÷ {} operations), one \
         worker, seed 1. Schemathesis's requests are the entries of its HAR report.\n",
        h.harness
            .requests
            .map_or("–".into(), |n| thousands(n as f64)),
        c.installation.version,
        h.max_examples,
        h.harness
            .requests
            .map_or("–".into(), |n| thousands(n as f64)),
        h.operations
    );
    let mut table = Table::new(&[
        ("tool", Align::Left),
        ("requests", Align::Right),
        ("wall, s", Align::Right),
        ("req/s", Align::Right),
        ("failures on a correct server", Align::Right),
        ("exit", Align::Right),
    ]);
    table.row(vec![
        "appmixer-conformance".into(),
        h.harness
            .requests
            .map_or("–".into(), |n| thousands(n as f64)),
        format!("{:.2}", h.harness.wall_seconds),
        h.harness.requests_per_second.map_or("–".into(), thousands),
        if h.harness.exit_code == Some(0) {
            "0".into()
        } else {
            "see exit".into()
        },
        h.harness
            .exit_code
            .map_or("signal".into(), |c| c.to_string()),
    ]);
    let s = &h.schemathesis;
    table.row(vec![
        "Schemathesis".into(),
        thousands(s.requests as f64),
        format!("{:.2}", s.seconds),
        thousands(s.requests as f64 / s.seconds),
        s.failures.len().to_string(),
        s.exit_code.map_or("signal".into(), |c| c.to_string()),
    ]);
    out.push_str(&table.render());
    out.push('\n');
    if !s.failures.is_empty() {
        let shown: Vec<&str> = s.failures.iter().map(String::as_str).take(12).collect();
        let _ = writeln!(
            out,
            "Schemathesis's failures against the correct server (`operation: code`): {}{}.\n",
            shown.join("; "),
            if s.failures.len() > shown.len() {
                "; …"
            } else {
                ""
            }
        );
    }

    out.push_str("### Planted faults\n\n");
    let rows = match &c.faults {
        Ok(rows) => rows,
        Err(why) => {
            let _ = writeln!(
                out,
                "| fault | harness | Schemathesis |\n| --- | --- | --- |\n| – | {0} | {0} |\n",
                cell(why)
            );
            return;
        }
    };
    let harness_caught = rows
        .iter()
        .filter(|r| matches!(r.harness, Catch::Caught(_)))
        .count();
    let schemathesis_caught = rows
        .iter()
        .filter(|r| matches!(r.schemathesis, Catch::Caught(_)))
        .count();
    let _ = writeln!(
        out,
        "Each fault switched on alone (`appmixer-reference --fault NAME`) in a fresh server. \
         The harness (standard profile, every operation) catches a fault when it exits \
         non-zero; against a correct server process it exited {}. Schemathesis \
         (`--max-examples {}`, only the operations tagged with the fault's area) catches a \
         fault when it reports a failure that its run with the same options against a correct \
         server did not.\n\n**Caught: the harness {harness_caught} of {}, Schemathesis \
         {schemathesis_caught} of {}.**\n",
        h.harness
            .exit_code
            .map_or("by a signal".into(), |code| code.to_string()),
        crate::bench::catches::FAULT_MAX_EXAMPLES,
        rows.len(),
        rows.len()
    );
    let mut table = Table::new(&[
        ("fault", Align::Left),
        ("harness", Align::Left),
        ("Schemathesis", Align::Left),
    ]);
    for row in rows {
        table.row(vec![
            format!("`{}`", row.fault.name),
            catch_cell(&row.harness),
            catch_cell(&row.schemathesis),
        ]);
    }
    out.push_str(&table.render());
    out.push('\n');
}
