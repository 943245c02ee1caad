//! Storage of webfilters and of every call made to them.

use crate::StoreResult;
use async_trait::async_trait;
use convene_core::page::{Page, PageRequest};
use convene_core::webfilter::{FilterType, OnFailure, Webfilter};
use convene_core::webhook::{Attempt, TargetUrl};
use convene_core::{Timestamp, WebfilterId};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewWebfilter {
    pub filter_type: FilterType,
    pub url: TargetUrl,
    pub enabled: bool,
    pub description: Option<String>,
    pub disable_filtering: bool,
    pub disable_halt: bool,
    pub on_4xx: OnFailure,
    pub on_5xx: OnFailure,
    pub on_request_exception: OnFailure,
    pub encoding: String,
    pub timeout_ms: u32,
}

#[async_trait]
pub trait WebfilterStore: Send + Sync {
    async fn create_webfilter(&self, new: NewWebfilter, at: Timestamp) -> StoreResult<Webfilter>;
    async fn webfilter(&self, id: &WebfilterId) -> StoreResult<Option<Webfilter>>;
    /// By id; with `search`, only those whose URL or description contains it, ignoring case.
    async fn list_webfilters(
        &self,
        search: Option<&str>,
        page: &PageRequest,
    ) -> StoreResult<Page<Webfilter>>;
    /// The enabled filters of a type, in the order they are called: oldest first.
    async fn enabled_webfilters(&self, filter_type: FilterType) -> StoreResult<Vec<Webfilter>>;
    async fn update_webfilter(&self, filter: &Webfilter) -> StoreResult<Webfilter>;
    async fn delete_webfilter(&self, id: &WebfilterId) -> StoreResult<bool>;
    async fn log_filter_call(&self, id: &WebfilterId, call: &Attempt) -> StoreResult<()>;
    /// The latest calls, newest first.
    async fn filter_calls(&self, id: &WebfilterId, limit: u32) -> StoreResult<Vec<Attempt>>;
}
