//! Why the store refuses a request, typed: a stable machine code ([`Refusal::code`]) with its
//! arguments, carried by [`crate::StoreError::Invalid`], [`crate::StoreError::Conflict`] and
//! [`crate::StoreError::Forbidden`] and by [`crate::registry::changes::Decided::Stale`].
//!
//! The store says no sentence in the reader's language: the server maps every variant to a
//! message of its message files (`quell_server::refusals`). `Display` is the English
//! sentence, for the log, the command line and callers without a language. The refusals of the
//! pure crates come wrapped: [`Refusal::Advisory`] and [`Refusal::Registry`].
//!
//! Invariants: codes never change once released (API clients may key on them); `what`, `field`
//! and similar arguments name a field in English (a JSON field or a form field), and the server
//! translates the ones a page shows.

/// A refusal of the store; see the module documentation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The advisory model refuses the content (`quell_advisory::Invalid`).
    #[error(transparent)]
    Advisory(#[from] quell_advisory::Invalid),
    /// The registry's rules (`quell_registry::Entry::validate`), every one broken; `; ` joined.
    #[error("{}", join(.0))]
    Registry(Vec<quell_registry::RuleBroken>),
    /// A free-text field is empty.
    #[error("{what} is required")]
    Required { what: &'static str },
    /// A field is longer than its limit.
    #[error("{what} is longer than {max} bytes")]
    TooLong { what: &'static str, max: usize },
    #[error("{what} contains control characters")]
    ControlCharacters { what: &'static str },
    /// A name (organisation, e-mail address, token) is empty, too long or holds control
    /// characters.
    #[error("{what} must be 1 to {max} bytes without control characters")]
    BadName { what: &'static str, max: usize },
    #[error("a password needs at least {min} characters")]
    PasswordTooShort { min: usize },
    #[error("the e-mail address needs an @")]
    EmailNeedsAt,
    #[error("a coordinator belongs to no organisation")]
    CoordinatorWithoutOrg,
    #[error("an organisation admin or member needs an organisation")]
    MemberNeedsOrg,
    #[error("org_id is required")]
    OrgIdRequired,
    #[error("an organisation named {name:?} exists")]
    OrgExists { name: String },
    #[error("a user {email:?} exists")]
    UserExists { email: String },
    #[error("only organisation admins and coordinators add users")]
    AddUsers,
    #[error("only organisation admins and coordinators list users")]
    ListUsers,
    #[error("only organisation admins and coordinators manage accounts")]
    ManageAccounts,
    #[error("you cannot disable or remove your own account")]
    OwnAccount,
    #[error("the current password is wrong")]
    WrongPassword,
    #[error("change your own password with your current one instead")]
    OwnPasswordReset,
    #[error("only coordinators set the two-factor policy")]
    TwoFactorPolicy,
    #[error("a second factor is set up already: remove it first")]
    SecondFactorExists,
    #[error("no enrolment to confirm (or that code was used)")]
    NoEnrolment,
    #[error("turn off your own second factor with a current code instead")]
    OwnSecondFactor,
    /// Single sign-on: the provider names an organisation this server does not have.
    #[error("the organisation {name:?} does not exist here")]
    SsoUnknownOrg { name: String },
    #[error("the provider named no organisation for this account")]
    SsoNoOrg,
    #[error("this account is disabled")]
    AccountDisabled,
    #[error("the provider names another organisation than this account's: an admin must move it")]
    SsoOtherOrg,
    #[error("at most {max} recipients")]
    TooManyRecipients { max: usize },
    /// A recipient that does not exist; `what` is `organisation`, `target group` or `user`.
    #[error("recipients: no {what} {id}")]
    NoRecipient { what: &'static str, id: i64 },
    #[error("at most {max} members")]
    TooManyMembers { max: usize },
    #[error("no target group {id}")]
    NoTargetGroup { id: i64 },
    #[error("group {id} contains this group (directly or through others): that would be a cycle")]
    GroupCycle { id: i64 },
    #[error("no organisation {id}")]
    NoOrganisation { id: i64 },
    #[error("a target group named {name:?} exists")]
    GroupExists { name: String },
    #[error("another target group has that name")]
    GroupNameTaken,
    #[error("version {version} is published and cannot change: create a new version")]
    VersionPublished { version: String },
    #[error("version {version} is still a draft: edit or publish it")]
    StillDraft { version: String },
    #[error("another new version was started at the same time")]
    ConcurrentVersion,
    #[error("nothing to publish: the newest version is already published")]
    NothingToPublish,
    #[error("publishing needs at least one affected product or component")]
    PublishNeedsProduct,
    #[error("this version was published meanwhile")]
    PublishedMeanwhile,
    /// A value not among the allowed ones (`field`: `result`, `decision`, `justification`).
    #[error("{field} must be one of {}", .allowed.join(", "))]
    NotOneOf { field: &'static str, allowed: Vec<&'static str> },
    /// A decision that needs a field (`what`: `measure`, `reason`, `justification`).
    #[error("a {decision} decision needs {what}")]
    DecisionNeeds { decision: String, what: &'static str },
    #[error("a risk_accepted decision needs expires_at in the future")]
    RiskAcceptedExpiry,
    #[error("the webhook URL must be an http(s) URL")]
    WebhookUrl,
    #[error("contact fields are one line each")]
    ContactOneLine,
    #[error("{tracking_id} version {version} of {publisher} is already imported")]
    AlreadyImported { tracking_id: String, version: String, publisher: String },
    #[error("{url} is subscribed already")]
    Subscribed { url: String },
    /// A registry entry with the same supplier and product exists (`merge`: when editing).
    #[error(
        "entry {other} already has this supplier and product ({supplier} / {product}){}",
        if *merge { ": merge the two instead" } else { "" }
    )]
    EntryExists { other: i64, supplier: String, product: String, merge: bool },
    #[error("an entry for {supplier} / {product} was just created")]
    EntryJustCreated { supplier: String, product: String },
    #[error("entry {id} changed since revision {revision} (or was merged): reload it and apply your change again")]
    EntryChanged { id: i64, revision: i64 },
    /// The duplicate of a merge changed since the revision the merge read.
    #[error("entry {id} changed since revision {revision}")]
    MergedEntryChanged { id: i64, revision: i64 },
    #[error("one of the entries was already merged")]
    AlreadyMerged,
    #[error("an entry changed since the revision you saw")]
    ChangedSinceSeen,
    #[error("an entry cannot be merged into itself")]
    MergeIntoItself,
    /// A status filter that is not one of the five statuses.
    #[error("{0}")]
    UnknownStatus(quell_registry::UnknownStatus),
    #[error("{text:?} is not a CVE id (CVE-YYYY-NNNN)")]
    NotCve { text: String },
    #[error("supplier and product are required (or an entry_id)")]
    ProductRequired,
    #[error("entry {id} was merged into entry {target}: propose there")]
    ProposeOnMerged { id: i64, target: i64 },
    /// As JSON, quoted: `proposal 3 is already "accepted"`.
    #[error("proposal {id} is already {state:?}")]
    ProposalState { id: i64, state: String },
    #[error("a reason is required")]
    ReasonRequired,
    #[error("proposal {id} was already decided")]
    ProposalDecided { id: i64 },
    #[error("confirmation request {id} was already answered")]
    ConfirmationAnswered { id: i64 },
}

fn join(rules: &[quell_registry::RuleBroken]) -> String {
    rules.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
}

impl Refusal {
    /// The stable machine code (`email_needs_at`, `entry_changed`, …); the pure crates' own
    /// codes for [`Refusal::Advisory`] (`quell_advisory::Invalid::code`) and the first broken
    /// rule's for [`Refusal::Registry`].
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::Advisory(invalid) => invalid.code(),
            Refusal::Registry(rules) => rules.first().map_or("registry", |r| r.code()),
            Refusal::Required { .. } => "required",
            Refusal::TooLong { .. } => "too_long",
            Refusal::ControlCharacters { .. } => "control_characters",
            Refusal::BadName { .. } => "bad_name",
            Refusal::PasswordTooShort { .. } => "password_too_short",
            Refusal::EmailNeedsAt => "email_needs_at",
            Refusal::CoordinatorWithoutOrg => "coordinator_without_org",
            Refusal::MemberNeedsOrg => "member_needs_org",
            Refusal::OrgIdRequired => "org_id_required",
            Refusal::OrgExists { .. } => "org_exists",
            Refusal::UserExists { .. } => "user_exists",
            Refusal::AddUsers => "add_users",
            Refusal::ListUsers => "list_users",
            Refusal::ManageAccounts => "manage_accounts",
            Refusal::OwnAccount => "own_account",
            Refusal::WrongPassword => "wrong_password",
            Refusal::OwnPasswordReset => "own_password_reset",
            Refusal::TwoFactorPolicy => "two_factor_policy",
            Refusal::SecondFactorExists => "second_factor_exists",
            Refusal::NoEnrolment => "no_enrolment",
            Refusal::OwnSecondFactor => "own_second_factor",
            Refusal::SsoUnknownOrg { .. } => "sso_unknown_org",
            Refusal::SsoNoOrg => "sso_no_org",
            Refusal::AccountDisabled => "account_disabled",
            Refusal::SsoOtherOrg => "sso_other_org",
            Refusal::TooManyRecipients { .. } => "too_many_recipients",
            Refusal::NoRecipient { .. } => "no_recipient",
            Refusal::TooManyMembers { .. } => "too_many_members",
            Refusal::NoTargetGroup { .. } => "no_target_group",
            Refusal::GroupCycle { .. } => "group_cycle",
            Refusal::NoOrganisation { .. } => "no_organisation",
            Refusal::GroupExists { .. } => "group_exists",
            Refusal::GroupNameTaken => "group_name_taken",
            Refusal::VersionPublished { .. } => "version_published",
            Refusal::StillDraft { .. } => "still_draft",
            Refusal::ConcurrentVersion => "concurrent_version",
            Refusal::NothingToPublish => "nothing_to_publish",
            Refusal::PublishNeedsProduct => "publish_needs_product",
            Refusal::PublishedMeanwhile => "published_meanwhile",
            Refusal::NotOneOf { .. } => "not_one_of",
            Refusal::DecisionNeeds { .. } => "decision_needs",
            Refusal::RiskAcceptedExpiry => "risk_accepted_expiry",
            Refusal::WebhookUrl => "webhook_url",
            Refusal::ContactOneLine => "contact_one_line",
            Refusal::AlreadyImported { .. } => "already_imported",
            Refusal::Subscribed { .. } => "subscribed",
            Refusal::EntryExists { .. } => "entry_exists",
            Refusal::EntryJustCreated { .. } => "entry_just_created",
            Refusal::EntryChanged { .. } => "entry_changed",
            Refusal::MergedEntryChanged { .. } => "merged_entry_changed",
            Refusal::AlreadyMerged => "already_merged",
            Refusal::ChangedSinceSeen => "changed_since_seen",
            Refusal::MergeIntoItself => "merge_into_itself",
            Refusal::UnknownStatus(_) => "unknown_status",
            Refusal::NotCve { .. } => "not_cve",
            Refusal::ProductRequired => "product_required",
            Refusal::ProposeOnMerged { .. } => "propose_on_merged",
            Refusal::ProposalState { .. } => "proposal_state",
            Refusal::ReasonRequired => "reason_required",
            Refusal::ProposalDecided { .. } => "proposal_decided",
            Refusal::ConfirmationAnswered { .. } => "confirmation_answered",
        }
    }

    /// One value of every variant (and of every variant of the wrapped refusals), for the
    /// server's test that each has a message in every language.
    pub fn examples() -> Vec<Refusal> {
        let text = || "x".to_string();
        let mut out: Vec<Refusal> = quell_advisory::Invalid::examples().into_iter().map(Refusal::Advisory).collect();
        out.extend(quell_registry::RuleBroken::examples().into_iter().map(|r| Refusal::Registry(vec![r])));
        out.push(Refusal::Registry(quell_registry::RuleBroken::examples()));
        out.extend([
            Refusal::Required { what: "note" },
            Refusal::TooLong { what: "note", max: 1 },
            Refusal::ControlCharacters { what: "note" },
            Refusal::BadName { what: "the e-mail address", max: 1 },
            Refusal::PasswordTooShort { min: 12 },
            Refusal::EmailNeedsAt,
            Refusal::CoordinatorWithoutOrg,
            Refusal::MemberNeedsOrg,
            Refusal::OrgIdRequired,
            Refusal::OrgExists { name: text() },
            Refusal::UserExists { email: text() },
            Refusal::AddUsers,
            Refusal::ListUsers,
            Refusal::ManageAccounts,
            Refusal::OwnAccount,
            Refusal::WrongPassword,
            Refusal::OwnPasswordReset,
            Refusal::TwoFactorPolicy,
            Refusal::SecondFactorExists,
            Refusal::NoEnrolment,
            Refusal::OwnSecondFactor,
            Refusal::SsoUnknownOrg { name: text() },
            Refusal::SsoNoOrg,
            Refusal::AccountDisabled,
            Refusal::SsoOtherOrg,
            Refusal::TooManyRecipients { max: 1000 },
            Refusal::NoRecipient { what: "organisation", id: 1 },
            Refusal::NoRecipient { what: "target group", id: 1 },
            Refusal::NoRecipient { what: "user", id: 1 },
            Refusal::TooManyMembers { max: 1000 },
            Refusal::NoTargetGroup { id: 1 },
            Refusal::GroupCycle { id: 1 },
            Refusal::NoOrganisation { id: 1 },
            Refusal::GroupExists { name: text() },
            Refusal::GroupNameTaken,
            Refusal::VersionPublished { version: "1.00".into() },
            Refusal::StillDraft { version: "1.01".into() },
            Refusal::ConcurrentVersion,
            Refusal::NothingToPublish,
            Refusal::PublishNeedsProduct,
            Refusal::PublishedMeanwhile,
            Refusal::NotOneOf { field: "decision", allowed: vec!["a", "b"] },
            Refusal::DecisionNeeds { decision: "mitigated".into(), what: "measure" },
            Refusal::RiskAcceptedExpiry,
            Refusal::WebhookUrl,
            Refusal::ContactOneLine,
            Refusal::AlreadyImported { tracking_id: text(), version: "1".into(), publisher: text() },
            Refusal::Subscribed { url: text() },
            Refusal::EntryExists { other: 1, supplier: text(), product: text(), merge: false },
            Refusal::EntryExists { other: 1, supplier: text(), product: text(), merge: true },
            Refusal::EntryJustCreated { supplier: text(), product: text() },
            Refusal::EntryChanged { id: 1, revision: 2 },
            Refusal::MergedEntryChanged { id: 1, revision: 2 },
            Refusal::AlreadyMerged,
            Refusal::ChangedSinceSeen,
            Refusal::MergeIntoItself,
            Refusal::UnknownStatus(quell_registry::UnknownStatus(text())),
            Refusal::NotCve { text: text() },
            Refusal::ProductRequired,
            Refusal::ProposeOnMerged { id: 1, target: 2 },
            Refusal::ProposalState { id: 1, state: "accepted".into() },
            Refusal::ReasonRequired,
            Refusal::ProposalDecided { id: 1 },
            Refusal::ConfirmationAnswered { id: 1 },
        ]);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The English sentences are those the store said before it typed its refusals.
    #[test]
    fn english_as_before() {
        assert_eq!(Refusal::EmailNeedsAt.to_string(), "the e-mail address needs an @");
        assert_eq!(
            Refusal::Advisory(quell_advisory::Invalid::Required { field: "title".into() }).to_string(),
            "title is required"
        );
        assert_eq!(
            Refusal::Registry(vec![
                quell_registry::RuleBroken::SupplierEmpty,
                quell_registry::RuleBroken::NoSourceLink
            ])
            .to_string(),
            "supplier is empty; at least one source link (vendor statement) is required"
        );
        assert_eq!(
            Refusal::NotOneOf { field: "decision", allowed: vec!["mitigated", "patched"] }.to_string(),
            "decision must be one of mitigated, patched"
        );
        assert_eq!(
            Refusal::EntryExists { other: 3, supplier: "A".into(), product: "B".into(), merge: true }.to_string(),
            "entry 3 already has this supplier and product (A / B): merge the two instead"
        );
        assert_eq!(
            Refusal::ProposalState { id: 3, state: "accepted".into() }.to_string(),
            "proposal 3 is already \"accepted\""
        );
        let codes: std::collections::BTreeSet<_> = Refusal::examples().iter().map(Refusal::code).collect();
        assert!(codes.len() > 60, "{}", codes.len());
    }
}

/// What a request named but the store does not hold (or not for the caller's organisation),
/// carried by [`crate::StoreError::NotFound`]. Typed like [`Refusal`]: the server says it in the
/// reader's language (`quell_server::refusals::missing`), `Display` is the English text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Missing {
    /// A thing by its id (or identifier): `advisory 5`, `registry entry 12`.
    #[error("{} {id}", .what.english())]
    Thing { what: Thing, id: String },
    #[error("advisory {advisory} version {version}")]
    AdvisoryVersion { advisory: i64, version: String },
    /// `system` as the API names it (`Host(5)`, `Application("shop")`).
    #[error("{system} is not an affected system of this advisory")]
    NotAffectedSystem { system: String },
    #[error("no organisation on this platform speaks for {supplier:?}")]
    NoSupplierOrg { supplier: String },
    #[error("no current pack named {name:?}")]
    NoPack { name: String },
    #[error("no organisation named {name:?}")]
    NoOrgNamed { name: String },
    #[error("no user {email:?}")]
    NoUserEmail { email: String },
    #[error("user {id} (or it is disabled)")]
    UserOrDisabled { id: i64 },
    #[error("this reset link is unknown, used or expired: ask your administrator for a new one")]
    ResetLink,
}

/// The kinds of stored things a request names by id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Thing {
    Advisory,
    ImportedAdvisory,
    CallListEntry,
    TargetGroup,
    Subscription,
    Host,
    Report,
    User,
    Organisation,
    RegistryEntry,
    ConfirmationRequest,
    Product,
    Notification,
    Proposal,
}

impl Thing {
    /// Every kind, for tests.
    pub const ALL: [Thing; 14] = [
        Thing::Advisory,
        Thing::ImportedAdvisory,
        Thing::CallListEntry,
        Thing::TargetGroup,
        Thing::Subscription,
        Thing::Host,
        Thing::Report,
        Thing::User,
        Thing::Organisation,
        Thing::RegistryEntry,
        Thing::ConfirmationRequest,
        Thing::Product,
        Thing::Notification,
        Thing::Proposal,
    ];

    /// The English name, as the API's messages have always said it.
    pub fn english(self) -> &'static str {
        match self {
            Thing::Advisory => "advisory",
            Thing::ImportedAdvisory => "imported advisory",
            Thing::CallListEntry => "call list entry",
            Thing::TargetGroup => "target group",
            Thing::Subscription => "subscription",
            Thing::Host => "host",
            Thing::Report => "report",
            Thing::User => "user",
            Thing::Organisation => "organisation",
            Thing::RegistryEntry => "registry entry",
            Thing::ConfirmationRequest => "confirmation request",
            Thing::Product => "product",
            Thing::Notification => "notification",
            Thing::Proposal => "proposal",
        }
    }

    /// A stable machine name (`registry_entry`).
    pub fn code(self) -> &'static str {
        match self {
            Thing::Advisory => "advisory",
            Thing::ImportedAdvisory => "imported_advisory",
            Thing::CallListEntry => "call_list_entry",
            Thing::TargetGroup => "target_group",
            Thing::Subscription => "subscription",
            Thing::Host => "host",
            Thing::Report => "report",
            Thing::User => "user",
            Thing::Organisation => "organisation",
            Thing::RegistryEntry => "registry_entry",
            Thing::ConfirmationRequest => "confirmation_request",
            Thing::Product => "product",
            Thing::Notification => "notification",
            Thing::Proposal => "proposal",
        }
    }
}

impl Missing {
    /// A thing by its id.
    pub fn thing(what: Thing, id: impl std::fmt::Display) -> Missing {
        Missing::Thing { what, id: id.to_string() }
    }

    /// One value of every variant and every [`Thing`], for the server's test that each has a
    /// message in every language.
    pub fn examples() -> Vec<Missing> {
        let mut out: Vec<Missing> = Thing::ALL.iter().map(|what| Missing::thing(*what, 7)).collect();
        out.extend([
            Missing::AdvisoryVersion { advisory: 7, version: "1.01".into() },
            Missing::NotAffectedSystem { system: "Host(7)".into() },
            Missing::NoSupplierOrg { supplier: "Acme".into() },
            Missing::NoPack { name: "log4j".into() },
            Missing::NoOrgNamed { name: "Acme".into() },
            Missing::NoUserEmail { email: "a@example.org".into() },
            Missing::UserOrDisabled { id: 7 },
            Missing::ResetLink,
        ]);
        out
    }
}
