//! `/v1/notifications`: the Open Event Server notification resource, with its permission
//! holes closed: reads are the owner's or an admin's, writes the owner's, and only `is-read`
//! is writable.

use super::jsonapi::{
    DetailParams, Doc, JsonApiError, JsonApiResult, ListParams, Source, negotiate,
    require_media_type,
};
use crate::api::rfc3339;
use crate::error::ApiError;
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::middleware::{Next, from_fn, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use axum::{Extension, Router};
use convene_core::UserId;
use convene_core::access::Principal;
use convene_core::notification::Notification;
use convene_core::notification::query::lenient_bool;
use convene_core::user::User;
use convene_store::NotificationQuery;
use serde_json::{Map, Value, json};

pub fn router(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/v1/notifications", get(list_all).post(not_allowed))
        .route(
            "/v1/users/{id}/notifications",
            get(list_user).fallback(not_allowed),
        )
        .route(
            "/v1/notifications/{id}",
            get(show).patch(update).delete(remove).fallback(not_allowed),
        )
        .route(
            "/v1/notifications/{id}/relationships/user",
            get(user_relationship)
                .patch(refuse_relationship)
                .fallback(not_allowed),
        )
        .route(
            "/v1/notifications/{id}/user",
            get(related_user).fallback(not_allowed),
        )
        .route("/v1/{*rest}", any(|| async { JsonApiError::not_found() }))
        .layer(from_fn_with_state(state, authenticate))
        .layer(from_fn(negotiate))
}

async fn not_allowed() -> JsonApiError {
    JsonApiError::method_not_allowed()
}

async fn authenticate(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let scope = convene_core::scope::Scope::NotificationsWrite;
    match crate::auth::principal_with(&state, req.headers(), scope).await {
        Ok(principal) => {
            req.extensions_mut().insert(principal);
            next.run(req).await
        }
        Err(ApiError::Unauthorized) => JsonApiError::unauthorized().into_response(),
        Err(ApiError::InsufficientScope(detail)) => JsonApiError::new(
            StatusCode::FORBIDDEN,
            "insufficient_scope",
            "Forbidden",
            detail,
        )
        .into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "authentication failed");
            JsonApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "Service Unavailable",
                "authentication is unavailable",
            )
            .into_response()
        }
    }
}

fn self_link(id: i64) -> String {
    format!("/v1/notifications/{id}")
}

/// The resource object; `fields` limits the members shown.
pub fn resource(n: &Notification, fields: Option<&[String]>) -> Value {
    let shown = |name: &str| fields.is_none_or(|f| f.iter().any(|x| x == name));
    let mut attributes = Map::new();
    let all = [
        ("title", json!(n.title)),
        ("message", json!(n.message)),
        ("received-at", json!(rfc3339(n.received_at))),
        ("accept", json!(n.accept)),
        ("is-read", json!(n.is_read)),
    ];
    for (name, value) in all {
        if shown(name) {
            attributes.insert(name.to_owned(), value);
        }
    }
    let mut resource = json!({
        "type": "notification",
        "id": n.id.to_string(),
        "attributes": attributes,
        "links": {"self": self_link(n.id)},
    });
    if shown("user") {
        resource["relationships"] = json!({"user": {"links": {
            "self": format!("{}/relationships/user", self_link(n.id)),
            "related": format!("{}/user", self_link(n.id)),
        }}});
    }
    resource
}

fn user_resource(u: &User) -> Value {
    json!({
        "type": "user",
        "id": u.id.as_str(),
        "attributes": {
            "username": u.username.as_str(),
            "display-name": u.display_name.as_ref().map(|d| d.as_str()),
            "email": u.email.as_ref().map(|e| e.as_str()),
            "locale": u.locale.as_ref().map(|l| l.as_str()),
            "is-admin": u.is_admin,
        },
    })
}

fn query_pairs(uri: &Uri) -> Vec<(String, String)> {
    url::form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes())
        .into_owned()
        .collect()
}

/// `include=user`: each notification's user once, as the `included` array, and the linkage
/// to it in each resource that shows its relationship.
async fn include_users(
    state: &AppState,
    items: &[Notification],
    resources: &mut [Value],
) -> JsonApiResult<Value> {
    let mut included = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for n in items {
        if seen.insert(n.user.clone())
            && let Some(u) = state.store.user_by_id(&n.user).await?
        {
            included.push(user_resource(&u));
        }
    }
    for (r, n) in resources.iter_mut().zip(items) {
        if r.get("relationships").is_some() {
            r["relationships"]["user"]["data"] = json!({"type": "user", "id": n.user.as_str()});
        }
    }
    Ok(Value::Array(included))
}

