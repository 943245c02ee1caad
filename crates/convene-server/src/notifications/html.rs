//! Notification HTML as it may be shown. A message comes from integrations holding an admin
//! token, so it is passed through an allow-list sanitiser (ammonia: formatting and links stay;
//! scripts, event-handler attributes, styles and `javascript:` URLs go) when it is stored and
//! again wherever it is rendered as HTML: the admin UI and mail.

pub fn sanitize(html: &str) -> String {
    ammonia::clean(html)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_and_handlers_go_formatting_stays() {
        assert_eq!(sanitize("<img src=x onerror=alert(1)>"), "<img src=\"x\">");
        assert_eq!(sanitize("<script>alert(1)</script><p>Hi</p>"), "<p>Hi</p>");
        assert_eq!(
            sanitize("<a href=\"javascript:alert(1)\">x</a>"),
            "<a rel=\"noopener noreferrer\">x</a>"
        );
        assert_eq!(
            sanitize("<p><strong>Talk</strong> moved</p>"),
            "<p><strong>Talk</strong> moved</p>"
        );
    }
}
