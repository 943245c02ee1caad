//! Storage of donations and their pairing with Action Network's: write-once on both sides.

use crate::StoreResult;
use async_trait::async_trait;
use convene_core::donation::{Donation, NewDonation};
use convene_core::{DonationId, PersonId, Timestamp};

#[async_trait]
pub trait DonationStore: Send + Sync {
    /// Records a donation of a living person (`NotFound` when gone). Emits `donation.created`.
    async fn create_donation(
        &self,
        person: &PersonId,
        new: &NewDonation,
        at: Timestamp,
    ) -> StoreResult<Donation>;
    /// A person's donations, newest received first.
    async fn donations_of(&self, person: &PersonId, limit: u32) -> StoreResult<Vec<Donation>>;
    /// Records a donation pulled from the profile's Action Network with its pairing, in one
    /// transaction; `None` when that remote donation was paired before. Emits `donation.created`.
    async fn pull_donation(
        &self,
        profile_id: &str,
        person: &PersonId,
        remote_id: &str,
        new: &NewDonation,
        at: Timestamp,
    ) -> StoreResult<Option<Donation>>;
    /// Whether the remote donation is paired in the profile already.
    async fn remote_donation_paired(&self, profile_id: &str, remote_id: &str) -> StoreResult<bool>;
    /// Donations of the profile's linked people not paired yet, by id after `after`.
    async fn unpaired_donations(
        &self,
        profile_id: &str,
        after: &str,
        limit: u32,
    ) -> StoreResult<Vec<Donation>>;
    /// Pairs a pushed donation with its remote twin; `false` when either was paired already.
    /// Emits `donation.synced`.
    async fn pair_donation(
        &self,
        profile_id: &str,
        donation: &DonationId,
        remote_id: &str,
        at: Timestamp,
    ) -> StoreResult<bool>;
}
