//! The fake's tags, taggings and event attendances.

use super::{Shared, hal_page, not_found, now};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use std::collections::HashMap;

pub(super) fn page_number(q: &HashMap<String, String>) -> usize {
    q.get("page")
        .and_then(|p| p.parse().ok())
        .unwrap_or(1)
        .max(1)
}

fn tag_record(base: &str, id: &str, name: &str) -> Value {
    json!({
        "identifiers": [format!("action_network:{id}")], "name": name,
        "created_date": "2026-01-10T12:00:00Z", "modified_date": "2026-01-10T12:00:00Z",
        "_links": {"self": {"href": format!("{base}tags/{id}")},
            "osdi:taggings": {"href": format!("{base}tags/{id}/taggings")}},
    })
}

pub async fn tags(
    State(shared): State<Shared>,
    Query(q): Query<HashMap<String, String>>,
) -> Json<Value> {
    let f = shared.lock().expect("fake state");
    let items: Vec<Value> = f
        .tags
        .iter()
        .map(|(id, (name, _))| tag_record(&f.base, id, name))
        .collect();
    Json(hal_page(
        &f,
        &format!("{}tags", f.base),
        "osdi:tags",
        super::cut(&f, items.into_iter(), page_number(&q)),
        page_number(&q),
        "",
    ))
}

/// Tags are unique by name without case: POSTing an existing name returns that tag.
pub async fn new_tag(State(shared): State<Shared>, Json(body): Json<Value>) -> Response {
    let mut f = shared.lock().expect("fake state");
    let Some(name) = body["name"].as_str().filter(|n| !n.is_empty()) else {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "name is required"})),
        )
            .into_response();
    };
    let existing = f
        .tags
        .iter()
        .find(|(_, (n, _))| n.eq_ignore_ascii_case(name))
        .map(|(id, _)| id.clone());
    let id = match existing {
        Some(id) => id,
        None => {
            let id = f.fresh_id("tag");
            f.tags
                .insert(id.clone(), (name.to_owned(), Default::default()));
            id
        }
    };
    let name = f.tags[&id].0.clone();
    Json(tag_record(&f.base, &id, &name)).into_response()
}

fn tagging_record(base: &str, tag: &str, tagging: &str, person: &str) -> Value {
    json!({
        "identifiers": [format!("action_network:{tagging}")], "item_type": "osdi:person",
        "created_date": now(), "modified_date": now(),
        "_links": {"self": {"href": format!("{base}tags/{tag}/taggings/{tagging}")},
            "osdi:tag": {"href": format!("{base}tags/{tag}")},
            "osdi:person": {"href": format!("{base}people/{person}")}},
    })
}

pub async fn taggings(
    State(shared): State<Shared>,
    Path(tag): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let f = shared.lock().expect("fake state");
    let Some((_, taggings)) = f.tags.get(&tag) else {
        return not_found("tag");
    };
    let items: Vec<Value> = taggings
        .iter()
        .map(|(t, p)| tagging_record(&f.base, &tag, t, p))
        .collect();
    Json(hal_page(
        &f,
        &format!("{}tags/{tag}/taggings", f.base),
        "osdi:taggings",
        super::cut(&f, items.into_iter(), page_number(&q)),
        page_number(&q),
        "",
    ))
    .into_response()
}

fn person_of(body: &Value) -> Option<String> {
    let href = body["_links"]["osdi:person"]["href"].as_str()?;
    href.trim_end_matches('/')
        .rsplit('/')
        .next()
        .map(str::to_owned)
}

/// Taggings are unique per person: tagging someone twice returns the first tagging.
pub async fn tag_person(
    State(shared): State<Shared>,
    Path(tag): Path<String>,
    Json(body): Json<Value>,
) -> Response {
    let mut f = shared.lock().expect("fake state");
    let Some(person) = person_of(&body) else {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "osdi:person is required"})),
        )
            .into_response();
    };
    if !f.tags.contains_key(&tag) {
        return not_found("tag");
    }
    let fresh = f.fresh_id("tagging");
    let base = f.base.clone();
    let taggings = &mut f.tags.get_mut(&tag).expect("checked").1;
    let id = match taggings.iter().find(|(_, p)| **p == person) {
        Some((id, _)) => id.clone(),
        None => {
            taggings.insert(fresh.clone(), person.clone());
            fresh
        }
    };
    Json(tagging_record(&base, &tag, &id, &person)).into_response()
}

