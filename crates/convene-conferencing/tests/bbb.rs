//! BigBlueButton against a local fake that checks every checksum byte for byte, and Jitsi's
//! room names and tokens.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use convene_conferencing::bbb::{BbbConfig, BbbError, BigBlueButton, Checksum};
use convene_conferencing::jitsi::{Jitsi, JitsiConfig};
use convene_conferencing::provider::{
    ConferenceProvider, JoinPass, Joiner, ProviderError, SessionSpec,
};
use convene_delivery::target::TargetPolicy;
use convene_testkit::FakeBbb;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::Value;
use std::time::Duration;
use time::macros::datetime;

fn config(url: &str, secret: &str, checksum: Checksum) -> BbbConfig {
    BbbConfig {
        url: url.to_owned(),
        secret: secret.to_owned(),
        checksum,
        timeout: Duration::from_millis(1500),
        policy: TargetPolicy {
            allow_private: true,
            ..TargetPolicy::default()
        },
    }
}

fn bbb(fake: &FakeBbb, checksum: Checksum) -> BigBlueButton {
    BigBlueButton::new(
        &config(&fake.url, &fake.secret, checksum),
        "https://convene.example.org/",
    )
    .unwrap()
}

fn session() -> SessionSpec {
    SessionSpec {
        id: "0193a0b4-8000-7c3d-8e9f-0a1b2c3d4e62".into(),
        number: 42,
        group: "wiki-club".into(),
        title: "Opening & welcome".into(),
        starts_at: datetime!(2026-12-10 09:00 UTC),
        duration: time::Duration::minutes(60),
        extrainfo: String::new(),
    }
}

fn joiner(name: &str, moderator: bool) -> Joiner {
    Joiner {
        name: name.into(),
        user_id: "usr-1".into(),
        moderator,
        until: datetime!(2026-12-10 10:00 UTC),
    }
}

/// The pass a browser brings back from a join URL Convene made.
fn pass_of(url: &str) -> JoinPass {
    let query = url.split_once('?').unwrap().1;
    serde_json::from_value(Value::Object(
        url::form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .map(|(k, v)| (k, Value::from(v)))
            .collect(),
    ))
    .unwrap()
}

#[tokio::test]
async fn a_room_is_a_meeting_made_when_someone_arrives() {
    for (algorithm, checksum) in [("sha256", Checksum::Sha256), ("sha1", Checksum::Sha1)] {
        let fake = FakeBbb::start(algorithm).await;
        let provider = bbb(&fake, checksum);
        let room = provider.provision(&session()).await.unwrap();
        assert!(fake.calls().is_empty(), "provisioning calls nothing");
        assert!(room.remote_id.starts_with("cvn-42-"), "{}", room.remote_id);
        assert_eq!(
            room.join_url,
            "https://convene.example.org/conference/0193a0b4-8000-7c3d-8e9f-0a1b2c3d4e62/join"
        );

        let link = provider.join_url(&room, &joiner("Ann Example", false));
        let pass = pass_of(&link);
        assert_eq!(
            (pass.role.as_str(), pass.name.as_str()),
            ("attendee", "Ann Example")
        );
        let target = provider.admit(&room, &session(), &pass).await.unwrap();
        let create = &fake.calls()[0];
        assert_eq!(create.call, "create");
        assert!(create.checksum_ok, "{algorithm}: {create:?}");
        assert_eq!(create.params["meetingID"], room.remote_id);
        assert_eq!(create.params["name"], "Opening & welcome");
        assert_eq!(create.params["meta_convene-group"], "wiki-club");
        assert_eq!(create.params["record"], "true");

        // The redirect is a join BigBlueButton accepts, as a viewer, under the person's name.
        assert!(target.starts_with(&fake.url), "{target}");
        assert!(fake.follow(&target).contains("successfullyJoined"));
        let join = fake.calls().pop().unwrap();
        assert!(join.checksum_ok);
        assert_eq!(join.params["role"], "VIEWER");
        assert_eq!(join.params["fullName"], "Ann Example");
        assert_eq!(join.params["userID"], "usr-1");

        // A moderator's link; arriving again finds the meeting running (create is idempotent).
        let moderator = pass_of(&provider.join_url(&room, &joiner("Org", true)));
        let target = provider.admit(&room, &session(), &moderator).await.unwrap();
        fake.follow(&target);
        assert_eq!(fake.calls().pop().unwrap().params["role"], "MODERATOR");
    }
}

#[tokio::test]
async fn a_link_altered_or_made_for_another_room_lets_nobody_in() {
    let fake = FakeBbb::start("sha256").await;
    let provider = bbb(&fake, Checksum::Sha256);
    let room = provider.provision(&session()).await.unwrap();
    let other = provider.provision(&session()).await.unwrap();
    let genuine = pass_of(&provider.join_url(&room, &joiner("Ann", false)));
    let promoted = JoinPass {
        role: "moderator".into(),
        ..genuine.clone()
    };
    let renamed = JoinPass {
        name: "Org".into(),
        ..genuine.clone()
    };
    for pass in [promoted, renamed, JoinPass::default()] {
        let refused = provider.admit(&room, &session(), &pass).await;
        assert_eq!(refused, Err(ProviderError::BadLink), "{pass:?}");
    }
    let elsewhere = provider.admit(&other, &session(), &genuine).await;
    assert_eq!(elsewhere, Err(ProviderError::BadLink));
    assert!(fake.calls().is_empty(), "nothing reached BigBlueButton");
}

