//! The Action Network side: collection URLs from the entry point's `_links` (falling back to
//! `<entry point>/people` and so on), remote ids and times, and filter URLs.

use convene_core::Timestamp;
use convene_osdi::client::{Abort, CallError, OsdiClient};
use reqwest::Method;
use serde_json::Value;
use time::format_description::well_known::Rfc3339;

#[derive(Debug, Clone)]
pub struct Urls {
    pub people: String,
    pub tags: String,
    pub events: String,
    /// Every donation, when the entry point offers that collection.
    pub donations: Option<String>,
    pub fundraising_pages: String,
}

fn link(aep: &Value, rel: &str) -> Option<String> {
    aep["_links"][rel]["href"].as_str().map(str::to_owned)
}

impl Urls {
    pub async fn discover(client: &OsdiClient, entry_point: &str) -> Result<Self, Abort> {
        let aep = match client.call(Method::GET, entry_point, None, true).await {
            Ok(aep) => aep,
            Err(CallError::Aborted(abort)) => {
                return Err(Abort {
                    why: format!("entry point: {}", abort.why),
                    ..abort
                });
            }
            Err(CallError::Failed { status, excerpt }) => {
                return Err(Abort {
                    status: Some(status),
                    why: format!("the entry point answered {status}: {excerpt}"),
                });
            }
        };
        let base = entry_point.trim_end_matches('/');
        let or =
            |rel: &str, tail: &str| link(&aep, rel).unwrap_or_else(|| format!("{base}/{tail}"));
        Ok(Self {
            people: or("osdi:people", "people"),
            tags: or("osdi:tags", "tags"),
            events: or("osdi:events", "events"),
            donations: link(&aep, "osdi:donations"),
            fundraising_pages: or("osdi:fundraising_pages", "fundraising_pages"),
        })
    }

    pub fn person(&self, remote_id: &str) -> String {
        format!("{}/{remote_id}", self.people.trim_end_matches('/'))
    }

    pub fn event(&self, remote_event_id: &str) -> String {
        format!("{}/{remote_event_id}", self.events.trim_end_matches('/'))
    }
}

impl super::Ctx<'_> {
    /// Where a walk of a collection starts: the saved page of a resumed run, else the first
    /// page of what changed since `cursor` (everything, the first time).
    pub async fn walk_start(
        &self,
        collection: &str,
        cursor: &str,
        position: Option<Value>,
    ) -> super::Step<String> {
        if let Some(url) = position.as_ref().and_then(Value::as_str) {
            return Ok(url.to_owned());
        }
        let url = with_query(collection, "per_page", &self.settings.page_size.to_string());
        Ok(match self.cursor(cursor).await? {
            Some(since) => modified_filter(&url, since),
            None => url,
        })
    }
}

/// Adds `name=value` to a URL's query, encoded.
pub fn with_query(url: &str, name: &str, value: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    let encoded: String = url::form_urlencoded::byte_serialize(value.as_bytes()).collect();
    format!("{url}{sep}{name}={encoded}")
}

/// `people?filter=email_address eq '…'` (OData quotes doubled).
pub fn email_filter(people: &str, email: &str) -> String {
    with_query(
        people,
        "filter",
        &format!("email_address eq '{}'", email.replace('\'', "''")),
    )
}

pub fn modified_filter(url: &str, since: Timestamp) -> String {
    let at = since
        .replace_nanosecond(0)
        .unwrap_or(since)
        .format(&Rfc3339)
        .unwrap_or_default();
    with_query(url, "filter", &format!("modified_date gt '{at}'"))
}

/// The Action Network id of a record: its `action_network:` identifier, else the last part of
/// its `self` link.
pub fn remote_id(record: &Value) -> Option<String> {
    let ids = record["identifiers"].as_array();
    let from_ids = ids.and_then(|ids| {
        ids.iter()
            .filter_map(Value::as_str)
            .find_map(|i| i.strip_prefix("action_network:"))
            .map(str::to_owned)
    });
    from_ids
        .or_else(|| href_id(record["_links"]["self"]["href"].as_str()?))
        .filter(|id| !id.is_empty())
}

/// The last path segment of a link: the id of the record it names.
pub fn href_id(href: &str) -> Option<String> {
    let path = href.split(['?', '#']).next()?;
    path.trim_end_matches('/')
        .rsplit('/')
        .next()
        .map(str::to_owned)
}

pub fn modified(record: &Value) -> Option<Timestamp> {
    record["modified_date"]
        .as_str()
        .and_then(|d| Timestamp::parse(d, &Rfc3339).ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ids_come_from_identifiers_then_self_links() {
        let r = json!({"identifiers": ["foreign:1", "action_network:abc"]});
        assert_eq!(remote_id(&r).as_deref(), Some("abc"));
        let r = json!({"_links": {"self": {"href": "https://x/api/v2/people/def?x=1"}}});
        assert_eq!(remote_id(&r).as_deref(), Some("def"));
        assert_eq!(remote_id(&json!({})), None);
    }

    #[test]
    fn filters_are_encoded_and_quoted() {
        let url = email_filter("https://x/api/v2/people", "o'neil@x.org");
        assert_eq!(
            url,
            "https://x/api/v2/people?filter=email_address+eq+%27o%27%27neil%40x.org%27"
        );
        let at = Timestamp::parse("2026-11-22T12:00:00.5Z", &Rfc3339).unwrap();
        assert!(
            modified_filter("https://x/p?page=2", at)
                .ends_with("&filter=modified_date+gt+%272026-11-22T12%3A00%3A00Z%27")
        );
    }
}