pub async fn untag(
    State(shared): State<Shared>,
    Path((tag, tagging)): Path<(String, String)>,
) -> Response {
    let mut f = shared.lock().expect("fake state");
    match f.tags.get_mut(&tag).and_then(|(_, t)| t.remove(&tagging)) {
        Some(_) => {
            Json(json!({"notice": "This tagging was successfully deleted."})).into_response()
        }
        None => not_found("tagging"),
    }
}

pub(super) fn attendance_record(
    base: &str,
    event: &str,
    id: &str,
    person: &str,
    status: &str,
) -> Value {
    json!({
        "identifiers": [format!("action_network:{id}")], "status": status,
        "created_date": now(), "modified_date": now(),
        "action_network:referrer_data": {"source": "fake-page"},
        "_links": {"self": {"href": format!("{base}events/{event}/attendances/{id}")},
            "osdi:event": {"href": format!("{base}events/{event}")},
            "osdi:person": {"href": format!("{base}people/{person}")}},
    })
}

pub async fn attendances(
    State(shared): State<Shared>,
    Path(event): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Json<Value> {
    let f = shared.lock().expect("fake state");
    let keep = super::changed_since(&q);
    let items: Vec<Value> = f
        .attendances
        .get(&event)
        .into_iter()
        .flatten()
        .filter(|d| keep(d))
        .cloned()
        .collect();
    Json(hal_page(
        &f,
        &format!("{}events/{event}/attendances", f.base),
        "osdi:attendances",
        super::cut(&f, items.into_iter(), page_number(&q)),
        page_number(&q),
        "",
    ))
}

/// Attendances are unique per person: a second one for the same person updates the first.
pub async fn attend(
    State(shared): State<Shared>,
    Path(event): Path<String>,
    Json(body): Json<Value>,
) -> Response {
    let mut f = shared.lock().expect("fake state");
    let Some(person) = person_of(&body) else {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "osdi:person is required"})),
        )
            .into_response();
    };
    let status = body["status"].as_str().unwrap_or("accepted").to_owned();
    let id = f.fresh_id("attendance");
    let base = f.base.clone();
    let list = f.attendances.entry(event.clone()).or_default();
    let href = format!("{base}people/{person}");
    if let Some(a) = list
        .iter_mut()
        .find(|a| a["_links"]["osdi:person"]["href"] == href.as_str())
    {
        a["status"] = json!(status);
        a["modified_date"] = json!(now());
        return Json(a.clone()).into_response();
    }
    let record = attendance_record(&base, &event, &id, &person, &status);
    list.push(record.clone());
    Json(record).into_response()
}

fn find<'a>(list: &'a mut [Value], base: &str, event: &str, id: &str) -> Option<&'a mut Value> {
    let href = format!("{base}events/{event}/attendances/{id}");
    list.iter_mut()
        .find(|a| a["_links"]["self"]["href"] == href.as_str())
}

pub async fn attendance(
    State(shared): State<Shared>,
    Path((event, id)): Path<(String, String)>,
) -> Response {
    let mut f = shared.lock().expect("fake state");
    let base = f.base.clone();
    match f
        .attendances
        .get_mut(&event)
        .and_then(|l| find(l, &base, &event, &id))
    {
        Some(a) => Json(a.clone()).into_response(),
        None => not_found("attendance"),
    }
}

pub async fn change_attendance(
    State(shared): State<Shared>,
    Path((event, id)): Path<(String, String)>,
    Json(body): Json<Value>,
) -> Response {
    let mut f = shared.lock().expect("fake state");
    let base = f.base.clone();
    match f
        .attendances
        .get_mut(&event)
        .and_then(|l| find(l, &base, &event, &id))
    {
        Some(a) => {
            if let Some(s) = body["status"].as_str() {
                a["status"] = json!(s);
            }
            a["modified_date"] = json!(now());
            Json(a.clone()).into_response()
        }
        None => not_found("attendance"),
    }
}