#[tokio::test]
async fn end_list_and_recordings() {
    let fake = FakeBbb::start("sha256").await;
    let provider = bbb(&fake, Checksum::Sha256);
    let room = provider.provision(&session()).await.unwrap();
    let pass = pass_of(&provider.join_url(&room, &joiner("Ann", true)));
    provider.admit(&room, &session(), &pass).await.unwrap();

    let listed = provider.list("wiki-club").await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(
        (listed[0].public_id.as_str(), listed[0].room_id),
        (room.remote_id.as_str(), 42)
    );
    assert!(provider.list("other").await.unwrap().is_empty());

    fake.add_recording(
        &room.remote_id,
        "rec-1",
        "https://bbb.example.org/playback/presentation/2.3/rec-1",
        1_796_893_200_000,
        1_796_896_800_000,
    );
    fake.add_recording(
        &room.remote_id,
        "rec-2",
        "https://bbb.example.org/playback/presentation/2.3/rec-2",
        1_796_900_400_000,
        1_796_902_200_000,
    );
    fake.add_recording("cvn-other", "rec-3", "https://bbb.example.org/x", 0, 0);
    let recordings = provider.recordings(&room).await.unwrap();
    let ids: Vec<&str> = recordings.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["rec-2", "rec-1"], "newest first, this room only");
    assert_eq!(
        recordings[1].url, "https://bbb.example.org/playback/presentation/2.3/rec-1",
        "the presentation playback, not the podcast"
    );
    assert_eq!(recordings[1].started_at, datetime!(2026-12-10 09:00 UTC));

    provider.deprovision(&room).await.unwrap();
    assert!(!fake.meeting(&room.remote_id).unwrap().running);
    // Ending a meeting that is not running (it emptied and ended on its own) is fine.
    provider.deprovision(&room).await.unwrap();
    assert!(fake.calls().iter().all(|c| c.checksum_ok));
}

#[tokio::test]
async fn a_wrong_secret_or_algorithm_is_a_permanent_failure_and_silence_a_transient_one() {
    let fake = FakeBbb::start("sha256").await;
    let sha1 = BigBlueButton::new(
        &config(&fake.url, &fake.secret, Checksum::Sha1),
        "https://c.example.org",
    )
    .unwrap();
    let room = sha1.provision(&session()).await.unwrap();
    let error = sha1.api().end(&room.remote_id).await.unwrap_err();
    assert!(
        matches!(&error, BbbError::Failed { key, .. } if key == "checksumError"),
        "{error:?}"
    );
    assert!(!error.is_transient());
    assert!(!fake.calls()[0].checksum_ok);

    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let gone = BigBlueButton::new(
        &config(
            &format!("http://{closed}/bigbluebutton/api"),
            "s",
            Checksum::Sha256,
        ),
        "https://c.example.org",
    )
    .unwrap();
    let error = gone.deprovision(&room).await.unwrap_err();
    assert!(error.is_transient(), "{error:?}");
    assert!(error.to_string().contains("BigBlueButton"), "{error}");
}

fn claims(token: &str, secret: &[u8]) -> Value {
    let (input, signature) = token.rsplit_once('.').unwrap();
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret).unwrap();
    mac.update(input.as_bytes());
    mac.verify_slice(&URL_SAFE_NO_PAD.decode(signature).unwrap())
        .expect("HS256 signature");
    let (header, payload) = input.split_once('.').unwrap();
    let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap();
    assert_eq!(header["alg"], "HS256");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

#[tokio::test]
async fn jitsi_rooms_are_unguessable_urls_with_tokens_when_secured() {
    let open = Jitsi::new(&JitsiConfig {
        domain: "meet.example.org".into(),
        app_id: None,
        app_secret: None,
    })
    .unwrap();
    let a = open.provision(&session()).await.unwrap();
    let b = open.provision(&session()).await.unwrap();
    assert_ne!(a.remote_id, b.remote_id);
    let random = a.remote_id.strip_prefix("wiki-club-").unwrap();
    assert_eq!(random.len(), 32, "128 random bits");
    assert_eq!(
        a.join_url,
        format!("https://meet.example.org/{}", a.remote_id)
    );
    assert_eq!(open.join_url(&a, &joiner("Ann", false)), a.join_url);
    assert!(!open.capabilities().per_user_join);

    let secured = Jitsi::new(&JitsiConfig {
        domain: "Meet.Example.org".into(),
        app_id: Some("convene".into()),
        app_secret: Some("app-secret".into()),
    })
    .unwrap();
    assert!(secured.capabilities().per_user_join);
    let room = secured.provision(&session()).await.unwrap();
    let url = secured.join_url(&room, &joiner("Org", true));
    let token = url.split_once("?jwt=").unwrap().1;
    let c = claims(token, b"app-secret");
    assert_eq!(c["iss"], "convene");
    assert_eq!(c["aud"], "jitsi");
    assert_eq!(c["sub"], "meet.example.org");
    assert_eq!(c["room"], room.remote_id.as_str());
    assert_eq!(c["context"]["user"]["name"], "Org");
    assert_eq!(c["context"]["user"]["moderator"], true);
    assert_eq!(
        c["exp"],
        datetime!(2026-12-10 16:00 UTC).unix_timestamp(),
        "six hours after the end"
    );
    let attendee = secured.join_url(&room, &joiner("Ann", false));
    let c = claims(attendee.split_once("?jwt=").unwrap().1, b"app-secret");
    assert_eq!(c["context"]["user"]["moderator"], false);
    assert!(
        Jitsi::new(&JitsiConfig {
            domain: "meet.example.org".into(),
            app_id: Some("convene".into()),
            app_secret: None,
        })
        .is_err()
    );
}