async fn list(state: &AppState, uri: &Uri, owner: Option<UserId>) -> JsonApiResult<Doc> {
    let params = ListParams::parse(&query_pairs(uri))?;
    let query = NotificationQuery {
        owner,
        filter: params.filter.clone(),
        sort: params.sort.clone(),
        limit: Some(params.size),
        offset: params.offset(),
    };
    let (items, total) = state.store.query_notifications(&query).await?;
    let mut data: Vec<Value> = items
        .iter()
        .map(|n| resource(n, params.fields.as_deref()))
        .collect();
    let included = if params.include_user {
        Some(include_users(state, &items, &mut data).await?)
    } else {
        None
    };
    let mut doc = json!({
        "data": data,
        "links": params.links(uri.path(), total),
        "meta": {"count": total},
    });
    if let Some(included) = included {
        doc["included"] = included;
    }
    Ok(Doc(StatusCode::OK, doc))
}

async fn list_all(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    uri: Uri,
) -> JsonApiResult<Doc> {
    if !principal.is_admin() {
        return Err(JsonApiError::forbidden(
            "only admins may list every notification",
        ));
    }
    list(&state, &uri, None).await
}

/// The user named by id, or by username as the rest of Convene names users.
async fn user_named(state: &AppState, raw: &str) -> JsonApiResult<Option<User>> {
    if let Some(id) = UserId::parse(raw) {
        return Ok(state.store.user_by_id(&id).await?);
    }
    match convene_core::username::Username::parse(raw) {
        Ok(name) => Ok(state.store.user_by_name(&name).await?),
        Err(_) => Ok(None),
    }
}

async fn list_user(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(raw): Path<String>,
    uri: Uri,
) -> JsonApiResult<Doc> {
    let user = user_named(&state, &raw).await?;
    let own = user.as_ref().is_some_and(|u| principal.is_user(&u.id));
    if !own && !principal.is_admin() {
        // Whether the user exists is not the caller's business.
        return Err(JsonApiError::forbidden(
            "only the user itself or an admin may list these",
        ));
    }
    let user = user.ok_or_else(JsonApiError::not_found)?;
    list(&state, &uri, Some(user.id)).await
}

fn parse_id(raw: &str) -> JsonApiResult<i64> {
    raw.parse::<i64>()
        .ok()
        .filter(|n| *n > 0 && n.to_string() == raw)
        .ok_or_else(JsonApiError::not_found)
}

async fn load(state: &AppState, raw: &str) -> JsonApiResult<Notification> {
    state
        .store
        .notification(parse_id(raw)?)
        .await?
        .ok_or_else(JsonApiError::not_found)
}

/// The notification, if the caller may read it (its owner or an admin).
async fn readable(
    state: &AppState,
    principal: &Principal,
    raw: &str,
) -> JsonApiResult<Notification> {
    let n = load(state, raw).await?;
    if principal.is_user(&n.user) || principal.is_admin() {
        Ok(n)
    } else {
        Err(JsonApiError::forbidden(
            "only its owner or an admin may read a notification",
        ))
    }
}

fn detail(n: &Notification) -> Doc {
    Doc(
        StatusCode::OK,
        json!({"data": resource(n, None), "links": {"self": self_link(n.id)}}),
    )
}

async fn show(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(raw): Path<String>,
    uri: Uri,
) -> JsonApiResult<Doc> {
    let params = DetailParams::parse(&query_pairs(&uri))?;
    let n = readable(&state, &principal, &raw).await?;
    let mut data = [resource(&n, params.fields.as_deref())];
    let mut doc = json!({"links": {"self": self_link(n.id)}});
    if params.include_user {
        doc["included"] = include_users(&state, std::slice::from_ref(&n), &mut data).await?;
    }
    let [data] = data;
    doc["data"] = data;
    Ok(Doc(StatusCode::OK, doc))
}

/// The notification, if the caller owns it: only owners change or delete.
async fn owned(
    state: &AppState,
    principal: &Principal,
    raw: &str,
    verb: &str,
) -> JsonApiResult<Notification> {
    let n = load(state, raw).await?;
    if principal.is_user(&n.user) {
        Ok(n)
    } else {
        Err(JsonApiError::forbidden(format!(
            "only its owner may {verb} a notification"
        )))
    }
}

fn pointer(p: &str) -> Source {
    Source::Pointer(p.to_owned())
}

fn invalid(
    status: StatusCode,
    code: &'static str,
    title: &'static str,
    detail: &str,
    at: &str,
) -> JsonApiError {
    JsonApiError::new(status, code, title, detail).at(pointer(at))
}

