//! What every integration test needs: a server on a local port, a client
//! aimed at it, users, and requests that answer `(status, JSON body)`.

#![allow(dead_code)]

use appmixer_reference::{Config, Server};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// A running server and a client for it.
pub struct Api {
    pub server: Server,
    pub client: reqwest::Client,
}

/// An answer: its status, media type and body (JSON, or `Null` when empty).
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub media_type: Option<String>,
    pub body: Value,
    pub text: String,
}

impl Answer {
    /// Asserts a Boom error with `status` and returns its message.
    pub fn boom(&self, status: u16) -> String {
        assert_eq!(self.status.as_u16(), status, "unexpected answer: {self:?}");
        assert_eq!(
            self.media_type.as_deref(),
            Some("application/json"),
            "{self:?}"
        );
        assert_eq!(self.body["statusCode"], status, "{self:?}");
        assert_eq!(
            self.body["error"],
            self.status.canonical_reason().unwrap(),
            "{self:?}"
        );
        self.body["message"]
            .as_str()
            .expect("a Boom message is a string")
            .to_owned()
    }

    /// Asserts a 400 whose validation points at `source` and `key`.
    pub fn invalid(&self, source: &str, key: &str) -> String {
        let message = self.boom(400);
        assert_eq!(self.body["validation"]["source"], source, "{self:?}");
        assert_eq!(self.body["validation"]["keys"], json!([key]), "{self:?}");
        message
    }

    /// Asserts a 2xx status and returns the body.
    pub fn ok(self) -> Value {
        assert!(self.status.is_success(), "unexpected answer: {self:?}");
        self.body
    }
}

/// A request body.
pub enum Body {
    None,
    Json(Value),
    Raw(&'static str, Vec<u8>),
}

impl Api {
    /// A fresh server with the default configuration.
    pub async fn start() -> Self {
        Self::start_with(Config::default()).await
    }

    /// A fresh server with `config`.
    pub async fn start_with(config: Config) -> Self {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let server = appmixer_reference::spawn_with(config)
            .await
            .expect("a reference server starts on 127.0.0.1");
        let client = reqwest::Client::builder()
            .no_proxy()
            .build()
            .expect("a plain HTTP client builds");
        Self { server, client }
    }

    /// Sends a request; `token` goes in `Authorization: Bearer`.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Body,
    ) -> Answer {
        let url = format!("{}{path}", self.server.base_url());
        let mut request = self.client.request(method, url);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request = match body {
            Body::None => request,
            Body::Json(value) => request
                .header("content-type", "application/json")
                .body(serde_json::to_vec(&value).unwrap()),
            Body::Raw(media_type, bytes) => request.header("content-type", media_type).body(bytes),
        };
        let response = request.send().await.expect("the server answers");
        let status = response.status();
        let media_type = response
            .headers()
            .get("content-type")
            .map(|value| value.to_str().unwrap().to_owned());
        let text = response.text().await.expect("the body can be read");
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).expect("the body is JSON")
        };
        Answer {
            status,
            media_type,
            body,
            text,
        }
    }

    pub async fn get(&self, path: &str, token: &str) -> Answer {
        self.send(Method::GET, path, Some(token), Body::None).await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> Answer {
        self.send(Method::POST, path, Some(token), Body::Json(body))
            .await
    }

    pub async fn put(&self, path: &str, token: &str, body: Value) -> Answer {
        self.send(Method::PUT, path, Some(token), Body::Json(body))
            .await
    }

    pub async fn delete(&self, path: &str, token: &str) -> Answer {
        self.send(Method::DELETE, path, Some(token), Body::None)
            .await
    }

    /// Signs up `name` (also their e-mail) and returns their token.
    pub async fn user(&self, name: &str) -> String {
        let answer = self
            .send(
                Method::POST,
                "/user",
                None,
                Body::Json(json!({ "username": name, "password": "secret-password" })),
            )
            .await;
        assert_eq!(answer.status, StatusCode::CREATED, "{answer:?}");
        answer.body["token"].as_str().unwrap().to_owned()
    }

    /// Creates a flow from `body` and returns its id.
    pub async fn flow(&self, token: &str, body: Value) -> String {
        let answer = self.post("/flows", token, body).await.ok();
        answer["flowId"].as_str().unwrap().to_owned()
    }

    /// Creates a store named `name` and returns its id.
    pub async fn store(&self, token: &str, name: &str) -> String {
        let answer = self
            .post("/stores", token, json!({ "name": name }))
            .await
            .ok();
        answer["storeId"].as_str().unwrap().to_owned()
    }

    /// Starts flow `flow_id`.
    pub async fn start_flow(&self, token: &str, flow_id: &str) {
        self.post(
            &format!("/flows/{flow_id}/coordinator"),
            token,
            json!({ "command": "start" }),
        )
        .await
        .ok();
    }
}

/// The values of `field` in each element of a JSON array.
pub fn field_of(list: &Value, field: &str) -> Vec<Value> {
    list.as_array()
        .expect("a list")
        .iter()
        .map(|item| item[field].clone())
        .collect()
}

/// The keys of a JSON object, in order.
pub fn keys(object: &Value) -> Vec<String> {
    object
        .as_object()
        .expect("an object")
        .keys()
        .cloned()
        .collect()
}
