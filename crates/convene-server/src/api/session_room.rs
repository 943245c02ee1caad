//! A session's room as one caller sees it: the way in made for them (a provider with per-person
//! links signs one for each participant and organizer), the moderator's way in for those who
//! manage the event, and the recordings.

use super::rfc3339;
use crate::state::AppState;
use convene_conferencing::provider::Joiner;
use convene_core::access::{Principal, Standing};
use convene_core::conference::{Conference, Session};
use serde::Serialize;
use utoipa::ToSchema;

/// A session's video room.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConferenceBody {
    /// `pending`, `ready` or `failed`.
    status: String,
    provider: String,
    /// The attendee's way in (as `join_url`; kept for older clients).
    url: Option<String>,
    /// The attendee's way in. With BigBlueButton, or Jitsi with tokens, it is made for the
    /// caller and given only to the event's participants and organizers.
    join_url: Option<String>,
    /// The moderator's way in: shown to organizers and admins only.
    moderator_url: Option<String>,
    error: Option<String>,
    /// As the provider reports them, newest first.
    recordings: Vec<RecordingBody>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RecordingBody {
    id: String,
    url: String,
    started_at: String,
    ended_at: String,
}

/// Who is looking.
#[derive(Debug, Clone, Copy)]
pub struct Viewer<'a> {
    pub caller: &'a Principal,
    pub standing: &'a Standing,
}

fn joiner(viewer: &Viewer, session: &Session, moderator: bool) -> Joiner {
    let (name, user_id) = match viewer.caller {
        Principal::User { id, username, .. } => (username.as_str().to_owned(), id.to_string()),
        Principal::Bootstrap => ("Administrator".to_owned(), String::new()),
    };
    Joiner {
        name,
        user_id,
        moderator,
        until: session.ends_at(),
    }
}

pub fn conference_body(
    state: &AppState,
    session: &Session,
    c: &Conference,
    viewer: &Viewer,
) -> ConferenceBody {
    let provider = state.conferencing.named(&c.provider);
    let room = c.room.as_ref();
    let manages = viewer.standing.manages();
    let (join_url, moderator_url) = match (provider, room) {
        (Some(provider), Some(room)) => {
            let personal = provider.capabilities().per_user_join;
            let member = manages || viewer.standing.participant;
            let join = (!personal || member)
                .then(|| provider.join_url(&room.handle, &joiner(viewer, session, false)));
            let moderate =
                manages.then(|| provider.join_url(&room.handle, &joiner(viewer, session, true)));
            (join, moderate)
        }
        _ => (None, None),
    };
    ConferenceBody {
        status: c.status.as_str().to_owned(),
        provider: c.provider.clone(),
        url: join_url.clone(),
        join_url,
        moderator_url,
        error: c.error.clone(),
        recordings: c
            .recordings
            .iter()
            .map(|r| RecordingBody {
                id: r.id.clone(),
                url: r.url.clone(),
                started_at: rfc3339(r.started_at),
                ended_at: rfc3339(r.ended_at),
            })
            .collect(),
    }
}
