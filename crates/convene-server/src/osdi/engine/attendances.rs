//! Attendances of events linked to an Action Network event. Pull: the event's attendances
//! changed since its cursor become local attendances of the linked people (a person not yet
//! linked is fetched through the attendance's `osdi:person` link and pulled like any other).
//! Push: local attendances are POSTed linked by `osdi:person` (Action Network keeps one per
//! person), and a status changed locally after the remote one is PUT.

use super::remote::{href_id, modified, modified_filter};
use super::scope::OUT_OF_SCOPE;
use super::{Ctx, Step};
use convene_core::{EventId, PersonId};
use reqwest::Method;
use serde_json::{Value, json};
use std::collections::HashMap;

pub async fn pull(ctx: &mut Ctx<'_>) -> Step<()> {
    for (event, remote_event) in ctx.store().event_links(&ctx.profile.id).await? {
        let stream = format!("remote_attendances:{}", event.as_str());
        let mut url = format!("{}/attendances", ctx.urls.event(&remote_event));
        if let Some(since) = ctx.cursor(&stream).await? {
            url = modified_filter(&url, since);
        }
        // What the event holds, read once and kept current as attendances are written.
        let mut known: Known = ctx
            .store()
            .attendances(&event)
            .await?
            .into_iter()
            .map(|a| (a.person_id, (a.status, a.remote_href)))
            .collect();
        let (mut next, mut number) = (Some(url), None);
        while let Some(url) = next {
            let (page, after) = ctx.page(&url, &mut number).await?;
            next = after;
            for attendance in page {
                pull_one(ctx, &event, &mut known, &attendance).await?;
            }
            ctx.checkpoint(Value::Null).await?;
        }
    }
    Ok(())
}

/// An event's local attendances: person → (status, remote href).
type Known = HashMap<PersonId, (String, Option<String>)>;

async fn pull_one(
    ctx: &mut Ctx<'_>,
    event: &EventId,
    known: &mut Known,
    attendance: &Value,
) -> Step<()> {
    let Some(person_href) = attendance["_links"]["osdi:person"]["href"].as_str() else {
        ctx.error("no_person_link", None, None, None, &attendance.to_string());
        return Ok(());
    };
    let Some(rid) = href_id(person_href) else {
        return Ok(());
    };
    // An attendee we do not know yet is pulled through the person link first.
    let pair = match super::people::pair_through_link(ctx, person_href, &rid).await? {
        Ok(pair) => pair,
        Err(refused) => {
            ctx.failed(None, Some(&rid), &refused);
            return Ok(());
        }
    };
    let Some(pair) = pair.filter(|p| p.status == "ok") else {
        ctx.log(
            "skipped_unlinked",
            None,
            Some(&rid),
            json!({"event_id": event.as_str()}),
            json!([]),
        );
        return Ok(());
    };
    if !ctx.in_scope_id(&pair.person_id).await? {
        let pid = pair.person_id.to_string();
        ctx.log(
            OUT_OF_SCOPE,
            Some(&pid),
            Some(&rid),
            json!({"event_id": event.as_str()}),
            json!([]),
        );
        return Ok(());
    }
    let status = attendance["status"].as_str().unwrap_or("accepted");
    let href = attendance["_links"]["self"]["href"].as_str();
    let source = attendance["action_network:referrer_data"]["source"].as_str();
    let pid = pair.person_id.to_string();
    let previous = known.get(&pair.person_id);
    if previous.is_some_and(|(s, h)| s == status && h.as_deref() == href) {
        ctx.log(
            "unchanged",
            Some(&pid),
            Some(&rid),
            json!({"event_id": event.as_str()}),
            json!([]),
        );
        return Ok(());
    }
    let written = ctx
        .store()
        .put_attendance(event, &pair.person_id, status, href, source, ctx.now())
        .await?;
    known.insert(written.person_id, (written.status, written.remote_href));
    ctx.log(
        "attendance_pulled",
        Some(&pid),
        Some(&rid),
        json!({"event_id": event.as_str(), "status": status}),
        json!([]),
    );
    Ok(())
}

pub async fn push(ctx: &mut Ctx<'_>) -> Step<()> {
    for (event, remote_event) in ctx.store().event_links(&ctx.profile.id).await? {
        let collection = format!("{}/attendances", ctx.urls.event(&remote_event));
        for attendance in ctx.store().attendances(&event).await? {
            let pid = attendance.person_id.to_string();
            let Some(pair) = ctx
                .store()
                .pair_by_person(&ctx.profile.id, &attendance.person_id)
                .await?
            else {
                ctx.log(
                    "skipped_unlinked",
                    Some(&pid),
                    None,
                    json!({"event_id": event.as_str()}),
                    json!([]),
                );
                continue;
            };
            let rid = pair.remote_id.clone();
            if !ctx.in_scope_id(&attendance.person_id).await? {
                let at = json!({"event_id": event.as_str()});
                ctx.log(OUT_OF_SCOPE, Some(&pid), Some(&rid), at, json!([]));
                continue;
            }
            let body = json!({"status": attendance.status,
                "_links": {"osdi:person": {"href": ctx.urls.person(&rid)}}});
            let (method, url) = match &attendance.remote_href {
                None => (Method::POST, collection.clone()),
                Some(href) => {
                    let remote = match ctx.call(Method::GET, href, None, true).await? {
                        Ok(remote) => remote,
                        Err(refused) => {
                            ctx.failed(Some(&pid), Some(&rid), &refused);
                            continue;
                        }
                    };
                    let remote_newer =
                        modified(&remote).is_some_and(|t| t >= attendance.updated_at);
                    if remote["status"].as_str() == Some(attendance.status.as_str()) || remote_newer
                    {
                        ctx.log(
                            "unchanged",
                            Some(&pid),
                            Some(&rid),
                            json!({"event_id": event.as_str()}),
                            json!([]),
                        );
                        continue;
                    }
                    (Method::PUT, href.clone())
                }
            };
            match ctx.call(method, &url, Some(&body), true).await? {
                Ok(answer) => {
                    let href = answer["_links"]["self"]["href"].as_str();
                    ctx.store()
                        .put_attendance(
                            &event,
                            &attendance.person_id,
                            &attendance.status,
                            href,
                            None,
                            ctx.now(),
                        )
                        .await?;
                    ctx.log(
                        "attendance_pushed",
                        Some(&pid),
                        Some(&rid),
                        json!({"event_id": event.as_str(), "status": attendance.status}),
                        json!([]),
                    );
                }
                Err(refused) => ctx.failed(Some(&pid), Some(&rid), &refused),
            }
        }
        ctx.checkpoint(Value::Null).await?;
    }
    Ok(())
}
