//! The mail side of `/api/v1` (admins): the mail log with every attempt, the email settings,
//! a test mail, and the suppression list.

use super::{List, require_admin, rfc3339};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Caller, JsonBody, PageQuery, Query};
use crate::notifications::mail::Recipient;
use crate::notifications::mail::settings::{self, validate_change};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use convene_core::mail::{Mail, MailAttempt, MailStatus};
use convene_core::notification::Kind;
use convene_core::text::Email;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_mails))
        .routes(routes!(get_mail))
        .routes(routes!(get_settings, put_settings))
        .routes(routes!(test_mail))
        .routes(routes!(list_suppressions))
        .routes(routes!(put_suppression, delete_suppression))
}

/// A mail log row: Open Event Server's record (recipient, time, action, subject, message) and
/// what became of it.
#[derive(Debug, Serialize, ToSchema)]
pub struct MailBody {
    id: String,
    recipient: String,
    user_id: Option<String>,
    time: String,
    action: String,
    subject: String,
    /// The HTML body.
    message: String,
    text: String,
    /// `queued`, `sent`, `failed`, `suppressed` or `disabled`.
    status: String,
    provider: Option<String>,
    provider_message_id: Option<String>,
    error: Option<String>,
    attempts: u32,
    updated_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    headers: Option<Vec<(String, String)>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    attempt_log: Option<Vec<AttemptBody>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AttemptBody {
    n: u32,
    at: String,
    provider: String,
    ok: bool,
    error: Option<String>,
}

impl MailBody {
    fn new(m: Mail, detail: Option<Vec<MailAttempt>>) -> Self {
        let headers = detail.as_ref().map(|_| m.headers.clone());
        Self {
            id: m.id,
            recipient: m.recipient,
            user_id: m.user.map(|u| u.to_string()),
            time: rfc3339(m.created_at),
            action: m.action,
            subject: m.subject,
            message: m.html,
            text: m.text,
            status: m.status.as_str().to_owned(),
            provider: m.provider,
            provider_message_id: m.provider_message_id,
            error: m.error,
            attempts: m.attempts,
            updated_at: rfc3339(m.updated_at),
            headers,
            attempt_log: detail.map(|list| {
                list.into_iter()
                    .map(|a| AttemptBody {
                        n: a.n,
                        at: rfc3339(a.at),
                        provider: a.provider,
                        ok: a.ok,
                        error: a.error,
                    })
                    .collect()
            }),
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct MailFilter {
    /// Only mails in this state.
    status: Option<String>,
    /// Only mails whose recipient contains this, ignoring case.
    q: Option<String>,
    limit: Option<String>,
    cursor: Option<String>,
}

/// The mail log, newest first.
#[utoipa::path(get, path = "/mails", tag = "mail", params(MailFilter),
    responses((status = 200, body = List<MailBody>), (status = 403), (status = 422)))]
async fn list_mails(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Query(q): Query<MailFilter>,
) -> ApiResult<Json<List<MailBody>>> {
    require_admin(&caller)?;
    let page = PageQuery {
        limit: q.limit,
        cursor: q.cursor,
    }
    .parse()?;
    let status = match q.status.as_deref() {
        None => None,
        Some(raw) => Some(MailStatus::parse(raw).ok_or_else(|| {
            ApiError::field(
                "status",
                "must be queued, sent, failed, suppressed or disabled",
            )
        })?),
    };
    let recipient = crate::extract::needle(&q.q)?;
    let mails = state.store.list_mails(status, recipient, &page).await?;
    Ok(Json(List::from_page(mails, |m| MailBody::new(m, None))))
}

/// One mail with its headers and every attempt.
#[utoipa::path(get, path = "/mails/{id}", tag = "mail", params(("id" = String, Path)),
    responses((status = 200, body = MailBody), (status = 403), (status = 404)))]
async fn get_mail(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<MailBody>> {
    require_admin(&caller)?;
    let (mail, attempts) = state.store.mail(&id).await?.ok_or(ApiError::NotFound)?;
    Ok(Json(MailBody::new(mail, Some(attempts))))
}

/// The email settings in force; the SMTP password and the API key are never shown.
#[utoipa::path(get, path = "/settings/email", tag = "mail",
    responses((status = 200, body = Value), (status = 403)))]
pub(crate) async fn get_settings(
    State(state): State<AppState>,
    Caller(caller): Caller,
) -> ApiResult<Json<Value>> {
    require_admin(&caller)?;
    Ok(Json(
        state
            .mailer
            .settings(state.store.as_ref())
            .await?
            .redacted(),
    ))
}

/// Changes the settings: each key given replaces the configured value (`null` clears a URL or
/// key). Keys: `providers`, `from_address`, `from_name`, `smtp_url`, `http_api_url`,
/// `http_api_key`, `disabled_actions`.
#[utoipa::path(put, path = "/settings/email", tag = "mail", request_body = Value,
    responses((status = 200, body = Value), (status = 403), (status = 422)))]
