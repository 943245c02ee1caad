//! The fake's donations: the `donations` collection (filtered by `modified_date`), and
//! fundraising pages' donations, created by POST with the donor's `osdi:person` link. Like
//! Action Network, a donation is never changed, and its amount is the sum of its recipients'.

use super::{Shared, hal_page, now};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use std::collections::HashMap;

pub(super) fn donation_record(
    base: &str,
    id: &str,
    person: &str,
    page: &str,
    amount: &str,
) -> Value {
    json!({
        "identifiers": [format!("action_network:{id}")],
        "created_date": now(), "modified_date": now(),
        "currency": "usd", "amount": amount,
        "recipients": [{"display_name": "Fake Campaign", "amount": amount}],
        "action_network:recurrence": {"recurring": false},
        "action_network:referrer_data": {"source": "fake-email"},
        "_links": {"self": {"href": format!("{base}donations/{id}")},
            "osdi:person": {"href": format!("{base}people/{person}")},
            "osdi:fundraising_page": {"href": format!("{base}fundraising_pages/{page}")}},
    })
}

pub async fn donations(
    State(shared): State<Shared>,
    Query(q): Query<HashMap<String, String>>,
) -> Json<Value> {
    collection(&shared, &q, None)
}

/// One fundraising page's donations.
pub async fn page_donations(
    State(shared): State<Shared>,
    Path(page): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Json<Value> {
    collection(&shared, &q, Some(&page))
}

/// The fundraising pages that have donations (one page of them: there are few).
pub async fn fundraising_pages(State(shared): State<Shared>) -> Json<Value> {
    let f = shared.lock().expect("fake state");
    let mut ids: Vec<String> = f.donations.iter().filter_map(page_of).collect();
    ids.sort();
    ids.dedup();
    let pages: Vec<Value> = ids
        .iter()
        .map(|id| {
            json!({"identifiers": [format!("action_network:{id}")], "title": id,
                "_links": {"self": {"href": format!("{}fundraising_pages/{id}", f.base)},
                    "osdi:donations": {"href": format!("{}fundraising_pages/{id}/donations", f.base)}}})
        })
        .collect();
    let url = format!("{}fundraising_pages", f.base);
    Json(
        json!({"per_page": 25, "page": 1, "_links": {"self": {"href": url}},
        "_embedded": {"osdi:fundraising_pages": pages}}),
    )
}

fn page_of(d: &Value) -> Option<String> {
    let href = d["_links"]["osdi:fundraising_page"]["href"].as_str()?;
    href.rsplit('/').next().map(str::to_owned)
}

fn collection(shared: &Shared, q: &HashMap<String, String>, page: Option<&str>) -> Json<Value> {
    let f = shared.lock().expect("fake state");
    let keep = super::changed_since(q);
    let items: Vec<Value> = f
        .donations
        .iter()
        .filter(|d| keep(d) && page.is_none_or(|p| page_of(d).as_deref() == Some(p)))
        .cloned()
        .collect();
    let number = super::tags_events::page_number(q);
    let query = q
        .get("filter")
        .map(|f| format!("filter={}&", urlencode(f)))
        .unwrap_or_default();
    let base = match page {
        Some(p) => format!("{}fundraising_pages/{p}/donations", f.base),
        None => format!("{}donations", f.base),
    };
    Json(hal_page(
        &f,
        &base,
        "osdi:donations",
        super::cut(&f, items.into_iter(), number),
        number,
        &query,
    ))
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Records a donation on a fundraising page. Members left null are refused, as Action Network
/// does for most.
pub async fn donate(
    State(shared): State<Shared>,
    Path(page): Path<String>,
    Json(body): Json<Value>,
) -> Response {
    let mut f = shared.lock().expect("fake state");
    let Some(person) = body["_links"]["osdi:person"]["href"]
        .as_str()
        .and_then(|h| h.rsplit('/').next())
        .map(str::to_owned)
    else {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "a donor is required"})),
        )
            .into_response();
    };
    if body
        .as_object()
        .is_some_and(|o| o.values().any(Value::is_null))
    {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "null members are not allowed"})),
        )
            .into_response();
    }
    let total: f64 = body["recipients"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["amount"].as_str()?.parse::<f64>().ok())
        .sum();
    let id = f.fresh_id("donation");
    let mut record = donation_record(&f.base, &id, &person, &page, &format!("{total:.2}"));
    for member in [
        "identifiers",
        "currency",
        "created_date",
        "action_network:recurrence",
        "action_network:referrer_data",
    ] {
        if let Some(v) = body.get(member) {
            record[member] = v.clone();
        }
    }
    if let Some(ids) = record["identifiers"].as_array_mut() {
        ids.insert(0, json!(format!("action_network:{id}")));
    }
    f.donations.push(record.clone());
    Json(record).into_response()
}
