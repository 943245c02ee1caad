//! Daily and weekly digests. A mail whose kind its reader wants gathered waits as a digest item,
//! due at the cadence's next local hour in the reader's time zone; the pass, on every worker
//! node, turns a reader's due items into one mail, taking them away in the transaction that
//! writes it (one node wins; a restart loses nothing).

use super::mail::settings::EmailSettings;
use super::mail::{Mailer, Recipient};
use crate::config::DigestsConfig;
use convene_core::notification::{Cadence, Kind};
use convene_core::{Clock, Timestamp, UserId};
use convene_store::{DigestItem, Store, StoreResult};
use jiff::civil::Weekday;
use std::sync::Arc;
use std::time::Duration;

/// Readers' digests made per pass.
const BATCH: u32 = 200;
/// The longest the pass sleeps.
pub const POLL: Duration = Duration::from_secs(60);

pub fn weekday(name: &str) -> Option<Weekday> {
    Some(match name.to_ascii_lowercase().as_str() {
        "monday" => Weekday::Monday,
        "tuesday" => Weekday::Tuesday,
        "wednesday" => Weekday::Wednesday,
        "thursday" => Weekday::Thursday,
        "friday" => Weekday::Friday,
        "saturday" => Weekday::Saturday,
        "sunday" => Weekday::Sunday,
        _ => return None,
    })
}

/// When a digest of `cadence` next goes out after `now`: `hour`:00 local time in `zone` (UTC
/// when absent or unknown), the next day with that hour (or the next `day` for weekly).
pub fn next_due(
    now: Timestamp,
    cadence: Cadence,
    zone: Option<&str>,
    hour: u8,
    day: Weekday,
) -> Timestamp {
    let tz = zone
        .and_then(|z| jiff::tz::TimeZone::get(z).ok())
        .unwrap_or(jiff::tz::TimeZone::UTC);
    let Ok(local_now) = jiff::Timestamp::from_nanosecond(now.unix_timestamp_nanos())
        .map(|t| t.to_zoned(tz.clone()))
    else {
        return now;
    };
    let mut date = local_now.date();
    for _ in 0..16 {
        let wanted_day = cadence != Cadence::Weekly || date.weekday() == day;
        let at = date
            .at(i8::try_from(hour).unwrap_or(8), 0, 0, 0)
            .to_zoned(tz.clone())
            .ok();
        if let Some(at) = at.filter(|at| wanted_day && at.timestamp() > local_now.timestamp()) {
            let nanos = at.timestamp().as_nanosecond();
            return Timestamp::from_unix_timestamp_nanos(nanos).unwrap_or(now);
        }
        date = date.tomorrow().unwrap_or(date);
    }
    now
}

pub struct DigestPass {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub mailer: Arc<Mailer>,
    /// Woken when digests were written: the mail job runner.
    pub after: Arc<tokio::sync::Notify>,
}

impl DigestPass {
    /// Sends every digest due now; how many were written.
    pub async fn run_once(&self) -> StoreResult<usize> {
        let now = self.clock.now();
        let due = self.store.due_digests(now, BATCH).await?;
        if due.is_empty() {
            return Ok(0);
        }
        let settings = self.mailer.settings(&*self.store).await?;
        let mut sent = 0;
        for (user, cadence) in due {
            let items = self.store.digest_items(&user, cadence, now).await?;
            if items.is_empty() {
                continue;
            }
            let mail = self.mail(&user, cadence, &items, &settings).await?;
            if self.store.record_digest(&items, mail.as_ref(), now).await? && mail.is_some() {
                sent += 1;
            }
        }
        if sent > 0 {
            self.after.notify_one();
        }
        Ok(sent)
    }

    /// The one mail that carries `items`; `None` when the reader has no address any more.
    async fn mail(
        &self,
        user: &UserId,
        cadence: Cadence,
        items: &[DigestItem],
        settings: &EmailSettings,
    ) -> StoreResult<Option<convene_core::mail::NewMail>> {
        let Some(user) = self.store.user_by_id(user).await? else {
            return Ok(None);
        };
        let Some(to) = Recipient::user(&user) else {
            return Ok(None);
        };
        let templates = &self.mailer.templates;
        let locale = templates.locale(user.locale.as_ref().map(|l| l.as_str()));
        let ctx = minijinja::context! {
            app_name => "Convene",
            cadence => cadence.as_str(),
            count => items.len(),
            items => items.iter().map(|i| minijinja::context! {
                title => i.title, message => i.message, text => i.text,
            }).collect::<Vec<_>>(),
        };
        let rendered = match templates.render(Kind::Digest, locale, &ctx) {
            Ok(rendered) => rendered,
            Err(e) => {
                tracing::error!(error = %e, "digest did not render; its items wait");
                return Err(convene_store::StoreError::Other(e.into()));
            }
        };
        let suppressed = self.store.is_suppressed(to.address).await?;
        // Keyed by the first item: a digest made twice (a crash before its commit) counts once.
        let key = format!("digest:{}:{}", user.id, items[0].id);
        Ok(self
            .mailer
            .compose(to, Kind::Digest, &rendered, key, settings, suppressed))
    }
}

#[async_trait::async_trait]
impl crate::timed_pass::TimedPass for DigestPass {
    fn name(&self) -> &'static str {
        "digests"
    }

    fn clock(&self) -> &dyn Clock {
        &*self.clock
    }

    async fn run_once(&self) -> StoreResult<usize> {
        DigestPass::run_once(self).await
    }

    async fn next_due(&self) -> StoreResult<Option<Timestamp>> {
        self.store.next_digest().await
    }
}

/// The digest hour and day as configured.
pub struct DigestTimes {
    pub hour: u8,
    pub day: Weekday,
}

impl DigestTimes {
    pub fn new(config: &DigestsConfig) -> Self {
        Self {
            hour: config.hour,
            day: weekday(&config.weekday).unwrap_or(Weekday::Monday),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn digests_go_out_at_the_next_local_hour() {
        use Cadence::{Daily, Weekly};
        let berlin = Some("Europe/Berlin");
        // 2026-12-07 is a Monday; 08:00 in Berlin is 07:00 UTC in winter, 06:00 in summer.
        #[rustfmt::skip]
        let cases = [
            (datetime!(2026-12-07 06:59 UTC), Daily, berlin, 8, datetime!(2026-12-07 07:00 UTC)),
            (datetime!(2026-12-07 07:00 UTC), Daily, berlin, 8, datetime!(2026-12-08 07:00 UTC)),
            (datetime!(2026-07-01 12:00 UTC), Daily, berlin, 8, datetime!(2026-07-02 06:00 UTC)),
            (datetime!(2026-12-07 08:00 UTC), Weekly, berlin, 8, datetime!(2026-12-14 07:00 UTC)),
            (datetime!(2026-12-10 08:00 UTC), Weekly, berlin, 8, datetime!(2026-12-14 07:00 UTC)),
            (datetime!(2026-12-07 10:00 UTC), Daily, None, 8, datetime!(2026-12-08 08:00 UTC)),
            // 02:00 does not exist in Berlin on 2027-03-28: the hour after the gap.
            (datetime!(2027-03-27 12:00 UTC), Daily, berlin, 2, datetime!(2027-03-28 01:00 UTC)),
        ];
        for (now, cadence, zone, hour, due) in cases {
            let got = next_due(now, cadence, zone, hour, Weekday::Monday);
            assert_eq!(got, due, "{now} {cadence:?} {zone:?} {hour}");
        }
    }
}
