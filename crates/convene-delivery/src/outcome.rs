//! What one attempt came to, and the class of a failure (logged with every attempt, and what the
//! retry policy decides on).

use convene_core::Timestamp;
use time::{Duration, OffsetDateTime};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The peer answered with this status (redirects are answers: they are not followed).
    Answered {
        status: u16,
        retry_after: Option<Duration>,
    },
    /// No complete answer within the timeout.
    TimedOut,
    /// DNS, connection or TLS failure.
    Unreachable(String),
    /// The target policy refused every address of the host; nothing was sent.
    Refused(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    Redirect,
    ClientError,
    ServerError,
    /// 429 and the gateway statuses that mean "later, slower": 502, 503, 504.
    Throttled,
    /// 410: the receiver says the endpoint is gone for good.
    Gone,
    Timeout,
    Connection,
    Refused,
}

impl ErrorClass {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorClass::Redirect => "redirect",
            ErrorClass::ClientError => "client_error",
            ErrorClass::ServerError => "server_error",
            ErrorClass::Throttled => "throttled",
            ErrorClass::Gone => "gone",
            ErrorClass::Timeout => "timeout",
            ErrorClass::Connection => "connection",
            ErrorClass::Refused => "refused",
        }
    }

    /// Failures that call for slowing down, not just trying again.
    pub fn is_penalised(self) -> bool {
        matches!(self, ErrorClass::Throttled | ErrorClass::Timeout)
    }
}

impl Outcome {
    /// `None` for a success: a 2xx and nothing else.
    pub fn error_class(&self) -> Option<ErrorClass> {
        match self {
            Outcome::Answered { status, .. } => match status {
                200..=299 => None,
                410 => Some(ErrorClass::Gone),
                429 | 502..=504 => Some(ErrorClass::Throttled),
                300..=399 => Some(ErrorClass::Redirect),
                400..=499 => Some(ErrorClass::ClientError),
                _ => Some(ErrorClass::ServerError),
            },
            Outcome::TimedOut => Some(ErrorClass::Timeout),
            Outcome::Unreachable(_) => Some(ErrorClass::Connection),
            Outcome::Refused(_) => Some(ErrorClass::Refused),
        }
    }

    pub fn is_success(&self) -> bool {
        self.error_class().is_none()
    }

    /// The status of an answer, if there was one.
    pub fn status(&self) -> Option<u16> {
        match self {
            Outcome::Answered { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// What went wrong, for the attempt log; `None` for a success.
    pub fn failure_text(&self) -> Option<String> {
        match self {
            Outcome::Answered { status, .. } => {
                (!self.is_success()).then(|| format!("the peer answered {status}"))
            }
            Outcome::TimedOut => Some("no answer within the timeout".into()),
            Outcome::Unreachable(e) => Some(e.clone()),
            Outcome::Refused(e) => Some(format!("refused: {e}")),
        }
    }
}

/// `Retry-After` as delay-seconds or an HTTP date, as a delay from `now` (never negative).
pub fn parse_retry_after(value: &str, now: Timestamp) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::seconds(i64::try_from(secs).unwrap_or(i64::MAX)));
    }
    let at = OffsetDateTime::from(httpdate::parse_http_date(value).ok()?);
    Some((at - now).max(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn answered(status: u16) -> Outcome {
        Outcome::Answered {
            status,
            retry_after: None,
        }
    }

    #[test]
    fn only_2xx_is_success() {
        for status in [200, 201, 202, 204, 299] {
            assert!(answered(status).is_success(), "{status}");
        }
        let classes = [
            (301, ErrorClass::Redirect),
            (308, ErrorClass::Redirect),
            (400, ErrorClass::ClientError),
            (404, ErrorClass::ClientError),
            (410, ErrorClass::Gone),
            (429, ErrorClass::Throttled),
            (500, ErrorClass::ServerError),
            (502, ErrorClass::Throttled),
            (503, ErrorClass::Throttled),
            (504, ErrorClass::Throttled),
            (100, ErrorClass::ServerError),
        ];
        for (status, class) in classes {
            assert_eq!(answered(status).error_class(), Some(class), "{status}");
        }
        assert_eq!(Outcome::TimedOut.error_class(), Some(ErrorClass::Timeout));
        assert_eq!(
            Outcome::Refused("10.0.0.1".into()).error_class(),
            Some(ErrorClass::Refused)
        );
    }

    #[test]
    fn retry_after_in_seconds_or_as_a_date() {
        let now = datetime!(2026-11-23 10:00:00 UTC);
        assert_eq!(parse_retry_after("120", now), Some(Duration::seconds(120)));
        assert_eq!(parse_retry_after(" 0 ", now), Some(Duration::ZERO));
        assert_eq!(
            parse_retry_after("Mon, 23 Nov 2026 10:05:00 GMT", now),
            Some(Duration::minutes(5))
        );
        assert_eq!(
            parse_retry_after("Mon, 23 Nov 2026 09:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("-5", now), None);
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("", now), None);
    }

    proptest::proptest! {
        #[test]
        fn parse_retry_after_never_panics(value in ".*") {
            let _ = parse_retry_after(&value, datetime!(2026-11-23 10:00:00 UTC));
        }
    }
}
