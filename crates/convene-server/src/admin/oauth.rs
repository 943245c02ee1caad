//! Sign-in with Wikimedia (OAuth 2.0 on a MediaWiki) and with an OpenID Connect provider: the
//! authorization code flow with PKCE. What the callback must match (provider, `state`, PKCE
//! verifier, `nonce`, where to go next) travels sealed in a short-lived cookie, so nothing is
//! stored before the provider answers. The identity's username, normalised as MediaWiki does,
//! names the Convene user, who then signs in as with a password.
//!
//! The ID token comes straight from the token endpoint over the connection Convene opened, so
//! its issuer, audience, expiry and nonce are checked and its signature is not (OpenID Connect
//! Core 3.1.3.7).

use super::login::{login_page, safe_next, start_session};
use super::session::random_token;
use crate::config::Config;
use crate::state::AppState;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use convene_core::token::secrets_equal;
use convene_core::username::Username;
use convene_delivery::http::Outbound;
use serde::Deserialize;
use serde_json::Value;
use sha2::Digest;

const FLOW_COOKIE: &str = "convene_oauth";
const FLOW_SECONDS: i64 = 600;

/// A configured way to sign in, by its path segment.
enum Provider {
    Wikimedia,
    Oidc,
}

impl Provider {
    fn named(name: &str, config: &Config) -> Option<Self> {
        match name {
            "wikimedia" if config.sign_in.mediawiki.configured() => Some(Self::Wikimedia),
            "oidc" if config.sign_in.oidc.configured() => Some(Self::Oidc),
            _ => None,
        }
    }

    fn name(&self) -> &'static str {
        match self {
            Self::Wikimedia => "wikimedia",
            Self::Oidc => "oidc",
        }
    }

    fn client(&self, config: &Config) -> (String, String) {
        let (id, secret) = match self {
            Self::Wikimedia => (
                &config.sign_in.mediawiki.client_id,
                &config.sign_in.mediawiki.client_secret,
            ),
            Self::Oidc => (
                &config.sign_in.oidc.client_id,
                &config.sign_in.oidc.client_secret,
            ),
        };
        (
            id.clone(),
            secret
                .as_ref()
                .map(|s| s.expose().to_owned())
                .unwrap_or_default(),
        )
    }
}

/// Where a provider's endpoints are.
struct Endpoints {
    authorize: String,
    token: String,
}

async fn endpoints(
    provider: &Provider,
    config: &Config,
    http: &Outbound,
) -> Result<Endpoints, String> {
    match provider {
        Provider::Wikimedia => {
            let wiki = config.sign_in.mediawiki.url.trim_end_matches('/');
            Ok(Endpoints {
                authorize: format!("{wiki}/w/rest.php/oauth2/authorize"),
                token: format!("{wiki}/w/rest.php/oauth2/access_token"),
            })
        }
        Provider::Oidc => {
            let issuer = config.sign_in.oidc.issuer.trim_end_matches('/');
            let url = format!("{issuer}/.well-known/openid-configuration");
            let found = get_json(http, &url, None).await?;
            let text = |k: &str| {
                found[k]
                    .as_str()
                    .map(str::to_owned)
                    .ok_or(format!("its discovery document has no {k}"))
            };
            Ok(Endpoints {
                authorize: text("authorization_endpoint")?,
                token: text("token_endpoint")?,
            })
        }
    }
}

fn http(config: &Config) -> Result<Outbound, String> {
    let timeout = std::time::Duration::from_secs(10);
    Outbound::new(crate::delivery::target_policy(config), timeout).map_err(|e| e.to_string())
}

async fn read_json(request: reqwest::RequestBuilder) -> Result<Value, String> {
    let response = request
        .send()
        .await
        .map_err(|e| convene_delivery::http::chain(&e))?;
    let status = response.status();
    let body = response.bytes().await.map_err(|e| e.to_string())?;
    if !status.is_success() {
        return Err(format!("it answered {status}"));
    }
    serde_json::from_slice(&body).map_err(|_| "its answer is not JSON".to_owned())
}

async fn get_json(http: &Outbound, url: &str, bearer: Option<&str>) -> Result<Value, String> {
    let mut request = http
        .request(reqwest::Method::GET, url)
        .map_err(|r| r.to_string())?;
    if let Some(token) = bearer {
        request = request.bearer_auth(token);
    }
    read_json(request).await
}

fn callback_url(config: &Config, provider: &Provider) -> String {
    format!(
        "{}/admin/login/{}/callback",
        config.public_url(),
        provider.name()
    )
}

