//! One pair, both sides in hand: compare with the snapshot, merge field by field, write what
//! changed to each side (only the changed members remotely, after an email-collision check),
//! and keep the new snapshot. Nothing is written when neither side moved, so our own writes
//! coming back from Action Network (the echo) change nothing.

use super::remote::{email_filter, modified, remote_id};
use super::{Ctx, Step};
use crate::osdi::settings::ConflictPolicy;
use convene_core::clock::micros;
use convene_core::person::{Address, Person, PersonFields, Phone};
use convene_core::text::{Email, Locale};
use convene_osdi::canonical::{Canonical, Field, Postal};
use convene_osdi::mapping::{LocalPerson, local_to_canonical, remote_members, remote_to_canonical};
use convene_osdi::merge::{Side, Times, merge};
use convene_store::Pair;
use reqwest::Method;
use serde_json::{Value, json};

pub fn local_view(p: &Person) -> LocalPerson {
    let f = &p.fields;
    LocalPerson {
        first_name: f.given_name.clone(),
        last_name: f.family_name.clone(),
        email: f.email.as_ref().map(|e| e.to_string()),
        phone: f.phone.as_ref().map(|x| x.as_str().to_owned()),
        preferred_language: f.language.as_ref().map(|l| l.to_string()),
        address: f.address.as_ref().map(|a| Postal {
            address_line: a.street.clone(),
            locality: a.city.clone(),
            region: a.region.clone(),
            postal_code: a.postal_code.clone(),
            country: a.country.clone(),
        }),
        do_not_email: f.do_not_email,
        is_opt_out: f.is_opt_out,
        do_not_sms: f.do_not_sms,
    }
}

pub fn canonical_of(p: &Person) -> Canonical {
    local_to_canonical(&local_view(p))
}

/// Writes `fields` of `c` into the local person by the writing rules; returns the fields that
/// could not be written (a remote value Convene cannot hold).
fn write_local(
    f: &mut PersonFields,
    c: &Canonical,
    fields: &[Field],
    language_map: &std::collections::BTreeMap<String, String>,
) -> Vec<Field> {
    let mut refused = Vec::new();
    for &field in fields {
        match field {
            Field::GivenName => f.given_name = c.given_name.clone(),
            Field::FamilyName => f.family_name = c.family_name.clone(),
            Field::Email => match c.email.as_deref().map(Email::parse) {
                None => f.email = None,
                Some(Ok(e)) => f.email = Some(e),
                Some(Err(_)) => refused.push(field),
            },
            Field::EmailStatus => match c.email_status.as_deref() {
                Some("subscribed") => {
                    f.do_not_email = false;
                    f.is_opt_out = false;
                }
                Some(_) => f.do_not_email = true,
                None => {}
            },
            Field::Phone => match c.phone.as_deref().map(Phone::parse) {
                None => f.phone = None,
                Some(Ok(p)) => f.phone = Some(p),
                Some(Err(_)) => refused.push(field),
            },
            Field::PhoneStatus => match c.phone_status.as_deref() {
                Some("subscribed") => f.do_not_sms = false,
                Some(_) => f.do_not_sms = true,
                None => {}
            },
            Field::Language => {
                let Some(code) = c.language.as_deref() else {
                    f.language = None;
                    continue;
                };
                let keeps = f
                    .language
                    .as_ref()
                    .is_some_and(|l| l.as_str().to_lowercase().starts_with(code));
                if !keeps {
                    let mapped = language_map
                        .get(code)
                        .map_or(code.to_owned(), |l| l.replace('_', "-"));
                    match Locale::parse(&mapped) {
                        Ok(l) => f.language = Some(l),
                        Err(_) => refused.push(field),
                    }
                }
            }
            Field::Postal => {
                f.address = c.postal.as_ref().map(|p| Address {
                    street: p.address_line.clone(),
                    city: p.locality.clone(),
                    region: p.region.clone(),
                    postal_code: p.postal_code.clone(),
                    country: p.country.clone(),
                });
            }
        }
    }
    refused
}

/// The person a remote record becomes when nothing local matches it.
pub fn fields_from_remote(
    c: &Canonical,
    language_map: &std::collections::BTreeMap<String, String>,
) -> PersonFields {
    let mut f = PersonFields::default();
    write_local(&mut f, c, &Field::ALL, language_map);
    f
}

fn names(fields: &[Field]) -> Value {
    json!(fields)
}

