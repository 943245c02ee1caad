//! The people phases: pull (walk Action Network's people changed since the remote cursor),
//! push (walk local people changed since the local cursor), and deletions (unsubscribe and
//! tombstone the twins of deleted local people).

use super::reconcile::{canonical_of, fields_from_remote, reconcile};
use super::remote::{email_filter, modified, remote_id};
use super::scope::OUT_OF_SCOPE;
use super::{Ctx, Refused, Step, tags};
use crate::osdi::settings::RemoteDeleteMode;
use convene_core::PersonId;
use convene_core::person::Person;
use convene_osdi::mapping::{malformed, phone_type, remote_to_canonical};
use convene_osdi::merge::Side;
use convene_osdi::paging::records;
use convene_store::Pair;
use reqwest::Method;
use serde_json::{Value, json};

/// Walks remote people from `position` (the page to read next) or from the cursor.
pub async fn pull(ctx: &mut Ctx<'_>, position: Option<Value>) -> Step<()> {
    let people = ctx.urls.people.clone();
    let start = ctx.walk_start(&people, "remote_people", position).await?;
    let (mut next, mut number) = (Some(start), None);
    while let Some(url) = next {
        let (page, after) = ctx.page(&url, &mut number).await?;
        next = after;
        for record in page {
            pull_record(ctx, &record).await?;
        }
        ctx.checkpoint(json!(next)).await?;
    }
    Ok(())
}

/// Pulls one remote person: skips tombstoned and flagged ones, reconciles a linked pair, or
/// finds a first match (or creates the person locally).
pub async fn pull_record(ctx: &mut Ctx<'_>, record: &Value) -> Step<()> {
    let Some(rid) = remote_id(record) else {
        ctx.error("no_remote_id", None, None, None, &record.to_string());
        ctx.note("failed", None, None);
        return Ok(());
    };
    if let Some(why) = malformed(record) {
        let excerpt = format!("{why}: {record}");
        ctx.error("malformed", None, Some(&rid), None, &excerpt);
        ctx.note("failed", None, Some(&rid));
        return Ok(());
    }
    let profile = ctx.profile.id.clone();
    if ctx.store().is_tombstoned(&profile, &rid).await? {
        ctx.note("skipped_deleted", None, Some(&rid));
        return Ok(());
    }
    if ctx.store().is_flagged(&profile, None, Some(&rid)).await? {
        ctx.note("skipped_flagged", None, Some(&rid));
        return Ok(());
    }
    if let Some(pair) = ctx.store().pair_by_remote(&profile, &rid).await? {
        let pid = pair.person_id.to_string();
        if pair.status == "deleted" {
            ctx.note("skipped_deleted", Some(&pid), Some(&rid));
            return Ok(());
        }
        if ctx.store().is_flagged(&profile, Some(&pid), None).await? {
            ctx.note("skipped_flagged", Some(&pid), Some(&rid));
            return Ok(());
        }
        return match ctx.store().person(&pair.person_id).await? {
            Some(person) if !ctx.in_scope(&person) => {
                ctx.note(OUT_OF_SCOPE, Some(&pid), Some(&rid));
                Ok(())
            }
            Some(person) => reconcile(ctx, Some(&pair), person, record, &rid, Side::Remote).await,
            None => {
                // Deleted locally; the deletions phase unsubscribes the twin.
                ctx.note("skipped_deleted", Some(&pid), Some(&rid));
                Ok(())
            }
        };
    }
    let remote = remote_to_canonical(record);
    match first_match(
        ctx,
        remote.email.as_deref(),
        remote.given_name.as_deref(),
        remote.family_name.as_deref(),
    )
    .await?
    {
        Match::One(person) => link(ctx, *person, record, &rid, Side::Remote).await,
        Match::Ambiguous(n) => {
            let detail = format!("{n} local people match this Action Network person");
            flag(ctx, "ambiguous_match", None, Some(&rid), &detail).await
        }
        Match::Taken => {
            let detail =
                "the local people with this email are linked to other Action Network people";
            flag(ctx, "email_linked_elsewhere", None, Some(&rid), detail).await
        }
        Match::None if ctx.creates_locally() => {
            let fields = fields_from_remote(&remote, &ctx.settings.language_map_remote_to_local);
            let person = ctx.store().create_person(&fields, ctx.now()).await?;
            let pid = person.id.to_string();
            save_first_pair(ctx, &person, &rid, modified(record)).await?;
            ctx.note("created_local", Some(&pid), Some(&rid));
            Ok(())
        }
        Match::None if ctx.settings.limit_to_tag.is_some() => {
            ctx.note(OUT_OF_SCOPE, None, Some(&rid));
            Ok(())
        }
        Match::None => {
            ctx.note("skipped_unmatched", None, Some(&rid));
            Ok(())
        }
    }
}

