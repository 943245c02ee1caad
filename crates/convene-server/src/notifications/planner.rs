//! One round's plan: what each outbox message tells whom, in which words, on which channels.
//! An audience is told a chunk at a time (preferences and suppressions read per chunk, one
//! render per locale), and a large plan is written as it grows.

use super::mail::settings::EmailSettings;
use super::mail::{Mailer, Recipient};
use super::templates::Rendered;
use crate::calendar::ics::{Method, invitation};
use convene_core::event::Event;
use convene_core::mail::NewMail;
use convene_core::notification::{
    Cadence, Channel, Kind, NewNotification, NotificationAction, Preference, cadence, wants,
};
use convene_core::outbound::EventType;
use convene_core::user::User;
use convene_core::username::Username;
use convene_core::{Clock, EventId, Timestamp, UserId, WebhookId};
use convene_store::{
    MessageType, NewDigestItem, Notices, OutboxMessage, Recipients, Store, StoreResult,
};
use minijinja::Value as Ctx;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use time::format_description::well_known::Rfc3339;

/// What to tell: a kind of message, its template context, the key that makes it count once,
/// the event it is about, and an invitation to send along by mail.
#[derive(Clone, Copy)]
pub(super) struct Told<'a> {
    kind: Kind,
    ctx: &'a Ctx,
    key: &'a str,
    event: Option<&'a EventId>,
    invite: Option<Invite<'a>>,
    /// Which wording of the message this context is (times in one reader's zone), so that
    /// readers told from different contexts are not given one cached rendering.
    variant: &'a str,
}

impl<'a> Told<'a> {
    pub(super) fn about(
        kind: Kind,
        ctx: &'a Ctx,
        key: &'a str,
        event: Option<&'a EventId>,
    ) -> Self {
        Self {
            kind,
            ctx,
            key,
            event,
            invite: None,
            variant: "",
        }
    }
}

/// An event's calendar invitation (or its withdrawal) to send along with a mail.
#[derive(Clone, Copy)]
struct Invite<'a> {
    method: Method,
    event: &'a Event,
}

/// Readers whose preferences are read at once, and the size at which a plan is written.
const CHUNK: usize = 1000;

/// Registrations of one event in one round, told to its organizers as one notification.
struct Registrations {
    event: Value,
    names: Vec<String>,
    first_message: String,
}

/// One round's plan, with what it has already read.
pub(super) struct Planner<'a> {
    store: &'a dyn Store,
    clock: &'a dyn Clock,
    mailer: &'a Mailer,
    settings: EmailSettings,
    prefs: HashMap<String, Vec<Preference>>,
    /// Lower-cased addresses read so far: whether each is suppressed.
    suppressed: HashMap<String, bool>,
    /// What a message says in a locale, the same for every reader (templates never see the
    /// reader): by message key, kind and locale. `None` when it did not render.
    rendered: HashMap<(String, String, Kind, &'static str), Option<Rendered>>,
    /// Read once per batch, when the first operational message asks for them.
    admins: Option<Vec<User>>,
    /// Per webhook, the owner who is told of its health beside the admins (none for an admin's).
    owners: HashMap<String, Option<User>>,
    /// Events read so far in this batch: a synced list registers many for one event.
    events: HashMap<EventId, Option<Event>>,
    pub(super) notices: Notices,
    /// Whether part of the plan was written already (by [`Planner::flush`]).
    pub(super) flushed: bool,
}

fn event_id(event: &Value) -> Option<EventId> {
    event["id"]
        .as_str()
        .map(|s| EventId::from_trusted(s.to_owned()))
}

impl<'a> Planner<'a> {
    pub(super) async fn new(
        store: &'a dyn Store,
        clock: &'a dyn Clock,
        mailer: &'a Mailer,
    ) -> StoreResult<Self> {
        Ok(Self {
            store,
            clock,
            mailer,
            settings: mailer.settings(store).await?,
            prefs: HashMap::new(),
            suppressed: HashMap::new(),
            rendered: HashMap::new(),
            admins: None,
            owners: HashMap::new(),
            events: HashMap::new(),
            notices: Notices::default(),
            flushed: false,
        })
    }

