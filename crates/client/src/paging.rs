//! Streams that walk every page of a paged list.
//!
//! Appmixer's lists page with `offset` and `limit` (flows, store records,
//! people tasks, charts), its log search with `from` and `size`, and none
//! answers with a total. [`Paginate`] turns a configured list builder into a
//! stream of items: it asks for one page after the other, each time with the
//! builder's other query parameters (pattern, filter, sort, projection,
//! `storeId` …) and the next offset, and stops after a page shorter than the
//! page size. The stream ends after the first error, which it yields.
//!
//! A server that ignores the paging parameters would make such a walk
//! endless, so it stops with an error when a full page repeats the page
//! before it (the server ignores the offset) or when two pages in a row are
//! longer than asked for (it ignores the limit and the offset). A server that
//! ignores only the limit is walked to the end: its first page holds
//! everything from the offset on, and the next one is empty.
//!
//! ```no_run
//! use appmixer_client::{Client, Paginate};
//! use futures::TryStreamExt;
//!
//! # async fn run(client: Client) -> Result<(), appmixer_client::ApiError> {
//! let names: Vec<_> = client
//!     .get_flows()
//!     .filter(vec![String::from("customFields.category:crm")])
//!     .sort("name:1")
//!     .stream()
//!     .map_ok(|flow| flow.name)
//!     .try_collect()
//!     .await?;
//! # Ok(())
//! # }
//! ```

use std::hash::{DefaultHasher, Hash, Hasher};

use futures::future::BoxFuture;
use futures::stream::{self, BoxStream, StreamExt, TryStreamExt};
use serde::Serialize;

use crate::error::ApiError;
use crate::{ResponseValue, builder, types};

/// The page size of the lists, the spec's default `limit`.
pub const DEFAULT_PAGE_SIZE: u64 = 100;

/// The page size of the log search, the spec's default `size`.
pub const DEFAULT_LOG_PAGE_SIZE: u64 = 50;

/// A list builder whose pages can be walked as one stream.
///
/// The stream sets the paging parameters itself (`offset` and `limit`, or
/// `from` and `size`), so any the builder was given are replaced.
pub trait Paginate<'a>: Sized {
    /// What the stream yields: a flow, a record, a task, a chart, a log hit.
    type Item;

    /// Walks every page, [`DEFAULT_PAGE_SIZE`] items at a time
    /// ([`DEFAULT_LOG_PAGE_SIZE`] for logs).
    fn stream(self) -> BoxStream<'a, Result<Self::Item, ApiError>>;

    /// Walks every page, `page_size` items at a time (at least 1).
    fn stream_with_page_size(self, page_size: u64) -> BoxStream<'a, Result<Self::Item, ApiError>>;
}

/// How a list is paged: its route and the names of its paging parameters,
/// for the error that says the server ignores them.
#[derive(Clone, Copy)]
struct Paging {
    /// The list's route, e.g. `GET /flows`.
    route: &'static str,
    /// The parameter that skips items: `offset` or `from`.
    offset: &'static str,
    /// The parameter that bounds a page: `limit` or `size`.
    limit: &'static str,
}

/// Where a walk stands between two pages.
struct Position {
    /// The offset of the next page; `None` once the list has ended.
    next: Option<u64>,
    /// The previous page, when it was full.
    previous: Option<FullPage>,
}

/// What a walk remembers of a full page, to tell a server that ignores paging.
struct FullPage {
    /// A hash of the page's items as JSON.
    fingerprint: u64,
    /// Whether it held more items than the limit asked for.
    longer_than_asked: bool,
}

