//! The benchmark's result: one row per fault and one per clean run, printed
//! as a table and written as `docs/faults.md` and `docs/faults.json`.
//!
//! Both files are deterministic for a given harness, budget and seeds,
//! except for what is measured: request counts and seconds. The JSON keeps
//! those under `measured`, apart from the stable part; the Markdown shows
//! them in their own columns.

use std::fmt::Write as _;

use appmixer_reference::{Fault, FaultInfo};
use serde_json::{Value, json};

/// The format's name and version, first in `faults.json`.
pub const FORMAT: &str = "appmixer-faults/1";

/// Whether the harness caught a fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The fault's own property failed, and the same case passes on a
    /// clean server.
    Caught,
    /// The fault's property did not fail.
    Missed,
    /// The fault's property failed, but it fails on a clean server too.
    FalseAlarm,
    /// The run did not finish: it timed out or the harness exited with a
    /// usage, spec or connection error.
    Broken(String),
}

impl Verdict {
    /// The verdict's word in the table.
    pub fn word(&self) -> &'static str {
        match self {
            Verdict::Caught => "caught",
            Verdict::Missed => "missed",
            Verdict::FalseAlarm => "false alarm",
            Verdict::Broken(_) => "broken run",
        }
    }
}

/// How a catch was confirmed on a clean server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Confirmation {
    /// `replay FILE` of the saved case passed on a clean server.
    Replay,
    /// The clean run with the same seed and options passed the property.
    CleanRun(u64),
}

impl Confirmation {
    fn describe(&self) -> String {
        match self {
            Confirmation::Replay => "replay on a clean server".into(),
            Confirmation::CleanRun(seed) => format!("clean run, seed {seed}"),
        }
    }
}

/// What the benchmark found for one fault.
#[derive(Debug, Clone, PartialEq)]
pub struct FaultRow {
    /// The fault.
    pub fault: Fault,
    /// Caught or not.
    pub verdict: Verdict,
    /// How a catch was confirmed.
    pub confirmed: Option<Confirmation>,
    /// Every expectation that failed in the fault's run.
    pub failed: Vec<String>,
    /// The harness's exit code in that run, `None` when it did not exit by itself.
    pub exit: Option<i32>,
    /// The length of the shrunk reproduction, when the harness saved one.
    pub shrunk_steps: Option<usize>,
    /// The request that the fault first changed, counting from 1.
    pub fired_at_request: Option<u64>,
    /// That request's method and path, ids replaced by `{id}`.
    pub fired_route: Option<String>,
    /// Seconds from the harness's start to that request.
    pub fired_after: Option<f64>,
    /// The harness's request at which it first reported the fault's own
    /// property as failed.
    pub caught_at_request: Option<u64>,
    /// Seconds from the harness's start to that report.
    pub caught_after: Option<f64>,
    /// Requests the run sent.
    pub requests: Option<u64>,
    /// Seconds the run took.
    pub seconds: f64,
}

/// One run against a clean server.
#[derive(Debug, Clone, PartialEq)]
pub struct CleanRow {
    /// The seed.
    pub seed: u64,
    /// The harness's exit code, `None` when it did not exit by itself.
    pub exit: Option<i32>,
    /// Every expectation that failed.
    pub failed: Vec<String>,
    /// Requests the run sent.
    pub requests: Option<u64>,
    /// Seconds the run took.
    pub seconds: f64,
}

impl CleanRow {
    /// Whether the run passed: exit 0 and no failure.
    pub fn passed(&self) -> bool {
        self.exit == Some(0) && self.failed.is_empty()
    }
}

/// The whole benchmark.
#[derive(Debug, Clone, PartialEq)]
pub struct Benchmark {
    /// `small` or `full`.
    pub budget: String,
    /// The harness options every run shared, besides URL, seed and paths.
    pub options: Vec<String>,
    /// Where verdicts were read from.
    pub source: &'static str,
    /// The seed of the fault runs.
    pub fault_seed: u64,
    /// The clean runs.
    pub clean: Vec<CleanRow>,
    /// One row per fault, in catalogue order.
    pub faults: Vec<FaultRow>,
    /// Seconds the whole benchmark took.
    pub seconds: f64,
}