    pub(super) async fn plan(&mut self, messages: &[OutboxMessage]) -> StoreResult<()> {
        let mut registrations: BTreeMap<String, Registrations> = BTreeMap::new();
        for m in messages {
            self.notices.seqs.push(m.seq);
            let MessageType::Event(event_type) = &m.event_type else {
                continue;
            };
            match event_type {
                EventType::ParticipantRegistered => {
                    let p = &m.data["participant"];
                    let Some(id) = p["event"]["id"].as_str() else {
                        continue;
                    };
                    let entry =
                        registrations
                            .entry(id.to_owned())
                            .or_insert_with(|| Registrations {
                                event: p["event"].clone(),
                                names: Vec::new(),
                                first_message: m.id.clone(),
                            });
                    entry
                        .names
                        .extend(p["username"].as_str().map(str::to_owned));
                    self.tell_participant(m, Kind::RegistrationConfirmed)
                        .await?;
                }
                EventType::EventUpdated => {
                    let event = &m.data["event"];
                    let Some(id) = event_id(event) else { continue };
                    let ctx = minijinja::context! { event => Ctx::from_serialize(event) };
                    let users = self.store.audience(&id, Recipients::Participants).await?;
                    // The invitation again, with its sequence risen: calendars move the entry.
                    let current = self.event(&id).await?;
                    let invite = current.as_ref().map(|e| Invite {
                        method: Method::Request,
                        event: e,
                    });
                    self.tell_all(
                        &users,
                        Told {
                            invite,
                            ..Told::about(Kind::EventChanged, &ctx, &m.id, Some(&id))
                        },
                    )
                    .await?;
                }
                EventType::ParticipantCancelled => {
                    self.tell_participant(m, Kind::RegistrationCancelled)
                        .await?;
                }
                EventType::EventReminderDue => self.reminder(&m.data, &m.id).await?,
                EventType::EndpointDisabled
                | EventType::EndpointFailing
                | EventType::EndpointRecovered
                | EventType::DeliveryExhausted => {
                    self.webhook_health(*event_type, &m.data, &m.id).await?;
                }
                EventType::ConnectorFailed => self.connector_failed(&m.data).await?,
                EventType::ConferenceFailed => {
                    let session = &m.data["conference"]["session"];
                    let Some(id) = session["event_id"]
                        .as_str()
                        .map(|s| EventId::from_trusted(s.to_owned()))
                    else {
                        continue;
                    };
                    let Some(event) = self.event(&id).await? else {
                        continue;
                    };
                    let ctx = minijinja::context! {
                        event => minijinja::context! { id => id.as_str(), title => event.title.as_str() },
                        session => Ctx::from_serialize(session),
                        error => m.data["conference"]["error"].as_str().unwrap_or("unknown error"),
                    };
                    for user in self.store.audience(&id, Recipients::Organizers).await? {
                        self.tell(&user, Told::about(Kind::RoomFailed, &ctx, &m.id, Some(&id)))
                            .await?;
                    }
                }
                // Told to no one in-app or by mail: listed so a new type is a decision here.
                EventType::UserCreated
                | EventType::UserUpdated
                | EventType::UserDeleted
                | EventType::EventCreated
                | EventType::EventDeleted
                | EventType::OrganizerAdded
                | EventType::OrganizerRemoved
                | EventType::ParticipantVisibilityChanged
                | EventType::EventSyncEnabled
                | EventType::EventSyncDisabled
                | EventType::EventSyncParticipantsUpdated
                | EventType::SessionCreated
                | EventType::SessionUpdated
                | EventType::SessionDeleted
                | EventType::ConferenceReady
                | EventType::SlidesUpdated
                | EventType::PersonCreated
                | EventType::PersonUpdated
                | EventType::PersonDeleted
                | EventType::DonationCreated
                | EventType::DonationSynced
                | EventType::OsdiRunCompleted
                | EventType::OsdiConflictFlagged => {}
            }
        }
        for r in registrations.into_values() {
            let Some(id) = event_id(&r.event) else {
                continue;
            };
            // A synced list can register thousands at once: name a few, count the rest.
            const NAMED: usize = 10;
            let ctx = minijinja::context! {
                event => Ctx::from_serialize(&r.event),
                names => r.names.iter().take(NAMED).collect::<Vec<_>>(),
                more => r.names.len().saturating_sub(NAMED),
                count => r.names.len(),
            };
            let mut users = self.store.audience(&id, Recipients::Organizers).await?;
            // Nobody is told of their own registration.
            users.retain(|u| !(r.names.len() == 1 && r.names[0] == u.username.as_str()));
            self.tell_all(
                &users,
                Told::about(
                    Kind::ParticipantRegistered,
                    &ctx,
                    &r.first_message,
                    Some(&id),
                ),
            )
            .await?;
        }
        Ok(())
    }

