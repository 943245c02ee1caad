//! Sign-in with Wikimedia (OAuth 2.0 on a MediaWiki) and with OpenID Connect, against a local
//! fake provider, following each redirect as a browser would.

use crate::admin_ui::page;
use crate::support::World;
use convene_server::config::{Config, Secret};
use convene_testkit::oauth::{CLIENT_ID, CLIENT_SECRET, FakeIdentity};
use convene_testkit::{Backend, Method, Reply, TestApp, on_both_backends, spawn_app_with};

async fn app(backend: Backend, fake: &FakeIdentity) -> Option<TestApp> {
    let url = fake.url.clone();
    spawn_app_with(backend, move |c: &mut Config| {
        c.allow_private_targets = true;
        c.sign_in.mediawiki.url = url.clone();
        c.sign_in.mediawiki.client_id = CLIENT_ID.into();
        c.sign_in.mediawiki.client_secret = Some(Secret::new(CLIENT_SECRET));
        c.sign_in.oidc.issuer = url;
        c.sign_in.oidc.client_id = CLIENT_ID.into();
        c.sign_in.oidc.client_secret = Some(Secret::new(CLIENT_SECRET));
        c.sign_in.oidc.label = "the test SSO".into();
    })
    .await
}

/// The `name=value` of a response's `Set-Cookie` for `name`, if set (and not cleared).
fn cookie_of(r: &Reply, name: &str) -> Option<String> {
    r.headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")) && !v.contains("Max-Age=0"))
        .map(|v| v.split(';').next().unwrap().to_owned())
}

/// Starts a sign-in, lets the provider consent, and brings the browser back: the callback's
/// answer. `tamper` may change the callback URL before it is followed.
async fn sign_in_with(app: &TestApp, provider: &str, tamper: impl Fn(String) -> String) -> Reply {
    let start = app
        .call(
            Method::GET,
            &format!("/admin/login/{provider}?next=/admin/webhooks"),
        )
        .send()
        .await;
    assert_eq!(start.status, 303, "{}", start.text);
    let flow = cookie_of(&start, "convene_oauth").expect("a flow cookie");
    let set = start
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect::<Vec<_>>()
        .join(" | ");
    assert!(
        set.contains("SameSite=Lax")
            && set.contains("HttpOnly")
            && set.contains("Path=/admin/login"),
        "{set}"
    );
    let authorize = start.headers["location"].to_str().unwrap().to_owned();
    let consent = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(&authorize)
        .send()
        .await
        .unwrap();
    assert_eq!(consent.status(), 303, "{authorize}");
    let back = consent.headers()["location"].to_str().unwrap().to_owned();
    let path = tamper(
        back.strip_prefix(&app.base_url)
            .expect("back to Convene")
            .to_owned(),
    );
    app.call(Method::GET, &path)
        .header("cookie", &flow)
        .send()
        .await
}

async fn sign_in_with_wikimedia_and_oidc(backend: Backend) {
    let fake = FakeIdentity::start().await;
    let Some(app) = app(backend, &fake).await else {
        return;
    };
    World::new(&app).await;
    let login = app.call(Method::GET, "/admin/login").send().await;
    assert!(
        login.text.contains("Sign in with Wikimedia")
            && login.text.contains("Sign in with the test SSO"),
        "{}",
        login.text
    );

    // Wikimedia: the wiki's username, normalised, is the Convene user.
    fake.sign_in_as("alice");
    let done = sign_in_with(&app, "wikimedia", |p| p).await;
    assert_eq!(
        (
            done.status,
            done.headers.get("location").map(|l| l.to_str().unwrap())
        ),
        (303, Some("/admin/webhooks")),
        "{}",
        done.text
    );
    let session = cookie_of(&done, "convene_session")
        .expect("a session")
        .split_once('=')
        .unwrap()
        .1
        .to_owned();
    assert!(
        page(&app, &session, "/admin/events")
            .await
            .text
            .contains("Open day"),
        "signed in as Alice"
    );

    // OpenID Connect: state, nonce and PKCE checked.
    fake.sign_in_as("Root");
    let done = sign_in_with(&app, "oidc", |p| p).await;
    assert_eq!(done.status, 303, "{}", done.text);
    let tampered = sign_in_with(&app, "oidc", |p| p.replace("state=", "state=x")).await;
    assert!(
        tampered.status == 401 && tampered.text.contains("(state)"),
        "{}",
        tampered.text
    );
    assert!(cookie_of(&tampered, "convene_session").is_none());
    let no_flow = app
        .call(Method::GET, "/admin/login/oidc/callback?code=c&state=s")
        .send()
        .await;
    assert!(
        no_flow.status == 401 && no_flow.text.contains("took too long"),
        "{}",
        no_flow.text
    );
    fake.force_nonce("someone-elses");
    let replayed = sign_in_with(&app, "oidc", |p| p).await;
    assert!(
        replayed.status == 401 && replayed.text.contains("(nonce)"),
        "{}",
        replayed.text
    );

    // Only existing admins and organizers get in, however they prove who they are.
    fake.sign_in_as("Bob");
    let participant = sign_in_with(&app, "wikimedia", |p| p).await;
    assert!(
        participant.status == 403
            && participant
                .text
                .contains("Only administrators and event organizers"),
        "{}",
        participant.text
    );
    fake.sign_in_as("Nobody Known");
    let stranger = sign_in_with(&app, "wikimedia", |p| p).await;
    assert!(
        stranger.status == 401 && stranger.text.contains("no Convene user named Nobody Known"),
        "{}",
        stranger.text
    );
    assert!(
        fake.refusals().is_empty(),
        "every code exchange carried the right verifier: {:?}",
        fake.refusals()
    );
    assert_eq!(
        app.call(Method::GET, "/admin/login/github")
            .send()
            .await
            .status,
        404,
        "only configured providers"
    );
}

on_both_backends! {
    sign_in_with_wikimedia_and_oidc => wikimedia_and_oidc,
}
