//! Who may do what. The handlers fetch the facts (the caller, their role on the event); the
//! rules live here, once.

use crate::UserId;
use crate::event::{Event, Role};
use crate::username::Username;

/// The caller of an API request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// The `CONVENE_ADMIN_TOKEN` bootstrap: an admin that is no user, so it owns nothing.
    Bootstrap,
    User {
        id: UserId,
        username: Username,
        is_admin: bool,
    },
}

impl Principal {
    pub fn is_admin(&self) -> bool {
        match self {
            Principal::Bootstrap => true,
            Principal::User { is_admin, .. } => *is_admin,
        }
    }

    pub fn user_id(&self) -> Option<&UserId> {
        match self {
            Principal::Bootstrap => None,
            Principal::User { id, .. } => Some(id),
        }
    }

    pub fn is_user(&self, user: &UserId) -> bool {
        self.user_id() == Some(user)
    }

    /// A stable key naming the caller, for scoping idempotency keys.
    pub fn scope_key(&self) -> String {
        match self {
            Principal::Bootstrap => "bootstrap".to_owned(),
            Principal::User { id, .. } => format!("user:{id}"),
        }
    }
}

/// The caller's standing towards one event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Standing {
    pub admin: bool,
    pub organizer: Option<Role>,
    pub participant: bool,
}

impl Standing {
    /// Organizers and admins manage an event: edit it, delete it, name organizers, see private
    /// participants, register or cancel anyone.
    pub fn manages(&self) -> bool {
        self.admin || self.organizer.is_some()
    }

    /// A private event is seen only by those who manage it and by its participants; to anyone
    /// else it does not exist (404, never 403, so its slug does not leak).
    pub fn sees(&self, event: &Event) -> bool {
        !event.private || self.manages() || self.participant
    }

    /// Private participants are seen, and counted, only by those who manage the event.
    pub fn sees_private_participants(&self) -> bool {
        self.manages()
    }

    /// Registering, changing visibility and cancelling: the user itself, or a manager.
    pub fn may_act_for(&self, principal: &Principal, user: &UserId) -> bool {
        self.manages() || principal.is_user(user)
    }
}
