//! Which names are accounts on the wiki: MediaWiki's `action=query&list=users`, as the real
//! Dashboard asks Meta-Wiki before it creates a user.

use convene_core::username::Username;
use convene_delivery::http::Outbound;
use serde_json::Value;

/// MediaWiki answers at most 50 names per request.
const BATCH: usize = 50;

/// The names among `names` that the wiki at `api_url` knows; an error when it cannot say.
pub async fn existing(
    client: &Outbound,
    api_url: &str,
    names: &[Username],
) -> Result<Vec<Username>, String> {
    let mut found = Vec::new();
    for batch in names.chunks(BATCH) {
        let mut url = url::Url::parse(api_url).map_err(|e| e.to_string())?;
        let joined = batch
            .iter()
            .map(Username::as_str)
            .collect::<Vec<_>>()
            .join("|");
        url.query_pairs_mut()
            .append_pair("action", "query")
            .append_pair("list", "users")
            .append_pair("ususers", &joined)
            .append_pair("format", "json");
        let response = client
            .request(reqwest::Method::GET, url.as_str())
            .map_err(|refusal| refusal.to_string())?
            .header("accept", "application/json")
            .send()
            .await
            .map_err(|e| format!("the wiki did not answer: {e}"))?;
        if !response.status().is_success() {
            return Err(format!("the wiki answered {}", response.status().as_u16()));
        }
        let body: Value = response
            .json()
            .await
            .map_err(|_| "the wiki's answer is not JSON".to_owned())?;
        let users = body["query"]["users"]
            .as_array()
            .ok_or_else(|| "the wiki's answer has no query.users list".to_owned())?;
        for user in users {
            // `missing`/`invalid` are present (as "" in format 1, true in format 2) when so.
            let absent = ["missing", "invalid"]
                .iter()
                .any(|k| user.get(*k).is_some_and(|v| v != &Value::Bool(false)));
            if absent {
                continue;
            }
            if let Some(name) = user["name"].as_str().and_then(|n| Username::parse(n).ok())
                && batch.contains(&name)
            {
                found.push(name);
            }
        }
    }
    Ok(found)
}
