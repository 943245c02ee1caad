//! A fake OSDI server in Action Network's HAL shape (reference §15): the entry point with its
//! `_links`; people pages that, like Action Network, carry a `next` link even on the last page;
//! filters (`modified_date gt '…'` behind a lagging index, `email_address eq '…'`); single
//! people (GET, PUT merging members); the person signup helper (an upsert by email, with
//! `add_tags`); tags, taggings, event attendances, donations; scripted failures (429 with `Retry-After`,
//! 5xx with an HTML body); and a record of every request.

mod donations;
mod people;
mod tags_events;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use serde_json::{Value, json};
use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use time::OffsetDateTime;
use tokio_util::sync::CancellationToken;

pub use people::person;

#[derive(Default)]
struct Fake {
    base: String,
    people: Vec<Value>,
    per_page: usize,
    /// Filtered queries do not see records modified more recently than this (Action
    /// Network's filter index lags its writes).
    index_lag: Duration,
    /// Answered, in order, before any request is served normally.
    script: VecDeque<(u16, Option<String>)>,
    /// `(text, status)`: the next request whose line contains the text gets the status.
    targeted: Vec<(String, u16)>,
    requests: Vec<String>,
    /// When each request arrived, in the same order.
    arrivals: Vec<std::time::Instant>,
    /// `(request line, JSON body)` of every request that had a body.
    bodies: Vec<(String, Value)>,
    /// Tag id → (name, taggings: tagging id → person id).
    tags: BTreeMap<String, (String, BTreeMap<String, String>)>,
    /// Event id → attendances (full records).
    attendances: BTreeMap<String, Vec<Value>>,
    /// Every donation (full records), oldest first.
    donations: Vec<Value>,
    /// Links the entry point leaves out (as a server without that collection would).
    hidden_links: Vec<String>,
    next_id: u64,
}

impl Fake {
    fn fresh_id(&mut self, kind: &str) -> String {
        self.next_id += 1;
        format!("fake-{kind}-{}", self.next_id)
    }
}

type Shared = Arc<Mutex<Fake>>;

pub struct OsdiFake {
    /// The entry point, ending in `/api/v2/`.
    pub entry_point: String,
    shared: Shared,
    stop: CancellationToken,
}

