//! When a slide change is pushed to the provider: inside a window around the session's time,
//! judged when the push runs (datatracker's rule: `start − N < now < end + N`, exclusive).

use convene_core::Timestamp;
use time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotifyWindow {
    /// Never push (`slides_notify_minutes` unset).
    Never,
    /// Push whenever the session is scheduled (a negative setting).
    Always,
    /// Push within this many minutes before the start and after the end.
    Around(Duration),
}

impl NotifyWindow {
    /// `None` → never; negative → always; else that many minutes around the session.
    pub fn from_minutes(minutes: Option<i64>) -> Self {
        match minutes {
            None => NotifyWindow::Never,
            Some(m) if m < 0 => NotifyWindow::Always,
            Some(m) => NotifyWindow::Around(Duration::minutes(m)),
        }
    }

    /// Whether a change to a session scheduled `start..end` (if at all) goes out at `now`. An
    /// unscheduled session never pushes.
    pub fn is_open(self, now: Timestamp, scheduled: Option<(Timestamp, Timestamp)>) -> bool {
        let Some((start, end)) = scheduled else {
            return false;
        };
        match self {
            NotifyWindow::Never => false,
            NotifyWindow::Always => true,
            NotifyWindow::Around(n) => start - n < now && now < end + n,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const START: Timestamp = datetime!(2026-11-23 10:00 UTC);
    const END: Timestamp = datetime!(2026-11-23 11:00 UTC);

    #[test]
    fn the_bounds_are_exclusive() {
        let w = NotifyWindow::from_minutes(Some(15));
        let at = |t: Timestamp| w.is_open(t, Some((START, END)));
        let edge_before = START - Duration::minutes(15);
        let edge_after = END + Duration::minutes(15);
        let tick = Duration::microseconds(1);
        assert!(!at(edge_before));
        assert!(at(edge_before + tick));
        assert!(at(START) && at(END));
        assert!(at(edge_after - tick));
        assert!(!at(edge_after));
    }

    #[test]
    fn zero_leaves_the_session_instants_outside() {
        let w = NotifyWindow::from_minutes(Some(0));
        assert!(!w.is_open(START, Some((START, END))));
        assert!(!w.is_open(END, Some((START, END))));
        assert!(w.is_open(START + Duration::seconds(1), Some((START, END))));
    }

    #[test]
    fn negative_is_always_null_is_never_unscheduled_is_never() {
        let far = START + Duration::days(400);
        assert!(NotifyWindow::from_minutes(Some(-1)).is_open(far, Some((START, END))));
        assert!(!NotifyWindow::from_minutes(None).is_open(START, Some((START, END))));
        assert!(!NotifyWindow::from_minutes(Some(-1)).is_open(START, None));
        assert!(!NotifyWindow::from_minutes(Some(15)).is_open(START, None));
    }
}