    /// Tells a participant of their own registration, or of its cancellation, with the event's
    /// invitation or its withdrawal for their calendar.
    async fn tell_participant(&mut self, m: &OutboxMessage, kind: Kind) -> StoreResult<()> {
        let p = &m.data["participant"];
        let (Some(name), Some(id)) = (p["username"].as_str(), event_id(&p["event"])) else {
            return Ok(());
        };
        let Ok(name) = Username::parse(name) else {
            return Ok(());
        };
        let (Some(user), Some(event)) = (
            self.store.user_by_name(&name).await?,
            self.event(&id).await?,
        ) else {
            return Ok(());
        };
        let zone = event.timezone.as_ref().map(|z| z.as_str());
        let ctx = minijinja::context! {
            event => minijinja::context! {
                id => id.as_str(),
                title => event.title.as_str(),
                local_start => event.starts_at.map(|t| super::local_time::local(t, zone)),
            },
        };
        let method = if kind == Kind::RegistrationCancelled {
            Method::Cancel
        } else {
            Method::Request
        };
        let invite = Invite {
            method,
            event: &event,
        };
        let told = Told {
            invite: Some(invite),
            ..Told::about(kind, &ctx, &m.id, Some(&id))
        };
        self.tell_all(&[user], told).await
    }

    /// Reminds the event's participants and organizers that it, or one of its sessions, starts
    /// soon; times in the event's zone, else in each reader's (UTC without either). Whoever is
    /// registered when it is due is reminded.
    async fn reminder(&mut self, data: &Value, message: &str) -> StoreResult<()> {
        let event = &data["event"];
        let Some(id) = event_id(event) else {
            return Ok(());
        };
        let users = self.store.audience(&id, Recipients::Everyone).await?;
        let mut by_zone: BTreeMap<Option<&str>, Vec<User>> = BTreeMap::new();
        for user in &users {
            let zone = match event["timezone"].as_str() {
                Some(zone) => Some(zone),
                None => user.timezone.as_ref().map(|z| z.as_str()),
            };
            by_zone.entry(zone).or_default().push(user.clone());
        }
        for (zone, readers) in by_zone {
            let ctx = reminder_context(data, &id, zone);
            let told = Told {
                variant: zone.unwrap_or_default(),
                ..Told::about(Kind::EventReminder, &ctx, message, Some(&id))
            };
            self.tell_all(&readers, told).await?;
        }
        Ok(())
    }

    /// Tells every administrator about a webhook endpoint's health. A dead endpoint can exhaust
    /// thousands of messages: of those, each admin is told once per endpoint and day.
    async fn webhook_health(
        &mut self,
        t: EventType,
        data: &Value,
        message: &str,
    ) -> StoreResult<()> {
        let webhook = &data["webhook"];
        let what = match t {
            EventType::EndpointFailing => "failing",
            EventType::EndpointRecovered => "recovered",
            EventType::EndpointDisabled => "disabled",
            _ => "exhausted",
        };
        let ctx = minijinja::context! {
            what,
            webhook => Ctx::from_serialize(webhook),
            delivery => Ctx::from_serialize(&data["delivery"]),
            error => data["error"].as_str(),
        };
        let key = match t {
            EventType::DeliveryExhausted => format!(
                "delivery.exhausted:{}:{}",
                webhook["id"].as_str().unwrap_or_default(),
                self.clock.now().date()
            ),
            _ => message.to_owned(),
        };
        self.tell_admins(Kind::WebhookHealth, &ctx, &key).await?;
        if let Some(owner) = self
            .owner_of(webhook["id"].as_str().unwrap_or_default())
            .await?
        {
            self.tell(&owner, Told::about(Kind::WebhookHealth, &ctx, &key, None))
                .await?;
        }
        Ok(())
    }

    /// The event as it is now, read once per batch.
    async fn event(&mut self, id: &EventId) -> StoreResult<Option<Event>> {
        if let Some(known) = self.events.get(id) {
            return Ok(known.clone());
        }
        let event = self.store.event_by_id(id).await?;
        self.events.insert(id.clone(), event.clone());
        Ok(event)
    }

