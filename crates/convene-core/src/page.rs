//! Keyset pagination: `?limit=` and an opaque `?cursor=` naming the last row seen.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

pub const DEFAULT_LIMIT: u32 = 50;
pub const MAX_LIMIT: u32 = 500;

/// A page request: at most `limit` rows whose sort key is strictly after `after`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    pub limit: u32,
    pub after: Option<String>,
}

impl Default for PageRequest {
    fn default() -> Self {
        Self {
            limit: DEFAULT_LIMIT,
            after: None,
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PageError {
    #[error("limit must be between 1 and {MAX_LIMIT}")]
    Limit,
    #[error("is not a cursor this server issued")]
    Cursor,
    /// NUL or another control character: refused as every text is (400, not 422).
    #[error("must not contain NUL or other control characters")]
    Control,
}

impl PageRequest {
    pub fn parse_limit(limit: Option<&str>) -> Result<u32, PageError> {
        // `?limit=` (empty) is no limit given, as `?cursor=` is no cursor.
        match limit.filter(|l| !l.is_empty()) {
            None => Ok(DEFAULT_LIMIT),
            Some(raw) => match raw.parse::<u32>() {
                Ok(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
                _ => Err(PageError::Limit),
            },
        }
    }

    pub fn parse_cursor(cursor: Option<&str>) -> Result<Option<String>, PageError> {
        let Some(raw) = cursor.filter(|c| !c.is_empty()) else {
            return Ok(None);
        };
        let bytes = URL_SAFE_NO_PAD.decode(raw).map_err(|_| PageError::Cursor)?;
        let key = String::from_utf8(bytes).map_err(|_| PageError::Cursor)?;
        // Our keys are ids and times: a control character (NUL above all) was never issued.
        if key.chars().any(char::is_control) {
            return Err(PageError::Control);
        }
        Ok(Some(key))
    }
}

/// One page of rows; `next_after` is the sort key of the last row when more may follow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_after: Option<String>,
}

impl<T> Page<T> {
    /// Builds a page from up to `limit + 1` rows fetched in order: the extra row only says that
    /// another page exists.
    pub fn from_overfetch(mut rows: Vec<T>, limit: u32, key: impl Fn(&T) -> String) -> Self {
        let more = rows.len() > limit as usize;
        rows.truncate(limit as usize);
        let next_after = if more { rows.last().map(key) } else { None };
        Self {
            items: rows,
            next_after,
        }
    }

    /// A page of a list held whole and sorted by `key` (lists small by nature: one event's
    /// organizers, one session's decks, the CRM profiles).
    pub fn of_sorted(items: Vec<T>, page: &PageRequest, key: impl Fn(&T) -> String) -> Self {
        let rows: Vec<T> = items
            .into_iter()
            .filter(|t| page.after.as_ref().is_none_or(|after| key(t) > *after))
            .take(page.limit as usize + 1)
            .collect();
        Self::from_overfetch(rows, page.limit, key)
    }

    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            next_after: self.next_after,
        }
    }

    pub fn next_cursor(&self) -> Option<String> {
        self.next_after.as_ref().map(|k| URL_SAFE_NO_PAD.encode(k))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_are_bounded() {
        assert_eq!(PageRequest::parse_limit(None), Ok(50));
        assert_eq!(PageRequest::parse_limit(Some("500")), Ok(500));
        assert_eq!(PageRequest::parse_limit(Some("0")), Err(PageError::Limit));
        assert_eq!(PageRequest::parse_limit(Some("501")), Err(PageError::Limit));
        assert_eq!(PageRequest::parse_limit(Some("-1")), Err(PageError::Limit));
    }

    proptest::proptest! {
        #[test]
        fn parsers_never_panic(raw in ".*") {
            let _ = PageRequest::parse_limit(Some(&raw));
            let _ = PageRequest::parse_cursor(Some(&raw));
        }
    }

    #[test]
    fn cursors_round_trip() {
        let page = Page::from_overfetch(vec!["a", "b", "c"], 2, |s| s.to_string());
        assert_eq!(page.items, vec!["a", "b"]);
        let cursor = page.next_cursor().unwrap();
        assert_eq!(
            PageRequest::parse_cursor(Some(&cursor)),
            Ok(Some("b".into()))
        );
        assert_eq!(
            PageRequest::parse_cursor(Some("!!")),
            Err(PageError::Cursor)
        );
        let last = Page::from_overfetch(vec!["a"], 2, |s| s.to_string());
        assert_eq!(last.next_cursor(), None);
    }
}