/// What a PATCH body asks for: the new `is-read`, if any. Anything else it tries to change is
/// refused whole, before anything is applied.
fn read_patch(body: &[u8], id: i64) -> JsonApiResult<Option<bool>> {
    let doc: Value = serde_json::from_slice(body).map_err(|e| {
        invalid(
            StatusCode::BAD_REQUEST,
            "malformed_json",
            "Malformed JSON",
            &format!("the body is not JSON: {e}"),
            "",
        )
    })?;
    let data = doc.get("data").and_then(Value::as_object).ok_or_else(|| {
        invalid(
            StatusCode::BAD_REQUEST,
            "missing_data",
            "Invalid body",
            "the body must hold a data object",
            "/data",
        )
    })?;
    match data.get("type").and_then(Value::as_str) {
        None => {
            return Err(invalid(
                StatusCode::BAD_REQUEST,
                "missing_type",
                "Invalid body",
                "data must include type",
                "/data/type",
            ));
        }
        Some("notification") => {}
        Some(_) => {
            return Err(invalid(
                StatusCode::CONFLICT,
                "type_mismatch",
                "Incorrect type",
                "data.type must be notification",
                "/data/type",
            ));
        }
    }
    let given = match data.get("id") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        None => {
            return Err(invalid(
                StatusCode::BAD_REQUEST,
                "missing_id",
                "Invalid body",
                "data must include the id",
                "/data/id",
            ));
        }
        Some(_) => {
            return Err(invalid(
                StatusCode::BAD_REQUEST,
                "invalid_id",
                "Invalid body",
                "data.id must be a string",
                "/data/id",
            ));
        }
    };
    if given != id.to_string() {
        return Err(invalid(
            StatusCode::CONFLICT,
            "id_mismatch",
            "Id mismatch",
            "data.id must be the id in the URL",
            "/data/id",
        ));
    }
    if data.get("relationships").is_some_and(|r| !r.is_null()) {
        return Err(invalid(
            StatusCode::FORBIDDEN,
            "read_only",
            "Access Forbidden",
            "relationships of a notification cannot be changed",
            "/data/relationships",
        ));
    }
    let Some(attributes) = data.get("attributes").filter(|a| !a.is_null()) else {
        return Ok(None);
    };
    let attributes = attributes.as_object().ok_or_else(|| {
        invalid(
            StatusCode::BAD_REQUEST,
            "invalid_attributes",
            "Invalid body",
            "attributes must be an object",
            "/data/attributes",
        )
    })?;
    if let Some(other) = attributes.keys().find(|k| k.as_str() != "is-read") {
        return Err(invalid(
            StatusCode::FORBIDDEN,
            "read_only",
            "Access Forbidden",
            &format!("{other} is read-only: only is-read may be changed"),
            &format!("/data/attributes/{other}"),
        ));
    }
    attributes
        .get("is-read")
        .map(|v| {
            lenient_bool(v).ok_or_else(|| {
                // marshmallow's two messages: a null is refused before the value is read.
                let why = if v.is_null() {
                    "Field may not be null."
                } else {
                    "Not a valid boolean."
                };
                invalid(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "validation_failed",
                    "Validation error",
                    why,
                    "/data/attributes/is-read",
                )
            })
        })
        .transpose()
}

async fn update(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(raw): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> JsonApiResult<Doc> {
    let n = owned(&state, &principal, &raw, "change").await?;
    require_media_type(&headers)?;
    let n = match read_patch(&body, n.id)? {
        Some(read) if read != n.is_read => state
            .store
            .set_read(n.id, read)
            .await?
            .ok_or_else(JsonApiError::not_found)?,
        _ => n,
    };
    Ok(detail(&n))
}

async fn remove(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(raw): Path<String>,
) -> JsonApiResult<Doc> {
    let n = owned(&state, &principal, &raw, "delete").await?;
    state.store.delete_notification(n.id).await?;
    Ok(Doc(
        StatusCode::OK,
        json!({"meta": {"message": "Object successfully deleted"}}),
    ))
}

async fn user_relationship(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(raw): Path<String>,
) -> JsonApiResult<Doc> {
    let n = readable(&state, &principal, &raw).await?;
    Ok(Doc(
        StatusCode::OK,
        json!({
            "data": {"type": "user", "id": n.user.as_str()},
            "links": {
                "self": format!("{}/relationships/user", self_link(n.id)),
                "related": format!("{}/user", self_link(n.id)),
            },
        }),
    ))
}

async fn refuse_relationship(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(raw): Path<String>,
) -> JsonApiResult<Doc> {
    readable(&state, &principal, &raw).await?;
    Err(
        JsonApiError::forbidden("a notification cannot be given to another user")
            .at(pointer("/data")),
    )
}

async fn related_user(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(raw): Path<String>,
) -> JsonApiResult<Doc> {
    let n = readable(&state, &principal, &raw).await?;
    let user = state
        .store
        .user_by_id(&n.user)
        .await?
        .ok_or_else(JsonApiError::not_found)?;
    Ok(Doc(
        StatusCode::OK,
        json!({"data": user_resource(&user), "links": {"self": format!("{}/user", self_link(n.id))}}),
    ))
}