    /// An organizer's own webhook: its owner, who hears of its health too (admins are told
    /// anyway). Read once per webhook and batch.
    async fn owner_of(&mut self, webhook: &str) -> StoreResult<Option<User>> {
        if let Some(known) = self.owners.get(webhook) {
            return Ok(known.clone());
        }
        let owner = match WebhookId::parse(webhook) {
            Some(id) => self.store.webhook(&id).await?.and_then(|w| w.owner),
            None => None,
        };
        let user = match owner {
            Some(owner) => self.store.user_by_id(&owner).await?,
            None => None,
        };
        let told = user.filter(|u| !u.is_admin);
        self.owners.insert(webhook.to_owned(), told.clone());
        Ok(told)
    }

    /// Tells every administrator that a connector's work failed for good: once per connector
    /// and day, as a Dashboard outage fails every linked event's push.
    async fn connector_failed(&mut self, data: &Value) -> StoreResult<()> {
        let connector = data["connector"].as_str().unwrap_or_default();
        let ctx = minijinja::context! {
            connector,
            kind => data["kind"].as_str(),
            subject => data["subject"].as_str(),
            error => data["error"].as_str(),
        };
        let key = format!("connector.failed:{connector}:{}", self.clock.now().date());
        self.tell_admins(Kind::ConnectorFailed, &ctx, &key).await
    }

    async fn tell_admins(&mut self, kind: Kind, ctx: &Ctx, key: &str) -> StoreResult<()> {
        if self.admins.is_none() {
            self.admins = Some(self.store.admins().await?);
        }
        for admin in self.admins.clone().unwrap_or_default() {
            self.tell(&admin, Told::about(kind, ctx, key, None)).await?;
        }
        Ok(())
    }

    /// Plans one kind of message to each of `users`, a chunk at a time: what a chunk's readers
    /// said and which of their addresses are suppressed are read in one go, and a large plan
    /// is written as it grows (its dedupe keys make a plan cut short by a crash count once when
    /// it is made again), so an audience of 100,000 is neither 200,000 reads nor held whole.
    pub(super) async fn tell_all(&mut self, users: &[User], told: Told<'_>) -> StoreResult<()> {
        for chunk in users.chunks(CHUNK) {
            self.prepare(chunk).await?;
            for user in chunk {
                self.tell(user, told).await?;
            }
            let planned = self.notices.notifications.len()
                + self.notices.mails.len()
                + self.notices.digests.len();
            if planned >= CHUNK {
                self.flush().await?;
            }
        }
        Ok(())
    }

    /// Reads the preferences and suppressions of the `users` not read yet in this batch.
    async fn prepare(&mut self, users: &[User]) -> StoreResult<()> {
        if self.prefs.len() > 4 * CHUNK {
            self.prefs.clear();
            self.suppressed.clear();
        }
        let fresh: Vec<&User> = users
            .iter()
            .filter(|u| !self.prefs.contains_key(u.id.as_str()))
            .collect();
        if fresh.is_empty() {
            return Ok(());
        }
        let ids: Vec<UserId> = fresh.iter().map(|u| u.id.clone()).collect();
        for id in &ids {
            self.prefs.insert(id.as_str().to_owned(), Vec::new());
        }
        for (id, p) in self.store.preferences_of(&ids).await? {
            self.prefs
                .entry(id.as_str().to_owned())
                .or_default()
                .push(p);
        }
        let addresses: Vec<String> = fresh
            .iter()
            .filter_map(|u| u.email.as_ref().map(|e| e.as_str().to_lowercase()))
            .collect();
        for a in &addresses {
            self.suppressed.insert(a.clone(), false);
        }
        for a in self.store.suppressed_among(&addresses).await? {
            self.suppressed.insert(a, true);
        }
        Ok(())
    }

    /// Writes the notifications and mails planned so far, marking no outbox message yet.
    async fn flush(&mut self) -> StoreResult<()> {
        let partial = Notices {
            seqs: Vec::new(),
            notifications: std::mem::take(&mut self.notices.notifications),
            mails: std::mem::take(&mut self.notices.mails),
            digests: std::mem::take(&mut self.notices.digests),
        };
        self.flushed = true;
        self.store.record_notices(&partial, self.clock.now()).await
    }

