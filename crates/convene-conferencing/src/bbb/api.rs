//! BigBlueButton's API as a server calls it: `GET <base><call>?<query>&checksum=<hex>`, XML
//! replies whose `returncode` (not the HTTP status) says whether it worked, and a stable
//! `messageKey` when it did not.

use super::checksum::Checksum;
use convene_delivery::http::{Outbound, chain, refusal};
use convene_delivery::target::TargetPolicy;
use roxmltree::{Document, Node};

/// Replies larger than this are refused (a long `getMeetings` is well below it).
const REPLY_LIMIT: usize = 4 << 20;

#[derive(Debug, Clone, PartialEq)]
pub struct BbbConfig {
    /// The API base, such as `https://bbb.example.org/bigbluebutton/api/` (a missing final `/`
    /// is added).
    pub url: String,
    /// The shared secret (`bbb-conf --secret`).
    pub secret: String,
    pub checksum: Checksum,
    pub timeout: std::time::Duration,
    /// Which addresses the API base may resolve to.
    pub policy: TargetPolicy,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BbbError {
    /// No answer: connection refused, DNS, TLS.
    #[error("request to BigBlueButton failed: {0}")]
    Transport(String),
    #[error("BigBlueButton did not answer within {0:?}")]
    TimedOut(std::time::Duration),
    /// The API base is an address the outbound policy refuses.
    #[error("request to BigBlueButton refused: {0}")]
    Refused(String),
    #[error("BigBlueButton answered HTTP {status}")]
    Status { status: u16 },
    #[error("BigBlueButton's answer is not its XML: {0}")]
    Decode(String),
    /// `returncode` FAILED, with BigBlueButton's `messageKey` (`checksumError`, …).
    #[error("BigBlueButton refused {call}: {key}: {message}")]
    Failed {
        call: &'static str,
        key: String,
        message: String,
    },
}

impl BbbError {
    /// Worth trying again later.
    pub fn is_transient(&self) -> bool {
        match self {
            BbbError::Transport(_) | BbbError::TimedOut(_) => true,
            BbbError::Status { status } => *status == 429 || *status >= 500,
            BbbError::Refused(_) | BbbError::Decode(_) | BbbError::Failed { .. } => false,
        }
    }

    fn key(&self) -> Option<&str> {
        match self {
            BbbError::Failed { key, .. } => Some(key),
            _ => None,
        }
    }
}

pub type BbbResult<T> = Result<T, BbbError>;

/// What `create` is told. `create` is idempotent: the same `meeting_id` again is a success.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeetingSpec {
    pub meeting_id: String,
    pub name: String,
    pub record: bool,
    /// `meta_<name>` parameters; BigBlueButton lists them back in lower case.
    pub meta: Vec<(String, String)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JoinRole {
    Moderator,
    Viewer,
}

impl JoinRole {
    pub fn as_str(self) -> &'static str {
        match self {
            JoinRole::Moderator => "MODERATOR",
            JoinRole::Viewer => "VIEWER",
        }
    }
}

/// A meeting as `getMeetings` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunningMeeting {
    pub meeting_id: String,
    pub name: String,
    /// Milliseconds since the epoch.
    pub create_time: i64,
    pub running: bool,
    pub participants: i64,
    pub meta: Vec<(String, String)>,
}

/// A recording as `getRecordings` lists it, with its playback formats.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recording {
    pub record_id: String,
    pub meeting_id: String,
    pub published: bool,
    pub state: String,
    /// Milliseconds since the epoch.
    pub start_time: i64,
    pub end_time: i64,
    pub playback: Vec<Playback>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Playback {
    pub kind: String,
    pub url: String,
    /// Minutes.
    pub length: i64,
}

#[derive(Clone)]
pub struct Bbb {
    client: Outbound,
    base: url::Url,
    secret: String,
    checksum: Checksum,
    timeout: std::time::Duration,
}

impl Bbb {
    pub fn new(config: &BbbConfig) -> Result<Self, String> {
        let mut base = config.url.trim().to_owned();
        if !base.ends_with('/') {
            base.push('/');
        }
        let base = url::Url::parse(&base).map_err(|e| format!("url: {e}"))?;
        let client =
            Outbound::new(config.policy.clone(), config.timeout).map_err(|e| e.to_string())?;
        Ok(Self {
            client,
            base,
            secret: config.secret.clone(),
            checksum: config.checksum,
            timeout: config.timeout,
        })
    }

    /// The signed URL of a call: the checksum covers exactly the query string it carries.
    pub fn signed(&self, call: &str, params: &[(&str, &str)]) -> String {
        let query = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(params)
            .finish();
        let checksum = self.checksum.of(call, &query, &self.secret);
        let and = if query.is_empty() { "" } else { "&" };
        format!("{}{call}?{query}{and}checksum={checksum}", self.base)
    }

    /// Where a person is sent to enter a running meeting (made here, never fetched).
    pub fn join_url(&self, meeting_id: &str, name: &str, role: JoinRole, user: &str) -> String {
        let mut params = vec![
            ("fullName", name),
            ("meetingID", meeting_id),
            ("role", role.as_str()),
        ];
        if !user.is_empty() {
            params.push(("userID", user));
        }
        self.signed("join", &params)
    }

    fn failed(&self, e: &reqwest::Error) -> BbbError {
        if e.is_timeout() {
            return BbbError::TimedOut(self.timeout);
        }
        match refusal(e) {
            Some(refusal) => BbbError::Refused(refusal.to_string()),
            None => BbbError::Transport(chain(e)),
        }
    }

