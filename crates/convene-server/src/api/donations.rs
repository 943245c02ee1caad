//! Donations of people (admins): write-once records, synced with Action Network's.

use super::{List, require_admin, rfc3339};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Caller, JsonBody};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use convene_core::donation::{Donation, NewDonation};
use convene_core::{FieldErrors, PersonId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(create_donation, list_donations))
}

/// A person lists at most this many donations, newest first.
const MOST: u32 = 1000;

#[derive(Debug, Serialize, ToSchema)]
pub struct DonationBody {
    id: String,
    /// A decimal string, e.g. `"40.00"`.
    amount: String,
    /// ISO 4217, upper case.
    currency: String,
    received_at: String,
    /// `null`, `weekly`, `monthly`, `quarterly`, `semiannually` or `yearly`.
    recurrence: Option<String>,
    fundraising_page: Option<String>,
    referrer: Option<String>,
    /// The Action Network donation this one is paired with, once synced.
    remote_id: Option<String>,
    created_at: String,
}

impl From<Donation> for DonationBody {
    fn from(d: Donation) -> Self {
        let f = d.fields;
        Self {
            id: d.id.to_string(),
            amount: f.amount.as_str().to_owned(),
            currency: f.currency.as_str().to_owned(),
            received_at: rfc3339(f.received_at),
            recurrence: f.recurrence.map(|r| r.as_str().to_owned()),
            fundraising_page: f.fundraising_page,
            referrer: f.referrer,
            remote_id: d.remote_id,
            created_at: rfc3339(d.created_at),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DonationInput {
    /// A positive decimal string, e.g. `"40.00"` (numbers are refused: no floats for money).
    amount: Option<String>,
    /// ISO 4217, e.g. `USD`.
    currency: Option<String>,
    /// RFC 3339.
    received_at: Option<String>,
    recurrence: Option<String>,
    /// The fundraising page's URL.
    fundraising_page: Option<String>,
    referrer: Option<String>,
}

async fn person_id(state: &AppState, raw: &str) -> ApiResult<PersonId> {
    let id = PersonId::parse(raw).ok_or(ApiError::NotFound)?;
    state.store.person(&id).await?.ok_or(ApiError::NotFound)?;
    Ok(id)
}

/// A person's donations, newest received first.
#[utoipa::path(get, path = "/people/{id}/donations", tag = "people", params(("id" = String, Path)),
    responses((status = 200, body = List<DonationBody>), (status = 403), (status = 404)))]
async fn list_donations(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<List<DonationBody>>> {
    require_admin(&caller)?;
    let id = person_id(&state, &id).await?;
    let donations = state.store.donations_of(&id, MOST).await?;
    Ok(Json(List {
        data: donations.into_iter().map(DonationBody::from).collect(),
        next_cursor: None,
    }))
}

/// Record a donation. Write-once: there is no update. Emits `donation.created`; a CRM sync
/// profile with a `fundraising_page` creates it on Action Network in its next donations run.
#[utoipa::path(post, path = "/people/{id}/donations", tag = "people", params(("id" = String, Path)),
    request_body = DonationInput,
    responses((status = 201, body = DonationBody), (status = 403), (status = 404), (status = 422)))]
async fn create_donation(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
    JsonBody(input): JsonBody<DonationInput>,
) -> ApiResult<(StatusCode, Json<DonationBody>)> {
    require_admin(&caller)?;
    let id = person_id(&state, &id).await?;
    let mut errors = FieldErrors::new();
    let new = NewDonation::check(
        &mut errors,
        input.amount,
        input.currency,
        input.received_at,
        input.recurrence,
        input.fundraising_page,
        input.referrer,
    );
    let new = errors
        .finish(|| new)
        .map_err(ApiError::from)?
        .ok_or_else(|| {
            ApiError::field("body", "a donation needs amount, currency and received_at")
        })?;
    let made = state
        .store
        .create_donation(&id, &new, state.clock.now())
        .await?;
    Ok((StatusCode::CREATED, Json(made.into())))
}
