//! A fake BigBlueButton API on a loopback port. It checks every call's checksum byte for byte
//! (the hex digest of `callName + query + secret` over the query exactly as received), keeps
//! meetings as `create` and `end` leave them, and lists the recordings a test adds.

use axum::extract::{Path, RawQuery, State};
use sha2::Digest;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use tokio_util::sync::CancellationToken;

/// One call as received: its name, the raw query, and whether its checksum held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BbbCall {
    pub call: String,
    pub query: String,
    pub params: BTreeMap<String, String>,
    pub checksum_ok: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FakeMeeting {
    pub name: String,
    pub meta: BTreeMap<String, String>,
    pub running: bool,
}

#[derive(Default)]
struct Shared {
    calls: Vec<BbbCall>,
    meetings: BTreeMap<String, FakeMeeting>,
    /// (meeting id, record id, playback url, start ms, end ms)
    recordings: Vec<(String, String, String, i64, i64)>,
}

#[derive(Clone)]
struct Fake {
    secret: String,
    algorithm: &'static str,
    shared: Arc<Mutex<Shared>>,
}

pub struct FakeBbb {
    /// The API base, ending in `/bigbluebutton/api/`.
    pub url: String,
    pub secret: String,
    fake: Fake,
    shared: Arc<Mutex<Shared>>,
    stop: CancellationToken,
}

