//! Times as people read them: in the event's time zone (UTC when it has none), with the zone
//! named, so a reminder says "10:00 CET" and not an RFC 3339 string.

use convene_core::Timestamp;

/// `2026-12-10 10:00 CET`; a zone name jiff does not know (never stored: names are checked on
/// the way in) reads as UTC.
pub fn local(t: Timestamp, zone: Option<&str>) -> String {
    let tz = zone
        .and_then(|z| jiff::tz::TimeZone::get(z).ok())
        .unwrap_or(jiff::tz::TimeZone::UTC);
    let nanos = t.unix_timestamp_nanos();
    match jiff::Timestamp::from_nanosecond(nanos) {
        Ok(ts) => ts.to_zoned(tz).strftime("%Y-%m-%d %H:%M %Z").to_string(),
        Err(_) => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn times_are_shown_in_the_zone_with_its_name() {
        let t = datetime!(2026-12-10 09:00 UTC);
        assert_eq!(local(t, Some("Europe/Berlin")), "2026-12-10 10:00 CET");
        assert_eq!(local(t, Some("America/New_York")), "2026-12-10 04:00 EST");
        assert_eq!(local(t, None), "2026-12-10 09:00 UTC");
        let summer = datetime!(2026-07-01 09:00 UTC);
        assert_eq!(
            local(summer, Some("Europe/Berlin")),
            "2026-07-01 11:00 CEST"
        );
    }
}
