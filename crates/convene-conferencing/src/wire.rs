//! Meetecho's formats: times as UTC `YYYY-MM-DD HH:MM:SS` (seconds kept, fractions dropped,
//! never rounded), durations as whole minutes (floored).

use convene_core::Timestamp;
use time::format_description::FormatItem;
use time::macros::format_description;
use time::{Duration, PrimitiveDateTime, UtcOffset};

const FORMAT: &[FormatItem<'static>] =
    format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");

/// An instant as Meetecho writes it, in UTC whatever its offset.
pub fn format_time(t: Timestamp) -> String {
    t.to_offset(UtcOffset::UTC)
        .replace_nanosecond(0)
        .unwrap_or(t)
        .format(FORMAT)
        .unwrap_or_default()
}

/// Meetecho's time, read as UTC; any other form (a `T`, a zone, a fraction) is refused.
pub fn parse_time(s: &str) -> Option<Timestamp> {
    PrimitiveDateTime::parse(s, FORMAT)
        .ok()
        .map(PrimitiveDateTime::assume_utc)
}

/// Whole minutes, floored: 89 min 59 s is 89; negative durations are 0.
pub fn minutes(d: Duration) -> i64 {
    d.whole_minutes().max(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::macros::datetime;

    #[test]
    fn times_are_utc_to_the_second() {
        let t = datetime!(2026-11-23 11:30:59.999 +02:00);
        assert_eq!(format_time(t), "2026-11-23 09:30:59");
        assert_eq!(
            parse_time("2026-11-23 09:30:59"),
            Some(datetime!(2026-11-23 09:30:59 UTC))
        );
        for bad in [
            "2026-11-23T09:30:59",
            "2026-11-23 09:30:59Z",
            "2026-11-23 09:30:59.5",
            "2026-11-23 09:30",
            "",
        ] {
            assert_eq!(parse_time(bad), None, "{bad}");
        }
    }

    #[test]
    fn durations_floor_to_minutes() {
        assert_eq!(minutes(Duration::seconds(89 * 60 + 59)), 89);
        assert_eq!(minutes(Duration::seconds(59)), 0);
        assert_eq!(minutes(Duration::hours(2)), 120);
        assert_eq!(minutes(Duration::seconds(-5)), 0);
    }

    proptest! {
        #[test]
        fn a_formatted_time_parses_back_to_its_second(secs in 0i64..4_102_444_800, offset in -12i8..14) {
            let t = time::OffsetDateTime::from_unix_timestamp(secs).unwrap()
                .to_offset(UtcOffset::from_hms(offset, 0, 0).unwrap());
            prop_assert_eq!(parse_time(&format_time(t)), Some(t));
        }
    }
}
