//! A fake identity provider on a loopback port, both an OpenID Connect issuer (discovery,
//! authorize, token with an HS256 ID token) and a MediaWiki's OAuth 2.0 (`/w/rest.php/oauth2/…`
//! with the profile endpoint). Its authorize endpoint consents at once for the user a test names,
//! and its token endpoint checks the client, the redirect URI and the PKCE verifier as a real
//! one does.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Form, Json};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use sha2::Digest;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio_util::sync::CancellationToken;

pub const CLIENT_ID: &str = "convene-test";
pub const CLIENT_SECRET: &str = "test-client-secret";

#[derive(Default)]
struct Shared {
    /// Who the next authorization is for.
    user: String,
    /// A nonce to put in ID tokens instead of the one asked for (a replayed token).
    forced_nonce: Option<String>,
    /// code → (PKCE challenge, redirect URI, nonce, user)
    codes: HashMap<String, (String, String, String, String)>,
    /// access token → user
    tokens: HashMap<String, String>,
    /// Token exchanges refused, and why.
    refusals: Vec<String>,
}

#[derive(Clone)]
struct Fake {
    issuer: String,
    shared: Arc<Mutex<Shared>>,
}

pub struct FakeIdentity {
    /// The issuer, and the wiki's base URL (the same server).
    pub url: String,
    shared: Arc<Mutex<Shared>>,
    stop: CancellationToken,
}

impl FakeIdentity {
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a port");
        let url = format!("http://{}", listener.local_addr().expect("an address"));
        let shared = Arc::new(Mutex::new(Shared::default()));
        let fake = Fake {
            issuer: url.clone(),
            shared: shared.clone(),
        };
        let app = axum::Router::new()
            .route(
                "/.well-known/openid-configuration",
                axum::routing::get(discovery),
            )
            .route("/authorize", axum::routing::get(authorize))
            .route("/token", axum::routing::post(token))
            .route(
                "/w/rest.php/oauth2/authorize",
                axum::routing::get(authorize),
            )
            .route(
                "/w/rest.php/oauth2/access_token",
                axum::routing::post(token),
            )
            .route(
                "/w/rest.php/oauth2/resource/profile",
                axum::routing::get(profile),
            )
            .with_state(fake);
        let stop = CancellationToken::new();
        let stopped = stop.clone();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async move { stopped.cancelled().await })
                .await;
        });
        Self { url, shared, stop }
    }

    /// The next sign-in consents as `user` (as the provider spells it).
    pub fn sign_in_as(&self, user: &str) {
        self.shared.lock().unwrap().user = user.to_owned();
    }

    /// ID tokens carry this nonce instead of the one asked for.
    pub fn force_nonce(&self, nonce: &str) {
        self.shared.lock().unwrap().forced_nonce = Some(nonce.to_owned());
    }

    /// Why token exchanges were refused, in order.
    pub fn refusals(&self) -> Vec<String> {
        self.shared.lock().unwrap().refusals.clone()
    }
}

impl Drop for FakeIdentity {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

async fn discovery(State(fake): State<Fake>) -> Json<Value> {
    Json(json!({
        "issuer": fake.issuer,
        "authorization_endpoint": format!("{}/authorize", fake.issuer),
        "token_endpoint": format!("{}/token", fake.issuer),
        "response_types_supported": ["code"],
        "code_challenge_methods_supported": ["S256"],
    }))
}

async fn authorize(State(fake): State<Fake>, Query(q): Query<HashMap<String, String>>) -> Response {
    let get = |k: &str| q.get(k).cloned().unwrap_or_default();
    if get("client_id") != CLIENT_ID
        || get("response_type") != "code"
        || get("code_challenge_method") != "S256"
    {
        return (StatusCode::BAD_REQUEST, "bad authorization request").into_response();
    }
    let code = format!("code-{}", uuid::Uuid::now_v7().simple());
    let mut shared = fake.shared.lock().unwrap();
    let user = shared.user.clone();
    let entry = (
        get("code_challenge"),
        get("redirect_uri"),
        get("nonce"),
        user,
    );
    shared.codes.insert(code.clone(), entry);
    let redirect = get("redirect_uri");
    let mut back = url::Url::parse(&redirect).expect("a redirect URI");
    back.query_pairs_mut()
        .append_pair("code", &code)
        .append_pair("state", &get("state"));
    Redirect::to(back.as_str()).into_response()
}

async fn token(State(fake): State<Fake>, Form(f): Form<HashMap<String, String>>) -> Response {
    let get = |k: &str| f.get(k).cloned().unwrap_or_default();
    let mut shared = fake.shared.lock().unwrap();
    let refuse = |shared: &mut Shared, why: &str| {
        shared.refusals.push(why.to_owned());
        (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "invalid_grant", "error_description": why})),
        )
            .into_response()
    };
    if get("client_id") != CLIENT_ID || get("client_secret") != CLIENT_SECRET {
        return refuse(&mut shared, "client");
    }
    let Some((challenge, redirect, nonce, user)) = shared.codes.remove(&get("code")) else {
        return refuse(&mut shared, "code");
    };
    if redirect != get("redirect_uri") {
        return refuse(&mut shared, "redirect_uri");
    }
    let verified = URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(get("code_verifier").as_bytes()));
    if verified != challenge {
        return refuse(&mut shared, "code_verifier");
    }
    let access = format!("access-{}", uuid::Uuid::now_v7().simple());
    shared.tokens.insert(access.clone(), user.clone());
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let claims = json!({
        "iss": fake.issuer, "aud": CLIENT_ID, "sub": format!("sub-{user}"), "preferred_username": user,
        "nonce": shared.forced_nonce.clone().unwrap_or(nonce), "iat": now, "exp": now + 600,
    });
    Json(json!({"access_token": access, "token_type": "Bearer", "expires_in": 600, "id_token": jwt(&claims)})).into_response()
}

/// An HS256 JWT signed with the client secret, as providers may sign for confidential clients.
fn jwt(claims: &Value) -> String {
    use hmac::{KeyInit, Mac};
    let head = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let body = URL_SAFE_NO_PAD.encode(claims.to_string());
    let mut mac =
        hmac::Hmac::<sha2::Sha256>::new_from_slice(CLIENT_SECRET.as_bytes()).expect("any key");
    mac.update(format!("{head}.{body}").as_bytes());
    format!(
        "{head}.{body}.{}",
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    )
}

async fn profile(State(fake): State<Fake>, headers: HeaderMap) -> Response {
    let bearer = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    match fake.shared.lock().unwrap().tokens.get(bearer) {
        Some(user) => {
            Json(json!({"sub": 4711, "username": user, "editcount": 12, "confirmed_email": true}))
                .into_response()
        }
        None => (StatusCode::UNAUTHORIZED, "no such token").into_response(),
    }
}
