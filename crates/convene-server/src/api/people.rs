//! People (admins): CRM contacts, separate from login users; a user may link to one. A
//! deletion keeps a record for the CRM sync.

use super::{List, require_admin, rfc3339, user_at};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Caller, JsonBody, PageQuery, Query};
use crate::osdi::realtime;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use convene_core::person::{Address, Person, PersonFields};
use convene_core::{FieldErrors, PersonId};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_person, list_people))
        .routes(routes!(get_person, update_person, delete_person))
        .routes(routes!(merge_person))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PersonBody {
    id: String,
    given_name: Option<String>,
    family_name: Option<String>,
    email: Option<String>,
    /// E.164.
    phone: Option<String>,
    language: Option<String>,
    #[schema(value_type = Option<Object>)]
    address: Option<Address>,
    do_not_email: bool,
    is_opt_out: bool,
    do_not_sms: bool,
    tags: Vec<String>,
    /// The login user this person is, if linked.
    user_id: Option<String>,
    created_at: String,
    updated_at: String,
}

impl From<Person> for PersonBody {
    fn from(p: Person) -> Self {
        let f = p.fields;
        Self {
            id: p.id.to_string(),
            given_name: f.given_name,
            family_name: f.family_name,
            email: f.email.map(|e| e.to_string()),
            phone: f.phone.map(|x| x.as_str().to_owned()),
            language: f.language.map(|l| l.to_string()),
            address: f.address,
            do_not_email: f.do_not_email,
            is_opt_out: f.is_opt_out,
            do_not_sms: f.do_not_sms,
            tags: f.tags,
            user_id: f.user.map(|u| u.to_string()),
            created_at: rfc3339(p.created_at),
            updated_at: rfc3339(p.updated_at),
        }
    }
}

/// A person's writable fields; `PATCH` takes any of them (`null` clears).
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct PersonInput {
    given_name: Option<String>,
    family_name: Option<String>,
    email: Option<String>,
    /// E.164, e.g. `+15555550101`.
    phone: Option<String>,
    /// e.g. `en-US`.
    language: Option<String>,
    #[schema(value_type = Option<Object>)]
    address: Option<Address>,
    do_not_email: Option<bool>,
    is_opt_out: Option<bool>,
    do_not_sms: Option<bool>,
    tags: Option<Vec<String>>,
    /// Links the person to this login user (by username); `null` unlinks.
    username: Option<String>,
}

async fn fields(state: &AppState, input: PersonInput) -> ApiResult<PersonFields> {
    let mut errors = FieldErrors::new();
    let mut f = PersonFields::check(
        &mut errors,
        input.given_name,
        input.family_name,
        input.email,
        input.phone,
        input.language,
        input.address,
        (
            input.do_not_email.unwrap_or(false),
            input.is_opt_out.unwrap_or(false),
            input.do_not_sms.unwrap_or(false),
        ),
        input.tags.unwrap_or_default(),
    );
    if let Some(name) = input.username.filter(|n| !n.is_empty()) {
        match user_at(state, &name).await {
            Ok(user) => f.user = Some(user.id),
            Err(_) => errors.add("username", "no such user"),
        }
    }
    errors.finish(|| f).map_err(ApiError::from)
}

/// Add a person. Emits `person.created`.
#[utoipa::path(post, path = "/people", tag = "people", request_body = PersonInput,
    responses((status = 201, body = PersonBody), (status = 403), (status = 422)))]
async fn create_person(
    State(state): State<AppState>,
    Caller(caller): Caller,
    JsonBody(input): JsonBody<PersonInput>,
) -> ApiResult<(StatusCode, Json<PersonBody>)> {
    require_admin(&caller)?;
    let f = fields(&state, input).await?;
    let person = state.store.create_person(&f, state.clock.now()).await?;
    realtime::changed(&state, &person.id).await;
    Ok((StatusCode::CREATED, Json(person.into())))
}

