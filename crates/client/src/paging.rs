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

use futures::future::BoxFuture;
use futures::stream::{self, BoxStream, StreamExt, TryStreamExt};

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

/// Fetches the page of `limit` items at `offset` from a copy of `builder`, then
/// the next, until a short page.
fn walk<'a, B, T, F>(builder: B, page_size: u64, fetch: F) -> BoxStream<'a, Result<T, ApiError>>
where
    B: Clone + Send + 'a,
    T: Send + 'a,
    F: Fn(B, u64, u64) -> BoxFuture<'a, Result<Vec<T>, ApiError>> + Send + 'a,
{
    let page_size = page_size.max(1);
    stream::try_unfold(Some(0u64), move |offset: Option<u64>| {
        let request = offset.map(|offset| (offset, fetch(builder.clone(), offset, page_size)));
        async move {
            let Some((offset, request)) = request else {
                return Ok::<_, ApiError>(None);
            };
            let page = request.await?;
            let received = u64::try_from(page.len()).unwrap_or(u64::MAX);
            // A server that ignores `limit` sends more than asked; counting
            // what arrived still lands the next offset after it.
            let next = (received >= page_size).then(|| offset.saturating_add(received));
            Ok(Some((page, next)))
        }
    })
    .map_ok(|page| stream::iter(page.into_iter().map(Ok)))
    .try_flatten()
    .boxed()
}

/// Implements [`Paginate`] for builders that page with `offset` and `limit`.
macro_rules! offset_limit_pages {
    ($($builder:ident => $item:ty),* $(,)?) => {$(
        impl<'a> Paginate<'a> for builder::$builder<'a> {
            type Item = $item;

            fn stream(self) -> BoxStream<'a, Result<Self::Item, ApiError>> {
                self.stream_with_page_size(DEFAULT_PAGE_SIZE)
            }

            fn stream_with_page_size(
                self,
                page_size: u64,
            ) -> BoxStream<'a, Result<Self::Item, ApiError>> {
                walk(self, page_size, |builder, offset, limit| {
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
    GetFlows => types::Flow,
    GetStoreRecords => types::Record,
    GetPeopleTasks => types::PeopleTask,
    GetCharts => types::Chart,
}

impl<'a> Paginate<'a> for builder::GetLogs<'a> {
    type Item = types::LogHit;

    fn stream(self) -> BoxStream<'a, Result<Self::Item, ApiError>> {
        self.stream_with_page_size(DEFAULT_LOG_PAGE_SIZE)
    }

    fn stream_with_page_size(self, page_size: u64) -> BoxStream<'a, Result<Self::Item, ApiError>> {
        walk(self, page_size, |builder, from, size| {
            Box::pin(async move {
                let search = builder.from(from).size(size).send().await?;
                Ok(search.into_inner().hits)
            })
        })
    }
}