    /// Plans one kind of message to one user on the channels they want.
    async fn tell(&mut self, user: &User, told: Told<'_>) -> StoreResult<()> {
        let Told {
            kind,
            ctx,
            key,
            event,
            invite,
            variant,
        } = told;
        let store = self.store;
        if !self.prefs.contains_key(user.id.as_str()) {
            let prefs = store.preferences(&user.id).await?;
            self.prefs.insert(user.id.as_str().to_owned(), prefs);
        }
        let prefs = &self.prefs[user.id.as_str()];
        let in_app = wants(prefs, kind, Channel::InApp);
        let email = wants(prefs, kind, Channel::Email) && user.email.is_some();
        let cadence = cadence(prefs, kind);
        if !in_app && !email {
            return Ok(());
        }
        let mailer = self.mailer;
        let locale = mailer
            .templates
            .locale(user.locale.as_ref().map(|l| l.as_str()));
        let rendered = self
            .rendered
            .entry((key.to_owned(), variant.to_owned(), kind, locale))
            .or_insert_with(|| {
                let ctx = minijinja::context! { app_name => "Convene", ..ctx.clone() };
                mailer
                    .templates
                    .render(kind, locale, &ctx)
                    .inspect_err(|e| {
                        tracing::error!(error = %e, kind = kind.as_str(), "notification did not render; skipped");
                    })
                    .ok()
            });
        let Some(rendered) = rendered.clone() else {
            return Ok(());
        };
        let dedupe = format!("{key}:{}:{}", user.id, kind.as_str());
        if in_app {
            let actions = event
                .map(|id| {
                    vec![NotificationAction {
                        action_type: "view".into(),
                        subject: "event".into(),
                        subject_id: id.as_str().to_owned(),
                        link: Some(format!("{}/api/v1/events/{id}", mailer.public_url())),
                    }]
                })
                .unwrap_or_default();
            self.notices.notifications.push(NewNotification {
                user: user.id.clone(),
                kind,
                event: event.cloned(),
                title: rendered.title.clone(),
                message: rendered.message.clone(),
                accept: None,
                received_at: self.clock.now(),
                is_read: false,
                actions,
                dedupe_key: Some(dedupe.clone()),
            });
        }
        if email && let Some(to) = Recipient::user(user) {
            let suppressed = match self.suppressed.get(&to.address.to_lowercase()) {
                Some(known) => *known,
                None => store.is_suppressed(to.address).await?,
            };
            if cadence != Cadence::Instant && invite.is_none() && !suppressed {
                if self.settings.sends(kind) {
                    let times = &mailer.digest_times;
                    let zone = user.timezone.as_ref().map(|z| z.as_str());
                    self.notices.digests.push(NewDigestItem {
                        user: user.id.clone(),
                        kind,
                        cadence,
                        due_at: super::digest::next_due(
                            self.clock.now(),
                            cadence,
                            zone,
                            times.hour,
                            times.day,
                        ),
                        title: rendered.title,
                        message: rendered.message,
                        text: rendered.text,
                        dedupe_key: format!("{dedupe}:email"),
                    });
                }
                return Ok(());
            }
            let calendar = invite.and_then(|i| {
                let from = &self.settings.from_address;
                let now = self.clock.now();
                invitation(
                    i.method,
                    i.event,
                    from,
                    to.address,
                    mailer.public_url(),
                    now,
                )
            });
            let mail = mailer.compose(
                to,
                kind,
                &rendered,
                format!("{dedupe}:email"),
                &self.settings,
                suppressed,
            );
            self.notices.mails.extend(mail.map(|m| NewMail {
                calendar,
                event: event.cloned(),
                ..m
            }));
        }
        Ok(())
    }
}

/// What a reminder says, with its times in `zone` (UTC without one).
fn reminder_context(data: &Value, id: &EventId, zone: Option<&str>) -> Ctx {
    let event = &data["event"];
    let local = |t: &Value| {
        t.as_str()
            .and_then(|s| Timestamp::parse(s, &Rfc3339).ok())
            .map(|t| super::local_time::local(t, zone))
    };
    let offset = data["offset"].as_str().unwrap_or_default();
    let (amount, unit) = offset.split_at(offset.len().saturating_sub(1));
    let session = &data["session"];
    minijinja::context! {
        event => minijinja::context! {
            id => id.as_str(),
            title => event["title"].as_str(),
            local_start => local(&event["starts_at"]),
        },
        session => (!session.is_null()).then(|| minijinja::context! {
            title => session["title"].as_str(),
            local_start => local(&session["starts_at"]),
            url => session["url"].as_str(),
        }),
        amount => amount.parse::<u64>().unwrap_or(0),
        unit,
    }
}
