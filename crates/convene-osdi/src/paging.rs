//! Walking an OSDI collection: records come from `_embedded`, the next page from
//! `_links.next.href` taken verbatim; the walk stops at the first empty page or the last one,
//! and a page that does not move forward is an error rather than a loop.

use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PagingError {
    /// `next` names the page just read.
    NextIsSelf(String),
    /// The page number did not increase.
    PageWentBack { previous: u64, now: u64 },
}

/// The records of one page (the first array under `_embedded`).
pub fn records(page: &Value) -> Vec<Value> {
    page["_embedded"]
        .as_object()
        .and_then(|e| e.values().find_map(Value::as_array))
        .cloned()
        .unwrap_or_default()
}

/// Where to go after `page`: `Ok(None)` when the walk is complete.
pub fn next_page(
    page: &Value,
    previous_number: Option<u64>,
) -> Result<Option<String>, PagingError> {
    if records(page).is_empty() {
        return Ok(None);
    }
    let Some(next) = page["_links"]["next"]["href"].as_str() else {
        return Ok(None);
    };
    if page["_links"]["self"]["href"].as_str() == Some(next) {
        return Err(PagingError::NextIsSelf(next.to_owned()));
    }
    if let (Some(previous), Some(now)) = (previous_number, page["page"].as_u64())
        && now <= previous
    {
        return Err(PagingError::PageWentBack { previous, now });
    }
    Ok(Some(next.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn page(n: u64, records: usize, next: Option<&str>) -> Value {
        let people: Vec<Value> = (0..records)
            .map(|i| json!({"given_name": format!("P{i}")}))
            .collect();
        let mut links = json!({"self": {"href": format!("https://x/api/v2/people?page={n}")}});
        if let Some(next) = next {
            links["next"] = json!({"href": next});
        }
        json!({"page": n, "_links": links, "_embedded": {"osdi:people": people}})
    }

    #[test]
    fn next_is_followed_verbatim_until_an_empty_or_last_page() {
        let odd = "https://x/api/v2/people?page=2&filter=modified_date%20gt%20'2026-11-22'";
        assert_eq!(
            next_page(&page(1, 25, Some(odd)), None),
            Ok(Some(odd.to_owned()))
        );
        assert_eq!(
            next_page(&page(2, 0, Some("https://x/p3")), Some(1)),
            Ok(None),
            "the first empty page ends it"
        );
        assert_eq!(next_page(&page(3, 4, None), Some(2)), Ok(None));
        assert_eq!(records(&page(1, 3, None)).len(), 3);
    }

    #[test]
    fn a_page_that_does_not_advance_is_an_error() {
        let same = page(2, 1, Some("https://x/api/v2/people?page=2"));
        assert!(matches!(
            next_page(&same, Some(1)),
            Err(PagingError::NextIsSelf(_))
        ));
        let back = page(2, 1, Some("https://x/p3"));
        assert_eq!(
            next_page(&back, Some(2)),
            Err(PagingError::PageWentBack {
                previous: 2,
                now: 2
            })
        );
    }
}