fn digest(algorithm: &str, input: &[u8]) -> String {
    let bytes: Vec<u8> = match algorithm {
        "sha1" => sha1::Sha1::digest(input).to_vec(),
        "sha256" => sha2::Sha256::digest(input).to_vec(),
        "sha512" => sha2::Sha512::digest(input).to_vec(),
        other => panic!("the fake knows no {other}"),
    };
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn failed(key: &str, message: &str) -> String {
    format!(
        "<response><returncode>FAILED</returncode><messageKey>{key}</messageKey><message>{message}</message></response>"
    )
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

impl Fake {
    fn answer(&self, call: &str, raw: &str) -> String {
        let (query, given) = match raw.rsplit_once("checksum=") {
            Some((rest, sum)) => (rest.strip_suffix('&').unwrap_or(rest), sum),
            None => (raw, ""),
        };
        let expected = digest(
            self.algorithm,
            format!("{call}{query}{}", self.secret).as_bytes(),
        );
        let checksum_ok = given == expected;
        let params: BTreeMap<String, String> = url::form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect();
        let mut shared = self.shared.lock().expect("fake state");
        shared.calls.push(BbbCall {
            call: call.to_owned(),
            query: query.to_owned(),
            params: params.clone(),
            checksum_ok,
        });
        if !checksum_ok {
            return failed("checksumError", "Checksums do not match");
        }
        let id = params.get("meetingID").cloned().unwrap_or_default();
        match call {
            "create" => {
                let meeting = shared.meetings.entry(id.clone()).or_default();
                let duplicate = meeting.running;
                meeting.running = true;
                meeting.name = params.get("name").cloned().unwrap_or_default();
                meeting.meta = params
                    .iter()
                    .filter_map(|(k, v)| Some((k.strip_prefix("meta_")?.to_lowercase(), v.clone())))
                    .collect();
                let warning = if duplicate {
                    "<messageKey>duplicateWarning</messageKey>"
                } else {
                    ""
                };
                format!(
                    "<response><returncode>SUCCESS</returncode><meetingID>{}</meetingID><internalMeetingID>i-{}</internalMeetingID><createTime>1765000000000</createTime>{warning}</response>",
                    xml_escape(&id),
                    xml_escape(&id)
                )
            }
            "join" => match shared.meetings.get(&id) {
                Some(m) if m.running => "<response><returncode>SUCCESS</returncode><messageKey>successfullyJoined</messageKey></response>".to_owned(),
                _ => failed("invalidMeetingIdentifier", "The meeting ID that you supplied did not match any existing meetings"),
            },
            "end" => match shared.meetings.get_mut(&id) {
                Some(m) if m.running => {
                    m.running = false;
                    "<response><returncode>SUCCESS</returncode><messageKey>sentEndMeetingRequest</messageKey></response>".to_owned()
                }
                _ => failed("notFound", "We could not find a meeting with that meeting ID"),
            },
            "getMeetings" => {
                let items: String = shared
                    .meetings
                    .iter()
                    .filter(|(_, m)| m.running)
                    .map(|(id, m)| {
                        let meta: String = m
                            .meta
                            .iter()
                            .map(|(k, v)| format!("<{k}>{}</{k}>", xml_escape(v)))
                            .collect();
                        format!(
                            "<meeting><meetingName><![CDATA[{}]]></meetingName><meetingID>{}</meetingID><createTime>1765000000000</createTime><running>true</running><participantCount>0</participantCount><metadata>{meta}</metadata></meeting>",
                            m.name,
                            xml_escape(id)
                        )
                    })
                    .collect();
                format!("<response><returncode>SUCCESS</returncode><meetings>{items}</meetings></response>")
            }
            "getRecordings" => {
                let items: String = shared
                    .recordings
                    .iter()
                    .filter(|r| r.0 == id)
                    .map(|(meeting, record, url, start, end)| {
                        format!(
                            "<recording><recordID>{record}</recordID><meetingID>{}</meetingID><published>true</published><state>published</state><startTime>{start}</startTime><endTime>{end}</endTime><playback><format><type>podcast</type><url>{url}.mp3</url><length>40</length></format><format><type>presentation</type><url>{}</url><length>40</length></format></playback></recording>",
                            xml_escape(meeting),
                            xml_escape(url)
                        )
                    })
                    .collect();
                format!("<response><returncode>SUCCESS</returncode><recordings>{items}</recordings></response>")
            }
            _ => failed("unsupportedRequest", "This request is not supported."),
        }
    }
}

impl FakeBbb {
    /// A fake that accepts checksums made with `algorithm` (`sha1`, `sha256`, `sha512`).
    pub async fn start(algorithm: &'static str) -> Self {
        let secret = "639259d4-9dd8-4b25-bf01-95f9567eaf4b".to_owned();
        let shared = Arc::new(Mutex::new(Shared::default()));
        let fake = Fake {
            secret: secret.clone(),
            algorithm,
            shared: shared.clone(),
        };
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .expect("bind");
        let url = format!(
            "http://{}/bigbluebutton/api/",
            listener.local_addr().expect("address")
        );
        let app =
            axum::Router::new()
                .route(
                    "/bigbluebutton/api/{call}",
                    axum::routing::get(
                        |State(fake): State<Fake>,
                         Path(call): Path<String>,
                         RawQuery(q): RawQuery| async move {
                            (
                                [("content-type", "text/xml;charset=utf-8")],
                                fake.answer(&call, &q.unwrap_or_default()),
                            )
                        },
                    ),
                )
                .with_state(fake.clone());
        let stop = crate::receiver::serve_until_stopped(listener, app);
        Self {
            url,
            secret,
            fake,
            shared,
            stop,
        }
    }

    pub fn calls(&self) -> Vec<BbbCall> {
        self.shared.lock().expect("fake state").calls.clone()
    }

    pub fn meeting(&self, id: &str) -> Option<FakeMeeting> {
        self.shared
            .lock()
            .expect("fake state")
            .meetings
            .get(id)
            .cloned()
    }

    /// A published recording of `meeting`, as BigBlueButton lists it once processed.
    pub fn add_recording(
        &self,
        meeting: &str,
        record: &str,
        url: &str,
        start_ms: i64,
        end_ms: i64,
    ) {
        self.shared.lock().expect("fake state").recordings.push((
            meeting.to_owned(),
            record.to_owned(),
            url.to_owned(),
            start_ms,
            end_ms,
        ));
    }

    /// Answers a URL Convene made (a `join` it redirects to) as BigBlueButton would, checksum
    /// included; the call is recorded like any other.
    pub fn follow(&self, url: &str) -> String {
        let rest = url.strip_prefix(&self.url).expect("a URL of this fake");
        let (call, query) = rest.split_once('?').unwrap_or((rest, ""));
        self.fake.answer(call, query)
    }
}

impl Drop for FakeBbb {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}