pub(crate) async fn put_settings(
    State(state): State<AppState>,
    Caller(caller): Caller,
    JsonBody(body): JsonBody<Value>,
) -> ApiResult<Json<Value>> {
    require_admin(&caller)?;
    let stored = state
        .store
        .setting(settings::KEY)
        .await?
        .unwrap_or_else(|| json!({}));
    let merged = state.mailer.sealed(validate_change(&body, &stored)?)?;
    state
        .store
        .put_setting(settings::KEY, &merged, state.clock.now())
        .await?;
    Ok(Json(
        state
            .mailer
            .settings(state.store.as_ref())
            .await?
            .redacted(),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct TestMail {
    /// Default: the caller's own address.
    to: Option<String>,
}

/// Sends a test mail through the one send path; watch it in the mail log.
#[utoipa::path(post, path = "/settings/email/test", tag = "mail", request_body = TestMail,
    responses((status = 202, body = MailBody), (status = 403), (status = 422)))]
pub(crate) async fn test_mail(
    State(state): State<AppState>,
    Caller(caller): Caller,
    JsonBody(body): JsonBody<TestMail>,
) -> ApiResult<(StatusCode, Json<MailBody>)> {
    require_admin(&caller)?;
    let me = match caller.user_id() {
        Some(id) => state.store.user_by_id(id).await?,
        None => None,
    };
    let to = match (&body.to, &me) {
        (Some(raw), _) => Email::parse(raw).map_err(|e| ApiError::field("to", e.to_string()))?,
        (None, Some(user)) => user
            .email
            .clone()
            .ok_or_else(|| ApiError::field("to", "is required: you have no email address"))?,
        (None, None) => return Err(ApiError::field("to", "is required")),
    };
    let actor = me
        .as_ref()
        .map_or("the administrator", |u| u.username.as_str());
    let mailer = &state.mailer;
    let settings = mailer.settings(state.store.as_ref()).await?;
    let locale = mailer.templates.locale(
        me.as_ref()
            .and_then(|u| u.locale.as_ref())
            .map(|l| l.as_str()),
    );
    let ctx = minijinja::context! { app_name => "Convene", actor => actor };
    let rendered = mailer
        .templates
        .render(Kind::TestMail, locale, &ctx)
        .map_err(|e| ApiError::Internal(e.into()))?;
    let suppressed = state.store.is_suppressed(to.as_str()).await?;
    let mail = mailer
        .compose(
            Recipient {
                address: to.as_str(),
                name: to.as_str(),
                user: None,
            },
            Kind::TestMail,
            &rendered,
            format!("test:{}", uuid::Uuid::now_v7()),
            &settings,
            suppressed,
        )
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("the test mail did not render")))?;
    let written = state.store.queue_mails(&[mail], state.clock.now()).await?;
    let mail = written
        .into_iter()
        .next()
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("the test mail was not written")))?;
    Ok((StatusCode::ACCEPTED, Json(MailBody::new(mail, None))))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SuppressionBody {
    address: String,
    /// `hard_bounce` (set by a permanent refusal), or what an admin wrote.
    reason: String,
    created_at: String,
}

/// Addresses no mail is sent to.
#[utoipa::path(get, path = "/mail-suppressions", tag = "mail", params(PageQuery),
    responses((status = 200, body = List<SuppressionBody>), (status = 403), (status = 422)))]
async fn list_suppressions(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Query(query): Query<PageQuery>,
) -> ApiResult<Json<List<SuppressionBody>>> {
    let page = query.parse()?;
    require_admin(&caller)?;
    let page = state.store.suppressions(&page).await?;
    Ok(Json(List::from_page(page, |(address, reason, at)| {
        SuppressionBody {
            address,
            reason,
            created_at: rfc3339(at),
        }
    })))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct PutSuppression {
    reason: Option<String>,
}

/// Stops all mail to an address.
#[utoipa::path(put, path = "/mail-suppressions/{address}", tag = "mail", params(("address" = String, Path)), request_body = PutSuppression,
    responses((status = 204), (status = 403), (status = 422)))]
async fn put_suppression(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(address): Path<String>,
    JsonBody(body): JsonBody<PutSuppression>,
) -> ApiResult<StatusCode> {
    require_admin(&caller)?;
    let address = Email::parse(&address).map_err(|e| ApiError::field("address", e.to_string()))?;
    let reason = body.reason.unwrap_or_else(|| "admin".to_owned());
    state
        .store
        .suppress(address.as_str(), &reason, state.clock.now())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Lets mail reach an address again.
#[utoipa::path(delete, path = "/mail-suppressions/{address}", tag = "mail", params(("address" = String, Path)),
    responses((status = 204), (status = 403), (status = 404)))]
async fn delete_suppression(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(address): Path<String>,
) -> ApiResult<StatusCode> {
    require_admin(&caller)?;
    if state.store.unsuppress(&address).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound)
    }
}
