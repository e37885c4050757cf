//! The load generator's HTTP: one keep-alive HTTP/1.1 connection per
//! simulated client, straight on hyper.
//!
//! A connection sends one request at a time and waits for its answer, like
//! a client without pipelining. hyper's bare connection API is used rather
//! than a pooled client because the generator shares the machine with the
//! server it measures: the less CPU each request costs here, the more is left
//! for the server, and the closer the figures come to the server's own.

use std::net::SocketAddr;

use anyhow::Context;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1;
use hyper::header::{AUTHORIZATION, CONTENT_TYPE, HOST, HeaderValue};
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

/// A request as the generator sends it.
pub type Outgoing = Request<Full<Bytes>>;

/// An answer: its status and whole body.
#[derive(Debug, Clone)]
pub struct Answer {
    /// The status code.
    pub status: StatusCode,
    /// The body.
    pub body: Bytes,
}

impl Answer {
    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        self.status.is_success()
    }

    /// The body as JSON, if it is.
    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.body).ok()
    }
}

/// One open keep-alive connection.
pub struct Connection {
    sender: http1::SendRequest<Full<Bytes>>,
}

impl Connection {
    /// Opens a connection to `addr`.
    pub async fn open(addr: SocketAddr) -> anyhow::Result<Self> {
        let stream = TcpStream::connect(addr)
            .await
            .with_context(|| format!("cannot connect to the server at {addr}"))?;
        // Small requests must not wait for Nagle's algorithm.
        stream.set_nodelay(true)?;
        let (sender, connection) = http1::handshake(TokioIo::new(stream))
            .await
            .with_context(|| format!("cannot start HTTP/1.1 with the server at {addr}"))?;
        tokio::spawn(async move {
            // The connection ends when the sender is dropped or the server
            // closes it; either way the next `send` reports it.
            let _ = connection.await;
        });
        Ok(Self { sender })
    }

    /// Sends `request` and reads the whole answer.
    pub async fn send(&mut self, request: Outgoing) -> Result<Answer, hyper::Error> {
        self.sender.ready().await?;
        let response = self.sender.send_request(request).await?;
        let status = response.status();
        let body = response.into_body().collect().await?.to_bytes();
        Ok(Answer { status, body })
    }
}

/// Where requests go and with which token: builds each request.
#[derive(Clone, Debug)]
pub struct Api {
    addr: SocketAddr,
    host: HeaderValue,
    token: Option<HeaderValue>,
}

impl Api {
    /// Requests to the server at `base_url`, which must be
    /// `http://127.0.0.1:PORT`.
    pub fn new(base_url: &str) -> anyhow::Result<Self> {
        let authority = base_url
            .strip_prefix("http://")
            .map(|rest| rest.trim_end_matches('/'))
            .filter(|authority| authority.starts_with("127.0.0.1:"))
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "the load generator only aims at http://127.0.0.1:PORT, got `{base_url}`"
                )
            })?;
        let addr: SocketAddr = authority
            .parse()
            .map_err(|error| anyhow::anyhow!("`{base_url}` has no valid address: {error}"))?;
        Ok(Self {
            addr,
            host: HeaderValue::from_str(authority)?,
            token: None,
        })
    }

    /// The same requests, sent with `token` as a bearer token.
    pub fn with_token(mut self, token: &str) -> anyhow::Result<Self> {
        let mut value = HeaderValue::from_str(&format!("Bearer {token}"))?;
        value.set_sensitive(true);
        self.token = Some(value);
        Ok(self)
    }

    /// Opens a new connection to the server.
    pub async fn connect(&self) -> anyhow::Result<Connection> {
        Connection::open(self.addr).await
    }

    /// Opens `count` connections.
    pub async fn connect_many(&self, count: usize) -> anyhow::Result<Vec<Connection>> {
        let mut connections = Vec::with_capacity(count);
        for _ in 0..count {
            connections.push(self.connect().await?);
        }
        Ok(connections)
    }

    /// A request without a body.
    pub fn empty(&self, method: Method, path: &str) -> Result<Outgoing, hyper::http::Error> {
        self.build(method, path, None, Bytes::new())
    }

    /// A request with a JSON body.
    pub fn json(
        &self,
        method: Method,
        path: &str,
        body: Bytes,
    ) -> Result<Outgoing, hyper::http::Error> {
        self.build(method, path, Some("application/json"), body)
    }

    /// A request with a `text/plain` body.
    pub fn text(
        &self,
        method: Method,
        path: &str,
        body: Bytes,
    ) -> Result<Outgoing, hyper::http::Error> {
        self.build(method, path, Some("text/plain"), body)
    }

    fn build(
        &self,
        method: Method,
        path: &str,
        content_type: Option<&'static str>,
        body: Bytes,
    ) -> Result<Outgoing, hyper::http::Error> {
        let mut builder = Request::builder()
            .method(method)
            .uri(path)
            .header(HOST, self.host.clone());
        if let Some(token) = &self.token {
            builder = builder.header(AUTHORIZATION, token.clone());
        }
        if let Some(content_type) = content_type {
            builder = builder.header(CONTENT_TYPE, HeaderValue::from_static(content_type));
        }
        builder.body(Full::new(body))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_accepts_only_loopback_urls() {
        assert!(Api::new("http://127.0.0.1:2200").is_ok());
        assert!(Api::new("http://127.0.0.1:2200/").is_ok());
        assert!(Api::new("http://localhost:2200").is_err());
        assert!(Api::new("http://10.0.0.1:2200").is_err());
        assert!(Api::new("https://127.0.0.1:2200").is_err());
    }

    #[test]
    fn requests_carry_host_token_and_content_type() {
        let api = Api::new("http://127.0.0.1:2200")
            .unwrap()
            .with_token("abc")
            .unwrap();

        let request = api
            .json(Method::POST, "/flows", Bytes::from_static(b"{}"))
            .unwrap();

        assert_eq!(request.headers()[HOST], "127.0.0.1:2200");
        assert_eq!(request.headers()[AUTHORIZATION], "Bearer abc");
        assert_eq!(request.headers()[CONTENT_TYPE], "application/json");
        assert_eq!(request.uri().path(), "/flows");
    }
}
