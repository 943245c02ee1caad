//! The OpenAPI document is part of the contract: a change to it shows in review as a change to
//! the committed snapshot (`cargo insta review`, or INSTA_UPDATE=always).

#[test]
fn openapi_document_is_stable() {
    let doc = serde_json::to_value(convene_server::app::openapi()).expect("serialisable");
    insta::assert_json_snapshot!("openapi", doc);
}

#[test]
fn every_route_is_documented_with_its_errors() {
    let doc = serde_json::to_value(convene_server::app::openapi()).expect("serialisable");
    let paths = doc["paths"].as_object().expect("paths");
    assert_eq!(doc["servers"][0]["url"], "/", "paths are written in full");
    let expected = [
        "/api/v1/users",
        "/api/v1/users/{username}",
        "/api/v1/me",
        "/api/v1/tokens",
        "/api/v1/tokens/{id}",
        "/api/v1/events",
        "/api/v1/events/{id}",
        "/api/v1/events/{id}/organizers",
        "/api/v1/events/{id}/organizers/{username}",
        "/api/v1/events/{id}/participants",
        "/api/v1/events/{id}/participants/{username}",
        "/",
        "/healthz",
        "/readyz",
        "/v1/notifications",
        "/v1/notifications/{id}",
        "/wikimedia_event_center/update_event_participants",
        "/unsubscribe/{token}",
    ];
    for path in expected {
        assert!(paths.contains_key(path), "{path} is missing");
    }
    for (path, ops) in paths {
        for (method, op) in ops.as_object().unwrap() {
            assert!(
                op["responses"]["401"].is_object(),
                "{method} {path} documents no 401"
            );
        }
    }
}
