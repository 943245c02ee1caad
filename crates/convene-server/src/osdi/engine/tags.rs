//! Tags and taggings. Pull: every Action Network tag's taggings are walked and the tag put on
//! the linked local people; with origin `remote`, Action Network is authoritative for the tags
//! it has, so a tagging we saw before and no longer see is taken off locally. Push: local tags
//! of linked people missing remotely are created (tag, then tagging); with origin `local`,
//! taggings of tags gone locally are deleted first. `both` is the union, deleting nothing.
//! A people run pushes the tags of each linked person it visits the same way (`follow_local`).

use super::remote::href_id;
use super::scope::OUT_OF_SCOPE;
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

/// The taggings URL of the remote tag named `tag` (without case), if there is one.
async fn taggings_url(ctx: &mut Ctx<'_>, tag: &str) -> Step<Option<String>> {
    if ctx.tag_index.is_none() {
        remote_tags(ctx).await?;
    }
    Ok(ctx
        .tag_index
        .as_ref()
        .and_then(|index| index.get(&tag.to_lowercase()))
        .map(|(_, taggings)| taggings.clone()))
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
    if !ctx.in_scope(&person) {
        ctx.log(
            OUT_OF_SCOPE,
            Some(&pid),
            Some(&rid),
            json!({"tag": tag}),
            json!([]),
        );
        // Counted as seen: a tag sync must not take off what it was told to leave alone.
        return Ok(Some(pid));
    }
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
    let mut after = position.and_then(|p| p.as_str().map(str::to_owned));
    // With origin `both` the run is a union: what a pull could bring back is not taken away.
    let drop_stale = ctx.origin == Origin::Local;
    loop {
        let page = ctx
            .store()
            .list_people(&PageRequest {
                after: after.clone(),
                limit: 100,
            })
            .await?;
        for person in &page.items {
            let Some(pair) = ctx
                .store()
                .pair_by_person(&ctx.profile.id, &person.id)
                .await?
            else {
                continue;
            };
            if pair.status == "ok" && ctx.in_scope(person) {
                follow_local(ctx, person, &pair.remote_id, drop_stale).await?;
            }
        }
        after = page.items.last().map(|p| p.id.to_string());
        ctx.checkpoint(json!(after)).await?;
        if page.next_after.is_none() {
            return Ok(());
        }
    }
}

/// Makes the twin `rid`'s taggings follow the local person's tags: with `drop_stale` the
/// taggings of tags the person lost are deleted first (a renamed tag must not briefly be both),
/// then the missing ones are added. Reads Action Network's tags only when one is missing.
pub(crate) async fn follow_local(
    ctx: &mut Ctx<'_>,
    person: &convene_core::person::Person,
    rid: &str,
    drop_stale: bool,
) -> Step<()> {
    let profile = ctx.profile.id.clone();
    let pid = person.id.to_string();
    // Lower-case name → (the name as stored, the tagging's href).
    let known: BTreeMap<String, (String, Option<String>)> = ctx
        .store()
        .taggings(&profile, &pid)
        .await?
        .into_iter()
        .map(|(t, h)| (t.to_lowercase(), (t, h)))
        .collect();
    let local: BTreeSet<String> = person
        .fields
        .tags
        .iter()
        .map(|t| t.to_lowercase())
        .collect();
    if drop_stale {
        for (key, (tag, href)) in &known {
            if !local.contains(key) {
                untag_remote(ctx, &pid, rid, tag, href.clone()).await?;
            }
        }
    }
    for tag in &person.fields.tags {
        if known.contains_key(&tag.to_lowercase()) {
            continue;
        }
        let Some(taggings) = ensure_tag(ctx, tag).await? else {
            continue;
        };
        let body = json!({"_links": {"osdi:person": {"href": ctx.urls.person(rid)}}});
        match ctx.call(Method::POST, &taggings, Some(&body), true).await? {
            Ok(made) => {
                let href = made["_links"]["self"]["href"].as_str();
                ctx.store().set_tagging(&profile, &pid, tag, href).await?;
                ctx.log(
                    "tagged_remote",
                    Some(&pid),
                    Some(rid),
                    json!({"tag": tag}),
                    json!([]),
                );
            }
            Err(refused) => ctx.failed(Some(&pid), Some(rid), &refused),
        }
    }
    Ok(())
}

/// Deletes the twin's tagging of `tag`. A tagging made by the signup helper has no stored
/// href: it is looked up in the tag's taggings.
async fn untag_remote(
    ctx: &mut Ctx<'_>,
    pid: &str,
    rid: &str,
    tag: &str,
    href: Option<String>,
) -> Step<()> {
    let href = match href {
        Some(href) => Some(href),
        None => find_tagging(ctx, tag, rid).await?,
    };
    let gone = match href {
        // Not on Action Network any more: nothing to delete.
        None => true,
        Some(href) => match ctx.call(Method::DELETE, &href, None, true).await? {
            Ok(_) => true,
            Err(refused) if refused.status == 404 => true,
            Err(refused) => {
                ctx.failed(Some(pid), Some(rid), &refused);
                false
            }
        },
    };
    if gone {
        ctx.store()
            .remove_tagging(&ctx.profile.id, pid, tag)
            .await?;
        ctx.log(
            "untagged_remote",
            Some(pid),
            Some(rid),
            json!({"tag": tag}),
            json!([]),
        );
    }
    Ok(())
}

/// The href of the twin `rid`'s tagging of `tag`, walking that tag's taggings.
async fn find_tagging(ctx: &mut Ctx<'_>, tag: &str, rid: &str) -> Step<Option<String>> {
    let Some(taggings) = taggings_url(ctx, tag).await? else {
        return Ok(None);
    };
    let (mut next, mut number) = (Some(taggings), None);
    while let Some(url) = next {
        let (page, after) = ctx.page(&url, &mut number).await?;
        next = after;
        for tagging in page {
            let person = tagging["_links"]["osdi:person"]["href"]
                .as_str()
                .and_then(href_id);
            if person.as_deref() == Some(rid) {
                return Ok(tagging["_links"]["self"]["href"]
                    .as_str()
                    .map(str::to_owned));
            }
        }
    }
    Ok(None)
}

/// The taggings URL of `tag`, creating the tag on Action Network (unique by name, without
/// case) when it is missing.
async fn ensure_tag(ctx: &mut Ctx<'_>, tag: &str) -> Step<Option<String>> {
    if let Some(taggings) = taggings_url(ctx, tag).await? {
        return Ok(Some(taggings));
    }
    let url = ctx.urls.tags.clone();
    match ctx
        .call(Method::POST, &url, Some(&json!({"name": tag})), true)
        .await?
    {
        Ok(made) => Ok(tag_entry(&made).map(|(name, taggings)| {
            if let Some(index) = ctx.tag_index.as_mut() {
                index.insert(name.to_lowercase(), (name, taggings.clone()));
            }
            taggings
        })),
        Err(refused) => {
            ctx.failed(None, None, &refused);
            Ok(None)
        }
    }
}