/// Now as Action Network writes it: UTC, whole seconds.
fn now() -> String {
    let t = OffsetDateTime::now_utc();
    t.replace_nanosecond(0)
        .unwrap_or(t)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

fn parse_time(s: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()
}

/// What a `filter=modified_date gt '…'` query keeps (everything without one).
fn changed_since(q: &std::collections::HashMap<String, String>) -> impl Fn(&Value) -> bool {
    let since = q.get("filter").and_then(|raw| {
        raw.strip_prefix("modified_date gt '")?
            .strip_suffix('\'')
            .and_then(parse_time)
    });
    move |record| {
        since.is_none_or(|s| {
            record["modified_date"]
                .as_str()
                .and_then(parse_time)
                .is_some_and(|m| m > s)
        })
    }
}

fn id_of(p: &Value) -> String {
    p["identifiers"][0]
        .as_str()
        .unwrap_or_default()
        .trim_start_matches("action_network:")
        .to_owned()
}

fn not_found(what: &str) -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(json!({"error": format!("Couldn't find {what}")})),
    )
        .into_response()
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
            .route("/api/v2/people", get(people::page).post(people::signup))
            .route("/api/v2/people/{id}", get(people::one).put(people::put_one))
            .route(
                "/api/v2/tags",
                get(tags_events::tags).post(tags_events::new_tag),
            )
            .route(
                "/api/v2/tags/{id}/taggings",
                get(tags_events::taggings).post(tags_events::tag_person),
            )
            .route(
                "/api/v2/tags/{id}/taggings/{tagging}",
                axum::routing::delete(tags_events::untag),
            )
            .route(
                "/api/v2/events/{id}/attendances",
                get(tags_events::attendances).post(tags_events::attend),
            )
            .route(
                "/api/v2/events/{id}/attendances/{attendance}",
                put(tags_events::change_attendance).get(tags_events::attendance),
            )
            .route("/api/v2/donations", get(donations::donations))
            .route(
                "/api/v2/fundraising_pages",
                get(donations::fundraising_pages),
            )
            .route(
                "/api/v2/fundraising_pages/{id}/donations",
                get(donations::page_donations).post(donations::donate),
            )
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

    fn with<T>(&self, f: impl FnOnce(&mut Fake) -> T) -> T {
        f(&mut self.shared.lock().expect("fake state"))
    }

    /// The next requests get these answers first: `(status, Retry-After)`.
    pub fn fail_next(&self, answers: impl IntoIterator<Item = (u16, Option<&'static str>)>) {
        self.with(|f| {
            f.script
                .extend(answers.into_iter().map(|(s, r)| (s, r.map(str::to_owned))))
        });
    }

    /// The next `times` requests whose `METHOD path?query` contains `text` get `status`.
    pub fn fail_matching(&self, text: &str, status: u16, times: usize) {
        self.with(|f| {
            f.targeted
                .extend(std::iter::repeat_n((text.to_owned(), status), times))
        });
    }

    pub fn set_index_lag(&self, lag: Duration) {
        self.with(|f| f.index_lag = lag);
    }

    /// `METHOD path?query` of every request, in order.
    pub fn requests(&self) -> Vec<String> {
        self.with(|f| f.requests.clone())
    }

    /// When each request arrived (its body read), in order.
    pub fn arrivals(&self) -> Vec<std::time::Instant> {
        self.with(|f| f.arrivals.clone())
    }

    /// The most requests that arrived within any `window`.
    pub fn most_within(&self, window: Duration) -> usize {
        let at = self.arrivals();
        (0..at.len())
            .map(|i| at[i..].iter().take_while(|t| **t - at[i] < window).count())
            .max()
            .unwrap_or(0)
    }

    pub fn clear_requests(&self) {
        self.with(|f| {
            f.requests.clear();
            f.arrivals.clear();
            f.bodies.clear();
        });
    }

    /// `(request line, JSON body)` of the requests that carried one, in order.
    pub fn bodies(&self) -> Vec<(String, Value)> {
        self.with(|f| f.bodies.clone())
    }

    /// Requests other than GETs: the writes.
    pub fn writes(&self) -> Vec<String> {
        self.requests()
            .into_iter()
            .filter(|r| !r.starts_with("GET "))
            .collect()
    }

    pub fn people(&self) -> Vec<Value> {
        self.with(|f| f.people.clone())
    }

    pub fn person(&self, id: &str) -> Option<Value> {
        self.with(|f| f.people.iter().find(|p| id_of(p) == id).cloned())
    }

    /// Changes a person as Action Network's UI would: members merged, `modified_date` now.
    pub fn edit_person(&self, id: &str, changes: Value) {
        self.with(|f| {
            let p = f
                .people
                .iter_mut()
                .find(|p| id_of(p) == id)
                .expect("a fake person");
            people::merge_members(p, &changes);
        });
    }

    /// Creates a tag (as the UI would) and returns its id.
    pub fn add_tag(&self, name: &str) -> String {
        self.with(|f| {
            let id = f.fresh_id("tag");
            f.tags
                .insert(id.clone(), (name.to_owned(), BTreeMap::new()));
            id
        })
    }

    /// Tags a person (as the UI would).
    pub fn tag(&self, tag_id: &str, person_id: &str) {
        self.with(|f| {
            let tagging = f.fresh_id("tagging");
            f.tags
                .get_mut(tag_id)
                .expect("a fake tag")
                .1
                .insert(tagging, person_id.to_owned());
        });
    }

    /// Names of the tags on a person.
    pub fn tags_of(&self, person_id: &str) -> Vec<String> {
        self.with(|f| {
            let mut names: Vec<String> = f
                .tags
                .values()
                .filter(|(_, taggings)| taggings.values().any(|p| p == person_id))
                .map(|(name, _)| name.clone())
                .collect();
            names.sort();
            names
        })
    }

    /// Adds a donation by a person (as a gift on a fundraising page would); its id.
    pub fn add_donation(&self, person_id: &str, amount: &str) -> String {
        self.with(|f| {
            let id = f.fresh_id("donation");
            let record = donations::donation_record(&f.base, &id, person_id, "spring", amount);
            f.donations.push(record);
            id
        })
    }

    /// Leaves `rel` out of the entry point's links from now on.
    pub fn hide_link(&self, rel: &str) {
        self.with(|f| f.hidden_links.push(rel.to_owned()));
    }

    /// Every donation, oldest first.
    pub fn donations(&self) -> Vec<Value> {
        self.with(|f| f.donations.clone())
    }

    /// Adds an attendance to an event (as a signup on the event's page would).
    pub fn add_attendance(&self, event_id: &str, person_id: &str, status: &str) {
        self.with(|f| {
            let id = f.fresh_id("attendance");
            let record = tags_events::attendance_record(&f.base, event_id, &id, person_id, status);
            f.attendances
                .entry(event_id.to_owned())
                .or_default()
                .push(record);
        });
    }

    pub fn attendances(&self, event_id: &str) -> Vec<Value> {
        self.with(|f| f.attendances.get(event_id).cloned().unwrap_or_default())
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
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, 1 << 20)
        .await
        .unwrap_or_default();
    let line = format!(
        "{method} {}",
        uri.path_and_query().map_or(uri.path(), |p| p.as_str())
    );
    let answer = {
        let mut f = shared.lock().expect("fake state");
        f.requests.push(line.clone());
        f.arrivals.push(std::time::Instant::now());
        if let Ok(json) = serde_json::from_slice::<Value>(&bytes) {
            f.bodies.push((line.clone(), json));
        }
        match f
            .targeted
            .iter()
            .position(|(text, _)| line.contains(text.as_str()))
        {
            Some(i) => Some((f.targeted.remove(i).1, None)),
            None => f.script.pop_front(),
        }
    };
    let req = axum::extract::Request::from_parts(parts, axum::body::Body::from(bytes));
    match answer {
        Some((status, retry_after)) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let mut r = if status.is_server_error() {
                // An HTML body: clients must not parse error bodies as HAL.
                (
                    status,
                    [("content-type", "text/html")],
                    "<html><body>Service Unavailable</body></html>",
                )
                    .into_response()
            } else {
                let error = match status.as_u16() {
                    429 => "You have exceeded the API rate limit. Please slow down.",
                    404 => "Couldn't find the record you asked for",
                    _ => "scripted failure",
                };
                (status, Json(json!({ "error": error }))).into_response()
            };
            if let Some(v) = retry_after.and_then(|v| HeaderValue::from_str(&v).ok()) {
                r.headers_mut().insert("retry-after", v);
            }
            r
        }
        None => next.run(req).await,
    }
}