/// The outcome name of what was written where.
fn outcome(first_link: bool, to_local: bool, to_remote: bool) -> &'static str {
    match (first_link, to_local, to_remote) {
        (true, _, _) => "linked",
        (false, true, true) => "updated_both",
        (false, true, false) => "updated_local",
        (false, false, true) => "updated_remote",
        (false, false, false) => "unchanged",
    }
}

/// Opens a flag on the pair `(person, remote)` and logs which fields it held back.
async fn flag_pair(
    ctx: &mut Ctx<'_>,
    kind: &str,
    (pid, rid): (&str, &str),
    detail: &str,
    fields: Value,
    conflicts: Value,
) -> Step<()> {
    ctx.store()
        .raise_flag(
            &ctx.profile.id,
            kind,
            Some(pid),
            Some(rid),
            detail,
            ctx.now(),
        )
        .await?;
    ctx.log("flagged", Some(pid), Some(rid), fields, conflicts);
    Ok(())
}

/// Another local person who already has `email`, if one does.
async fn email_held_locally(ctx: &Ctx<'_>, email: &str, person: &Person) -> Step<Option<String>> {
    let holders = ctx.store().people_with_email(email).await?;
    Ok(holders
        .into_iter()
        .find(|p| p.id != person.id)
        .map(|p| p.id.to_string()))
}

/// Whether someone else on Action Network already has `email`.
async fn email_taken(ctx: &Ctx<'_>, email: &str, own_remote_id: &str) -> Step<Option<String>> {
    let url = email_filter(&ctx.urls.people, email);
    let page = match ctx.call(Method::GET, &url, None, true).await? {
        Ok(page) => page,
        Err(_) => return Ok(None),
    };
    Ok(convene_osdi::paging::records(&page)
        .iter()
        .filter_map(remote_id)
        .find(|id| id != own_remote_id))
}

