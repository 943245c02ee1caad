//! Tags and taggings. Pull: every Action Network tag's taggings are walked and the tag put on
//! the linked local people; with origin `remote`, Action Network is authoritative for the tags
//! it has, so a tagging we saw before and no longer see is taken off locally. Push: local tags
//! of linked people missing remotely are created (tag, then tagging); with origin `local`,
//! taggings we made whose tag is gone locally are deleted. `both` is the union, deleting
//! nothing.

use super::remote::href_id;
use super::{Ctx, Step};
use crate::osdi::settings::Origin;
use convene_core::page::PageRequest;
use reqwest::Method;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};

/// Every remote tag: lower-case name → (name, taggings URL).
pub(crate) type TagIndex = BTreeMap<String, (String, String)>;

/// The remote tags, walked once per run: a `both` run's push reuses what its pull read.
async fn remote_tags(ctx: &mut Ctx<'_>) -> Step<TagIndex> {
    if let Some(tags) = &ctx.tag_index {
        return Ok(tags.clone());
    }
    let mut tags = BTreeMap::new();
    let (mut next, mut number) = (Some(ctx.urls.tags.clone()), None);
    while let Some(url) = next {
        let (page, after) = ctx.page(&url, &mut number).await?;
        next = after;
        for tag in page {
            if let Some((name, taggings)) = tag_entry(&tag) {
                tags.insert(name.to_lowercase(), (name, taggings));
            }
        }
    }
    ctx.tag_index = Some(tags.clone());
    Ok(tags)
}

fn tag_entry(tag: &Value) -> Option<(String, String)> {
    let name = tag["name"].as_str()?.to_owned();
    let taggings = tag["_links"]["osdi:taggings"]["href"]
        .as_str()
        .map(str::to_owned)
        .or_else(|| {
            Some(format!(
                "{}/taggings",
                tag["_links"]["self"]["href"].as_str()?
            ))
        })?;
    Some((name, taggings))
}

pub async fn pull(ctx: &mut Ctx<'_>) -> Step<()> {
    let tags = remote_tags(ctx).await?;
    for (name, taggings) in tags.into_values() {
        let mut seen = BTreeSet::new();
        let (mut next, mut number) = (Some(taggings), None);
        while let Some(url) = next {
            let (page, after) = ctx.page(&url, &mut number).await?;
            next = after;
            for tagging in page {
                if let Some(pid) = pull_tagging(ctx, &name, &tagging).await? {
                    seen.insert(pid);
                }
            }
        }
        if ctx.origin == Origin::Remote {
            for (pid, _) in ctx.store().tagged(&ctx.profile.id, &name).await? {
                if !seen.contains(&pid) {
                    untag_local(ctx, &pid, &name).await?;
                }
            }
        }
        ctx.checkpoint(Value::Null).await?;
    }
    Ok(())
}

/// Puts the tag on the tagged person's local twin; returns that person's id.
async fn pull_tagging(ctx: &mut Ctx<'_>, tag: &str, tagging: &Value) -> Step<Option<String>> {
    let Some(rid) = tagging["_links"]["osdi:person"]["href"]
        .as_str()
        .and_then(href_id)
    else {
        return Ok(None);
    };
    let Some(pair) = ctx.store().pair_by_remote(&ctx.profile.id, &rid).await? else {
        ctx.log(
            "skipped_unlinked",
            None,
            Some(&rid),
            json!({"tag": tag}),
            json!([]),
        );
        return Ok(None);
    };
    let Some(person) = ctx.store().person(&pair.person_id).await? else {
        return Ok(None);
    };
    let pid = person.id.to_string();
    let href = tagging["_links"]["self"]["href"].as_str();
    ctx.store()
        .set_tagging(&ctx.profile.id, &pid, tag, href)
        .await?;
    if person
        .fields
        .tags
        .iter()
        .any(|t| t.eq_ignore_ascii_case(tag))
    {
        ctx.log(
            "unchanged",
            Some(&pid),
            Some(&rid),
            json!({"tag": tag}),
            json!([]),
        );
    } else {
        let mut fields = person.fields.clone();
        fields.tags.push(tag.to_owned());
        fields.tags.sort();
        ctx.store()
            .update_person(&person.id, &fields, ctx.now())
            .await?;
        ctx.log(
            "tagged_local",
            Some(&pid),
            Some(&rid),
            json!({"tag": tag}),
            json!([]),
        );
    }
    Ok(Some(pid))
}

