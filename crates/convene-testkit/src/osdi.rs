//! A fake OSDI server in Action Network's HAL shape: the entry point with its `_links`,
//! people pages with `next` links, single people (GET, PUT), the person signup helper (POST,
//! an upsert by email), scripted failures (429 with `Retry-After`, 5xx), and a record of every
//! request.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use tokio_util::sync::CancellationToken;

#[derive(Default)]
struct Fake {
    base: String,
    people: Vec<Value>,
    per_page: usize,
    /// Answered, in order, before any request is served normally.
    script: VecDeque<(u16, Option<String>)>,
    requests: Vec<String>,
}

type Shared = Arc<Mutex<Fake>>;

pub struct OsdiFake {
    /// The entry point, ending in `/api/v2/`.
    pub entry_point: String,
    shared: Shared,
    stop: CancellationToken,
}

/// An Action Network-shaped person.
pub fn person(id: &str, given: &str, family: &str, email: &str) -> Value {
    json!({
        "identifiers": [format!("action_network:{id}")],
        "given_name": given, "family_name": family,
        "email_addresses": [{"primary": true, "address": email, "status": "subscribed"}],
        "created_date": "2026-11-01T10:00:00Z", "modified_date": "2026-11-01T10:00:00Z",
    })
}

fn id_of(p: &Value) -> String {
    p["identifiers"][0]
        .as_str()
        .unwrap_or_default()
        .trim_start_matches("action_network:")
        .to_owned()
}

impl OsdiFake {
    pub async fn start(people: Vec<Value>, per_page: usize) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let root = format!("http://{}", listener.local_addr().expect("address"));
        let entry_point = format!("{root}/api/v2/");
        let shared = Arc::new(Mutex::new(Fake {
            base: entry_point.clone(),
            people,
            per_page: per_page.max(1),
            ..Default::default()
        }));
        let app = axum::Router::new()
            .route("/api/v2/", get(aep))
            .route("/api/v2/people", get(people_page).post(signup))
            .route("/api/v2/people/{id}", get(one).put(put_one))
            .layer(axum::middleware::from_fn_with_state(
                shared.clone(),
                scripted,
            ))
            .with_state(shared.clone());
        let stop = crate::receiver::serve_until_stopped(listener, app);
        Self {
            entry_point,
            shared,
            stop,
        }
    }

    /// The next requests get these answers first: `(status, Retry-After)`.
    pub fn fail_next(&self, answers: impl IntoIterator<Item = (u16, Option<&'static str>)>) {
        let mut f = self.shared.lock().expect("fake state");
        f.script
            .extend(answers.into_iter().map(|(s, r)| (s, r.map(str::to_owned))));
    }

    /// `METHOD path?query` of every request, in order.
    pub fn requests(&self) -> Vec<String> {
        self.shared.lock().expect("fake state").requests.clone()
    }

    pub fn people(&self) -> Vec<Value> {
        self.shared.lock().expect("fake state").people.clone()
    }
}

impl Drop for OsdiFake {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

async fn scripted(
    State(shared): State<Shared>,
    method: Method,
    uri: Uri,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let answer = {
        let mut f = shared.lock().expect("fake state");
        f.requests.push(format!(
            "{method} {}",
            uri.path_and_query().map_or(uri.path(), |p| p.as_str())
        ));
        f.script.pop_front()
    };
    match answer {
        Some((status, retry_after)) => {
            let mut r = (
                StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                Json(json!({"error": "scripted"})),
            )
                .into_response();
            if let Some(v) = retry_after.and_then(|v| HeaderValue::from_str(&v).ok()) {
                r.headers_mut().insert("retry-after", v);
            }
            r
        }
        None => next.run(req).await,
    }
}

async fn aep(State(shared): State<Shared>) -> Json<Value> {
    let base = shared.lock().expect("fake state").base.clone();
    Json(json!({
        "motd": "Welcome to the fake Action Network API",
        "_links": {
            "self": {"href": base},
            "osdi:people": {"href": format!("{base}people")},
            "osdi:tags": {"href": format!("{base}tags")},
            "osdi:events": {"href": format!("{base}events")},
        }
    }))
}

async fn people_page(
    State(shared): State<Shared>,
    Query(q): Query<HashMap<String, String>>,
) -> Json<Value> {
    let f = shared.lock().expect("fake state");
    let page: usize = q
        .get("page")
        .and_then(|p| p.parse().ok())
        .unwrap_or(1)
        .max(1);
    let items: Vec<Value> = f
        .people
        .iter()
        .skip((page - 1) * f.per_page)
        .take(f.per_page)
        .cloned()
        .collect();
    let total_pages = f.people.len().div_ceil(f.per_page).max(1);
    let href = |n: usize| format!("{}people?page={n}", f.base);
    let mut links = json!({"self": {"href": href(page)}});
    if page < total_pages {
        links["next"] = json!({"href": href(page + 1)});
    }
    Json(json!({
        "total_pages": total_pages, "per_page": f.per_page, "page": page, "total_records": f.people.len(),
        "_links": links, "_embedded": {"osdi:people": items},
    }))
}

async fn one(State(shared): State<Shared>, Path(id): Path<String>) -> Response {
    let f = shared.lock().expect("fake state");
    match f.people.iter().find(|p| id_of(p) == id) {
        Some(p) => Json(p.clone()).into_response(),
        None => (StatusCode::NOT_FOUND, Json(json!({"error": "not found"}))).into_response(),
    }
}

async fn put_one(
    State(shared): State<Shared>,
    Path(id): Path<String>,
    Json(body): Json<Value>,
) -> Response {
    let mut f = shared.lock().expect("fake state");
    let Some(p) = f.people.iter_mut().find(|p| id_of(p) == id) else {
        return (StatusCode::NOT_FOUND, Json(json!({"error": "not found"}))).into_response();
    };
    if let (Some(target), Some(changes)) = (p.as_object_mut(), body.as_object()) {
        for (k, v) in changes {
            target.insert(k.clone(), v.clone());
        }
    }
    Json(p.clone()).into_response()
}

/// The person signup helper: an upsert by email.
async fn signup(State(shared): State<Shared>, Json(body): Json<Value>) -> Response {
    let mut f = shared.lock().expect("fake state");
    let new = &body["person"];
    let email = new["email_addresses"][0]["address"]
        .as_str()
        .unwrap_or_default()
        .to_lowercase();
    let existing = f.people.iter_mut().find(|p| {
        p["email_addresses"][0]["address"]
            .as_str()
            .map(str::to_lowercase)
            == Some(email.clone())
    });
    if let Some(p) = existing {
        return Json(p.clone()).into_response();
    }
    let mut created = new.clone();
    created["identifiers"] = json!([format!("action_network:fake-{}", f.people.len() + 1)]);
    f.people.push(created.clone());
    (StatusCode::OK, Json(created)).into_response()
}
