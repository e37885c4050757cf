//! What the generated client costs next to what a user would write by hand.
//!
//! Two measurements, printed as one JSON object for `cargo xtask bench`:
//!
//! - **per-call overhead**: `get_flow` and `get_flows` with `limit(100)`
//!   against a hand-written `reqwest` + `serde_json` call of the same request
//!   to the same server, decoding into the same types. The two sides take
//!   turns call by call, so both see the same background load.
//! - **decoding**: a `getFlows` answer of 10,000 flows built from the real
//!   flow files, decoded the way the generated code does
//!   (`ResponseValue::from_response`), next to `serde_json::from_slice` into
//!   the same `Vec<types::Flow>` and into `serde_json::Value`.
//!
//! ```text
//! cargo run --release -p appmixer-client-bench -- \
//!     --url http://127.0.0.1:PORT --flows-dir ../shared/data/flows
//! ```
//!
//! The server must be an Appmixer-compatible one that lets anyone sign up,
//! e.g. `cargo run -p appmixer-reference -- --port 0`. The flow files are
//! read at run time and never copied; their thumbnails are left out, as a
//! list read with `projection=-thumbnail` would.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use appmixer_client::{Client, ResponseValue, types};
use bytes::Bytes;
use serde_json::{Map, Value, json};

/// The command line, with environment fallbacks.
struct Options {
    url: String,
    flows_dir: PathBuf,
    rounds: usize,
    calls: usize,
    decode_flows: usize,
}

impl Options {
    fn parse() -> Result<Self, String> {
        let mut url = std::env::var("APPMIXER_BENCH_URL").ok();
        let mut flows_dir = std::env::var_os("APPMIXER_FLOWS_DIR").map(PathBuf::from);
        let mut rounds = 9;
        let mut calls = 300;
        let mut decode_flows = 10_000;
        let mut args = std::env::args().skip(1);
        while let Some(arg) = args.next() {
            let mut value =
                |name: &str| args.next().ok_or_else(|| format!("`{name}` needs a value"));
            match arg.as_str() {
                "--url" => url = Some(value("--url")?),
                "--flows-dir" => flows_dir = Some(value("--flows-dir")?.into()),
                "--rounds" => rounds = number("--rounds", &value("--rounds")?)?,
                "--calls" => calls = number("--calls", &value("--calls")?)?,
                "--decode-flows" => {
                    decode_flows = number("--decode-flows", &value("--decode-flows")?)?
                }
                other => return Err(format!("unknown option `{other}`")),
            }
        }
        Ok(Self {
            url: url.ok_or(
                "give the server with `--url http://127.0.0.1:PORT` or APPMIXER_BENCH_URL",
            )?,
            flows_dir: flows_dir
                .ok_or("give the flow files with `--flows-dir DIR` or APPMIXER_FLOWS_DIR")?,
            rounds: rounds.max(1),
            calls: calls.max(1),
            decode_flows: decode_flows.max(1),
        })
    }
}

fn number(name: &str, value: &str) -> Result<usize, String> {
    value
        .parse()
        .map_err(|_| format!("`{name}` must be a whole number, got `{value}`"))
}

/// The flow files of `dir` without their thumbnails, in file-name order.
fn flow_templates(dir: &Path) -> Result<Vec<Map<String, Value>>, String> {
    let entries = std::fs::read_dir(dir)
        .map_err(|error| format!("cannot read the flow files in {}: {error}", dir.display()))?;
    let mut paths: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    paths.sort();
    let mut templates = Vec::new();
    for path in paths {
        let text = std::fs::read(&path)
            .map_err(|error| format!("cannot read {}: {error}", path.display()))?;
        match serde_json::from_slice(&text) {
            Ok(Value::Object(mut flow)) => {
                flow.remove("thumbnail");
                templates.push(flow);
            }
            _ => {
                return Err(format!(
                    "{} is not a JSON object (a whole flow)",
                    path.display()
                ));
            }
        }
    }
    if templates.is_empty() {
        return Err(format!("{} holds no flow files (*.json)", dir.display()));
    }
    Ok(templates)
}

/// Microseconds per call of each side, one entry per round.
#[derive(Default)]
struct Paired {
    client_us: Vec<f64>,
    raw_us: Vec<f64>,
}

impl Paired {
    fn to_json(&self) -> Value {
        json!({"client_us": self.client_us, "raw_us": self.raw_us})
    }
}