async fn untag_local(ctx: &mut Ctx<'_>, pid: &str, tag: &str) -> Step<()> {
    ctx.store()
        .remove_tagging(&ctx.profile.id, pid, tag)
        .await?;
    let Some(id) = convene_core::PersonId::parse(pid) else {
        return Ok(());
    };
    let Some(person) = ctx.store().person(&id).await? else {
        return Ok(());
    };
    let mut fields = person.fields.clone();
    fields.tags.retain(|t| !t.eq_ignore_ascii_case(tag));
    if fields != person.fields {
        ctx.store().update_person(&id, &fields, ctx.now()).await?;
        ctx.log(
            "untagged_local",
            Some(pid),
            None,
            json!({"tag": tag}),
            json!([]),
        );
    }
    Ok(())
}

pub async fn push(ctx: &mut Ctx<'_>, position: Option<Value>) -> Step<()> {
    let mut tags = remote_tags(ctx).await?;
    let mut after = position.and_then(|p| p.as_str().map(str::to_owned));
    loop {
        let page = ctx
            .store()
            .list_people(&PageRequest {
                after: after.clone(),
                limit: 100,
            })
            .await?;
        for person in &page.items {
            push_person(ctx, person, &mut tags).await?;
        }
        after = page.items.last().map(|p| p.id.to_string());
        ctx.checkpoint(json!(after)).await?;
        if page.next_after.is_none() {
            return Ok(());
        }
    }
}

async fn push_person(
    ctx: &mut Ctx<'_>,
    person: &convene_core::person::Person,
    tags: &mut TagIndex,
) -> Step<()> {
    let profile = ctx.profile.id.clone();
    let pid = person.id.to_string();
    let Some(pair) = ctx.store().pair_by_person(&profile, &person.id).await? else {
        return Ok(());
    };
    if pair.status != "ok" {
        return Ok(());
    }
    let known: BTreeMap<String, Option<String>> = ctx
        .store()
        .taggings(&profile, &pid)
        .await?
        .into_iter()
        .map(|(t, h)| (t.to_lowercase(), h))
        .collect();
    for tag in &person.fields.tags {
        if known.contains_key(&tag.to_lowercase()) {
            continue;
        }
        let Some(taggings) = ensure_tag(ctx, tag, tags).await? else {
            continue;
        };
        let body = json!({"_links": {"osdi:person": {"href": ctx.urls.person(&pair.remote_id)}}});
        match ctx.call(Method::POST, &taggings, Some(&body), true).await? {
            Ok(made) => {
                let href = made["_links"]["self"]["href"].as_str();
                ctx.store().set_tagging(&profile, &pid, tag, href).await?;
                ctx.log(
                    "tagged_remote",
                    Some(&pid),
                    Some(&pair.remote_id),
                    json!({"tag": tag}),
                    json!([]),
                );
            }
            Err(refused) => ctx.failed(Some(&pid), Some(&pair.remote_id), &refused),
        }
    }
    if ctx.origin != Origin::Local {
        return Ok(());
    }
    let local: BTreeSet<String> = person
        .fields
        .tags
        .iter()
        .map(|t| t.to_lowercase())
        .collect();
    for (tag, href) in known {
        if local.contains(&tag) {
            continue;
        }
        let Some(href) = href else {
            ctx.error(
                "no_tagging_href",
                Some(&pid),
                Some(&pair.remote_id),
                None,
                &tag,
            );
            continue;
        };
        match ctx.call(Method::DELETE, &href, None, true).await? {
            Ok(_) => {
                ctx.store().remove_tagging(&profile, &pid, &tag).await?;
                ctx.log(
                    "untagged_remote",
                    Some(&pid),
                    Some(&pair.remote_id),
                    json!({"tag": tag}),
                    json!([]),
                );
            }
            Err(refused) => ctx.failed(Some(&pid), Some(&pair.remote_id), &refused),
        }
    }
    Ok(())
}

/// The taggings URL of `tag`, creating the tag on Action Network (unique by name, without
/// case) when it is missing.
async fn ensure_tag(ctx: &mut Ctx<'_>, tag: &str, tags: &mut TagIndex) -> Step<Option<String>> {
    if let Some((_, taggings)) = tags.get(&tag.to_lowercase()) {
        return Ok(Some(taggings.clone()));
    }
    let url = ctx.urls.tags.clone();
    match ctx
        .call(Method::POST, &url, Some(&json!({"name": tag})), true)
        .await?
    {
        Ok(made) => Ok(tag_entry(&made).map(|(name, taggings)| {
            tags.insert(name.to_lowercase(), (name, taggings.clone()));
            taggings
        })),
        Err(refused) => {
            ctx.failed(None, None, &refused);
            Ok(None)
        }
    }
}
