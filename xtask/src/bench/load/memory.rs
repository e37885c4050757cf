//! The server's resident size as flows pile up: a fresh server, then real
//! flows loaded up to each checkpoint, with `VmRSS` read at every one.
//!
//! The size of the stored JSON is what `getFlow` answers for each flow:
//! measured once per flow file (the flows made from one file differ only in
//! the digits of their names) and summed over the flows.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use hyper::Method;
use serde::{Deserialize, Serialize};

use super::flows::FlowTemplates;
use super::http::Api;
use super::{Target, progress, setup};
use crate::bench::process;

/// The options of the memory scenario.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The directory of real flow files to load.
    #[arg(long)]
    pub flows_dir: PathBuf,
    /// The flow counts at which to read the resident size, ascending.
    #[arg(long, value_delimiter = ',', default_value = "10000,50000,100000")]
    pub checkpoints: Vec<usize>,
}

/// What the memory scenario measured.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Memory {
    /// The resident size with no flows, after the user signed up.
    pub baseline_bytes: u64,
    /// One entry per checkpoint.
    pub checkpoints: Vec<Checkpoint>,
    /// Seconds the loading took, over all checkpoints.
    pub load_seconds: f64,
}

/// The server at one checkpoint.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Checkpoint {
    /// Flows stored.
    pub flows: usize,
    /// `VmRSS`, in bytes.
    pub resident_bytes: u64,
    /// The JSON `getFlow` answers for those flows, in bytes.
    pub stored_json_bytes: u64,
}

/// Loads flows checkpoint by checkpoint and reads the resident size.
pub async fn run(target: &Target, args: &Args) -> anyhow::Result<Memory> {
    let api = Api::new(&target.url)?;
    let api = setup::signup(&api, "memory").await?;
    let templates = FlowTemplates::load(&args.flows_dir)?;
    let baseline_bytes = settled_resident_bytes(target.server_pid).await?;

    let started = Instant::now();
    let mut loaded = 0;
    let mut served_sizes: Option<Vec<u64>> = None;
    let mut checkpoints = Vec::new();
    for &wanted in &args.checkpoints {
        let count = wanted.saturating_sub(loaded);
        let ids = setup::create_flows(&api, &templates, loaded, count, 8).await?;
        if served_sizes.is_none() {
            served_sizes = Some(served_size_per_template(&api, &templates, &ids, loaded).await?);
        }
        loaded += count;
        let sizes = served_sizes.as_deref().unwrap_or_default();
        let stored_json_bytes = (0..loaded)
            .map(|index| {
                sizes
                    .get(templates.template_of(index))
                    .copied()
                    .unwrap_or(0)
            })
            .sum();
        let resident_bytes = settled_resident_bytes(target.server_pid).await?;
        progress(&format!(
            "{loaded} flows: {} MiB resident, {} MiB of JSON",
            resident_bytes >> 20,
            stored_json_bytes >> 20
        ));
        checkpoints.push(Checkpoint {
            flows: loaded,
            resident_bytes,
            stored_json_bytes,
        });
    }
    Ok(Memory {
        baseline_bytes,
        checkpoints,
        load_seconds: started.elapsed().as_secs_f64(),
    })
}

/// The size of `getFlow`'s answer for the first flow made from each
/// template; `ids[i]` is flow number `first + i`.
async fn served_size_per_template(
    api: &Api,
    templates: &FlowTemplates,
    ids: &[String],
    first: usize,
) -> anyhow::Result<Vec<u64>> {
    let mut connection = api.connect().await?;
    let mut sizes = vec![0; templates.len()];
    for (offset, id) in ids.iter().enumerate().take(templates.len()) {
        let answer = connection
            .send(api.empty(Method::GET, &format!("/flows/{id}"))?)
            .await?;
        setup::expect_json(&answer, "getFlow")?;
        sizes[templates.template_of(first + offset)] = answer.body.len() as u64;
    }
    Ok(sizes)
}

/// `VmRSS` once the server has had a moment to finish what it was doing.
async fn settled_resident_bytes(pid: u32) -> anyhow::Result<u64> {
    tokio::time::sleep(Duration::from_millis(300)).await;
    process::resident_bytes(pid)
}