/// What the callback checks, sealed into the flow cookie.
struct Flow {
    provider: String,
    state: String,
    verifier: String,
    nonce: String,
    next: String,
}

impl Flow {
    fn seal(&self, state: &AppState) -> String {
        let plain = [
            &self.provider,
            &self.state,
            &self.verifier,
            &self.nonce,
            &self.next,
        ]
        .map(|s| s.as_str())
        .join("\n");
        super::once::sealed(state, &plain)
    }

    fn open(state: &AppState, headers: &HeaderMap) -> Option<Self> {
        let plain = super::once::unsealed(state, headers, FLOW_COOKIE)?;
        let mut parts = plain.splitn(5, '\n').map(str::to_owned);
        Some(Self {
            provider: parts.next()?,
            state: parts.next()?,
            verifier: parts.next()?,
            nonce: parts.next()?,
            next: parts.next()?,
        })
    }
}

/// The flow cookie: `Lax`, since the provider sends the browser back with a cross-site
/// navigation, and only for the sign-in paths.
fn flow_cookie(value: &str, max_age: i64, headers: &HeaderMap, state: &AppState) -> String {
    let strict = super::session::set_cookie(FLOW_COOKIE, value, max_age, headers, state);
    strict
        .replace("Path=/admin;", "Path=/admin/login;")
        .replace("SameSite=Strict", "SameSite=Lax")
}

#[derive(Deserialize)]
pub struct Start {
    next: Option<String>,
}

/// Sends the browser to the provider with a fresh state, PKCE challenge and nonce.
pub async fn start(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(name): Path<String>,
    Query(q): Query<Start>,
) -> Response {
    let Some(provider) = Provider::named(&name, &state.config) else {
        return unknown();
    };
    let next = safe_next(q.next.as_deref());
    let found = match http(&state.config) {
        Ok(http) => endpoints(&provider, &state.config, &http).await,
        Err(e) => Err(e),
    };
    let endpoints = match found {
        Ok(e) => e,
        Err(why) => {
            return failed(
                &state,
                &headers,
                &next,
                &format!("the provider cannot be reached: {why}"),
            );
        }
    };
    let flow = Flow {
        provider: name,
        state: random_token(),
        verifier: random_token(),
        nonce: random_token(),
        next,
    };
    let challenge = URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(flow.verifier.as_bytes()));
    let (client_id, _) = provider.client(&state.config);
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    query
        .append_pair("response_type", "code")
        .append_pair("client_id", &client_id)
        .append_pair("redirect_uri", &callback_url(&state.config, &provider))
        .append_pair("state", &flow.state)
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256");
    if let Provider::Oidc = provider {
        query
            .append_pair("scope", "openid profile")
            .append_pair("nonce", &flow.nonce);
    }
    let separator = if endpoints.authorize.contains('?') {
        '&'
    } else {
        '?'
    };
    let mut response = Redirect::to(&format!(
        "{}{separator}{}",
        endpoints.authorize,
        query.finish()
    ))
    .into_response();
    let cookie = flow_cookie(&flow.seal(&state), FLOW_SECONDS, &headers, &state);
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
}