/// How long `call` took; what it decoded is kept alive until then, so that
/// nothing is optimised away.
async fn timed<Fut>(call: Fut) -> Result<Duration, String>
where
    Fut: Future<Output = Result<usize, String>>,
{
    let started = Instant::now();
    let items = call.await?;
    let elapsed = started.elapsed();
    std::hint::black_box(items);
    Ok(elapsed)
}

/// Times `calls` calls of each side, alternating which goes first, and
/// returns each side's microseconds per call.
async fn interleaved<C, CF, R, RF>(calls: usize, client: C, raw: R) -> Result<(f64, f64), String>
where
    C: Fn() -> CF,
    CF: Future<Output = Result<usize, String>>,
    R: Fn() -> RF,
    RF: Future<Output = Result<usize, String>>,
{
    let (mut client_total, mut raw_total) = (Duration::ZERO, Duration::ZERO);
    for call in 0..calls {
        // Back-to-back pairs see the same background load; alternating the
        // order cancels any advantage of going first or second.
        if call % 2 == 0 {
            client_total += timed(client()).await?;
            raw_total += timed(raw()).await?;
        } else {
            raw_total += timed(raw()).await?;
            client_total += timed(client()).await?;
        }
    }
    let per_call = |total: Duration| total.as_secs_f64() * 1e6 / calls as f64;
    Ok((per_call(client_total), per_call(raw_total)))
}

