//! `/api/v1/people`: CRM contacts, admins only.

use convene_testkit::{Method, app_tests};
use serde_json::json;

app_tests! {
    async fn people_are_checked_changed_linked_and_deleted(app: TestApp) {
        let carol = app.user_with_token("Carol").await;
        let r = app.admin(Method::POST, "/api/v1/people")
            .json(&json!({"given_name": "Lauren", "email": "not-an-email", "phone": "555-0101", "language": "x"}))
            .send().await;
        assert_eq!(r.status, 422);
        assert_eq!(r.fields(), vec!["email", "phone", "language"]);
        let r = app.admin(Method::POST, "/api/v1/people")
            .json(&json!({"given_name": " Lauren ", "family_name": "Smith", "email": "lsmith@example.org", "phone": "+12024561111",
                "language": "en-US", "address": {"city": "Washington", "postal_code": "20009"}, "is_opt_out": true,
                "tags": ["volunteer", "donor", "volunteer"]}))
            .send().await;
        assert_eq!(r.status, 201, "{}", r.text);
        let id = r.str("id");
        assert_eq!((r.body["given_name"].clone(), r.body["tags"].clone()), (json!("Lauren"), json!(["donor", "volunteer"])));
        assert_eq!(app.call(Method::GET, "/api/v1/people").token(&carol).send().await.status, 403, "admins only");

        let r = app.admin(Method::PATCH, &format!("/api/v1/people/{id}"))
            .json(&json!({"phone": null, "tags": ["volunteer"], "username": "Carol"}))
            .send().await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!((r.body["phone"].clone(), r.body["email"].clone()), (json!(null), json!("lsmith@example.org")), "untouched fields stay");
        assert_eq!(r.body["tags"], json!(["volunteer"]));
        assert!(r.body["user_id"].is_string());
        let r = app.admin(Method::PATCH, &format!("/api/v1/people/{id}")).json(&json!({"username": "Nobody"})).send().await;
        assert_eq!((r.status, r.fields()), (422, vec!["username".to_owned()]));

        let list = app.admin(Method::GET, "/api/v1/people").send().await;
        assert_eq!(list.body["data"].as_array().map(Vec::len), Some(1));
        let types = app.admin(Method::GET, "/api/v1/event-types").send().await;
        for t in ["person.created", "person.updated", "person.deleted"] {
            assert!(types.text.contains(t), "{t} is in the catalogue");
        }
        assert_eq!(app.admin(Method::DELETE, &format!("/api/v1/people/{id}")).send().await.status, 204);
        assert_eq!(app.admin(Method::GET, &format!("/api/v1/people/{id}")).send().await.status, 404);
        assert_eq!(app.admin(Method::DELETE, &format!("/api/v1/people/{id}")).send().await.status, 404);
    }
}