/// Fetches the page of `limit` items at `offset` from a copy of `builder`, then
/// the next, until a short page.
fn walk<'a, B, T, F>(
    builder: B,
    page_size: u64,
    paging: Paging,
    fetch: F,
) -> BoxStream<'a, Result<T, ApiError>>
where
    B: Clone + Send + 'a,
    T: Serialize + Send + 'a,
    F: Fn(B, u64, u64) -> BoxFuture<'a, Result<Vec<T>, ApiError>> + Send + 'a,
{
    let page_size = page_size.max(1);
    let start = Position {
        next: Some(0),
        previous: None,
    };
    stream::try_unfold(start, move |position: Position| {
        let request = position
            .next
            .map(|offset| (offset, fetch(builder.clone(), offset, page_size)));
        async move {
            let Some((offset, request)) = request else {
                return Ok::<_, ApiError>(None);
            };
            let page = request.await?;
            let received = u64::try_from(page.len()).unwrap_or(u64::MAX);
            if received < page_size {
                let end = Position {
                    next: None,
                    previous: None,
                };
                return Ok(Some((page, end)));
            }

            let full = FullPage {
                fingerprint: fingerprint(&page),
                longer_than_asked: received > page_size,
            };
            if let Some(previous) = &position.previous {
                let why = if previous.longer_than_asked && full.longer_than_asked {
                    Some(format!(
                        "ignores `{offset}` and `{limit}`: two pages in a row held more than the \
                         {page_size} items asked for, the one at {offset} {at} held {received}",
                        offset = paging.offset,
                        limit = paging.limit,
                        at = offset,
                    ))
                } else if previous.fingerprint == full.fingerprint {
                    Some(format!(
                        "ignores `{offset}`: the page at {offset} {at} repeats the {received} \
                         items of the page before it",
                        offset = paging.offset,
                        at = offset,
                    ))
                } else {
                    None
                };
                if let Some(why) = why {
                    return Err(ApiError::Custom(format!(
                        "stopped paging through {route}: the server {why}; the items before were \
                         delivered once each. Fetch the list with one request instead, or fix \
                         the server's paging",
                        route = paging.route,
                    )));
                }
            }
            // A server that ignores `limit` sends more than asked; counting
            // what arrived still lands the next offset after it.
            let after = Position {
                next: Some(offset.saturating_add(received)),
                previous: Some(full),
            };
            Ok(Some((page, after)))
        }
    })
    .map_ok(|page| stream::iter(page.into_iter().map(Ok)))
    .try_flatten()
    .boxed()
}

/// A hash of `page` as JSON, equal for pages with equal items.
fn fingerprint<T: Serialize>(page: &[T]) -> u64 {
    let mut hasher = DefaultHasher::new();
    // The items were just read from JSON, so writing them back cannot fail in
    // practice; if it did, such pages would look alike and end the walk with
    // the paging error, which errs on the side of stopping.
    serde_json::to_vec(page)
        .unwrap_or_default()
        .hash(&mut hasher);
    hasher.finish()
}

/// Implements [`Paginate`] for builders that page with `offset` and `limit`.
macro_rules! offset_limit_pages {
    ($($builder:ident => $item:ty, $route:literal),* $(,)?) => {$(
        impl<'a> Paginate<'a> for builder::$builder<'a> {
            type Item = $item;

            fn stream(self) -> BoxStream<'a, Result<Self::Item, ApiError>> {
                self.stream_with_page_size(DEFAULT_PAGE_SIZE)
            }

            fn stream_with_page_size(
                self,
                page_size: u64,
            ) -> BoxStream<'a, Result<Self::Item, ApiError>> {
                let paging = Paging {
                    route: $route,
                    offset: "offset",
                    limit: "limit",
                };
                walk(self, page_size, paging, |builder, offset, limit| {
                    Box::pin(async move {
                        let page = builder.offset(offset).limit(limit).send().await?;
                        Ok(ResponseValue::into_inner(page))
                    })
                })
            }
        }
    )*};
}

offset_limit_pages! {
    GetFlows => types::Flow, "GET /flows",
    GetStoreRecords => types::Record, "GET /store",
    GetPeopleTasks => types::PeopleTask, "GET /people-task/tasks",
    GetCharts => types::Chart, "GET /charts",
}

impl<'a> Paginate<'a> for builder::GetLogs<'a> {
    type Item = types::LogHit;

    fn stream(self) -> BoxStream<'a, Result<Self::Item, ApiError>> {
        self.stream_with_page_size(DEFAULT_LOG_PAGE_SIZE)
    }

    fn stream_with_page_size(self, page_size: u64) -> BoxStream<'a, Result<Self::Item, ApiError>> {
        let paging = Paging {
            route: "GET /logs",
            offset: "from",
            limit: "size",
        };
        walk(self, page_size, paging, |builder, from, size| {
            Box::pin(async move {
                let search = builder.from(from).size(size).send().await?;
                Ok(search.into_inner().hits)
            })
        })
    }
}
