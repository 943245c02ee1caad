//! What merging two people moves, inside the caller's transaction: fields, tags, attendances,
//! donations, flags and CRM pairs. Each statement takes `$1` the kept person, `$2` the other.

use super::dialect::{Conn, db_time};
use super::osdi::flag_in;
use crate::binds::Binds;
use convene_core::{PersonId, Timestamp};
use convene_store::StoreResult;

/// Run in this order: taggings move only for profiles whose pair moves, so before the pairs.
const MOVES: [&str; 8] = [
    "UPDATE people SET
         given_name = COALESCE(people.given_name, o.given_name), family_name = COALESCE(people.family_name, o.family_name),
         email = COALESCE(people.email, o.email), phone = COALESCE(people.phone, o.phone),
         language = COALESCE(people.language, o.language), address = COALESCE(people.address, o.address),
         user_id = COALESCE(people.user_id, o.user_id), do_not_email = (people.do_not_email OR o.do_not_email),
         is_opt_out = (people.is_opt_out OR o.is_opt_out), do_not_sms = (people.do_not_sms OR o.do_not_sms)
     FROM people o WHERE people.id = $1 AND o.id = $2",
    "INSERT INTO person_tags (person_id, tag) SELECT $1, tag FROM person_tags WHERE person_id = $2
     ON CONFLICT DO NOTHING",
    "UPDATE attendances SET person_id = $1 WHERE person_id = $2
     AND event_id NOT IN (SELECT event_id FROM attendances WHERE person_id = $1)",
    "UPDATE donations SET person_id = $1 WHERE person_id = $2",
    "UPDATE osdi_flags SET person_id = $1 WHERE person_id = $2",
    "INSERT INTO osdi_taggings (profile_id, person_id, tag, href)
     SELECT t.profile_id, $1, t.tag, t.href FROM osdi_taggings t WHERE t.person_id = $2
     AND NOT EXISTS (SELECT 1 FROM osdi_pairs k WHERE k.person_id = $1 AND k.profile_id = t.profile_id)
     ON CONFLICT DO NOTHING",
    "DELETE FROM osdi_taggings WHERE person_id = $2",
    "UPDATE osdi_pairs SET person_id = $1 WHERE person_id = $2
     AND NOT EXISTS (SELECT 1 FROM osdi_pairs k WHERE k.person_id = $1 AND k.profile_id = osdi_pairs.profile_id)",
];

pub(super) async fn move_everything(
    conn: &mut Conn,
    keep: &PersonId,
    gone: &PersonId,
    at: Timestamp,
) -> StoreResult<()> {
    // Both linked in a profile, to different Action Network people: Action Network has no merge
    // API, so an operator merges them there; until then both stay parked.
    let both: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT g.profile_id, k.remote_id, g.remote_id FROM osdi_pairs g
         JOIN osdi_pairs k ON k.profile_id = g.profile_id AND k.person_id = $1
         WHERE g.person_id = $2 AND g.status = 'ok' AND k.status = 'ok'",
    )
    .binds((keep.as_str(), gone.as_str()))
    .fetch_all(&mut *conn)
    .await?;
    for sql in MOVES {
        sqlx::query(sql)
            .binds((keep.as_str(), gone.as_str()))
            .execute(&mut *conn)
            .await?;
    }
    sqlx::query("UPDATE osdi_pairs SET status = 'merged' WHERE person_id = $1")
        .bind(gone.as_str())
        .execute(&mut *conn)
        .await?;
    sqlx::query("UPDATE people SET updated_at = $2 WHERE id = $1")
        .binds((keep.as_str(), db_time(at)))
        .execute(&mut *conn)
        .await?;
    for (profile, kept_remote, other_remote) in both {
        let detail = format!(
            "merged here: Action Network people {kept_remote} and {other_remote} are one person; merge them on Action Network, then resolve this flag"
        );
        for remote in [&kept_remote, &other_remote] {
            let ids = (Some(keep.as_str()), Some(remote.as_str()));
            flag_in(conn, &profile, "merge_incomplete", ids, &detail, at).await?;
        }
    }
    Ok(())
}