/// The hand-written side: what a user would write with `reqwest` and `serde`.
struct Raw {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Raw {
    async fn get<T: serde::de::DeserializeOwned>(&self, path_and_query: &str) -> Result<T, String> {
        let response = self
            .http
            .get(format!("{}{path_and_query}", self.base))
            .bearer_auth(&self.token)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(|error| format!("GET {path_and_query}: {error}"))?;
        let body = response
            .bytes()
            .await
            .map_err(|error| format!("GET {path_and_query}: {error}"))?;
        serde_json::from_slice(&body).map_err(|error| format!("GET {path_and_query}: {error}"))
    }
}

async fn overhead(options: &Options, templates: &[Map<String, Value>]) -> Result<Value, String> {
    let username = format!("bench-client-{}@example.com", std::process::id());
    let client = Client::signup(options.url.as_str(), username, "bench-password")
        .await
        .map_err(|error| format!("cannot sign up at {}: {error}", options.url))?;
    let token = client
        .token()
        .ok_or("the signed-up client has no token")?
        .expose()
        .to_owned();
    let mut ids = Vec::new();
    for (index, template) in templates.iter().cycle().take(100).enumerate() {
        let mut flow = template.clone();
        flow.insert("name".into(), json!(format!("bench client {index}")));
        let body: types::FlowCreate = serde_json::from_value(Value::Object(flow))
            .map_err(|error| format!("a flow file does not fit `FlowCreate`: {error}"))?;
        let created = client
            .create_flow()
            .body(body)
            .send()
            .await
            .map_err(|error| format!("createFlow: {error}"))?;
        ids.push(created.into_inner().flow_id);
    }
    let raw = Raw {
        http: reqwest::Client::new(),
        base: options.url.trim_end_matches('/').to_owned(),
        token,
    };
    let id = ids[0];

    let client_get = || async {
        let flow = client
            .get_flow()
            .flow_id(id.to_string())
            .send()
            .await
            .map_err(|error| format!("getFlow: {error}"))?;
        Ok(flow.flow.as_ref().map_or(0, |descriptor| descriptor.len()))
    };
    let raw_get = || async {
        let flow: types::Flow = raw.get(&format!("/flows/{id}")).await?;
        Ok(flow.flow.as_ref().map_or(0, |descriptor| descriptor.len()))
    };
    let client_list = || async {
        let flows = client
            .get_flows()
            .limit(100)
            .send()
            .await
            .map_err(|error| format!("getFlows: {error}"))?;
        Ok(flows.len())
    };
    let raw_list = || async {
        let flows: Vec<types::Flow> = raw.get("/flows?limit=100").await?;
        Ok(flows.len())
    };
    let list_calls = (options.calls / 15).max(1);
    let mut get_flow = Paired::default();
    let mut list_flows = Paired::default();
    for round in 0..=options.rounds {
        let (client_us, raw_us) = interleaved(options.calls, client_get, raw_get).await?;
        let (client_list_us, raw_list_us) = interleaved(list_calls, client_list, raw_list).await?;
        // Round 0 warms connections and caches up and is not kept.
        if round > 0 {
            get_flow.client_us.push(client_us);
            get_flow.raw_us.push(raw_us);
            list_flows.client_us.push(client_list_us);
            list_flows.raw_us.push(raw_list_us);
        }
    }
    Ok(json!({
        "get_flow": get_flow.to_json(),
        "list_flows": list_flows.to_json(),
        "listed_flows": 100,
        "calls": options.calls,
    }))
}

/// A `getFlows` answer of `count` flows made from `templates`, as a server
/// would send it.
fn flows_answer(templates: &[Map<String, Value>], count: usize) -> Bytes {
    let flows: Vec<Value> = templates
        .iter()
        .cycle()
        .take(count)
        .enumerate()
        .map(|(index, template)| {
            let mut flow = Map::new();
            flow.insert("flowId".into(), json!(uuid::Uuid::new_v4()));
            flow.insert("userId".into(), json!("5c6fc9932ff3ff000747ead4"));
            flow.insert("stage".into(), json!("stopped"));
            flow.insert("btime".into(), json!("2024-03-29T19:24:08.950Z"));
            flow.insert("mtime".into(), json!("2024-04-05T12:50:15.952Z"));
            flow.extend(template.clone());
            flow.insert("name".into(), json!(format!("bench decode {index}")));
            Value::Object(flow)
        })
        .collect();
    Bytes::from(serde_json::to_vec(&flows).expect("JSON values always serialize"))
}

/// Milliseconds `decode` took, with the decoded value dropped afterwards.
async fn millis<T, Fut: Future<Output = Result<T, String>>>(decode: Fut) -> Result<f64, String> {
    let started = Instant::now();
    let decoded = decode.await?;
    let elapsed = started.elapsed();
    drop(std::hint::black_box(decoded));
    Ok(elapsed.as_secs_f64() * 1e3)
}

async fn decoding(options: &Options, templates: &[Map<String, Value>]) -> Result<Value, String> {
    let body = flows_answer(templates, options.decode_flows);
    let through_client = || async {
        let response = http::Response::builder()
            .status(200)
            .header("content-type", "application/json")
            .body(body.clone())
            .map_err(|error| error.to_string())?;
        let flows = ResponseValue::<Vec<types::Flow>>::from_response::<types::BoomError>(
            reqwest::Response::from(response),
        )
        .await
        .map_err(|error| format!("the client cannot decode the answer: {error}"))?;
        Ok(flows.into_inner())
    };
    let typed = || async {
        serde_json::from_slice::<Vec<types::Flow>>(&body)
            .map_err(|error| format!("from_slice into types::Flow: {error}"))
    };
    let untyped = || async {
        serde_json::from_slice::<Value>(&body)
            .map_err(|error| format!("from_slice into Value: {error}"))
    };

    let decode_rounds = options.rounds.div_ceil(3).max(3);
    let (mut client_ms, mut typed_ms, mut value_ms) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..=decode_rounds {
        let (client, typed, value) = if round % 2 == 0 {
            (
                millis(through_client()).await?,
                millis(typed()).await?,
                millis(untyped()).await?,
            )
        } else {
            let value = millis(untyped()).await?;
            let typed = millis(typed()).await?;
            (millis(through_client()).await?, typed, value)
        };
        // Round 0 warms the allocator up and is not kept.
        if round > 0 {
            client_ms.push(client);
            typed_ms.push(typed);
            value_ms.push(value);
        }
    }
    Ok(json!({
        "flows": options.decode_flows,
        "bytes": body.len(),
        "client_ms": client_ms,
        "typed_ms": typed_ms,
        "value_ms": value_ms,
    }))
}

async fn bench(options: Options) -> Result<Value, String> {
    let templates = flow_templates(&options.flows_dir)?;
    let started = Instant::now();
    let overhead = overhead(&options, &templates).await?;
    let decoding = decoding(&options, &templates).await?;
    Ok(json!({
        "overhead": overhead,
        "decoding": decoding,
        "seconds": started.elapsed().as_secs_f64(),
    }))
}

fn main() -> std::process::ExitCode {
    let options = match Options::parse() {
        Ok(options) => options,
        Err(error) => {
            eprintln!("error: {error}");
            return std::process::ExitCode::from(2);
        }
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a current-thread runtime always builds");
    // One request at a time, like a script that calls the API in sequence;
    // the timeout only keeps a hung server from hanging the bench.
    let outcome = runtime.block_on(async {
        tokio::time::timeout(Duration::from_secs(600), bench(options))
            .await
            .unwrap_or_else(|_| Err("the bench ran longer than 10 minutes".into()))
    });
    match outcome {
        Ok(result) => {
            println!("{result}");
            std::process::ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}
