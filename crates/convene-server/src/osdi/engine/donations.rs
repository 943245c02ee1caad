//! Donations, write-once both ways (osdi-client's donation batch). Pull: Action Network's
//! donations modified since the `remote_donations` cursor (its donations collection, else each
//! fundraising page's); each one not paired yet becomes a
//! donation of its donor's local twin, paired in the same transaction. A donor Action Network
//! hides (404: a "phantom donation") or one with no local twin is skipped without an error
//! row, as upstream does. Push: local donations of linked people never paired are created
//! under the profile's `fundraising_page` and paired; they carry `convene:<id>` among their
//! identifiers, so one whose pairing a crash lost is paired, not imported, when pulled.

use super::remote::{href_id, remote_id};
use super::scope::OUT_OF_SCOPE;
use super::{Ctx, Step};
use convene_core::donation::{Donation, NewDonation};
use convene_core::{DonationId, FieldErrors};
use reqwest::Method;
use serde_json::{Value, json};
use time::format_description::well_known::Rfc3339;

const OURS: &str = "convene:";

/// Walks the donations changed since the cursor: the entry point's donations collection, or,
/// where it offers none, each fundraising page's. `position` is what is left to walk, the page
/// to read next first.
pub async fn pull(ctx: &mut Ctx<'_>, position: Option<Value>) -> Step<()> {
    let mut queue: Vec<String> = match position {
        Some(Value::Array(left)) => left
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        _ => collections(ctx).await?,
    };
    let mut number = None;
    while let Some(url) = queue.first().cloned() {
        let (page, after) = ctx.page(&url, &mut number).await?;
        for record in page {
            pull_one(ctx, &record).await?;
        }
        match after {
            Some(next) => queue[0] = next,
            None => {
                queue.remove(0);
                number = None;
            }
        }
        ctx.checkpoint(json!(queue)).await?;
    }
    Ok(())
}

async fn collections(ctx: &mut Ctx<'_>) -> Step<Vec<String>> {
    if let Some(all) = ctx.urls.donations.clone() {
        return Ok(vec![ctx.walk_start(&all, "remote_donations", None).await?]);
    }
    let mut queue = Vec::new();
    let (mut next, mut number) = (Some(ctx.urls.fundraising_pages.clone()), None);
    while let Some(url) = next {
        let (pages, after) = ctx.page(&url, &mut number).await?;
        next = after;
        for page in pages {
            let links = &page["_links"];
            let donations = links["osdi:donations"]["href"]
                .as_str()
                .map(str::to_owned)
                .or_else(|| {
                    let own = links["self"]["href"].as_str()?;
                    Some(format!("{}/donations", own.trim_end_matches('/')))
                });
            if let Some(href) = donations {
                queue.push(ctx.walk_start(&href, "remote_donations", None).await?);
            }
        }
    }
    Ok(queue)
}

fn ours(record: &Value) -> Option<DonationId> {
    record["identifiers"]
        .as_array()?
        .iter()
        .filter_map(Value::as_str)
        .find_map(|i| DonationId::parse(i.strip_prefix(OURS)?))
}

async fn pull_one(ctx: &mut Ctx<'_>, record: &Value) -> Step<()> {
    let profile = ctx.profile.id.clone();
    let Some(did) = remote_id(record) else {
        ctx.error("no_remote_id", None, None, None, &record.to_string());
        return Ok(());
    };
    let at = json!({"donation": did});
    if ctx.store().remote_donation_paired(&profile, &did).await? {
        ctx.log("unchanged", None, None, at, json!([]));
        return Ok(());
    }
    if let Some(local) = ours(record) {
        if ctx
            .store()
            .pair_donation(&profile, &local, &did, ctx.now())
            .await?
        {
            ctx.log("donation_paired", None, None, at, json!([]));
        }
        return Ok(());
    }
    let new = match from_remote(record) {
        Ok(new) => new,
        Err(why) => {
            ctx.error("malformed", None, None, None, &format!("{why}: {record}"));
            return Ok(());
        }
    };
    let Some(donor) = record["_links"]["osdi:person"]["href"]
        .as_str()
        .map(str::to_owned)
    else {
        ctx.log("skipped_phantom", None, None, at, json!([]));
        return Ok(());
    };
    let Some(rid) = href_id(&donor) else {
        return Ok(());
    };
    let pair = match super::people::pair_through_link(ctx, &donor, &rid).await? {
        Ok(pair) => pair,
        Err(refused) if refused.status == 404 => {
            ctx.log("skipped_phantom", None, Some(&rid), at, json!([]));
            return Ok(());
        }
        Err(refused) => {
            ctx.failed(None, Some(&rid), &refused);
            return Ok(());
        }
    };
    let Some(pair) = pair.filter(|p| p.status == "ok") else {
        ctx.log("skipped_no_person", None, Some(&rid), at, json!([]));
        return Ok(());
    };
    let pid = pair.person_id.to_string();
    if !ctx.in_scope_id(&pair.person_id).await? {
        ctx.log(OUT_OF_SCOPE, Some(&pid), Some(&rid), at, json!([]));
        return Ok(());
    }
    let made = ctx
        .store()
        .pull_donation(&profile, &pair.person_id, &did, &new, ctx.now())
        .await?;
    let outcome = if made.is_some() {
        "donation_pulled"
    } else {
        "unchanged"
    };
    ctx.log(
        outcome,
        Some(&pid),
        Some(&rid),
        json!({"donation": did, "amount": new.amount.as_str()}),
        json!([]),
    );
    Ok(())
}

