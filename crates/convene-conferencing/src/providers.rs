//! The providers a deployment runs: the configured default, and each other one that has its
//! settings, so an event may choose its own (`conference_provider`).

use crate::provider::{ConferenceProvider, ProviderError};
use std::sync::Arc;

pub struct Providers {
    default: Arc<dyn ConferenceProvider>,
    others: Vec<Arc<dyn ConferenceProvider>>,
}

impl Providers {
    /// `others` may repeat the default; it is kept once.
    pub fn new(
        default: Arc<dyn ConferenceProvider>,
        others: impl IntoIterator<Item = Arc<dyn ConferenceProvider>>,
    ) -> Self {
        let others = others
            .into_iter()
            .filter(|p| p.name() != default.name() && p.name() != "none")
            .collect();
        Self { default, others }
    }

    pub fn only(default: Arc<dyn ConferenceProvider>) -> Self {
        Self::new(default, [])
    }

    /// The configured provider ("none" when sessions get no rooms).
    pub fn default(&self) -> &Arc<dyn ConferenceProvider> {
        &self.default
    }

    pub fn named(&self, name: &str) -> Option<&Arc<dyn ConferenceProvider>> {
        std::iter::once(&self.default)
            .chain(&self.others)
            .find(|p| p.name() == name)
    }

    /// What a session's room was made with, or why it cannot be reached any more.
    pub fn of_room(&self, name: &str) -> Result<&Arc<dyn ConferenceProvider>, ProviderError> {
        self.named(name).ok_or_else(|| ProviderError::Remote {
            transient: false,
            message: format!("the {name} conferencing provider is not configured"),
        })
    }

    /// Names an event may choose, the default first.
    pub fn names(&self) -> Vec<&'static str> {
        std::iter::once(&self.default)
            .chain(&self.others)
            .map(|p| p.name())
            .filter(|n| *n != "none")
            .collect()
    }
}