/// Reconciles `person` with the remote `record` (fresh from the page or a GET), given the
/// pair's snapshot (`None` on a first link). `origin` is the side this batch walks.
pub async fn reconcile(
    ctx: &mut Ctx<'_>,
    snapshot: Option<&Pair>,
    person: Person,
    record: &Value,
    rid: &str,
    origin: Side,
) -> Step<()> {
    let pid = person.id.to_string();
    let local = canonical_of(&person);
    let remote = remote_to_canonical(record);
    let snap: Option<Canonical> =
        snapshot.and_then(|p| serde_json::from_value(p.snapshot.clone()).ok());
    let remote_time = modified(record).unwrap_or_else(|| ctx.now());
    if let (Some(pair), Some(s)) = (snapshot, &snap)
        && local == *s
        && remote == *s
    {
        ctx.store()
            .save_pair(&Pair {
                remote_modified: remote_time,
                local_modified: person.updated_at,
                ..pair.clone()
            })
            .await?;
        ctx.note("unchanged", Some(&pid), Some(rid));
        return Ok(());
    }
    let prefer = match ctx.settings.conflict_policy {
        ConflictPolicy::FieldMergeNewestWins => None,
        ConflictPolicy::FieldMergeRemoteWins => Some(Side::Remote),
        ConflictPolicy::FieldMergeLocalWins => Some(Side::Local),
    };
    let times = Times {
        local: micros(person.updated_at),
        remote: micros(remote_time),
        prefer,
    };
    let mut merged = merge(snap.as_ref(), &local, &remote, times, origin);
    let mut result = merged.result.clone();
    // Action Network cannot clear an email, phone, address or language: a value cleared here
    // stays cleared here, and the snapshot keeps Action Network's value so neither side looks
    // changed next time. (Names are cleared with its U+2400 sentinel.)
    merged.to_remote.retain(|&field| {
        let clearable = matches!(field, Field::GivenName | Field::FamilyName);
        let kept = clearable || !merged.result.get(field).is_empty();
        if !kept {
            result.set(field, remote.get(field));
        }
        kept
    });
    let conflicts = json!(merged.conflicts);
    let mut remote_after = remote_time;
    if !merged.to_remote.is_empty() {
        if merged.to_remote.contains(&Field::Email)
            && let Some(new) = merged.result.email.as_deref()
            && let Some(owner) = email_taken(ctx, new, rid).await?
        {
            let detail = format!("{new} already belongs to Action Network person {owner}");
            let fields = names(&merged.to_remote);
            let pair = (pid.as_str(), rid);
            flag_pair(
                ctx,
                "email_conflict_remote",
                pair,
                &detail,
                fields,
                conflicts,
            )
            .await?;
            return Ok(());
        }
        let body = remote_members(&merged.result, &merged.to_remote);
        match ctx
            .call(Method::PUT, &ctx.urls.person(rid), Some(&body), true)
            .await?
        {
            Ok(answer) => remote_after = modified(&answer).unwrap_or(remote_after),
            Err(refused) => {
                ctx.failed(Some(&pid), Some(rid), &refused);
                return Ok(());
            }
        }
    }
    if merged.to_local.contains(&Field::Email)
        && let Some(new) = merged.result.email.as_deref()
        && let Some(other) = email_held_locally(ctx, new, &person).await?
    {
        // Two local people would share the address: this one keeps its own, takes the other
        // fields, and waits under a flag naming both until someone decides.
        merged.to_local.retain(|f| *f != Field::Email);
        result.set(Field::Email, local.get(Field::Email));
        let detail =
            format!("{new} from Action Network is already the email of local person {other}");
        let fields = names(&[Field::Email]);
        let pair = (pid.as_str(), rid);
        flag_pair(
            ctx,
            "email_collision_local",
            pair,
            &detail,
            fields,
            conflicts.clone(),
        )
        .await?;
    }
    let mut local_after = person.updated_at;
    if !merged.to_local.is_empty() {
        let mut fields = person.fields.clone();
        let refused = write_local(
            &mut fields,
            &merged.result,
            &merged.to_local,
            &ctx.settings.language_map_remote_to_local,
        );
        for field in &refused {
            // Keep what the local side holds, so the next visit tries again rather than
            // taking the gap for a local change.
            result.set(*field, local.get(*field));
            ctx.error(
                "unrepresentable",
                Some(&pid),
                Some(rid),
                None,
                &format!("{field:?} from Action Network cannot be held locally"),
            );
        }
        if fields != person.fields {
            let written = ctx
                .store()
                .update_person(&person.id, &fields, ctx.now())
                .await?;
            local_after = written.updated_at;
        }
    }
    let wrote = !merged.to_local.is_empty() || !merged.to_remote.is_empty();
    let origin_name = match origin {
        Side::Local => "local",
        Side::Remote => "remote",
    };
    ctx.store()
        .save_pair(&Pair {
            profile_id: ctx.profile.id.clone(),
            remote_id: rid.to_owned(),
            person_id: person.id.clone(),
            remote_modified: remote_after,
            local_modified: local_after,
            snapshot: json!(result),
            hash: result.hash(),
            last_origin: match (wrote, snapshot) {
                (false, Some(p)) => p.last_origin.clone(),
                _ => origin_name.to_owned(),
            },
            status: "ok".into(),
        })
        .await?;
    ctx.log(
        outcome(
            snapshot.is_none(),
            !merged.to_local.is_empty(),
            !merged.to_remote.is_empty(),
        ),
        Some(&pid),
        Some(rid),
        json!({"to_local": merged.to_local, "to_remote": merged.to_remote}),
        conflicts,
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remote_values_are_written_by_the_local_rules() {
        let map = crate::osdi::settings::ProfileSettings::default().language_map_remote_to_local;
        let mut f = PersonFields {
            language: Locale::parse("en-GB").ok(),
            is_opt_out: true,
            do_not_email: true,
            ..Default::default()
        };
        let c = Canonical {
            email_status: Some("subscribed".into()),
            language: Some("en".into()),
            phone: Some("+1".into()),
            ..Default::default()
        };
        let refused = write_local(
            &mut f,
            &c,
            &[Field::EmailStatus, Field::Language, Field::Phone],
            &map,
        );
        assert!(!f.do_not_email && !f.is_opt_out, "subscribed clears both");
        assert_eq!(f.language.unwrap().as_str(), "en-GB", "a local en-GB stays");
        assert_eq!(refused, [Field::Phone], "+1 is no E.164 number");
        let fresh = fields_from_remote(
            &Canonical {
                language: Some("fr".into()),
                ..c
            },
            &map,
        );
        assert_eq!(fresh.language.unwrap().as_str(), "fr-FR");
        let mut g = PersonFields::default();
        write_local(
            &mut g,
            &Canonical {
                email_status: Some("unsubscribed".into()),
                ..Default::default()
            },
            &[Field::EmailStatus],
            &map,
        );
        assert!(
            g.do_not_email && !g.is_opt_out,
            "unsubscribed sets do_not_email only"
        );
    }
}
