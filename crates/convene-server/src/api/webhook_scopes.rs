//! Which events a webhook may be scoped to, and by whom: the scope as given, whether the caller
//! may have it, and what losing an organizer role does to the webhooks that named the event.

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use convene_core::access::Principal;
use convene_core::event::Event;
use convene_core::page::PageRequest;
use convene_core::text::Channel;
use convene_core::user::User;
use convene_core::webhook_scope::{MAX_SCOPE_EVENTS, WebhookScope};
use convene_core::{EventId, FieldErrors};
use convene_delivery::worker::disable_endpoint;
use std::collections::BTreeSet;

/// The scope a body asks for, as given (whether the caller may have it is [`authorize_scope`]'s).
pub(super) fn check_scope(
    errors: &mut FieldErrors,
    event_ids: Option<Vec<String>>,
    events: Option<String>,
    channels: Option<Vec<String>>,
) -> WebhookScope {
    let event_ids = event_ids.and_then(|ids| {
        if !(1..=MAX_SCOPE_EVENTS).contains(&ids.len()) {
            errors.add(
                "event_ids",
                format!("must list 1-{MAX_SCOPE_EVENTS} event ids, or be left out"),
            );
            return None;
        }
        let parsed: Option<BTreeSet<EventId>> = ids.iter().map(|i| EventId::parse(i)).collect();
        if parsed.is_none() {
            errors.add("event_ids", "must be event ids");
        }
        parsed
    });
    let mine = match events.as_deref() {
        None => false,
        Some("mine") => true,
        Some(_) => {
            errors.add("events", "must be \"mine\" or left out");
            false
        }
    };
    let channels = channels.and_then(|c| match Channel::parse_list(&c) {
        Ok(list) if !list.is_empty() => Some(list.into_iter().collect()),
        Ok(_) => {
            errors.add("channels", "must list at least one channel, or be left out");
            None
        }
        Err(e) => {
            errors.add("channels", e);
            None
        }
    });
    WebhookScope {
        event_ids,
        mine,
        channels,
    }
}

/// Whether the caller may have a webhook so scoped: admins any; any other user only one
/// limited to events they organise (a list of them, or `"mine"`), so it never carries what they
/// may not read. Unknown events are a 422.
pub(super) async fn authorize_scope(
    state: &AppState,
    caller: &Principal,
    scope: &WebhookScope,
) -> ApiResult<()> {
    let mut missing = FieldErrors::new();
    let mut foreign = false;
    for id in scope.event_ids.iter().flatten() {
        if state.store.event_by_id(id).await?.is_none() {
            missing.add(
                "event_ids",
                format!("no event has the id {:?}", id.as_str()),
            );
            continue;
        }
        if let Some(user) = caller.user_id()
            && !caller.is_admin()
        {
            foreign |= state.store.standing(id, user).await?.0.is_none();
        }
    }
    if !missing.is_empty() {
        return Err(missing.into());
    }
    if caller.is_admin() {
        return Ok(());
    }
    if scope.event_ids.is_none() && !scope.mine {
        return Err(ApiError::Forbidden(
            "only admins may make webhooks not limited to events you organize (event_ids or events: \"mine\")",
        ));
    }
    if foreign {
        return Err(ApiError::Forbidden(
            "a webhook may list only events you organize",
        ));
    }
    Ok(())
}

/// After `user` stopped organising `event`: pauses the webhooks they made that list it (a
/// `"mine"` webhook follows their events by itself), each with an `endpoint.disabled` that they
/// and the administrators are told of. An admin's webhooks stay: an admin still reads the event.
pub(in crate::api) async fn pause_for_lost_role(
    state: &AppState,
    event: &Event,
    user: &User,
) -> ApiResult<()> {
    if user.is_admin {
        return Ok(());
    }
    let now = state.clock.now();
    let reason = format!(
        "its owner {} no longer organizes event {}",
        user.username,
        event.id.as_str()
    );
    let mut page = PageRequest::default();
    loop {
        let hooks = state
            .store
            .list_webhooks(Some(&user.id), None, &page)
            .await?;
        for hook in &hooks.items {
            let lists = hook
                .scope
                .event_ids
                .as_ref()
                .is_some_and(|ids| ids.contains(&event.id));
            if hook.enabled && lists {
                disable_endpoint(&*state.store, hook, &reason, now).await?;
            }
        }
        match hooks.next_after {
            Some(after) => page.after = Some(after),
            None => return Ok(()),
        }
    }
}
