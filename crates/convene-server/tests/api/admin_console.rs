//! The admin console's management pages over plain HTTP, as an operator signed in with a
//! password uses them: the delivery inspector, users and tokens, editing events.

use crate::admin_ui::{page, set_password, sign_in};
use crate::support::World;
use convene_testkit::{Answer, Method, Receiver, Reply, TestApp, app_tests};
use serde_json::json;
use time::Duration;

/// Someone signed in to the console, with the CSRF token its forms carry.
struct Operator<'a> {
    app: &'a TestApp,
    session: String,
    csrf: String,
}

impl<'a> Operator<'a> {
    async fn sign_in(app: &'a TestApp, name: &str) -> Self {
        set_password(app, name).await;
        let session = sign_in(app, name, "correct horse battery").await;
        let home = page(app, &session, "/admin/events").await;
        let csrf = home.text.split("name=\"csrf\" value=\"").nth(1).unwrap();
        let csrf = csrf.split('"').next().unwrap().to_owned();
        Self { app, session, csrf }
    }

    async fn get(&self, path: &str) -> Reply {
        page(self.app, &self.session, path).await
    }

    async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Reply {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .append_pair("csrf", &self.csrf)
            .finish();
        self.app
            .call(Method::POST, path)
            .header("cookie", &format!("convene_session={}", self.session))
            .header("origin", &self.app.base_url)
            .raw("application/x-www-form-urlencoded", body)
            .send()
            .await
    }
}

/// The first `href` on the page that starts with `prefix`, unescaped.
fn link(html: &str, prefix: &str) -> String {
    let from = html
        .split(&format!("href=\"{prefix}"))
        .nth(1)
        .expect(prefix);
    format!("{prefix}{}", from.split('"').next().unwrap()).replace("&amp;", "&")
}

app_tests! {
    config = |c| c.allow_private_targets = true;

    async fn the_delivery_inspector_shows_what_went_and_what_came_back(app: TestApp) {
        let _w = World::new(&app).await;
        let rx = Receiver::start().await;
        rx.script([Answer { status: 503, headers: vec![("x-request-id", "r-7".into())], body: "<h1>down</h1>".into(), delay: None }]);
        let hook = app.admin(Method::POST, "/api/v1/webhooks")
            .json(&json!({"url": rx.url, "event_types": ["custom.thing", "custom.other"], "headers": {"X-Team": "wiki"}})).send().await;
        let hook_id = hook.str("id");
        for (id, ty) in [("c-1", "custom.thing"), ("c-2", "custom.other")] {
            let r = app.admin(Method::POST, "/api/v1/signals").json(&json!({"type": ty, "id": id, "data": {"thing": {"id": id}}})).send().await;
            assert_eq!(r.status, 202);
        }
        app.drain().await;
        let root = Operator::sign_in(&app, "Root").await;
        let list = root.get(&format!("/admin/webhooks/{hook_id}")).await;
        assert!(list.text.contains("Last error"), "{}", list.text);
        assert_eq!(list.text.matches("503").count(), 1, "one of the two failed first: {}", list.text);
        // Filter by type: one row; a time that is none is said on the filter form.
        let only = root.get(&format!("/admin/webhooks/{hook_id}?event_type=custom.other")).await;
        assert_eq!(only.text.matches("<td>custom.other</td>").count(), 1);
        assert!(!only.text.contains("<td>custom.thing</td>"));
        let bad = root.get(&format!("/admin/webhooks/{hook_id}?since=soon")).await;
        assert!(bad.status == 200 && bad.text.contains("Not filtered") && bad.text.contains("since"), "{}", bad.text);
        let future = root.get(&format!("/admin/webhooks/{hook_id}?since=2099-01-01T00:00")).await;
        assert!(future.text.contains("No delivery matches these filters"), "{}", future.text);

        app.clock.advance(Duration::seconds(20));
        app.drain().await;
        let failed_first = rx.received()[0].clone();
        let failed_type = failed_first.json()["event_metadata"]["event_type"].as_str().unwrap().to_owned();
        let list = root.get(&format!("/admin/webhooks/{hook_id}?status=delivered&event_type={failed_type}")).await;
        let detail = root.get(&link(&list.text, "/admin/deliveries/")).await;
        assert_eq!(detail.status, 200);
        let html = &detail.text;
        for shown in ["webhook-signature", "(masked)", "x-team", "wiki", "x-request-id", "r-7", "HTTP 503", "HTTP 200", "✓ delivered", "event_metadata"] {
            assert!(html.contains(shown), "{shown} in {html}");
        }
        assert!(html.contains("&#60;h1&#62;down") && !html.contains("<h1>down"), "the peer's body is text, not markup");
        assert!(!html.contains(failed_first.header("webhook-signature")), "the signature is never shown");
        assert!(html.contains(failed_first.header("webhook-timestamp")), "each attempt's own timestamp");
        assert!(!html.contains("Retry now"), "a delivered one is not offered again");
    }
}
