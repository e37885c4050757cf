//! The hand-written layer of the client against a mock engine: building,
//! logging in, logging in again, retries, paging and what is never printed.

#[path = "../common/mod.rs"]
mod common;

mod building;
mod errors;
mod login;
mod paging;
mod redaction;
mod relogin;
mod retries;
