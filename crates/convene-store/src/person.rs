//! Storage of people (CRM contacts) and the deletion records sync reads.

use crate::StoreResult;
use async_trait::async_trait;
use convene_core::page::{Page, PageRequest};
use convene_core::person::{Person, PersonFields};
use convene_core::{PersonId, Timestamp};

#[async_trait]
pub trait PersonStore: Send + Sync {
    /// Emits `person.created`.
    async fn create_person(&self, fields: &PersonFields, at: Timestamp) -> StoreResult<Person>;
    async fn person(&self, id: &PersonId) -> StoreResult<Option<Person>>;
    /// Ordered by id (creation).
    async fn list_people(&self, page: &PageRequest) -> StoreResult<Page<Person>>;
    /// Writes every field and the tags. `NotFound` when gone. Emits `person.updated`.
    async fn update_person(
        &self,
        id: &PersonId,
        fields: &PersonFields,
        at: Timestamp,
    ) -> StoreResult<Person>;
    /// Deletes the person and keeps a deletion record (id, email, time) for sync. Emits
    /// `person.deleted`; `false` when there was no such person.
    async fn delete_person(&self, id: &PersonId, at: Timestamp) -> StoreResult<bool>;
    /// Merges `gone` into `keep` in one transaction: blanks of `keep` are filled from `gone`
    /// (a do-not-contact flag of either holds), tags join, attendances (where `keep` has
    /// none for the event), donations, flags and CRM pairs move; in a sync profile where both
    /// were linked to different remote people, `gone`'s pair is parked (`merged`) and both
    /// remote ids get a `merge_incomplete` flag. Then `gone` is deleted. Emits
    /// `person.deleted` and `person.updated`; `NotFound` when either is missing.
    async fn merge_people(
        &self,
        keep: &PersonId,
        gone: &PersonId,
        at: Timestamp,
    ) -> StoreResult<Person>;
    /// People changed after `(updated_at, id)`, in that order: the sync's local walk.
    async fn people_changed_after(
        &self,
        after: (Timestamp, &str),
        limit: u32,
    ) -> StoreResult<Vec<Person>>;
    /// Everyone with this email, compared without case.
    async fn people_with_email(&self, email: &str) -> StoreResult<Vec<Person>>;
    /// Deletion records since `since`, oldest first: `(id, email, deleted_at)`.
    async fn person_deletions(
        &self,
        since: Timestamp,
    ) -> StoreResult<Vec<(PersonId, Option<String>, Timestamp)>>;
}