/// The pair of the remote person at `href` (id `rid`). One not linked yet is fetched through
/// the link and pulled like any other first; `Err` holds the link's refusal.
pub async fn pair_through_link(
    ctx: &mut Ctx<'_>,
    href: &str,
    rid: &str,
) -> Step<Result<Option<Pair>, Refused>> {
    let profile = ctx.profile.id.clone();
    if let Some(pair) = ctx.store().pair_by_remote(&profile, rid).await? {
        return Ok(Ok(Some(pair)));
    }
    match ctx.call(Method::GET, href, None, true).await? {
        Ok(person) => pull_record(ctx, &person).await?,
        Err(refused) => return Ok(Err(refused)),
    }
    Ok(Ok(ctx.store().pair_by_remote(&profile, rid).await?))
}

enum Match {
    One(Box<Person>),
    /// Everyone with the email is linked to another Action Network person already.
    Taken,
    Ambiguous(usize),
    None,
}

fn same(a: Option<&str>, b: Option<&str>) -> bool {
    a.map(str::to_lowercase) == b.map(str::to_lowercase)
}

/// A first match among the people the profile syncs: the one person with this email, else the
/// one with this email and these names; anything else is ambiguous.
async fn first_match(
    ctx: &Ctx<'_>,
    email: Option<&str>,
    given: Option<&str>,
    family: Option<&str>,
) -> Step<Match> {
    let Some(email) = email else {
        return Ok(Match::None);
    };
    let mut found = ctx.store().people_with_email(email).await?;
    found.retain(|p| ctx.in_scope(p));
    let any = !found.is_empty();
    let mut unpaired = Vec::new();
    for p in found.drain(..) {
        if ctx
            .store()
            .pair_by_person(&ctx.profile.id, &p.id)
            .await?
            .is_none()
        {
            unpaired.push(p);
        }
    }
    Ok(match unpaired.len() {
        0 if any => Match::Taken,
        0 => Match::None,
        1 => Match::One(Box::new(unpaired.remove(0))),
        n => {
            let mut named: Vec<Person> = unpaired
                .into_iter()
                .filter(|p| {
                    same(p.fields.given_name.as_deref(), given)
                        && same(p.fields.family_name.as_deref(), family)
                })
                .collect();
            if named.len() == 1 {
                Match::One(Box::new(named.remove(0)))
            } else {
                Match::Ambiguous(n)
            }
        }
    })
}

async fn flag(
    ctx: &mut Ctx<'_>,
    kind: &str,
    person: Option<&str>,
    remote: Option<&str>,
    detail: &str,
) -> Step<()> {
    ctx.store()
        .raise_flag(&ctx.profile.id, kind, person, remote, detail, ctx.now())
        .await?;
    ctx.note("flagged", person, remote);
    Ok(())
}

async fn link(
    ctx: &mut Ctx<'_>,
    person: Person,
    record: &Value,
    rid: &str,
    origin: Side,
) -> Step<()> {
    if ctx
        .store()
        .is_flagged(&ctx.profile.id, Some(person.id.as_str()), None)
        .await?
    {
        ctx.note("skipped_flagged", Some(person.id.as_str()), Some(rid));
        return Ok(());
    }
    reconcile(ctx, None, person, record, rid, origin).await
}

