//! Donations and their pairings (`DonationStore`). Times are Unix microseconds, as in the other
//! CRM tables.

use super::{Backend, emit};
use crate::binds::Binds;
use crate::violation::gone;
use async_trait::async_trait;
use convene_core::clock::{from_micros, micros};
use convene_core::donation::{Amount, Currency, Donation, NewDonation, Recurrence};
use convene_core::outbound::{EventType, OutboundEvent};
use convene_core::{DonationId, PersonId, Timestamp};
use convene_store::{DonationStore, StoreError, StoreResult};
use sqlx::Row;

/// A donation with the Action Network id of its first pairing.
const SELECT: &str = "SELECT d.id, d.person_id, d.amount, d.currency, d.received_at, d.recurrence,
     d.fundraising_page, d.referrer, d.created_at,
     (SELECT MIN(s.remote_id) FROM osdi_donations s WHERE s.donation_id = d.id) AS remote_id
     FROM donations d";

fn donation(r: &<super::Db as sqlx::Database>::Row) -> StoreResult<Donation> {
    let corrupt =
        |what: &str| StoreError::Other(format!("a stored donation has a bad {what}").into());
    let amount: String = r.try_get("amount")?;
    let currency: String = r.try_get("currency")?;
    Ok(Donation {
        id: DonationId::from_trusted(r.try_get("id")?),
        person_id: PersonId::from_trusted(r.try_get("person_id")?),
        fields: NewDonation {
            amount: Amount::parse(&amount).map_err(|_| corrupt("amount"))?,
            currency: Currency::parse(&currency).map_err(|_| corrupt("currency"))?,
            received_at: from_micros(r.try_get("received_at")?),
            recurrence: r
                .try_get::<Option<String>, _>("recurrence")?
                .and_then(|s| Recurrence::parse(&s)),
            fundraising_page: r.try_get("fundraising_page")?,
            referrer: r.try_get("referrer")?,
        },
        remote_id: r.try_get("remote_id")?,
        created_at: from_micros(r.try_get("created_at")?),
    })
}

async fn insert(
    conn: &mut super::dialect::Conn,
    person: &PersonId,
    d: &NewDonation,
    at: Timestamp,
) -> StoreResult<DonationId> {
    let id = DonationId::new();
    sqlx::query(
        "INSERT INTO donations (id, person_id, amount, currency, received_at, recurrence, fundraising_page, referrer, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .binds((id.as_str(), person.as_str(), d.amount.as_str(), d.currency.as_str()))
    .binds((micros(d.received_at), d.recurrence.map(Recurrence::as_str)))
    .binds((&d.fundraising_page, &d.referrer, micros(at)))
    .execute(conn)
    .await
    .map_err(gone)?;
    Ok(id)
}

async fn load(conn: &mut super::dialect::Conn, id: &DonationId) -> StoreResult<Donation> {
    let sql = format!("{SELECT} WHERE d.id = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id.as_str())
        .fetch_one(conn)
        .await?;
    donation(&row)
}

/// Pairs a donation with a remote one, `source` saying which side it came from; `false` when
/// either was paired already in the profile.
async fn pair_in(
    conn: &mut super::dialect::Conn,
    profile_id: &str,
    donation: &DonationId,
    remote_id: &str,
    source: &str,
    at: Timestamp,
) -> StoreResult<bool> {
    let done = sqlx::query(
        "INSERT INTO osdi_donations (profile_id, donation_id, remote_id, source, synced_at)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
    )
    .binds((profile_id, donation.as_str(), remote_id, source))
    .bind(micros(at))
    .execute(conn)
    .await
    .map_err(gone)?;
    Ok(done.rows_affected() == 1)
}

/// The donation as stored, with its message in the same transaction.
async fn announce(
    conn: &mut super::dialect::Conn,
    id: &DonationId,
    event_type: EventType,
    at: Timestamp,
) -> StoreResult<Donation> {
    let made = load(conn, id).await?;
    emit(conn, OutboundEvent::donation(event_type, &made), at).await?;
    Ok(made)
}

#[async_trait]
impl DonationStore for Backend {
    async fn create_donation(
        &self,
        person: &PersonId,
        new: &NewDonation,
        at: Timestamp,
    ) -> StoreResult<Donation> {
        let mut tx = self.writes().begin().await?;
        let id = insert(&mut tx, person, new, at).await?;
        let made = announce(&mut tx, &id, EventType::DonationCreated, at).await?;
        tx.commit().await?;
        Ok(made)
    }

    async fn donations_of(&self, person: &PersonId, limit: u32) -> StoreResult<Vec<Donation>> {
        let sql = format!(
            "{SELECT} WHERE d.person_id = $1 ORDER BY d.received_at DESC, d.id DESC LIMIT $2"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .binds((person.as_str(), i64::from(limit)))
            .fetch_all(self.reads())
            .await?;
        rows.iter().map(donation).collect()
    }

    async fn pull_donation(
        &self,
        profile_id: &str,
        person: &PersonId,
        remote_id: &str,
        new: &NewDonation,
        at: Timestamp,
    ) -> StoreResult<Option<Donation>> {
        let mut tx = self.writes().begin().await?;
        let id = insert(&mut tx, person, new, at).await?;
        let paired = pair_in(&mut tx, profile_id, &id, remote_id, "remote", at).await?;
        if !paired {
            // Paired before: the insert above is rolled back with the transaction.
            return Ok(None);
        }
        let made = announce(&mut tx, &id, EventType::DonationCreated, at).await?;
        tx.commit().await?;
        Ok(Some(made))
    }

    async fn remote_donation_paired(&self, profile_id: &str, remote_id: &str) -> StoreResult<bool> {
        let row: Option<(String,)> = sqlx::query_as(
            "SELECT donation_id FROM osdi_donations WHERE profile_id = $1 AND remote_id = $2",
        )
        .binds((profile_id, remote_id))
        .fetch_optional(self.writes())
        .await?;
        Ok(row.is_some())
    }

    async fn unpaired_donations(
        &self,
        profile_id: &str,
        after: &str,
        limit: u32,
    ) -> StoreResult<Vec<Donation>> {
        let sql = format!(
            "{SELECT} JOIN osdi_pairs p ON p.person_id = d.person_id AND p.profile_id = $1 AND p.status = 'ok'
             WHERE d.id > $2 AND NOT EXISTS
             (SELECT 1 FROM osdi_donations s WHERE s.profile_id = $1 AND s.donation_id = d.id)
             ORDER BY d.id LIMIT $3"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .binds((profile_id, after, i64::from(limit)))
            .fetch_all(self.writes())
            .await?;
        rows.iter().map(donation).collect()
    }

    async fn pair_donation(
        &self,
        profile_id: &str,
        donation_id: &DonationId,
        remote_id: &str,
        at: Timestamp,
    ) -> StoreResult<bool> {
        let mut tx = self.writes().begin().await?;
        let paired = pair_in(&mut tx, profile_id, donation_id, remote_id, "local", at).await?;
        if !paired {
            return Ok(false);
        }
        announce(&mut tx, donation_id, EventType::DonationSynced, at).await?;
        tx.commit().await?;
        Ok(true)
    }
}
