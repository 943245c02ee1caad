//! Webfilters (admins): list, create, delete, through the API's handlers.

use super::forms::{Cursor, Fields, admin_form, admins_only, field, principal, refused};
use super::pages::{Nav, render};
use super::session::Viewer;
use crate::api::webfilters;
use crate::extract::{Caller, JsonBody, Query};
use crate::state::AppState;
use askama::Template;
use axum::Form;
use axum::extract::{Path, Query as UrlQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use convene_core::webfilter::FilterType;
use serde_json::{Value, json};

pub struct FilterRow {
    pub id: String,
    pub filter_type: String,
    pub url: String,
    pub enabled: bool,
    pub halts: bool,
}

#[derive(Template)]
#[template(path = "admin/webfilters.html")]
struct FiltersPage {
    nav: Option<Nav>,
    csrf: String,
    filters: Vec<FilterRow>,
    types: Vec<&'static str>,
    next: Option<String>,
}

pub async fn list(
    State(state): State<AppState>,
    viewer: Viewer,
    UrlQuery(q): UrlQuery<Cursor>,
) -> Response {
    if let Some(r) = admins_only(&viewer, "webfilters") {
        return r;
    }
    let page = q.page();
    match webfilters::list_webfilters(State(state), Caller(principal(&viewer)), Query(page)).await {
        Ok(list) => {
            let v = serde_json::to_value(&list.0).unwrap_or_default();
            let filters = v["data"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|f| FilterRow {
                            id: f["id"].as_str().unwrap_or_default().to_owned(),
                            filter_type: f["filter_type"].as_str().unwrap_or_default().to_owned(),
                            url: f["url"].as_str().unwrap_or_default().to_owned(),
                            enabled: f["enabled"].as_bool().unwrap_or(false),
                            halts: !f["disable_halt"].as_bool().unwrap_or(false),
                        })
                        .collect()
                })
                .unwrap_or_default();
            render(
                StatusCode::OK,
                &FiltersPage {
                    nav: Nav::of(&viewer, "webfilters"),
                    csrf: viewer.csrf.clone(),
                    filters,
                    types: FilterType::ALL.iter().map(|t| t.as_str()).collect(),
                    next: v["next_cursor"].as_str().map(str::to_owned),
                },
            )
        }
        Err(e) => refused(&viewer, "webfilters", e),
    }
}

pub async fn create(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    Form(form): Form<Fields>,
) -> Response {
    if let Some(r) = admin_form(&viewer, &headers, &form, "webfilters") {
        return r;
    }
    let body: Value =
        json!({"filter_type": field(&form, "filter_type"), "url": field(&form, "url")});
    let Ok(dto) = serde_json::from_value(body) else {
        return refused(
            &viewer,
            "webfilters",
            crate::error::ApiError::field("url", "is required"),
        );
    };
    match webfilters::create_webfilter(State(state), Caller(principal(&viewer)), JsonBody(dto))
        .await
    {
        Ok(_) => Redirect::to("/admin/webfilters").into_response(),
        Err(e) => refused(&viewer, "webfilters", e),
    }
}

pub async fn delete(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<Fields>,
) -> Response {
    if let Some(r) = admin_form(&viewer, &headers, &form, "webfilters") {
        return r;
    }
    match webfilters::delete_webfilter(State(state), Caller(principal(&viewer)), Path(id)).await {
        Ok(_) => Redirect::to("/admin/webfilters").into_response(),
        Err(e) => refused(&viewer, "webfilters", e),
    }
}