async fn save_first_pair(
    ctx: &Ctx<'_>,
    person: &Person,
    rid: &str,
    remote_modified: Option<convene_core::Timestamp>,
) -> Step<()> {
    let snapshot = canonical_of(person);
    ctx.store()
        .save_pair(&Pair {
            profile_id: ctx.profile.id.clone(),
            remote_id: rid.to_owned(),
            person_id: person.id.clone(),
            remote_modified: remote_modified.unwrap_or_else(|| ctx.now()),
            local_modified: person.updated_at,
            snapshot: json!(snapshot),
            hash: snapshot.hash(),
            last_origin: match ctx.origin.pulls() && !ctx.origin.pushes() {
                true => "remote".into(),
                false => ctx.origin.as_str().into(),
            },
            status: "ok".into(),
        })
        .await?;
    Ok(())
}

const LOCAL_BATCH: u32 = 100;

/// Walks local people changed since the local cursor, from `position` (`[micros, id]`).
pub async fn push(ctx: &mut Ctx<'_>, position: Option<Value>) -> Step<()> {
    let since = ctx
        .cursor("local_people")
        .await?
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let (mut after_at, mut after_id) = match position {
        Some(Value::Array(p)) if p.len() == 2 => (
            convene_core::clock::from_micros(p[0].as_i64().unwrap_or_default()),
            p[1].as_str().unwrap_or_default().to_owned(),
        ),
        _ => (since, String::new()),
    };
    loop {
        let batch = ctx
            .store()
            .people_changed_after((after_at, &after_id), LOCAL_BATCH)
            .await?;
        let Some(last) = batch.last() else {
            return Ok(());
        };
        (after_at, after_id) = (last.updated_at, last.id.to_string());
        for person in batch {
            push_one(ctx, person).await?;
        }
        let position = json!([convene_core::clock::micros(after_at), after_id]);
        ctx.checkpoint(position).await?;
    }
}

/// A one-person sync: the person named by `position` is pushed (fields, then tags), or, when
/// deleted meanwhile, their twin is unsubscribed and tombstoned.
pub async fn sync_one(ctx: &mut Ctx<'_>, position: Option<Value>) -> Step<()> {
    let named = position.as_ref().and_then(|p| p["person"].as_str());
    let Some(id) = named.and_then(PersonId::parse) else {
        ctx.error(
            "no_person",
            None,
            None,
            None,
            "a one-person run names no person",
        );
        return Ok(());
    };
    if let Some(person) = ctx.store().person(&id).await? {
        return push_one(ctx, person).await;
    }
    match ctx.store().pair_by_person(&ctx.profile.id, &id).await? {
        Some(pair) if pair.status == "ok" => delete_twin(ctx, &id, pair).await,
        _ => Ok(()),
    }
}

/// Pushes one person's fields, then (when tags sync) the tags of its twin.
async fn push_one(ctx: &mut Ctx<'_>, person: Person) -> Step<()> {
    if !ctx.in_scope(&person) {
        ctx.note(OUT_OF_SCOPE, Some(person.id.as_str()), None);
        return Ok(());
    }
    let tagged = ctx.settings.sync_tags.then(|| person.clone());
    push_fields(ctx, person).await?;
    match tagged {
        Some(person) => push_tags(ctx, &person).await,
        None => Ok(()),
    }
}

/// A linked, unflagged person's tag changes travel in the people run that visits them.
async fn push_tags(ctx: &mut Ctx<'_>, person: &Person) -> Step<()> {
    let profile = ctx.profile.id.clone();
    let Some(pair) = ctx.store().pair_by_person(&profile, &person.id).await? else {
        return Ok(());
    };
    if pair.status != "ok"
        || ctx
            .store()
            .is_flagged(&profile, Some(person.id.as_str()), None)
            .await?
        || ctx
            .store()
            .is_flagged(&profile, None, Some(&pair.remote_id))
            .await?
    {
        return Ok(());
    }
    tags::follow_local(ctx, person, &pair.remote_id, true).await
}