#[utoipa::path(get, path = "/people", tag = "people", params(PageQuery), responses((status = 200, body = List<PersonBody>), (status = 403)))]
async fn list_people(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Query(query): Query<PageQuery>,
) -> ApiResult<Json<List<PersonBody>>> {
    require_admin(&caller)?;
    let page = state.store.list_people(&query.parse()?).await?;
    Ok(Json(List::from_page(page, PersonBody::from)))
}

async fn person_at(state: &AppState, raw: &str) -> ApiResult<Person> {
    let id = PersonId::parse(raw).ok_or(ApiError::NotFound)?;
    state.store.person(&id).await?.ok_or(ApiError::NotFound)
}

#[utoipa::path(get, path = "/people/{id}", tag = "people", params(("id" = String, Path)),
    responses((status = 200, body = PersonBody), (status = 403), (status = 404)))]
async fn get_person(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<PersonBody>> {
    require_admin(&caller)?;
    Ok(Json(person_at(&state, &id).await?.into()))
}

/// Change some fields (those given; `null` clears). Emits `person.updated`.
#[utoipa::path(patch, path = "/people/{id}", tag = "people", params(("id" = String, Path)), request_body = PersonInput,
    responses((status = 200, body = PersonBody), (status = 403), (status = 404), (status = 422)))]
async fn update_person(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
    JsonBody(patch): JsonBody<Map<String, Value>>,
) -> ApiResult<Json<PersonBody>> {
    require_admin(&caller)?;
    let current = person_at(&state, &id).await?;
    let username = match &current.fields.user {
        Some(uid) => state
            .store
            .user_by_id(uid)
            .await?
            .map(|u| u.username.to_string()),
        None => None,
    };
    let mut merged = serde_json::to_value(PersonBody::from(current.clone()))
        .map_err(|e| ApiError::Internal(e.into()))?;
    merged["username"] = Value::from(username);
    for (k, v) in patch {
        merged[k.as_str()] = v;
    }
    let input: PersonInput =
        serde_json::from_value(merged).map_err(|e| ApiError::field("body", e.to_string()))?;
    let f = fields(&state, input).await?;
    let person = state
        .store
        .update_person(&current.id, &f, state.clock.now())
        .await?;
    realtime::changed(&state, &person.id).await;
    Ok(Json(person.into()))
}

/// Delete a person; a deletion record stays for the CRM sync. Emits `person.deleted`.
#[utoipa::path(delete, path = "/people/{id}", tag = "people", params(("id" = String, Path)),
    responses((status = 204), (status = 403), (status = 404)))]
async fn delete_person(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    require_admin(&caller)?;
    let person = person_at(&state, &id).await?;
    if state
        .store
        .delete_person(&person.id, state.clock.now())
        .await?
    {
        realtime::changed(&state, &person.id).await;
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound)
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MergeInput {
    /// The person to keep.
    into: String,
}

/// Merge this person into another: blanks of the kept person are filled from this one (a
/// do-not-contact flag of either holds); tags, attendances, donations and CRM links move; this
/// person is deleted. When both were linked to different Action Network people, each gets a
/// `merge_incomplete` flag (Action Network has no merge API). Emits `person.deleted` and
/// `person.updated`.
#[utoipa::path(post, path = "/people/{id}/merge", tag = "people", params(("id" = String, Path)), request_body = MergeInput,
    responses((status = 200, body = PersonBody), (status = 403), (status = 404), (status = 422)))]
async fn merge_person(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
    JsonBody(input): JsonBody<MergeInput>,
) -> ApiResult<Json<PersonBody>> {
    require_admin(&caller)?;
    let gone = person_at(&state, &id).await?;
    let keep = match PersonId::parse(input.into.trim()) {
        Some(keep) if keep == gone.id => {
            return Err(ApiError::field(
                "into",
                "is this person: merge into another one",
            ));
        }
        Some(keep) => state.store.person(&keep).await?,
        None => None,
    }
    .ok_or_else(|| ApiError::field("into", "no such person"))?;
    let kept = state
        .store
        .merge_people(&keep.id, &gone.id, state.clock.now())
        .await?;
    realtime::changed(&state, &kept.id).await;
    Ok(Json(kept.into()))
}
