#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

mod auth;
mod config;
mod descriptor;
mod error;
mod flows;
pub mod paging;
mod redact;
mod retry;
mod secret;
mod session;
mod transport;

/// The code progenitor generates from `spec/appmixer.yaml` at build time: the
/// `Client`, its operation builders (`builder`) and the spec's types
/// (`types`). It is re-exported at the crate root.
#[allow(missing_docs, unused_qualifications, clippy::all)]
mod generated {
    include!(concat!(env!("OUT_DIR"), "/codegen.rs"));
}

pub use config::ClientBuilder;
pub use descriptor::FlowDescriptor;
pub use error::{ApiError, ApiErrorExt, ClientError};
pub use generated::*;
pub use paging::Paginate;
pub use retry::RetryPolicy;
pub use secret::Secret;
pub use session::Session;
pub use transport::BodyTooLarge;

/// The workspace README's client example, compiled as a doctest so that it cannot drift from
/// the API.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
pub struct WorkspaceReadme;
