//! The client sections: per-call overhead, decoding and build cost.

use std::fmt::Write as _;

use crate::bench::stats::{median, paired_ratio};

use super::table::{Align, Table, mib, thousands, times};
use super::{Results, section_error};

/// The client section: per-call overhead and decoding.
pub(super) fn render_client(out: &mut String, results: &Results) {
    let Some(client) = &results.client else {
        return;
    };
    out.push_str("## Client\n\n");
    let figures = match client {
        Ok(figures) => figures,
        Err(error) => return section_error(out, error),
    };
    let o = &figures.overhead;
    let _ = writeln!(
        out,
        "### Per-call overhead\n\nThe generated client against a hand-written `reqwest` + \
         `serde_json` call of the same request to the same reference server process (one \
         request at a time, keep-alive, both decoding into the same `types`). Flows are \
         real-sized: made from the flow files without their thumbnails. Each round times {} \
         calls of `getFlow` and {} of `getFlows` per side, the two sides taking turns call by \
         call; the ratio is the median of the per-round ratios.\n",
        o.calls,
        (o.calls / 15).max(1)
    );
    let mut table = Table::new(&[
        ("request", Align::Left),
        ("client, µs/call", Align::Right),
        ("hand-written, µs/call", Align::Right),
        ("ratio", Align::Right),
        ("difference, µs", Align::Right),
        ("rounds", Align::Right),
    ]);
    for (route, paired) in [
        ("`GET /flows/{flowId}`", &o.get_flow),
        ("`GET /flows?limit=100`", &o.list_flows),
    ] {
        let client = median(&paired.client_us).unwrap_or(f64::NAN);
        let raw = median(&paired.raw_us).unwrap_or(f64::NAN);
        table.row(vec![
            route.into(),
            format!("{client:.1}"),
            format!("{raw:.1}"),
            times(paired_ratio(&paired.client_us, &paired.raw_us)),
            format!("{:+.1}", client - raw),
            paired.client_us.len().to_string(),
        ]);
    }
    out.push_str(&table.render());
    out.push('\n');

    let d = &figures.decoding;
    let _ = writeln!(
        out,
        "### Decoding\n\nA `getFlows` answer of {} flows ({} MiB of JSON), decoded in memory. \
         The client's path is `ResponseValue::from_response`, which the generated code calls \
         for every answer.\n",
        thousands(d.flows as f64),
        mib(d.bytes as f64)
    );
    let mut table = Table::new(&[
        ("decoder", Align::Left),
        ("ms", Align::Right),
        ("MiB/s", Align::Right),
        ("ratio to typed `from_slice`", Align::Right),
        ("rounds", Align::Right),
    ]);
    for (name, samples) in [
        ("client (`ResponseValue::from_response`)", &d.client_ms),
        (
            "`serde_json::from_slice` into `Vec<types::Flow>`",
            &d.typed_ms,
        ),
        (
            "`serde_json::from_slice` into `serde_json::Value`",
            &d.value_ms,
        ),
    ] {
        let ms = median(samples).unwrap_or(f64::NAN);
        table.row(vec![
            name.into(),
            format!("{ms:.1}"),
            format!("{:.0}", d.bytes as f64 / (1024.0 * 1024.0) / (ms / 1000.0)),
            times(paired_ratio(samples, &d.typed_ms)),
            samples.len().to_string(),
        ]);
    }
    out.push_str(&table.render());
    out.push('\n');
}

/// The build-cost section.
pub(super) fn render_build(out: &mut String, results: &Results) {
    let Some(build) = &results.build else {
        return;
    };
    out.push_str("## Build cost of `appmixer-client`\n\n");
    let b = match build {
        Ok(b) => b,
        Err(error) => return section_error(out, error),
    };
    let _ = writeln!(
        out,
        "Debug builds in a copy of the workspace (`{}`) with a scratch target directory \
         (`{}`), dependencies already downloaded (`--offline`); one run each, as a clean build \
         takes minutes. The rebuild follows a one-line change of the copy's spec (`{}`): the \
         build script regenerates the client and the crate compiles again.\n",
        b.copy, b.target_dir, b.changed_line
    );
    let mut table = Table::new(&[("build", Align::Left), ("seconds", Align::Right)]);
    table
        .row(vec![
            "clean: `appmixer-client` and its dependencies".into(),
            format!("{:.1}", b.clean_seconds),
        ])
        .row(vec![
            "after a one-line spec change".into(),
            format!("{:.1}", b.rebuild_seconds),
        ]);
    out.push_str(&table.render());
    out.push('\n');
}
