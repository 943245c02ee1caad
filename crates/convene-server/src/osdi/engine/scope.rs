//! A profile limited to a tag (`limit_to_tag`, osdi-client's person limited to a group) syncs
//! only the local people who carry it: others are neither pushed nor written from Action
//! Network, and no remote person becomes a local one. Losing the tag is not a deletion.

use super::{Ctx, Step};
use convene_core::PersonId;
use convene_core::person::Person;

/// The sync log outcome of a person the profile's tag leaves out.
pub const OUT_OF_SCOPE: &str = "skipped_out_of_scope";

impl Ctx<'_> {
    /// Whether the profile syncs this person.
    pub fn in_scope(&self, person: &Person) -> bool {
        match &self.settings.limit_to_tag {
            None => true,
            Some(tag) => person
                .fields
                .tags
                .iter()
                .any(|t| t.eq_ignore_ascii_case(tag)),
        }
    }

    /// The same for a person known by id (read only when the profile is limited); a person
    /// gone is out of scope.
    pub async fn in_scope_id(&self, id: &PersonId) -> Step<bool> {
        if self.settings.limit_to_tag.is_none() {
            return Ok(true);
        }
        Ok(self
            .store()
            .person(id)
            .await?
            .is_some_and(|p| self.in_scope(&p)))
    }

    /// Whether a remote person with no local match may become a local one.
    pub fn creates_locally(&self) -> bool {
        self.settings.create_local_from_remote && self.settings.limit_to_tag.is_none()
    }
}
