//! BigBlueButton behind `ConferenceProvider`. A BBB meeting exists only while it is used, so a
//! room is a meeting id chosen at provisioning; the meeting is created (idempotently) when
//! someone arrives through Convene's join link, which is signed so that only the people it was
//! made for get in, in the role it names.

mod api;
mod checksum;

pub use api::{
    Bbb, BbbConfig, BbbError, BbbResult, JoinRole, MeetingSpec, Playback,
    Recording as BbbRecording, RunningMeeting,
};
pub use checksum::Checksum;

use crate::provider::{
    Capabilities, ConferenceProvider, JoinPass, Joiner, ListedRoom, ProviderError, ProviderResult,
    Recording, RoomHandle, SessionSpec, SlideChange,
};
use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use convene_core::token::{random_hex, secrets_equal};
use hmac::{Hmac, KeyInit, Mac};
use serde_json::json;
use sha2::Sha256;

impl From<BbbError> for ProviderError {
    fn from(e: BbbError) -> Self {
        ProviderError::Remote {
            transient: e.is_transient(),
            message: e.to_string(),
        }
    }
}

pub struct BigBlueButton {
    api: Bbb,
    /// Signs Convene's join links (derived from the shared secret, never sent).
    link_key: Vec<u8>,
    /// Where Convene is reached, without a final `/`.
    public_url: String,
}

impl BigBlueButton {
    pub fn new(config: &BbbConfig, public_url: &str) -> Result<Self, String> {
        Ok(Self {
            api: Bbb::new(config)?,
            link_key: [b"convene join links\n".as_slice(), config.secret.as_bytes()].concat(),
            public_url: public_url.trim_end_matches('/').to_owned(),
        })
    }

    pub fn api(&self) -> &Bbb {
        &self.api
    }

    fn signature(&self, meeting: &str, role: &str, name: &str, user: &str) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.link_key).expect("any key length");
        for part in [meeting, role, name, user] {
            mac.update(part.as_bytes());
            mac.update(b"\n");
        }
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    }
}

fn meeting_of(room: &RoomHandle) -> &str {
    &room.remote_id
}

fn handle(session: &SessionSpec, meeting_id: String, public_url: &str) -> RoomHandle {
    RoomHandle {
        provider: "bigbluebutton".to_owned(),
        join_url: format!("{public_url}/conference/{}/join", session.id),
        remote_id: meeting_id,
        secret_handle: None,
        data: json!({"session": session.id, "group": session.group, "number": session.number,
            "personal": true}),
    }
}

fn time_of_ms(ms: i64) -> convene_core::Timestamp {
    convene_core::clock::from_micros(ms.saturating_mul(1000))
}

#[async_trait]
impl ConferenceProvider for BigBlueButton {
    fn name(&self) -> &'static str {
        "bigbluebutton"
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            reschedule_in_place: true,
            slides: false,
            list: true,
            per_user_join: true,
            recordings: true,
        }
    }

    /// Chooses the meeting id: nothing is made at BigBlueButton before someone arrives.
    async fn provision(&self, session: &SessionSpec) -> ProviderResult<RoomHandle> {
        let meeting = format!("cvn-{}-{}", session.number, random_hex(8));
        Ok(handle(session, meeting, &self.public_url))
    }

    /// A meeting has no schedule: the same id serves the new time.
    async fn reschedule(
        &self,
        room: &RoomHandle,
        session: &SessionSpec,
    ) -> ProviderResult<RoomHandle> {
        Ok(handle(session, room.remote_id.clone(), &self.public_url))
    }

    async fn deprovision(&self, room: &RoomHandle) -> ProviderResult<()> {
        self.api.end(meeting_of(room)).await?;
        Ok(())
    }

    async fn list(&self, group: &str) -> ProviderResult<Vec<ListedRoom>> {
        let meetings = self.api.meetings().await?;
        Ok(meetings
            .into_iter()
            .filter(|m| {
                m.meta
                    .iter()
                    .any(|(k, v)| k == "convene-group" && v == group)
            })
            .map(|m| ListedRoom {
                room_id: m
                    .meta
                    .iter()
                    .find(|(k, _)| k == "convene-number")
                    .and_then(|(_, v)| v.parse().ok())
                    .unwrap_or_default(),
                description: m.name,
                start_time: time_of_ms(m.create_time),
                duration_minutes: 0,
                url: String::new(),
                public_id: m.meeting_id,
            })
            .collect())
    }

    fn join_url(&self, room: &RoomHandle, who: &Joiner) -> String {
        let role = if who.moderator {
            "moderator"
        } else {
            "attendee"
        };
        let sig = self.signature(meeting_of(room), role, &who.name, &who.user_id);
        let query = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs([
                ("role", role),
                ("name", &who.name),
                ("user", &who.user_id),
                ("sig", &sig),
            ])
            .finish();
        format!("{}?{query}", room.join_url)
    }

    async fn admit(
        &self,
        room: &RoomHandle,
        session: &SessionSpec,
        pass: &JoinPass,
    ) -> ProviderResult<String> {
        let role = match pass.role.as_str() {
            "moderator" => JoinRole::Moderator,
            "attendee" => JoinRole::Viewer,
            _ => return Err(ProviderError::BadLink),
        };
        let expected = self.signature(meeting_of(room), &pass.role, &pass.name, &pass.user);
        if !secrets_equal(&expected, &pass.sig) {
            return Err(ProviderError::BadLink);
        }
        self.api
            .create(&MeetingSpec {
                meeting_id: meeting_of(room).to_owned(),
                name: session.title.clone(),
                record: true,
                meta: vec![
                    ("convene-session".into(), session.id.clone()),
                    ("convene-group".into(), session.group.clone()),
                    ("convene-number".into(), session.number.to_string()),
                ],
            })
            .await?;
        let name = if pass.name.is_empty() {
            "Guest"
        } else {
            &pass.name
        };
        Ok(self.api.join_url(meeting_of(room), name, role, &pass.user))
    }

    async fn recordings(&self, room: &RoomHandle) -> ProviderResult<Vec<Recording>> {
        let mut found: Vec<Recording> = self
            .api
            .recordings(meeting_of(room))
            .await?
            .into_iter()
            .filter(|r| r.published)
            .filter_map(|r| {
                let playback = r
                    .playback
                    .iter()
                    .find(|p| p.kind == "presentation")
                    .or(r.playback.first())?;
                Some(Recording {
                    id: r.record_id,
                    url: playback.url.clone(),
                    started_at: time_of_ms(r.start_time),
                    ended_at: time_of_ms(r.end_time),
                })
            })
            .collect();
        found.sort_by_key(|r| std::cmp::Reverse(r.started_at));
        Ok(found)
    }

    /// Decks would go in with `insertDocument` while the meeting runs; not yet.
    async fn push_slides(&self, _: &SessionSpec, _: &SlideChange) -> ProviderResult<()> {
        Ok(())
    }
}