async fn push_fields(ctx: &mut Ctx<'_>, person: Person) -> Step<()> {
    let profile = ctx.profile.id.clone();
    let pid = person.id.to_string();
    if ctx.store().is_flagged(&profile, Some(&pid), None).await? {
        ctx.note("skipped_flagged", Some(&pid), None);
        return Ok(());
    }
    if let Some(pair) = ctx.store().pair_by_person(&profile, &person.id).await? {
        let unchanged =
            serde_json::from_value(pair.snapshot.clone()).ok() == Some(canonical_of(&person));
        if unchanged || pair.status == "deleted" {
            // Nothing moved locally (often our own write from the pull): no request at all.
            ctx.note("unchanged", Some(&pid), Some(&pair.remote_id));
            return Ok(());
        }
        if ctx
            .store()
            .is_flagged(&profile, None, Some(&pair.remote_id))
            .await?
        {
            ctx.note("skipped_flagged", Some(&pid), Some(&pair.remote_id));
            return Ok(());
        }
        // Fetch the twin first, so a remote change not pulled yet is merged, not overwritten.
        let twin = match ctx
            .call(Method::GET, &ctx.urls.person(&pair.remote_id), None, true)
            .await?
        {
            Ok(twin) => twin,
            Err(refused) => {
                ctx.failed(Some(&pid), Some(&pair.remote_id), &refused);
                return Ok(());
            }
        };
        let rid = pair.remote_id.clone();
        return reconcile(ctx, Some(&pair), person, &twin, &rid, Side::Local).await;
    }
    let local = canonical_of(&person);
    let Some(email) = local.email.clone() else {
        ctx.note("skipped_no_email", Some(&pid), None);
        return Ok(());
    };
    let found = match ctx
        .call(
            Method::GET,
            &email_filter(&ctx.urls.people, &email),
            None,
            true,
        )
        .await?
    {
        Ok(page) => records(&page),
        Err(refused) => {
            ctx.failed(Some(&pid), None, &refused);
            return Ok(());
        }
    };
    // Action Network holds one person per email: whoever has it already decides.
    let mut candidates = Vec::new();
    for record in found {
        let Some(rid) = remote_id(&record) else {
            continue;
        };
        if ctx.store().is_flagged(&profile, None, Some(&rid)).await? {
            ctx.note("skipped_flagged", Some(&pid), Some(&rid));
            return Ok(());
        }
        if ctx.store().pair_by_remote(&profile, &rid).await?.is_some() {
            // Linked to another local person: creating would upsert into that one.
            let detail = format!(
                "{email} belongs to Action Network person {rid}, linked to another person here"
            );
            return flag(
                ctx,
                "email_linked_elsewhere",
                Some(&pid),
                Some(&rid),
                &detail,
            )
            .await;
        }
        candidates.push((rid, record));
    }
    if candidates.len() > 1 {
        candidates.retain(|(_, r)| {
            let c = remote_to_canonical(r);
            same(c.given_name.as_deref(), local.given_name.as_deref())
                && same(c.family_name.as_deref(), local.family_name.as_deref())
        });
        if candidates.len() != 1 {
            return flag(
                ctx,
                "ambiguous_match_remote",
                Some(&pid),
                None,
                "several Action Network people match this person",
            )
            .await;
        }
    }
    if let Some((rid, record)) = candidates.pop() {
        if ctx.store().is_tombstoned(&profile, &rid).await? {
            ctx.note("skipped_deleted", Some(&pid), Some(&rid));
            return Ok(());
        }
        return link(ctx, person, &record, &rid, Side::Local).await;
    }
    create_remote(ctx, &person).await
}

