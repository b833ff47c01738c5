//! Advisories in the database: drafts, per-year numbering, versions, publication (audience,
//! delivery queue, call list), target groups, the delivery queue, affected systems and
//! decisions, CSAF imports. The decisions themselves (rating, TLP access rule, states of
//! systems) are the pure crate `quell-advisory`.
//!
//! Parts: [`store`] (advisories, versions, publication, recipients, call list), [`groups`] (target groups, resolving recipients),
//! [`deliveries`] (the delivery queue and its log), [`systems`] (affected systems, decisions),
//! [`csaf`] (imports, the provider directory's date), [`subscriptions`] (the aggregator's
//! subscriptions to other providers, their poll log and conditional-request cache), [`orgs`] (webhooks and contacts of
//! organisations).
//!
//! Invariants:
//! - A published version is immutable: updates are conditional on `status = 'draft'` (409
//!   otherwise), and database triggers refuse any change to a published row. A change is a new
//!   version (a new row).
//! - Identifiers are numbered per year by an upsert of `advisory_counters` inside the creating
//!   transaction, so concurrent creations (even from several processes) never share a number.
//! - Decisions are append-only (triggers refuse UPDATE and DELETE); the latest one counts.
//! - A delivery is claimed by a conditional `UPDATE` (pending and due, or claimed by a process
//!   whose lease ran out); only the process whose update changed the row sends it.
//! - Organisation data (hosts, decisions, contacts, webhooks) is read and written only with the
//!   organisation the caller passes from its principal; coordinators get counts per
//!   organisation and per target group, never host names.
//! - Whatever is read for a viewer goes through [`quell_advisory::can_view`] over the audience
//!   stored at publication ([`StoredAudience`]).

use crate::Refusal;
use quell_advisory::Audience;

use crate::StoreError;

pub mod csaf;
pub mod deliveries;
pub mod groups;
pub mod orgs;
pub mod store;
pub mod subscriptions;
pub mod systems;

/// Most advisory versions read for one listing (the newest first).
pub const MAX_LISTED_VERSIONS: i64 = 20_000;
/// Most explicit recipients (organisations, groups, named users) of one advisory.
pub const MAX_RECIPIENTS: usize = 10_000;
/// Longest text of a decision's measure, reason or note, a contact field, a group name.
pub const MAX_NOTE_BYTES: usize = 2000;

/// The audience of a published version as stored at publication.
#[derive(Debug, Clone, Default)]
pub struct StoredAudience {
    pub orgs: Vec<i64>,
    pub named: Vec<i64>,
}

impl StoredAudience {
    /// The audience as the access rule takes it.
    pub fn of(&self, author: i64) -> Audience<'_> {
        Audience { author, orgs: &self.orgs, named: &self.named }
    }
}

/// Checks free text of a note-like field.
pub fn check_note(what: &'static str, value: &str, required: bool) -> Result<(), StoreError> {
    if required && value.trim().is_empty() {
        return Err(StoreError::Invalid(Refusal::Required { what }));
    }
    if value.len() > MAX_NOTE_BYTES {
        return Err(StoreError::Invalid(Refusal::TooLong { what, max: MAX_NOTE_BYTES }));
    }
    if value.chars().any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t') {
        return Err(StoreError::Invalid(Refusal::ControlCharacters { what }));
    }
    Ok(())
}

/// The year of a Unix time.
pub fn year_of(unix: i64) -> i64 {
    quell_model::time::civil_from_days(unix.div_euclid(86_400)).0
}

/// Builds `$n, $n+1, …` placeholders for an `IN (…)` list starting at `$first`.
pub(crate) fn placeholders(first: usize, count: usize) -> String {
    (first..first + count).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_count_from_first() {
        assert_eq!(placeholders(3, 2), "$3, $4");
    }
}