/// Action Network's donation in our terms; what does not parse is named.
fn from_remote(record: &Value) -> Result<NewDonation, String> {
    let text = |v: &Value| match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    };
    let recurring = &record["action_network:recurrence"];
    let recurrence = match recurring["recurring"].as_bool() {
        Some(true) => Some(recurring["period"].as_str().unwrap_or("Monthly").to_owned()),
        _ => None,
    };
    let mut errors = FieldErrors::new();
    let new = NewDonation::check(
        &mut errors,
        text(&record["amount"]),
        record["currency"].as_str().map(str::to_owned),
        record["created_date"].as_str().map(str::to_owned),
        recurrence,
        record["_links"]["osdi:fundraising_page"]["href"]
            .as_str()
            .map(str::to_owned),
        record["action_network:referrer_data"]["source"]
            .as_str()
            .map(str::to_owned),
    );
    match errors.finish(|| new) {
        Ok(Some(new)) => Ok(new),
        Ok(None) => Err("incomplete donation".to_owned()),
        Err(e) => Err(e
            .into_vec()
            .into_iter()
            .map(|e| format!("{} {}", e.field, e.message))
            .collect::<Vec<_>>()
            .join("; ")),
    }
}

const LOCAL_BATCH: u32 = 100;

pub async fn push(ctx: &mut Ctx<'_>, position: Option<Value>) -> Step<()> {
    let mut after = position
        .and_then(|p| p.as_str().map(str::to_owned))
        .unwrap_or_default();
    loop {
        let batch = ctx
            .store()
            .unpaired_donations(&ctx.profile.id, &after, LOCAL_BATCH)
            .await?;
        let Some(last) = batch.last() else {
            return Ok(());
        };
        after = last.id.to_string();
        let Some(page) = ctx.settings.fundraising_page.clone() else {
            let why =
                "local donations wait: the profile has no fundraising_page to create them under";
            ctx.error("no_fundraising_page", None, None, None, why);
            return Ok(());
        };
        for donation in batch {
            push_one(ctx, &donation, &page).await?;
        }
        ctx.checkpoint(json!(after)).await?;
    }
}

async fn push_one(ctx: &mut Ctx<'_>, d: &Donation, page: &str) -> Step<()> {
    let pid = d.person_id.to_string();
    let Some(pair) = ctx
        .store()
        .pair_by_person(&ctx.profile.id, &d.person_id)
        .await?
    else {
        return Ok(());
    };
    let rid = pair.remote_id.clone();
    let at = json!({"donation_id": d.id.as_str()});
    if !ctx.in_scope_id(&d.person_id).await? {
        ctx.log(OUT_OF_SCOPE, Some(&pid), Some(&rid), at, json!([]));
        return Ok(());
    }
    let f = &d.fields;
    // Null members are refused by Action Network: only what is there is sent.
    let mut body = json!({
        "identifiers": [format!("{OURS}{}", d.id)],
        "currency": f.currency.as_str().to_ascii_lowercase(),
        "recipients": [{"amount": f.amount.as_str()}],
        "created_date": f.received_at.format(&Rfc3339).unwrap_or_default(),
        "action_network:recurrence": {"recurring": f.recurrence.is_some()},
        "_links": {"osdi:person": {"href": ctx.urls.person(&rid)}},
    });
    if let Some(r) = f.recurrence {
        body["action_network:recurrence"]["period"] = json!(r.remote());
    }
    if let Some(source) = &f.referrer {
        body["action_network:referrer_data"] = json!({"source": source});
    }
    let url = format!("{}/donations", page.trim_end_matches('/'));
    // Not idempotent: a POST that may have landed is not sent again; the identifier pairs it.
    match ctx.call(Method::POST, &url, Some(&body), false).await? {
        Ok(made) => match remote_id(&made) {
            Some(did) => {
                ctx.store()
                    .pair_donation(&ctx.profile.id, &d.id, &did, ctx.now())
                    .await?;
                ctx.log(
                    "donation_pushed",
                    Some(&pid),
                    Some(&rid),
                    json!({"donation_id": d.id.as_str(), "donation": did}),
                    json!([]),
                );
            }
            None => ctx.error(
                "no_remote_id",
                Some(&pid),
                Some(&rid),
                None,
                &made.to_string(),
            ),
        },
        Err(refused) => ctx.failed(Some(&pid), Some(&rid), &refused),
    }
    Ok(())
}