    /// Makes the call and hands back the XML text of a SUCCESS reply.
    async fn call(&self, call: &'static str, params: &[(&str, &str)]) -> BbbResult<String> {
        let url = self.signed(call, params);
        let response = self
            .client
            .request(reqwest::Method::GET, &url)
            .map_err(|refusal| BbbError::Refused(refusal.to_string()))?
            .send()
            .await
            .map_err(|e| self.failed(&e))?;
        let status = response.status().as_u16();
        if status != 200 {
            return Err(BbbError::Status { status });
        }
        let mut body = Vec::new();
        let mut response = response;
        while let Some(chunk) = response.chunk().await.map_err(|e| self.failed(&e))? {
            body.extend_from_slice(&chunk);
            if body.len() > REPLY_LIMIT {
                return Err(BbbError::Decode(format!(
                    "a reply over {REPLY_LIMIT} bytes"
                )));
            }
        }
        let text = String::from_utf8(body).map_err(|_| BbbError::Decode("not UTF-8".into()))?;
        let doc = Document::parse(&text).map_err(|e| BbbError::Decode(e.to_string()))?;
        let root = doc.root_element();
        if root.tag_name().name() != "response" {
            return Err(BbbError::Decode("no <response>".into()));
        }
        match text_of(root, "returncode") {
            Some("SUCCESS") => {}
            Some(_) => {
                return Err(BbbError::Failed {
                    call,
                    key: text_of(root, "messageKey").unwrap_or_default().to_owned(),
                    message: text_of(root, "message").unwrap_or_default().to_owned(),
                });
            }
            None => return Err(BbbError::Decode("no <returncode>".into())),
        }
        drop(doc);
        Ok(text)
    }

    /// `create`: starts the meeting, or finds it running (a duplicate is a success).
    pub async fn create(&self, spec: &MeetingSpec) -> BbbResult<()> {
        let meta: Vec<(String, &str)> = spec
            .meta
            .iter()
            .map(|(k, v)| (format!("meta_{k}"), v.as_str()))
            .collect();
        let record = if spec.record { "true" } else { "false" };
        let mut params = vec![
            ("name", spec.name.as_str()),
            ("meetingID", spec.meeting_id.as_str()),
            ("record", record),
        ];
        params.extend(meta.iter().map(|(k, v)| (k.as_str(), *v)));
        self.call("create", &params).await.map(drop)
    }

    /// `end`: `false` when no such meeting is running (it is over already).
    pub async fn end(&self, meeting_id: &str) -> BbbResult<bool> {
        match self.call("end", &[("meetingID", meeting_id)]).await {
            Ok(_) => Ok(true),
            Err(e) if e.key() == Some("notFound") => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// `getMeetings`: every meeting the server holds now.
    pub async fn meetings(&self) -> BbbResult<Vec<RunningMeeting>> {
        let text = self.call("getMeetings", &[]).await?;
        let doc = parse(&text)?;
        Ok(items(&doc, "meetings", "meeting")
            .map(|m| RunningMeeting {
                meeting_id: owned(m, "meetingID"),
                name: owned(m, "meetingName"),
                create_time: number(m, "createTime"),
                running: text_of(m, "running") == Some("true"),
                participants: number(m, "participantCount"),
                meta: child(m, "metadata")
                    .map(|md| {
                        md.children()
                            .filter(Node::is_element)
                            .map(|e| (e.tag_name().name().to_owned(), whole_text(e)))
                            .collect()
                    })
                    .unwrap_or_default(),
            })
            .collect())
    }

    /// `getRecordings` of one meeting.
    pub async fn recordings(&self, meeting_id: &str) -> BbbResult<Vec<Recording>> {
        let text = self
            .call("getRecordings", &[("meetingID", meeting_id)])
            .await?;
        let doc = parse(&text)?;
        Ok(items(&doc, "recordings", "recording")
            .map(|r| Recording {
                record_id: owned(r, "recordID"),
                meeting_id: owned(r, "meetingID"),
                published: text_of(r, "published") == Some("true"),
                state: owned(r, "state"),
                start_time: number(r, "startTime"),
                end_time: number(r, "endTime"),
                playback: child(r, "playback")
                    .map(|p| {
                        p.children()
                            .filter(|f| f.has_tag_name("format"))
                            .map(|f| Playback {
                                kind: owned(f, "type"),
                                url: owned(f, "url"),
                                length: number(f, "length"),
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
            })
            .collect())
    }
}

fn parse(text: &str) -> BbbResult<Document<'_>> {
    Document::parse(text).map_err(|e| BbbError::Decode(e.to_string()))
}

fn child<'a, 'i>(node: Node<'a, 'i>, name: &str) -> Option<Node<'a, 'i>> {
    node.children().find(|c| c.has_tag_name(name))
}

fn text_of<'a>(node: Node<'a, '_>, name: &str) -> Option<&'a str> {
    child(node, name).map(|c| c.text().unwrap_or_default().trim())
}

/// Text and CDATA together (BigBlueButton wraps names in CDATA).
fn whole_text(node: Node) -> String {
    node.descendants()
        .filter(Node::is_text)
        .filter_map(|t| t.text())
        .collect::<String>()
        .trim()
        .to_owned()
}

fn owned(node: Node, name: &str) -> String {
    child(node, name).map(whole_text).unwrap_or_default()
}

fn number(node: Node, name: &str) -> i64 {
    text_of(node, name)
        .and_then(|t| t.parse().ok())
        .unwrap_or_default()
}

/// The `<item>`s of the reply's `<list>` (none when the list is absent or empty).
fn items<'a, 'i>(
    doc: &'a Document<'i>,
    list: &'a str,
    item: &'a str,
) -> impl Iterator<Item = Node<'a, 'i>> + 'a {
    child(doc.root_element(), list)
        .into_iter()
        .flat_map(move |l| l.children().filter(move |c| c.has_tag_name(item)))
}
