//! Jitsi Meet behind `ConferenceProvider`: a room is a URL on the configured domain, with a name
//! nobody can guess, so there is nothing to call. A secured deployment (Prosody's token
//! authentication) gets a per-person HS256 token in `?jwt=`, as Jitsi's token docs describe.

use crate::provider::{
    Capabilities, ConferenceProvider, Joiner, ListedRoom, ProviderError, ProviderResult,
    RoomHandle, SessionSpec, SlideChange,
};
use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

/// How long after the session's end a token still lets people in.
const TOKEN_GRACE_S: i64 = 6 * 3600;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JitsiConfig {
    /// `meet.example.org` (a scheme, if given, is kept; `https` otherwise).
    pub domain: String,
    /// Both set = token authentication (`iss` is the app id, the secret signs).
    pub app_id: Option<String>,
    pub app_secret: Option<String>,
}

pub struct Jitsi {
    /// `https://meet.example.org`, without a final `/`.
    base: String,
    /// The token's `sub`: the domain, lower case.
    domain: String,
    app: Option<(String, Vec<u8>)>,
}

impl Jitsi {
    pub fn new(config: &JitsiConfig) -> Result<Self, String> {
        let raw = config.domain.trim().trim_end_matches('/');
        let base = if raw.contains("://") {
            raw.to_owned()
        } else {
            format!("https://{raw}")
        };
        let url = url::Url::parse(&base).map_err(|e| format!("domain: {e}"))?;
        let domain = url
            .host_str()
            .ok_or("domain: no host")?
            .to_ascii_lowercase();
        let app = match (&config.app_id, &config.app_secret) {
            (Some(id), Some(secret)) if !id.is_empty() && !secret.is_empty() => {
                Some((id.clone(), secret.as_bytes().to_vec()))
            }
            (None, None) => None,
            _ => return Err("app_id and app_secret go together".into()),
        };
        Ok(Self { base, domain, app })
    }

    fn token(&self, app_id: &str, secret: &[u8], room: &str, who: &Joiner) -> String {
        let header = json!({"alg": "HS256", "typ": "JWT"});
        let claims = json!({
            "iss": app_id,
            "aud": "jitsi",
            "sub": self.domain,
            "room": room,
            "exp": who.until.unix_timestamp() + TOKEN_GRACE_S,
            "context": {"user": {
                "id": who.user_id,
                "name": if who.name.is_empty() { "Guest" } else { &who.name },
                "moderator": who.moderator,
            }},
        });
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("any key length");
        mac.update(signing_input.as_bytes());
        let signature = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
        format!("{signing_input}.{signature}")
    }
}

/// `wiki-club` + 128 random bits: lower-case letters, digits and `-`, as Jitsi room names go.
fn room_name(group: &str) -> String {
    let group: String = group
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    format!("{group}-{}", convene_core::token::random_hex(16))
}

#[async_trait]
impl ConferenceProvider for Jitsi {
    fn name(&self) -> &'static str {
        "jitsi"
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            reschedule_in_place: true,
            slides: false,
            list: false,
            per_user_join: self.app.is_some(),
            recordings: false,
        }
    }

    async fn provision(&self, session: &SessionSpec) -> ProviderResult<RoomHandle> {
        let room = room_name(&session.group);
        Ok(RoomHandle {
            provider: self.name().to_owned(),
            join_url: format!("{}/{room}", self.base),
            remote_id: room,
            secret_handle: None,
            data: json!({"group": session.group, "personal": self.app.is_some()}),
        })
    }

    /// A room has no schedule: it keeps its name and URL.
    async fn reschedule(
        &self,
        room: &RoomHandle,
        session: &SessionSpec,
    ) -> ProviderResult<RoomHandle> {
        let mut moved = room.clone();
        moved.data["group"] = Value::from(session.group.clone());
        Ok(moved)
    }

    async fn deprovision(&self, _: &RoomHandle) -> ProviderResult<()> {
        Ok(())
    }

    async fn list(&self, _: &str) -> ProviderResult<Vec<ListedRoom>> {
        Err(ProviderError::Unsupported {
            provider: "jitsi",
            what: "list rooms",
        })
    }

    fn join_url(&self, room: &RoomHandle, who: &Joiner) -> String {
        match &self.app {
            Some((id, secret)) => format!(
                "{}?jwt={}",
                room.join_url,
                self.token(id, secret, &room.remote_id, who)
            ),
            None => room.join_url.clone(),
        }
    }

    async fn push_slides(&self, _: &SessionSpec, _: &SlideChange) -> ProviderResult<()> {
        Ok(())
    }
}