#[derive(Deserialize)]
pub struct Callback {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// Back from the provider: the flow is checked, the code exchanged, the username read and the
/// Convene user signed in.
pub async fn callback(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(name): Path<String>,
    Query(q): Query<Callback>,
) -> Response {
    let Some(provider) = Provider::named(&name, &state.config) else {
        return unknown();
    };
    let flow = Flow::open(&state, &headers).filter(|f| f.provider == name);
    let Some(flow) = flow else {
        return failed(
            &state,
            &headers,
            "/admin",
            "the sign-in took too long or was started elsewhere; try again",
        );
    };
    let mut response = match signed_in_as(&state, &provider, &flow, q).await {
        Err(why) => failed(&state, &headers, &flow.next, &why),
        Ok(username) => match state.store.user_by_name(&username).await {
            Ok(Some(user)) => match start_session(&state, &headers, &user, &flow.next).await {
                Ok(r) => r,
                Err((message, status)) => login_page(
                    status,
                    &headers,
                    &state,
                    flow.next.clone(),
                    String::new(),
                    Some(message.to_owned()),
                ),
            },
            Ok(None) => failed(
                &state,
                &headers,
                &flow.next,
                &format!("there is no Convene user named {username}"),
            ),
            Err(_) => failed(&state, &headers, &flow.next, "the database did not answer"),
        },
    };
    let spent = flow_cookie("", 0, &headers, &state);
    if let Ok(v) = HeaderValue::from_str(&spent) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
}

/// Who the provider says signed in, once `state` matches and the code is exchanged.
async fn signed_in_as(
    state: &AppState,
    provider: &Provider,
    flow: &Flow,
    q: Callback,
) -> Result<Username, String> {
    if let Some(error) = q.error {
        return Err(format!("the provider said {error}"));
    }
    let given = q.state.unwrap_or_default();
    if !secrets_equal(&given, &flow.state) {
        return Err("the answer does not belong to this sign-in (state)".into());
    }
    let code = q.code.ok_or("the provider sent no code")?;
    let config = &state.config;
    let http = http(config)?;
    let endpoints = endpoints(provider, config, &http).await?;
    let (client_id, client_secret) = provider.client(config);
    let body = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("grant_type", "authorization_code")
        .append_pair("code", &code)
        .append_pair("redirect_uri", &callback_url(config, provider))
        .append_pair("client_id", &client_id)
        .append_pair("client_secret", &client_secret)
        .append_pair("code_verifier", &flow.verifier)
        .finish();
    let request = http
        .request(reqwest::Method::POST, &endpoints.token)
        .map_err(|r| r.to_string())?;
    let request = request
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(body);
    let tokens = read_json(request)
        .await
        .map_err(|e| format!("the code exchange failed: {e}"))?;
    let name = match provider {
        Provider::Wikimedia => {
            let access = tokens["access_token"]
                .as_str()
                .ok_or("no access token came back")?;
            let wiki = config.sign_in.mediawiki.url.trim_end_matches('/');
            let profile = get_json(
                &http,
                &format!("{wiki}/w/rest.php/oauth2/resource/profile"),
                Some(access),
            )
            .await?;
            profile["username"]
                .as_str()
                .map(str::to_owned)
                .ok_or("the profile has no username")?
        }
        Provider::Oidc => {
            let id_token = tokens["id_token"].as_str().ok_or("no ID token came back")?;
            let claims = id_claims(id_token)?;
            check_claims(
                &claims,
                config,
                &client_id,
                &flow.nonce,
                state.clock.now().unix_timestamp(),
            )?;
            let claim = &config.sign_in.oidc.username_claim;
            claims[claim.as_str()]
                .as_str()
                .map(str::to_owned)
                .ok_or(format!("the ID token has no {claim}"))?
        }
    };
    Username::parse(&name).map_err(|e| format!("{name:?} is not a username: {e}"))
}

/// The claims of a compact JWT, read without its signature (see the module's note).
fn id_claims(jwt: &str) -> Result<Value, String> {
    let payload = jwt.split('.').nth(1).ok_or("the ID token is not a JWT")?;
    let bytes = URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .map_err(|_| "the ID token is not base64url")?;
    serde_json::from_slice(&bytes).map_err(|_| "the ID token's claims are not JSON".into())
}

fn check_claims(
    claims: &Value,
    config: &Config,
    client_id: &str,
    nonce: &str,
    now: i64,
) -> Result<(), String> {
    let issuer = config.sign_in.oidc.issuer.trim_end_matches('/');
    if claims["iss"].as_str().map(|i| i.trim_end_matches('/')) != Some(issuer) {
        return Err("the ID token is from another issuer".into());
    }
    let audience = match &claims["aud"] {
        Value::String(a) => a == client_id,
        Value::Array(all) => all.iter().any(|a| a.as_str() == Some(client_id)),
        _ => false,
    };
    if !audience {
        return Err("the ID token is for another client".into());
    }
    if claims["exp"].as_i64().is_none_or(|exp| exp <= now) {
        return Err("the ID token has expired".into());
    }
    if !claims["nonce"]
        .as_str()
        .is_some_and(|n| secrets_equal(n, nonce))
    {
        return Err("the ID token does not belong to this sign-in (nonce)".into());
    }
    Ok(())
}

/// A provider this server has no settings for.
fn unknown() -> Response {
    let page =
        super::pages::Page::message(None, "Not found", "This server offers no such sign-in.");
    super::pages::render(StatusCode::NOT_FOUND, &page)
}

fn failed(state: &AppState, headers: &HeaderMap, next: &str, why: &str) -> Response {
    let message = format!("Signing in with that provider did not work: {why}.");
    login_page(
        StatusCode::UNAUTHORIZED,
        headers,
        state,
        next.to_owned(),
        String::new(),
        Some(message),
    )
}
