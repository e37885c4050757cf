//! Getting a fresh server into the state a scenario measures: a user of its
//! own, and many flows, a store and its records sent over several
//! connections at once.

use std::sync::Arc;

use anyhow::{Context, bail};
use bytes::Bytes;
use hyper::Method;
use serde_json::{Value, json};

use super::flows::FlowTemplates;
use super::http::{Answer, Api, Outgoing};

/// Signs a new user up and returns `api` sending that user's token.
pub async fn signup(api: &Api, label: &str) -> anyhow::Result<Api> {
    let token = signup_token(api, label).await?;
    api.clone().with_token(&token)
}

/// Signs a new user up and returns the user's token.
pub async fn signup_token(api: &Api, label: &str) -> anyhow::Result<String> {
    let mut connection = api.connect().await?;
    let username = format!("bench-{label}-{}@example.com", std::process::id());
    // A throwaway user on a throwaway server; the password guards nothing.
    let body = json!({"username": username, "password": "bench-password"});
    let request = api.json(Method::POST, "/user", Bytes::from(body.to_string()))?;
    let answer = connection.send(request).await?;
    expect_json(&answer, "signupUser")?
        .get("token")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .context("the signupUser answer has no `token`")
}

/// The JSON body of a 2xx `answer` to `operation`, or an error that shows
/// what came back instead.
pub fn expect_json(answer: &Answer, operation: &str) -> anyhow::Result<Value> {
    if !answer.is_success() {
        let body = String::from_utf8_lossy(&answer.body);
        bail!("{operation} answered {}: {body}", answer.status);
    }
    answer
        .json()
        .with_context(|| format!("{operation} answered a body that is not JSON"))
}

/// Sends `count` requests built by `make` over `connections` connections at
/// once and gives back what `keep` takes from each answer, in index order.
pub async fn bulk<T: Send + 'static>(
    api: &Api,
    connections: usize,
    count: usize,
    make: impl Fn(&Api, usize) -> Result<Outgoing, hyper::http::Error> + Send + Sync + 'static,
    keep: impl Fn(&Answer) -> anyhow::Result<T> + Send + Sync + 'static,
) -> anyhow::Result<Vec<T>> {
    let make = Arc::new(make);
    let keep = Arc::new(keep);
    let connections = connections.clamp(1, count.max(1));
    let mut tasks = Vec::with_capacity(connections);
    for lane in 0..connections {
        let api = api.clone();
        let make = Arc::clone(&make);
        let keep = Arc::clone(&keep);
        tasks.push(tokio::spawn(async move {
            let mut connection = api.connect().await?;
            let mut kept = Vec::with_capacity(count / connections + 1);
            for index in (lane..count).step_by(connections) {
                let answer = connection.send(make(&api, index)?).await?;
                kept.push((index, keep(&answer)?));
            }
            anyhow::Ok(kept)
        }));
    }
    let mut all = Vec::with_capacity(count);
    for task in tasks {
        all.extend(task.await??);
    }
    all.sort_by_key(|(index, _)| *index);
    Ok(all.into_iter().map(|(_, value)| value).collect())
}

/// Creates flows `first..first + count` from `templates` and returns their
/// ids.
pub async fn create_flows(
    api: &Api,
    templates: &FlowTemplates,
    first: usize,
    count: usize,
    connections: usize,
) -> anyhow::Result<Vec<String>> {
    let templates = templates.clone();
    bulk(
        api,
        connections,
        count,
        move |api, index| {
            api.json(
                Method::POST,
                "/flows",
                templates.body("load", first + index),
            )
        },
        flow_id,
    )
    .await
}

/// The `flowId` of a `createFlow` answer.
pub fn flow_id(answer: &Answer) -> anyhow::Result<String> {
    expect_json(answer, "createFlow")?
        .get("flowId")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .context("the createFlow answer has no `flowId`")
}

/// Creates a data store named `name` and returns its id.
pub async fn create_store(api: &Api, name: &str) -> anyhow::Result<String> {
    let mut connection = api.connect().await?;
    let body = json!({"name": name}).to_string();
    let answer = connection
        .send(api.json(Method::POST, "/stores", Bytes::from(body))?)
        .await?;
    expect_json(&answer, "createStore")?
        .get("storeId")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .context("the createStore answer has no `storeId`")
}

/// The key of record number `index`.
pub fn record_key(index: usize) -> String {
    format!("record-{index:07}")
}

/// Sets records `0..count` of `store`, each a short text value.
pub async fn create_records(
    api: &Api,
    store: &str,
    count: usize,
    connections: usize,
) -> anyhow::Result<()> {
    let store = store.to_owned();
    bulk(
        api,
        connections,
        count,
        move |api, index| {
            let path = format!("/store/{store}/{}", record_key(index));
            let value = format!("order {index} shipped to warehouse {}", index % 17);
            api.text(Method::POST, &path, Bytes::from(value))
        },
        |answer| expect_json(answer, "createStoreItem").map(drop),
    )
    .await?;
    Ok(())
}
