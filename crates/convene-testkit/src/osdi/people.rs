//! The fake's people: pages (with filters), single people, and the signup helper.

use super::{Fake, Shared, hal_page, id_of, not_found, now, parse_time};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use std::collections::HashMap;

/// An Action Network-shaped person.
pub fn person(id: &str, given: &str, family: &str, email: &str) -> Value {
    json!({
        "identifiers": [format!("action_network:{id}")],
        "given_name": given, "family_name": family,
        "email_addresses": [{"primary": true, "address": email, "status": "subscribed"}],
        "created_date": "2026-11-01T10:00:00Z", "modified_date": "2026-11-01T10:00:00Z",
    })
}

fn with_links(base: &str, p: &Value) -> Value {
    let mut p = p.clone();
    p["_links"] = json!({"self": {"href": format!("{base}people/{}", id_of(&p))}});
    p
}

/// Lays `changes` over a person (each member replaced whole) and bumps `modified_date`.
pub(super) fn merge_members(p: &mut Value, changes: &Value) {
    if let (Some(target), Some(changes)) = (p.as_object_mut(), changes.as_object()) {
        for (k, v) in changes {
            if k == "identifiers" || k == "_links" {
                continue;
            }
            // U+2400 clears a field, as on Action Network.
            if v.as_str() == Some("\u{2400}") {
                target.remove(k);
            } else {
                target.insert(k.clone(), v.clone());
            }
        }
    }
    p["modified_date"] = json!(now());
}

fn email_of(p: &Value) -> Option<String> {
    p["email_addresses"]
        .as_array()?
        .iter()
        .find(|e| e["primary"].as_bool() == Some(true))
        .or_else(|| p["email_addresses"].get(0))?["address"]
        .as_str()
        .map(str::to_lowercase)
}

/// The two filters the engine uses, as Action Network reads them.
enum Filter {
    ModifiedAfter(time::OffsetDateTime),
    Email(String),
}

fn parse_filter(raw: &str) -> Option<Filter> {
    let (field, rest) = raw.split_once(' ')?;
    let (op, value) = rest.split_once(' ')?;
    let value = value
        .strip_prefix('\'')?
        .strip_suffix('\'')?
        .replace("''", "'");
    match (field, op) {
        ("modified_date", "gt") => parse_time(&value).map(Filter::ModifiedAfter),
        ("email_address", "eq") => Some(Filter::Email(value.to_lowercase())),
        _ => None,
    }
}

fn matches(f: &Fake, p: &Value, filter: &Filter) -> bool {
    match filter {
        Filter::Email(email) => email_of(p).as_deref() == Some(email),
        Filter::ModifiedAfter(since) => {
            let modified = p["modified_date"].as_str().and_then(parse_time);
            let indexed_until = time::OffsetDateTime::now_utc() - f.index_lag;
            modified.is_some_and(|m| m > *since && m <= indexed_until)
        }
    }
}

pub async fn page(
    State(shared): State<Shared>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let f = shared.lock().expect("fake state");
    let page: usize = q
        .get("page")
        .and_then(|p| p.parse().ok())
        .unwrap_or(1)
        .max(1);
    let filter = match q.get("filter").map(|raw| parse_filter(raw)) {
        Some(None) => {
            return (
                StatusCode::BAD_REQUEST,
                Json(json!({"error": "bad filter"})),
            )
                .into_response();
        }
        Some(Some(filter)) => Some(filter),
        None => None,
    };
    // Only this page's records are copied: the bench walks 10,000 people.
    let items: Vec<Value> = super::cut(
        &f,
        f.people
            .iter()
            .filter(|p| filter.as_ref().is_none_or(|flt| matches(&f, p, flt))),
        page,
    )
    .into_iter()
    .map(|p| with_links(&f.base, p))
    .collect();
    let query = q
        .get("filter")
        .map(|raw| {
            let enc: String = url::form_urlencoded::byte_serialize(raw.as_bytes()).collect();
            format!("filter={enc}&")
        })
        .unwrap_or_default();
    Json(hal_page(
        &f,
        &format!("{}people", f.base),
        "osdi:people",
        items,
        page,
        &query,
    ))
    .into_response()
}

pub async fn one(State(shared): State<Shared>, Path(id): Path<String>) -> Response {
    let f = shared.lock().expect("fake state");
    match f.people.iter().find(|p| id_of(p) == id) {
        Some(p) => Json(with_links(&f.base, p)).into_response(),
        None => not_found(&format!("person with id = {id}")),
    }
}

pub async fn put_one(
    State(shared): State<Shared>,
    Path(id): Path<String>,
    Json(body): Json<Value>,
) -> Response {
    let mut f = shared.lock().expect("fake state");
    let base = f.base.clone();
    let Some(p) = f.people.iter_mut().find(|p| id_of(p) == id) else {
        return not_found(&format!("person with id = {id}"));
    };
    merge_members(p, &body);
    Json(with_links(&base, p)).into_response()
}

/// The person signup helper: an upsert by email; `add_tags` tags the person (creating tags).
pub async fn signup(State(shared): State<Shared>, Json(body): Json<Value>) -> Response {
    let mut f = shared.lock().expect("fake state");
    let new = &body["person"];
    let Some(email) = email_of(new) else {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "an email address is required"})),
        )
            .into_response();
    };
    let id = match f
        .people
        .iter_mut()
        .find(|p| email_of(p).as_deref() == Some(email.as_str()))
    {
        Some(p) => {
            merge_members(p, new);
            id_of(p)
        }
        None => {
            let id = f.fresh_id("person");
            let mut created = new.clone();
            created["identifiers"] = json!([format!("action_network:{id}")]);
            created["created_date"] = json!(now());
            created["modified_date"] = json!(now());
            f.people.push(created);
            id
        }
    };
    for tag in body["add_tags"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
    {
        let existing = f
            .tags
            .iter()
            .find(|(_, (name, _))| name.eq_ignore_ascii_case(tag))
            .map(|(tid, _)| tid.clone());
        let tid = match existing {
            Some(tid) => tid,
            None => {
                let tid = f.fresh_id("tag");
                f.tags
                    .insert(tid.clone(), (tag.to_owned(), Default::default()));
                tid
            }
        };
        let tagging = f.fresh_id("tagging");
        let taggings = &mut f.tags.get_mut(&tid).expect("just made").1;
        if !taggings.values().any(|p| *p == id) {
            taggings.insert(tagging, id.clone());
        }
    }
    let p = f
        .people
        .iter()
        .find(|p| id_of(p) == id)
        .expect("just written");
    Json(with_links(&f.base, p)).into_response()
}
