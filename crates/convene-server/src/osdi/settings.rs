//! A sync profile's settings: Appendix A's defaults, each overridable when the profile is
//! created or changed.

use convene_osdi::retry::RetryConfig;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ConflictPolicy {
    /// Field by field; a field both sides changed goes to the later record (remote on a tie).
    FieldMergeNewestWins,
    /// Field by field; a field both sides changed goes to Action Network.
    FieldMergeRemoteWins,
    /// Field by field; a field both sides changed goes to Convene.
    FieldMergeLocalWins,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RemoteDeleteMode {
    /// Unsubscribe email and phone on Action Network; keep the rest.
    Unsubscribe,
    /// Unsubscribe, and blank names and address with U+2400 (destroys organiser data there):
    /// osdi-client's pseudo-delete.
    #[serde(alias = "pseudo_delete")]
    Blank,
    /// Touch nothing remotely; only stop syncing the pair.
    Ignore,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FirstLinkPolicy {
    /// A value on one side only fills the other; different values go to the batch's origin.
    UnionThenOriginWins,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct RetrySettings {
    pub max_attempts: u32,
    pub backoff_initial_ms: u64,
    pub backoff_factor: u32,
    pub backoff_max_ms: u64,
    pub retry_after_default_s: u64,
}

impl Default for RetrySettings {
    fn default() -> Self {
        let d = RetryConfig::default();
        Self {
            max_attempts: d.max_attempts,
            backoff_initial_ms: d.backoff_initial_ms,
            backoff_factor: d.backoff_factor,
            backoff_max_ms: d.backoff_max_ms,
            retry_after_default_s: d.retry_after_default_s,
        }
    }
}

impl From<RetrySettings> for RetryConfig {
    fn from(r: RetrySettings) -> Self {
        Self {
            max_attempts: r.max_attempts,
            backoff_initial_ms: r.backoff_initial_ms,
            backoff_factor: r.backoff_factor,
            backoff_max_ms: r.backoff_max_ms,
            retry_after_default_s: r.retry_after_default_s,
        }
    }
}

/// A run the scheduler queues every `every_minutes`. Also read from a number of minutes, a
/// duration (`"15m"`, `"2h"`, `"1d"`, `"PT15M"`), a word (`"hourly"`, `"daily"`, `"weekly"`,
/// `"@hourly"`), or a cron line of the two shapes that mean an interval (`"*/15 * * * *"`,
/// `"0 * * * *"`, `"0 0 * * *"`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Schedule {
    pub every_minutes: u32,
    #[serde(default = "people")]
    pub job: Job,
    #[serde(default = "both")]
    pub origin: Origin,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ScheduleObject {
    every_minutes: u32,
    #[serde(default = "people")]
    job: Job,
    #[serde(default = "both")]
    origin: Origin,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum ScheduleInput {
    Object(ScheduleObject),
    Minutes(u32),
    Text(String),
}

/// Minutes of an interval written as text; `None` when it is no interval we know.
fn minutes_of(text: &str) -> Option<u32> {
    let t = text.trim().to_ascii_lowercase();
    let word = match t.trim_start_matches('@') {
        "hourly" => Some(60),
        "daily" | "midnight" => Some(1440),
        "weekly" => Some(10080),
        _ => None,
    };
    if word.is_some() {
        return word;
    }
    let fields: Vec<&str> = t.split_whitespace().collect();
    if fields.len() == 5 {
        return match fields.as_slice() {
            [m, "*", "*", "*", "*"] if m.starts_with("*/") => m[2..].parse().ok(),
            [m, "*", "*", "*", "*"] if m.parse::<u32>().is_ok() => Some(60),
            [m, h, "*", "*", "*"] if m.parse::<u32>().is_ok() && h.parse::<u32>().is_ok() => {
                Some(1440)
            }
            _ => None,
        };
    }
    let iso = t.strip_prefix("pt").map(str::to_owned);
    let d = iso.as_deref().unwrap_or(&t);
    let (number, unit) = d.split_at(d.find(|c: char| !c.is_ascii_digit())?);
    let n: u32 = number.parse().ok()?;
    match unit {
        "s" => Some(n.div_ceil(60)),
        "m" | "min" => Some(n),
        "h" => n.checked_mul(60),
        "d" if iso.is_none() => n.checked_mul(1440),
        _ => None,
    }
}

impl<'de> Deserialize<'de> for Schedule {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let (every_minutes, job, origin) = match ScheduleInput::deserialize(d)? {
            ScheduleInput::Object(o) => (o.every_minutes, o.job, o.origin),
            ScheduleInput::Minutes(m) => (m, Job::People, Origin::Both),
            ScheduleInput::Text(t) => match minutes_of(&t) {
                Some(m) => (m, Job::People, Origin::Both),
                None => {
                    return Err(serde::de::Error::custom(format!(
                        "schedule {t:?} is not an interval (try {{\"every_minutes\": 15}}, \"15m\" or \"*/15 * * * *\")"
                    )));
                }
            },
        };
        Ok(Self {
            every_minutes,
            job,
            origin,
        })
    }
}

fn people() -> Job {
    Job::People
}

fn both() -> Origin {
    Origin::Both
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Job {
    People,
    Tags,
    Attendances,
    Donations,
    /// One person, after a local change (a realtime profile); never asked for by hand.
    Person,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    Remote,
    Local,
    Both,
}

impl Job {
    pub fn as_str(self) -> &'static str {
        match self {
            Job::People => "people",
            Job::Tags => "tags",
            Job::Attendances => "attendances",
            Job::Donations => "donations",
            Job::Person => "person",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        serde_json::from_value(serde_json::Value::from(s)).ok()
    }

    /// The jobs a person or a schedule may ask for, as errors name them.
    pub const REQUESTABLE: &'static str = "people, tags, attendances or donations";

    /// A job a person or a schedule may ask for: any but `person`, which only a local change
    /// queues.
    pub fn parse_requested(s: &str) -> Option<Self> {
        Self::parse(s).filter(|j| j.requestable())
    }

    pub fn requestable(self) -> bool {
        self != Job::Person
    }
}

impl Origin {
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::Remote => "remote",
            Origin::Local => "local",
            Origin::Both => "both",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        serde_json::from_value(serde_json::Value::from(s)).ok()
    }

    pub fn pulls(self) -> bool {
        self != Origin::Local
    }

    pub fn pushes(self) -> bool {
        self != Origin::Remote
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct ProfileSettings {
    /// Records asked for per page (Action Network serves at most 25).
    pub page_size: u32,
    /// Request starts in any 1,000 ms window, for this profile's API token.
    pub max_requests_per_second: u32,
    /// The remote cursor is set this far before the run's start: Action Network's filter index
    /// lags its writes.
    pub remote_cursor_overlap_seconds: u32,
    pub retry: RetrySettings,
    pub conflict_policy: ConflictPolicy,
    pub first_link_policy: FirstLinkPolicy,
    pub remote_delete_mode: RemoteDeleteMode,
    /// A remote person with no local match becomes a local person.
    pub create_local_from_remote: bool,
    /// Remote two-letter codes to local locales (`en` → `en_US`).
    pub language_map_remote_to_local: BTreeMap<String, String>,
    pub sync_tags: bool,
    /// Only local people with this tag are synced (pushed, or written from Action Network);
    /// no remote person is created locally. Losing the tag is not a deletion.
    pub limit_to_tag: Option<String>,
    /// The Action Network fundraising page (its URL) local donations are created under; none
    /// pushes no donations.
    pub fundraising_page: Option<String>,
    /// A local person created, changed, tagged, merged or deleted through the API is synced on
    /// their own within seconds; schedules are then the safety net.
    pub realtime: bool,
    /// One schedule (the first contract's spelling); joins `schedules`.
    pub schedule: Option<Schedule>,
    /// Several, e.g. people every 15 minutes and donations hourly; one per job and origin.
    pub schedules: Vec<Schedule>,
}

impl Default for ProfileSettings {
    fn default() -> Self {
        Self {
            page_size: 25,
            max_requests_per_second: 4,
            remote_cursor_overlap_seconds: 60,
            retry: RetrySettings::default(),
            conflict_policy: ConflictPolicy::FieldMergeNewestWins,
            first_link_policy: FirstLinkPolicy::UnionThenOriginWins,
            remote_delete_mode: RemoteDeleteMode::Unsubscribe,
            create_local_from_remote: true,
            language_map_remote_to_local: [("en", "en_US"), ("es", "es_MX"), ("fr", "fr_FR")]
                .into_iter()
                .map(|(a, b)| (a.to_owned(), b.to_owned()))
                .collect(),
            sync_tags: true,
            limit_to_tag: None,
            fundraising_page: None,
            realtime: false,
            schedule: None,
            schedules: Vec::new(),
        }
    }
}

impl ProfileSettings {
    /// What a stored profile holds; settings written by an older version fall back to defaults.
    pub fn from_stored(v: &serde_json::Value) -> Self {
        serde_json::from_value(v.clone()).unwrap_or_default()
    }

    /// Names the first setting out of range.
    pub fn check(&self) -> Result<(), (&'static str, &'static str)> {
        if !(1..=100).contains(&self.page_size) {
            return Err(("page_size", "must be 1 to 100"));
        }
        if !(1..=10_000).contains(&self.max_requests_per_second) {
            return Err(("max_requests_per_second", "must be 1 to 10000"));
        }
        if !(1..=20).contains(&self.retry.max_attempts) {
            return Err(("retry.max_attempts", "must be 1 to 20"));
        }
        if self
            .limit_to_tag
            .as_ref()
            .is_some_and(|t| t.trim().is_empty() || t.chars().count() > 100)
        {
            return Err(("limit_to_tag", "must be a tag name of 1 to 100 characters"));
        }
        if self.fundraising_page.as_ref().is_some_and(|u| {
            reqwest::Url::parse(u).map_or(true, |u| !matches!(u.scheme(), "http" | "https"))
        }) {
            return Err(("fundraising_page", "must be an http(s) URL"));
        }
        if self.schedule.as_ref().is_some_and(|s| s.every_minutes == 0) {
            return Err(("schedule.every_minutes", "must be at least 1"));
        }
        if self.schedules.iter().any(|s| s.every_minutes == 0) {
            return Err(("schedules", "every_minutes must be at least 1"));
        }
        let all = self.all_schedules();
        if !all.iter().all(|s| s.job.requestable()) {
            return Err((
                "schedules",
                "job must be people, tags, attendances or donations",
            ));
        }
        let kinds: std::collections::BTreeSet<_> = all.iter().map(|s| (s.job, s.origin)).collect();
        if kinds.len() != all.len() {
            return Err(("schedules", "one schedule per job and origin"));
        }
        if all.len() > 10 {
            return Err(("schedules", "at most 10"));
        }
        Ok(())
    }

    /// Every schedule the profile has, `schedule` first.
    pub fn all_schedules(&self) -> Vec<Schedule> {
        self.schedule
            .iter()
            .chain(&self.schedules)
            .cloned()
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules_are_read_from_the_usual_spellings() {
        for (raw, minutes) in [
            (serde_json::json!({"every_minutes": 30, "job": "tags"}), 30),
            (serde_json::json!(45), 45),
            (serde_json::json!("15m"), 15),
            (serde_json::json!("2h"), 120),
            (serde_json::json!("PT10M"), 10),
            (serde_json::json!("90s"), 2),
            (serde_json::json!("hourly"), 60),
            (serde_json::json!("@daily"), 1440),
            (serde_json::json!("*/5 * * * *"), 5),
            (serde_json::json!("0 * * * *"), 60),
            (serde_json::json!("30 2 * * *"), 1440),
        ] {
            let s: Schedule =
                serde_json::from_value(raw.clone()).unwrap_or_else(|e| panic!("{raw}: {e}"));
            assert_eq!(s.every_minutes, minutes, "{raw}");
        }
        for bad in [
            serde_json::json!("sometimes"),
            serde_json::json!("0 9 * * 1"),
            serde_json::json!({"every": 5}),
        ] {
            assert!(
                serde_json::from_value::<Schedule>(bad.clone()).is_err(),
                "{bad}"
            );
        }
        let d: RemoteDeleteMode =
            serde_json::from_value(serde_json::json!("pseudo_delete")).unwrap();
        assert_eq!(d, RemoteDeleteMode::Blank);
    }
}