async fn aep(State(shared): State<Shared>) -> Json<Value> {
    let (base, hidden) = {
        let f = shared.lock().expect("fake state");
        (f.base.clone(), f.hidden_links.clone())
    };
    let mut aep = json!({
        "motd": "Welcome to the fake Action Network API",
        "max_page_size": 25,
        "_links": {
            "self": {"href": base},
            "osdi:people": {"href": format!("{base}people")},
            "osdi:tags": {"href": format!("{base}tags")},
            "osdi:events": {"href": format!("{base}events")},
            "osdi:donations": {"href": format!("{base}donations")},
            "osdi:fundraising_pages": {"href": format!("{base}fundraising_pages")},
        }
    });
    if let Some(links) = aep["_links"].as_object_mut() {
        links.retain(|rel, _| !hidden.contains(rel));
    }
    Json(aep)
}

/// Page `page` in HAL, its records already cut out (`slice`): `next` is there whenever the
/// page is not empty, as Action Network does for people.
fn hal_page(
    f: &Fake,
    url_base: &str,
    rel: &str,
    slice: Vec<Value>,
    page: usize,
    query: &str,
) -> Value {
    let href = |n: usize| format!("{url_base}?{query}page={n}");
    let mut links = json!({"self": {"href": href(page)}});
    if !slice.is_empty() {
        links["next"] = json!({"href": href(page + 1)});
    }
    json!({"per_page": f.per_page, "page": page, "_links": links, "_embedded": {rel: slice}})
}

/// The records of page `page` (from 1).
fn cut<T: Clone>(f: &Fake, items: impl Iterator<Item = T>, page: usize) -> Vec<T> {
    items
        .skip((page - 1) * f.per_page)
        .take(f.per_page)
        .collect()
}
