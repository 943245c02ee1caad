//! Runs the webfilters of an action before it happens: the one place handlers call them.

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use convene_core::webfilter::FilterType;
use convene_delivery::filters::{Verdict, run};
use serde_json::{Map, Value};

/// The members of a `json!({...})` literal.
pub fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(members) => members,
        _ => Map::new(),
    }
}

/// Calls the enabled filters of `filter_type` with `input`; returns the writable keys they
/// rewrote, or the 403 `halted_by_filter` of a halt. Every call is logged.
pub async fn screen(
    state: &AppState,
    filter_type: FilterType,
    input: Map<String, Value>,
) -> ApiResult<Map<String, Value>> {
    let filters = state.store.enabled_webfilters(filter_type).await?;
    if filters.is_empty() {
        return Ok(Map::new());
    }
    let (verdict, calls) = run(
        &state.filter_client,
        filter_type,
        &filters,
        &input,
        state.clock.now(),
    )
    .await;
    for (filter, call) in &calls {
        if let Err(e) = state.store.log_filter_call(&filter.id, call).await {
            tracing::warn!(webfilter = %filter.id, error = %e, "could not log a webfilter call");
        }
    }
    match verdict {
        Verdict::Proceed(rewrites) => Ok(rewrites),
        Verdict::Halt(halt) => Err(ApiError::Halted {
            message: halt.message,
            redirect_to: halt.redirect_to,
        }),
    }
}