impl Benchmark {
    /// Whether every clean run passed.
    pub fn clean_passed(&self) -> bool {
        self.clean.iter().all(CleanRow::passed)
    }

    /// How many faults were caught.
    pub fn caught(&self) -> usize {
        self.faults
            .iter()
            .filter(|row| row.verdict == Verdict::Caught)
            .count()
    }

    /// Whether the benchmark passed: clean runs green, every fault caught.
    pub fn passed(&self) -> bool {
        self.clean_passed() && self.caught() == self.faults.len()
    }
}

fn seconds(value: Option<f64>) -> String {
    value.map_or_else(|| "–".into(), |s| format!("{s:.1}"))
}

fn count(value: Option<impl ToString>) -> String {
    value.map_or_else(|| "–".into(), |n| n.to_string())
}

fn code(text: &str) -> String {
    format!("`{text}`")
}

fn list(items: &[String]) -> String {
    if items.is_empty() {
        "none".into()
    } else {
        items
            .iter()
            .map(|item| code(item))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// What the row says about the property that reported the fault.
fn reported_by(row: &FaultRow) -> String {
    match row.verdict {
        Verdict::Caught | Verdict::FalseAlarm => code(row.fault.info().property),
        _ => "–".into(),
    }
}

/// The terminal table: one line per fault and a verdict line.
pub fn table(benchmark: &Benchmark) -> String {
    let header = [
        "fault",
        "class",
        "area",
        "verdict",
        "reported by",
        "fired at",
        "caught at",
        "s",
        "shrunk",
    ];
    let lines: Vec<[String; 9]> = benchmark
        .faults
        .iter()
        .map(|row| {
            let info = row.fault.info();
            [
                info.name.to_owned(),
                info.class.name().to_owned(),
                info.area.name().to_owned(),
                row.verdict.word().to_owned(),
                match row.verdict {
                    Verdict::Caught | Verdict::FalseAlarm => info.property.to_owned(),
                    _ => "-".into(),
                },
                row.fired_at_request
                    .map_or_else(|| "-".into(), |n| format!("#{n}")),
                row.caught_at_request
                    .map_or_else(|| "-".into(), |n| format!("#{n}")),
                seconds(row.caught_after),
                count(row.shrunk_steps),
            ]
        })
        .collect();
    let widths: Vec<usize> = (0..header.len())
        .map(|column| {
            lines
                .iter()
                .map(|line| line[column].chars().count())
                .chain([header[column].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let render = |cells: Vec<&str>| {
        let mut text = String::new();
        for (cell, width) in cells.iter().zip(&widths) {
            let _ = write!(text, "{cell:<width$}  ");
        }
        text.trim_end().to_owned()
    };
    let mut text = String::new();
    let _ = writeln!(text, "{}", render(header.to_vec()));
    for line in &lines {
        let _ = writeln!(
            text,
            "{}",
            render(line.iter().map(String::as_str).collect())
        );
    }
    let _ = writeln!(text);
    for clean in &benchmark.clean {
        let _ = writeln!(
            text,
            "clean run, seed {}: {} ({})",
            clean.seed,
            if clean.passed() { "passed" } else { "FAILED" },
            if clean.failed.is_empty() {
                format!("exit {}", count(clean.exit))
            } else {
                format!("failed {}", clean.failed.join(", "))
            }
        );
    }
    let _ = writeln!(
        text,
        "{}: {} of {} faults caught, clean runs {}, {:.0}s",
        if benchmark.passed() {
            "PASSED"
        } else {
            "FAILED"
        },
        benchmark.caught(),
        benchmark.faults.len(),
        if benchmark.clean_passed() {
            "green"
        } else {
            "NOT green"
        },
        benchmark.seconds
    );
    text
}

/// `docs/faults.md`.
pub fn markdown(benchmark: &Benchmark) -> String {
    let mut md = String::new();
    let _ = writeln!(md, "# Planted faults: what the conformance harness catches");
    let _ = writeln!(md);
    let _ = writeln!(
        md,
        "Generated by `cargo xtask faults --budget {}`; do not edit by hand. Each of the {} \
         faults of `appmixer-reference --list-faults` is switched on alone in a reference \
         server, and the harness runs against it as a separate process. A fault counts as \
         caught only when a failure the harness reports is the fault's own property and the \
         same case passes on a clean server. Request counts and seconds are measured and \
         vary from run to run; everything else is deterministic.",
        benchmark.budget,
        benchmark.faults.len()
    );
    let _ = writeln!(md);
    let _ = writeln!(md, "- budget: `{}`", benchmark.budget);
    let _ = writeln!(
        md,
        "- harness options: `{}` (plus `--url`, `--signup`, `--seed` and report paths)",
        benchmark.options.join(" ")
    );
    let _ = writeln!(
        md,
        "- verdicts read from: the harness's {}",
        benchmark.source
    );
    let _ = writeln!(md, "- seed of the fault runs: {}", benchmark.fault_seed);
    let _ = writeln!(
        md,
        "- result: **{} of {} caught**; clean runs {}",
        benchmark.caught(),
        benchmark.faults.len(),
        if benchmark.clean_passed() {
            "all passed"
        } else {
            "**not all passed**"
        }
    );
    let _ = writeln!(md);

    let _ = writeln!(md, "## Clean server");
    let _ = writeln!(md);
    let _ = writeln!(md, "| seed | verdict | failed | requests | seconds |");
    let _ = writeln!(md, "| ---: | --- | --- | ---: | ---: |");
    for clean in &benchmark.clean {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {:.1} |",
            clean.seed,
            if clean.passed() {
                "passed".to_owned()
            } else {
                format!("**failed** (exit {})", count(clean.exit))
            },
            list(&clean.failed),
            count(clean.requests),
            clean.seconds
        );
    }
    let _ = writeln!(md);

    let _ = writeln!(md, "## Faults");
    let _ = writeln!(md);
    let _ = writeln!(
        md,
        "`fired at` is the first request whose answer the fault changed, as the server counts \
         them (the harness's sign-ups included): the harness cannot report a fault before it. \
         `caught at` is the harness's own request whose answer made it report the fault's \
         property, and `seconds` the time from the harness's start to that answer. `shrunk` is \
         the length of the shrunk reproduction the harness saved; a fixed property scenario \
         is not shrunk and has none."
    );
    let _ = writeln!(md);
    let _ = writeln!(
        md,
        "| fault | class | area | conditional | verdict | reported by | confirmed by | fired at | caught at | seconds | shrunk |"
    );
    let _ = writeln!(
        md,
        "| --- | --- | --- | --- | --- | --- | --- | ---: | ---: | ---: | ---: |"
    );
    for row in &benchmark.faults {
        let info = row.fault.info();
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            code(info.name),
            info.class,
            info.area,
            if info.condition.is_some() {
                "yes"
            } else {
                "no"
            },
            match row.verdict {
                Verdict::Caught => "caught".to_owned(),
                ref other => format!("**{}**", other.word()),
            },
            reported_by(row),
            row.confirmed
                .as_ref()
                .map_or_else(|| "–".into(), Confirmation::describe),
            count(row.fired_at_request),
            count(row.caught_at_request),
            seconds(row.caught_after),
            count(row.shrunk_steps),
        );
    }
    let _ = writeln!(md);

    let missed: Vec<&FaultRow> = benchmark
        .faults
        .iter()
        .filter(|row| row.verdict != Verdict::Caught)
        .collect();
    let _ = writeln!(md, "## Not caught");
    let _ = writeln!(md);
    if missed.is_empty() {
        let _ = writeln!(md, "Every fault was caught.");
    }
    for row in missed {
        let info = row.fault.info();
        let _ = writeln!(md, "### `{}` ({})", info.name, row.verdict.word());
        let _ = writeln!(md);
        let _ = writeln!(md, "{}", needs(&info, row));
        let _ = writeln!(md);
    }

    let _ = writeln!(md, "## The catalogue");
    let _ = writeln!(md);
    let _ = writeln!(md, "| fault | what goes wrong | when | caught by |");
    let _ = writeln!(md, "| --- | --- | --- | --- |");
    for fault in Fault::ALL {
        let info = fault.info();
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} |",
            code(info.name),
            info.description,
            info.condition.unwrap_or("always"),
            code(info.property)
        );
    }
    md
}

/// What the harness would have to check to catch the fault of `row`.
pub fn needs(info: &FaultInfo, row: &FaultRow) -> String {
    let mut text = format!(
        "{} The property `{}` would have to catch it: {}",
        info.description, info.property, info.check
    );
    if let Some(condition) = info.condition {
        let _ = write!(text, " The fault shows only when {condition}.");
    }
    match &row.verdict {
        Verdict::Broken(reason) => {
            let _ = write!(text, " The run did not finish: {reason}.");
        }
        Verdict::FalseAlarm => {
            let _ = write!(
                text,
                " The property failed, but it also fails on a clean server, so the failure \
                 is not evidence of the fault."
            );
        }
        _ => {}
    }
    match row.fired_at_request {
        None => {
            let _ = write!(
                text,
                " The fault never fired: no request met its condition."
            );
        }
        Some(request) => {
            let route = row
                .fired_route
                .as_deref()
                .filter(|route| !route.is_empty())
                .map(|route| format!(", `{route}`"))
                .unwrap_or_default();
            let _ = write!(text, " The fault fired (first at request {request}{route})");
            if row.verdict == Verdict::Missed {
                let _ = write!(text, " but no check of that property noticed.");
            } else {
                let _ = write!(text, ".");
            }
        }
    }
    let _ = write!(
        text,
        " Failures reported in that run: {}; the harness exited {}.",
        list(&row.failed),
        count(row.exit)
    );
    if row.failed.is_empty() && row.exit == Some(1) {
        let _ = write!(
            text,
            " With no failed check, exit 1 means that cleanup found objects left behind."
        );
    }
    text
}

/// `docs/faults.json`: the stable part first, the measurements under `measured`.
pub fn json(benchmark: &Benchmark) -> Value {
    let clean: Vec<Value> = benchmark
        .clean
        .iter()
        .map(|clean| {
            json!({
                "seed": clean.seed,
                "passed": clean.passed(),
                "exit_code": clean.exit,
                "failed": clean.failed,
            })
        })
        .collect();
    let faults: Vec<Value> = benchmark
        .faults
        .iter()
        .map(|row| {
            let info = row.fault.info();
            json!({
                "name": info.name,
                "area": info.area.name(),
                "class": info.class.name(),
                "condition": info.condition,
                "property": info.property,
                "verdict": row.verdict.word(),
                "reported_by": matches!(row.verdict, Verdict::Caught | Verdict::FalseAlarm)
                    .then_some(info.property),
                "confirmed_by": row.confirmed.as_ref().map(Confirmation::describe),
                "failed": row.failed,
                "exit_code": row.exit,
                "shrunk_steps": row.shrunk_steps,
            })
        })
        .collect();
    let measured: serde_json::Map<String, Value> = benchmark
        .faults
        .iter()
        .map(|row| {
            (
                row.fault.name().to_owned(),
                json!({
                    "fired_at_request": row.fired_at_request,
                    "fired_on": row.fired_route,
                    "fired_after_seconds": row.fired_after.map(round),
                    "caught_at_request": row.caught_at_request,
                    "caught_after_seconds": row.caught_after.map(round),
                    "run_requests": row.requests,
                    "run_seconds": round(row.seconds),
                }),
            )
        })
        .collect();
    let clean_measured: Vec<Value> = benchmark
        .clean
        .iter()
        .map(|clean| {
            json!({
                "seed": clean.seed,
                "requests": clean.requests,
                "seconds": round(clean.seconds),
            })
        })
        .collect();
    json!({
        "format": FORMAT,
        "budget": benchmark.budget,
        "harness_options": benchmark.options,
        "verdicts_from": benchmark.source,
        "fault_seed": benchmark.fault_seed,
        "summary": {
            "faults": benchmark.faults.len(),
            "caught": benchmark.caught(),
            "clean_passed": benchmark.clean_passed(),
            "passed": benchmark.passed(),
        },
        "clean": clean,
        "faults": faults,
        "measured": {
            "total_seconds": round(benchmark.seconds),
            "clean": clean_measured,
            "faults": measured,
        },
    })
}

fn round(seconds: f64) -> f64 {
    (seconds * 10.0).round() / 10.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(fault: Fault, verdict: Verdict) -> FaultRow {
        FaultRow {
            fault,
            verdict,
            confirmed: None,
            failed: vec!["spec.status-documented".into()],
            exit: Some(1),
            shrunk_steps: None,
            fired_at_request: Some(12),
            fired_route: Some("GET /flows/count".into()),
            fired_after: Some(0.4),
            caught_at_request: Some(20),
            caught_after: Some(0.5),
            requests: Some(100),
            seconds: 2.0,
        }
    }

    fn benchmark(rows: Vec<FaultRow>, clean_exit: i32) -> Benchmark {
        Benchmark {
            budget: "small".into(),
            options: vec!["--cases".into(), "2".into()],
            source: "json report",
            fault_seed: 1,
            clean: vec![CleanRow {
                seed: 1,
                exit: Some(clean_exit),
                failed: Vec::new(),
                requests: Some(90),
                seconds: 1.5,
            }],
            faults: rows,
            seconds: 9.0,
        }
    }

    #[test]
    fn a_missed_fault_or_a_red_clean_run_fails_the_benchmark() {
        let caught = row(Fault::ChartsListServedAsText, Verdict::Caught);
        let missed = row(Fault::TasksCountAsString, Verdict::Missed);

        assert!(benchmark(vec![caught.clone()], 0).passed());
        assert!(!benchmark(vec![caught.clone(), missed], 0).passed());
        assert!(!benchmark(vec![caught], 1).passed());
    }

    #[test]
    fn a_missed_fault_is_explained_with_what_its_property_must_check() {
        let missed = row(Fault::FlowsCountOffByOneWithPattern, Verdict::Missed);

        let md = markdown(&benchmark(vec![missed], 0));

        let info = Fault::FlowsCountOffByOneWithPattern.info();
        assert!(
            md.contains("### `flows.count-off-by-one-with-pattern` (missed)"),
            "{md}"
        );
        assert!(md.contains(info.check), "{md}");
        assert!(
            md.contains("first at request 12, `GET /flows/count`"),
            "{md}"
        );
    }

    #[test]
    fn a_caught_fault_shows_where_it_fired_and_where_the_harness_reported_it() {
        let caught = row(Fault::ChartsListServedAsText, Verdict::Caught);
        let bench = benchmark(vec![caught], 0);

        let md = markdown(&bench);
        let terminal = table(&bench);

        assert!(md.contains("| 12 | 20 | 0.5 | – |"), "{md}");
        assert!(terminal.contains("#12       #20        0.5"), "{terminal}");
        let measured = &json(&bench)["measured"]["faults"]["charts.list-served-as-text"];
        assert_eq!(measured["caught_at_request"], 20);
        assert_eq!(measured["caught_after_seconds"], 0.5);
    }

    #[test]
    fn measurements_stay_out_of_the_stable_part_of_the_json() {
        let mut first = benchmark(vec![row(Fault::ChartsListServedAsText, Verdict::Caught)], 0);
        let mut second = first.clone();
        second.seconds = 99.0;
        second.faults[0].fired_after = Some(7.0);
        second.faults[0].caught_at_request = Some(70);
        second.clean[0].requests = Some(1);

        let (mut a, mut b) = (json(&first), json(&second));
        a.as_object_mut().unwrap().remove("measured");
        b.as_object_mut().unwrap().remove("measured");

        assert_eq!(a, b);
        first.faults[0].verdict = Verdict::Missed;
        assert_ne!(json(&first)["faults"], json(&second)["faults"]);
    }
}
