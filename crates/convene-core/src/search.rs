//! A list's search: what was typed, matched ignoring case anywhere in a field. Storage matches
//! it with SQL `LIKE … ESCAPE '\'`; rows already in memory with [`contains`]. Both read it the
//! same way, so a typed `%` or `_` is itself, never a wildcard.

/// The lower-cased `LIKE … ESCAPE '\'` pattern for text containing `search`.
pub fn like_pattern(search: &str) -> String {
    let escaped = search
        .trim()
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{}%", escaped.to_lowercase())
}

/// A search among usernames: names keep `_` as a space (MediaWiki's rule), so the search does.
pub fn as_name(search: &str) -> String {
    search.replace('_', " ")
}

/// Whether `text` contains `search`, ignoring case, as [`like_pattern`] matches it.
pub fn contains(text: &str, search: &str) -> bool {
    text.to_lowercase().contains(&search.trim().to_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_are_themselves() {
        assert_eq!(like_pattern(" 50%_off\\ "), "%50\\%\\_off\\\\%");
        assert_eq!(like_pattern("Berlin"), "%berlin%");
        assert!(contains("Sync to Berlin CRM", " berlin "));
        assert!(!contains("Sync to Bern", "berlin"));
        assert!(contains("a_b", "_"));
        assert!(!contains("ab", "_"));
        assert!(contains("Jane Doe", &as_name("jane_d")));
    }
}