/// The person signup helper (an upsert by email), with the person's tags when tags sync.
async fn create_remote(ctx: &mut Ctx<'_>, person: &Person) -> Step<()> {
    let pid = person.id.to_string();
    let local = canonical_of(person);
    let members =
        convene_osdi::mapping::remote_members(&local, &convene_osdi::canonical::Field::ALL);
    let mut body = json!({"person": members});
    if ctx.settings.sync_tags && !person.fields.tags.is_empty() {
        body["add_tags"] = json!(person.fields.tags);
    }
    let created = match ctx
        .call(Method::POST, &ctx.urls.people, Some(&body), true)
        .await?
    {
        Ok(created) => created,
        Err(refused) => {
            ctx.failed(Some(&pid), None, &refused);
            return Ok(());
        }
    };
    let Some(rid) = remote_id(&created) else {
        ctx.error("no_remote_id", Some(&pid), None, None, &created.to_string());
        ctx.note("failed", Some(&pid), None);
        return Ok(());
    };
    if ctx
        .store()
        .pair_by_remote(&ctx.profile.id, &rid)
        .await?
        .is_some()
    {
        // The signup helper upserted into someone already linked (their email changed meanwhile).
        let detail =
            format!("the signup helper answered with {rid}, linked to another person here");
        return flag(
            ctx,
            "email_linked_elsewhere",
            Some(&pid),
            Some(&rid),
            &detail,
        )
        .await;
    }
    save_first_pair(ctx, person, &rid, modified(&created)).await?;
    if ctx.settings.sync_tags {
        for tag in &person.fields.tags {
            ctx.store()
                .set_tagging(&ctx.profile.id, &pid, tag, None)
                .await?;
        }
    }
    ctx.note("created_remote", Some(&pid), Some(&rid));
    Ok(())
}

/// U+2400, Action Network's "clear this field".
const BLANK: &str = "\u{2400}";

/// Deleted local people: their twins are unsubscribed (and blanked when the profile opts in),
/// tombstoned, and their pairs marked deleted.
pub async fn deletions(ctx: &mut Ctx<'_>, position: Option<Value>) -> Step<()> {
    let since = match position.as_ref().and_then(Value::as_i64) {
        Some(us) => convene_core::clock::from_micros(us),
        None => ctx
            .cursor("deletions")
            .await?
            .unwrap_or(time::OffsetDateTime::UNIX_EPOCH),
    };
    let profile = ctx.profile.id.clone();
    for (id, _, at) in ctx.store().person_deletions(since).await? {
        let Some(pair) = ctx.store().pair_by_person(&profile, &id).await? else {
            continue;
        };
        // Deleted already, or merged into another person here (that twin is a person still).
        if pair.status != "ok" {
            continue;
        }
        delete_twin(ctx, &id, pair).await?;
        ctx.checkpoint(json!(convene_core::clock::micros(at)))
            .await?;
    }
    Ok(())
}

async fn delete_twin(ctx: &mut Ctx<'_>, id: &PersonId, pair: Pair) -> Step<()> {
    let (pid, rid) = (id.to_string(), pair.remote_id.clone());
    let mode = ctx.settings.remote_delete_mode;
    if mode != RemoteDeleteMode::Ignore {
        let twin = match ctx
            .call(Method::GET, &ctx.urls.person(&rid), None, true)
            .await?
        {
            Ok(twin) => twin,
            Err(refused) => {
                ctx.failed(Some(&pid), Some(&rid), &refused);
                return Ok(());
            }
        };
        let c = remote_to_canonical(&twin);
        let mut body = json!({});
        if let Some(email) = &c.email {
            body["email_addresses"] =
                json!([{"address": email, "primary": true, "status": "unsubscribed"}]);
        }
        if let Some(phone) = &c.phone {
            body["phone_numbers"] = json!([{"number": phone.trim_start_matches('+'), "primary": true,
                "number_type": phone_type(&twin), "status": "unsubscribed"}]);
        }
        if mode == RemoteDeleteMode::Blank {
            body["given_name"] = json!(BLANK);
            body["family_name"] = json!(BLANK);
            body["postal_addresses"] = json!([{"primary": true, "address_lines": [BLANK], "locality": BLANK,
                "region": BLANK, "postal_code": BLANK, "country": BLANK}]);
        }
        if let Err(refused) = ctx
            .call(Method::PUT, &ctx.urls.person(&rid), Some(&body), true)
            .await?
        {
            ctx.failed(Some(&pid), Some(&rid), &refused);
            return Ok(());
        }
    }
    ctx.store()
        .add_tombstone(&ctx.profile.id, &rid, ctx.now())
        .await?;
    ctx.store()
        .save_pair(&Pair {
            status: "deleted".into(),
            ..pair
        })
        .await?;
    ctx.note("deleted_remote", Some(&pid), Some(&rid));
    Ok(())
}
