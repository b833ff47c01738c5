//! The typed refusals of the pure crates and the store in the reader's language.
//!
//! `quell-advisory` ([`Invalid`], [`ImportProblem`]), `quell-registry` ([`RuleBroken`]) and
//! `quell-store` ([`Refusal`]) return a variant with its arguments and a stable machine code,
//! never a sentence in a language: they know nothing of the server's message files. Here every
//! variant becomes its message of `locales/{en,nl}/refusals.ftl` through [`crate::t!`]; the
//! `match`es are exhaustive, so a new variant does not compile until it has a message, and the
//! unit tests render every variant ([`Refusal::examples`]) in both languages. The English
//! messages are the crates' own `Display`, word for word (tested), so English readers and API
//! clients see what they saw before.
//!
//! Field names (`title`, `products[2].supplier`, `the e-mail address`) stay as the crates name
//! them in English; [`field`] gives the reader's word for the ones a page shows.

use quell_advisory::csaf::ImportProblem;
use quell_advisory::{ComponentProblem, Invalid};
use quell_model::purl::{PurlError, PurlProblem};
use quell_model::vers::{VersError, VersProblem};
use quell_registry::RuleBroken;
use quell_store::{Missing, Refusal, Thing};

use crate::i18n::{self, Lang};

/// A limit (bytes, characters, a count) in the reader's language. English keeps the plain
/// digits the crates' `Display` has (`20000 bytes`); Dutch groups them (`20.000 bytes`).
pub(crate) fn limit(n: impl std::fmt::Display) -> String {
    match i18n::current() {
        Lang::En => n.to_string(),
        Lang::Nl => i18n::number(n),
    }
}

/// The reader's name of a field the crates name in English: `field-<name>` (`the e-mail
/// address` → `field-the-e-mail-address`), or for an indexed one (`products[2].supplier`)
/// `field-products-supplier` with its index; the name itself when there is no message for it.
pub fn field(name: &str) -> String {
    let (base, index) = match name.split_once('[') {
        Some((base, rest)) => {
            let (index, sub) = rest.split_once(']').unwrap_or((rest, ""));
            let sub = sub.trim_start_matches('.');
            let key = if sub.is_empty() { base.to_string() } else { format!("{base}.{sub}") };
            (key, index.parse::<usize>().ok())
        }
        None => (name.to_string(), None),
    };
    let mut slug = String::with_capacity(base.len());
    for c in base.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.ends_with('-') {
            slug.push('-');
        }
    }
    let id = format!("field-{}", slug.trim_matches('-'));
    let lang = i18n::current();
    if !i18n::has_message(lang, &id) {
        return name.to_string();
    }
    let mut args = fluent_bundle::FluentArgs::new();
    if let Some(i) = index {
        args.set("i", i.to_string());
        args.set("n", (i + 1).to_string());
    }
    i18n::message(lang, &id, Some(&args))
}

/// `"text"` as the crates quote it (Rust's `{:?}`).
fn quoted(text: &str) -> String {
    format!("{text:?}")
}

/// An advisory the model refuses.
pub fn invalid(error: &Invalid) -> String {
    match error {
        Invalid::Required { field: f } => t!("invalid-required", field = field(f)),
        Invalid::TooLong { field: f, max } => t!("invalid-too-long", field = field(f), max = limit(*max)),
        Invalid::ControlCharacters { field: f } => t!("invalid-control-characters", field = field(f)),
        Invalid::Language { lang } => {
            t!("invalid-language", languages = format!("{:?}", quell_advisory::LANGUAGES), lang = quoted(lang))
        }
        Invalid::TranslationLanguage { original, lang } => {
            t!("invalid-translation-language", original = quoted(original), lang = quoted(lang))
        }
        Invalid::TitleOneLine { translated: false } => t!("invalid-title-one-line"),
        Invalid::TitleOneLine { translated: true } => t!("invalid-translated-title-one-line"),
        Invalid::TooManyCves { max } => t!("invalid-too-many-cves", max = limit(*max)),
        Invalid::NotCve { index, cve } => t!("invalid-not-cve", index = index.to_string(), cve = quoted(cve)),
        Invalid::CveTwice { cve } => t!("invalid-cve-twice", cve = cve.as_str()),
        Invalid::TooManyProducts { max } => t!("invalid-too-many-products", max = limit(*max)),
        Invalid::TooManyComponents { max } => t!("invalid-too-many-components", max = limit(*max)),
        Invalid::Component { index, detail } => t!(
            "invalid-component",
            index = index.to_string(),
            n = (index + 1).to_string(),
            detail = component_problem(detail)
        ),
        Invalid::ComponentVersionTwice { index } => {
            t!("invalid-component-version-twice", index = index.to_string(), n = (index + 1).to_string())
        }
        Invalid::TooManyReferences { max } => t!("invalid-too-many-references", max = limit(*max)),
        Invalid::NotUrl { index, url } => {
            t!("invalid-not-url", index = index.to_string(), n = (index + 1).to_string(), url = quoted(url))
        }
        Invalid::OverrideReason { which } => t!("invalid-override-reason", which = field(which)),
        Invalid::OverrideReasonTooLong { which, max } => {
            t!("invalid-override-reason-too-long", which = field(which), max = limit(*max))
        }
        Invalid::Prefix { prefix, max } => t!("invalid-prefix", prefix = quoted(prefix), max = limit(*max)),
        Invalid::Identifier { text } => t!("invalid-identifier", text = quoted(text)),
        Invalid::Version { text } => t!("invalid-version", text = quoted(text)),
        Invalid::Csaf(problem) => t!("invalid-csaf", problem = import_problem(problem)),
    }
}

/// Why an imported CSAF document is refused.
pub fn import_problem(problem: &ImportProblem) -> String {
    match problem {
        ImportProblem::NoDocument => t!("csaf-no-document"),
        ImportProblem::Missing { pointer } => t!("csaf-missing", pointer = *pointer),
        ImportProblem::CsafVersion => t!("csaf-version"),
        ImportProblem::NoRevisionHistory => t!("csaf-no-revision-history"),
        ImportProblem::NeedsVulnerabilities => t!("csaf-needs-vulnerabilities"),
        ImportProblem::NeedsProductTree => t!("csaf-needs-product-tree"),
        ImportProblem::NotCve { index } => t!("csaf-not-cve", index = index.to_string()),
        ImportProblem::UndefinedProduct { index, product } => {
            t!("csaf-undefined-product", index = index.to_string(), product = product.as_str())
        }
    }
}

/// A rule of the product registry an entry breaks.
pub fn rule(rule: &RuleBroken) -> String {
    match rule {
        RuleBroken::SupplierEmpty => t!("rule-supplier-empty"),
        RuleBroken::ProductEmpty => t!("rule-product-empty"),
        RuleBroken::NoSourceLink => t!("rule-no-source-link"),
        RuleBroken::LinkNotUrl { link } => t!("rule-link-not-url", link = quoted(link)),
        RuleBroken::NotCve { cve } => t!("rule-not-cve", cve = quoted(cve)),
        RuleBroken::FixWithoutVersion { cve } => t!("rule-fix-without-version", cve = cve.as_str()),
        RuleBroken::Purl { purl } => t!("rule-purl", purl = quoted(purl)),
        RuleBroken::Cpe { cpe } => t!("rule-cpe", cpe = quoted(cpe)),
    }
}

/// Why a signed detection pack is refused (`quell_packs::signed::verify`); the parser's own
/// details (a malformed signature, a pack's `file:line: reason`) stay as they are.
pub fn signature(error: &quell_packs::signed::SignatureError) -> String {
    use quell_packs::signed::{EXPIRES_KEY, SignatureError};
    match error {
        SignatureError::Unsigned => t!("pack-unsigned"),
        SignatureError::Malformed(why) => t!("pack-malformed", why = why.as_str()),
        SignatureError::WrongKey { signed_by, pinned } => {
            t!("pack-wrong-key", signed_by = signed_by.as_str(), pinned = pinned.as_str())
        }
        SignatureError::BadSignature => t!("pack-bad-signature"),
        SignatureError::NoExpiry { comment } => t!("pack-no-expiry", comment = quoted(comment), key = EXPIRES_KEY),
        SignatureError::BadExpiry { value } => t!("pack-bad-expiry", value = value.as_str(), key = EXPIRES_KEY),
        SignatureError::Expired { expires_at } => t!("pack-expired", expires_at = expires_at.as_str()),
        SignatureError::Pack(errors) => t!("pack-invalid", errors = errors.join("; ")),
    }
}

/// A refusal of the store (and, wrapped in it, of the pure crates).
pub fn refusal(refusal: &Refusal) -> String {
    match refusal {
        Refusal::Advisory(error) => invalid(error),
        Refusal::Registry(rules) => rules.iter().map(rule).collect::<Vec<_>>().join(&t!("rule-separator")),
        Refusal::Required { what } => t!("invalid-required", field = field(what)),
        Refusal::TooLong { what, max } => t!("invalid-too-long", field = field(what), max = limit(*max)),
        Refusal::ControlCharacters { what } => t!("invalid-control-characters", field = field(what)),
        Refusal::BadName { what, max } => t!("refusal-bad-name", what = field(what), max = limit(*max)),
        Refusal::PasswordTooShort { min } => t!("refusal-password-too-short", min = limit(*min)),
        Refusal::EmailNeedsAt => t!("refusal-email-needs-at"),
        Refusal::CoordinatorWithoutOrg => t!("refusal-coordinator-without-org"),
        Refusal::MemberNeedsOrg => t!("refusal-member-needs-org"),
        Refusal::OrgIdRequired => t!("refusal-org-id-required"),
        Refusal::OrgExists { name } => t!("refusal-org-exists", name = quoted(name)),
        Refusal::UserExists { email } => t!("refusal-user-exists", email = quoted(email)),
        Refusal::AddUsers => t!("refusal-add-users"),
        Refusal::ListUsers => t!("refusal-list-users"),
        Refusal::ManageAccounts => t!("refusal-manage-accounts"),
        Refusal::OwnAccount => t!("refusal-own-account"),
        Refusal::WrongPassword => t!("refusal-wrong-password"),
        Refusal::OwnPasswordReset => t!("refusal-own-password-reset"),
        Refusal::TwoFactorPolicy => t!("refusal-two-factor-policy"),
        Refusal::SecondFactorExists => t!("refusal-second-factor-exists"),
        Refusal::NoEnrolment => t!("refusal-no-enrolment"),
        Refusal::OwnSecondFactor => t!("refusal-own-second-factor"),
        Refusal::SsoUnknownOrg { name } => t!("refusal-sso-unknown-org", name = quoted(name)),
        Refusal::SsoNoOrg => t!("refusal-sso-no-org"),
        Refusal::AccountDisabled => t!("refusal-account-disabled"),
        Refusal::SsoOtherOrg => t!("refusal-sso-other-org"),
        Refusal::TooManyRecipients { max } => t!("refusal-too-many-recipients", max = limit(*max)),
        Refusal::NoRecipient { what, id } => t!("refusal-no-recipient", what = field(what), id = id.to_string()),
        Refusal::TooManyMembers { max } => t!("refusal-too-many-members", max = limit(*max)),
        Refusal::NoTargetGroup { id } => t!("refusal-no-target-group", id = id.to_string()),
        Refusal::GroupCycle { id } => t!("refusal-group-cycle", id = id.to_string()),
        Refusal::NoOrganisation { id } => t!("refusal-no-organisation", id = id.to_string()),
        Refusal::GroupExists { name } => t!("refusal-group-exists", name = quoted(name)),
        Refusal::GroupNameTaken => t!("refusal-group-name-taken"),
        Refusal::VersionPublished { version } => t!("refusal-version-published", version = version.as_str()),
        Refusal::StillDraft { version } => t!("refusal-still-draft", version = version.as_str()),
        Refusal::ConcurrentVersion => t!("refusal-concurrent-version"),
        Refusal::NothingToPublish => t!("refusal-nothing-to-publish"),
        Refusal::PublishNeedsProduct => t!("refusal-publish-needs-product"),
        Refusal::PublishedMeanwhile => t!("refusal-published-meanwhile"),
        Refusal::NotOneOf { field: f, allowed } => {
            t!("refusal-not-one-of", field = field(f), allowed = allowed.join(", "))
        }
        Refusal::DecisionNeeds { decision, what } => t!(
            "refusal-decision-needs",
            decision = decision.as_str(),
            decision_name = i18n::code(decision),
            what = field(what)
        ),
        Refusal::RiskAcceptedExpiry => t!("refusal-risk-accepted-expiry"),
        Refusal::WebhookUrl => t!("refusal-webhook-url"),
        Refusal::ContactOneLine => t!("refusal-contact-one-line"),
        Refusal::AlreadyImported { tracking_id, version, publisher } => t!(
            "refusal-already-imported",
            tracking_id = tracking_id.as_str(),
            version = version.as_str(),
            publisher = publisher.as_str()
        ),
        Refusal::Subscribed { url } => t!("refusal-subscribed", url = url.as_str()),
        Refusal::EntryExists { other, supplier, product, merge: false } => t!(
            "refusal-entry-exists",
            other = other.to_string(),
            supplier = supplier.as_str(),
            product = product.as_str()
        ),
        Refusal::EntryExists { other, supplier, product, merge: true } => t!(
            "refusal-entry-exists-merge",
            other = other.to_string(),
            supplier = supplier.as_str(),
            product = product.as_str()
        ),
        Refusal::EntryJustCreated { supplier, product } => {
            t!("refusal-entry-just-created", supplier = supplier.as_str(), product = product.as_str())
        }
        Refusal::EntryChanged { id, revision } => {
            t!("refusal-entry-changed", id = id.to_string(), revision = revision.to_string())
        }
        Refusal::MergedEntryChanged { id, revision } => {
            t!("refusal-merged-entry-changed", id = id.to_string(), revision = revision.to_string())
        }
        Refusal::AlreadyMerged => t!("refusal-already-merged"),
        Refusal::ChangedSinceSeen => t!("refusal-changed-since-seen"),
        Refusal::MergeIntoItself => t!("refusal-merge-into-itself"),
        Refusal::UnknownStatus(status) => t!("refusal-unknown-status", status = quoted(&status.0)),
        Refusal::NotCve { text } => t!("refusal-not-cve", text = quoted(text)),
        Refusal::ProductRequired => t!("refusal-product-required"),
        Refusal::ProposeOnMerged { id, target } => {
            t!("refusal-propose-on-merged", id = id.to_string(), target = target.to_string())
        }
        Refusal::ProposalState { id, state } => {
            t!("refusal-proposal-state", id = id.to_string(), state = quoted(state), state_name = i18n::code(state))
        }
        Refusal::ReasonRequired => t!("refusal-reason-required"),
        Refusal::ProposalDecided { id } => t!("refusal-proposal-decided", id = id.to_string()),
        Refusal::ConfirmationAnswered { id } => t!("refusal-confirmation-answered", id = id.to_string()),
    }
}

/// Why an advisory's component does not parse.
fn component_problem(problem: &ComponentProblem) -> String {
    match problem {
        ComponentProblem::Purl(e) => purl_error(e),
        ComponentProblem::Versions(e) => vers_error(e),
    }
}

/// A package URL that does not parse (`quell_model::purl`).
pub fn purl_error(error: &PurlError) -> String {
    let problem = match &error.0 {
        PurlProblem::BadEscape { text } => t!("purl-bad-escape", text = quoted(text)),
        PurlProblem::InvalidUtf8 { text } => t!("purl-invalid-utf8", text = quoted(text)),
        PurlProblem::TooLong { max } => t!("purl-too-long", max = limit(*max)),
        PurlProblem::ControlCharacters => t!("purl-control-characters"),
        PurlProblem::NoScheme { text } => t!("purl-no-scheme", text = quoted(text)),
        PurlProblem::NoType { text } => t!("purl-no-type", text = quoted(text)),
        PurlProblem::NotAType { kind } => t!("purl-not-a-type", kind = quoted(kind)),
        PurlProblem::NoName { text } => t!("purl-no-name", text = quoted(text)),
        PurlProblem::MavenShape { text } => t!("purl-maven-shape", text = quoted(text)),
        PurlProblem::EmptyVersion { text } => t!("purl-empty-version", text = quoted(text)),
    };
    t!("purl-error", problem = problem)
}

/// A version range that does not parse (`quell_model::vers`).
pub fn vers_error(error: &VersError) -> String {
    let problem = match &error.problem {
        VersProblem::NoScheme => t!("vers-no-scheme"),
        VersProblem::SchemeNotPurlType => t!("vers-scheme-not-purl-type"),
        VersProblem::TooManyConstraints { max } => t!("vers-too-many-constraints", max = limit(*max)),
        VersProblem::EmptyConstraint => t!("vers-empty-constraint"),
        VersProblem::StarNotAlone => t!("vers-star-not-alone"),
        VersProblem::NoVersion { part } => t!("vers-no-version", part = quoted(part)),
        VersProblem::Twice { version } => t!("vers-twice", version = version.as_str()),
        VersProblem::TwoLowerBounds => t!("vers-two-lower-bounds"),
        VersProblem::TwoUpperBounds => t!("vers-two-upper-bounds"),
        VersProblem::MavenStart => t!("vers-maven-start"),
        VersProblem::MavenNotClosed => t!("vers-maven-not-closed"),
        VersProblem::TrailingComma => t!("vers-trailing-comma"),
        VersProblem::MavenSeparator => t!("vers-maven-separator"),
        VersProblem::TooManyRanges { max } => t!("vers-too-many-ranges", max = limit(*max)),
        VersProblem::OneVersionBrackets => t!("vers-one-version-brackets"),
        VersProblem::TwoBounds => t!("vers-two-bounds"),
        VersProblem::LowerAboveUpper => t!("vers-lower-above-upper"),
        VersProblem::TooLong { max } => t!("vers-too-long", max = limit(*max)),
        VersProblem::Empty => t!("vers-empty"),
        VersProblem::WhiteSpace => t!("vers-white-space"),
        VersProblem::ControlCharacters => t!("vers-control-characters"),
        VersProblem::NotPackRange => t!("vers-not-pack-range"),
        VersProblem::NotOneVersion => t!("vers-not-one-version"),
    };
    let text = error.text.as_ref().map(|t| format!("{}: ", quoted(t))).unwrap_or_default();
    t!("vers-error", text = text, problem = problem)
}

/// The reader's name of a kind of stored thing./// The reader's name of a kind of stored thing.
fn thing(what: Thing) -> String {
    match what {
        Thing::Advisory => t!("thing-advisory"),
        Thing::ImportedAdvisory => t!("thing-imported-advisory"),
        Thing::CallListEntry => t!("thing-call-list-entry"),
        Thing::TargetGroup => t!("thing-target-group"),
        Thing::Subscription => t!("thing-subscription"),
        Thing::Host => t!("thing-host"),
        Thing::Report => t!("thing-report"),
        Thing::User => t!("thing-user"),
        Thing::Organisation => t!("thing-organisation"),
        Thing::RegistryEntry => t!("thing-registry-entry"),
        Thing::ConfirmationRequest => t!("thing-confirmation-request"),
        Thing::Product => t!("thing-product"),
        Thing::Notification => t!("thing-notification"),
        Thing::Proposal => t!("thing-proposal"),
    }
}

/// What the store (or a handler) did not find, in the reader's language; the English is the
/// store's own `Display`, word for word.
pub fn missing(missing: &Missing) -> String {
    match missing {
        Missing::Thing { what, id } => t!("missing-thing", what = thing(*what), id = id.as_str()),
        Missing::AdvisoryVersion { advisory, version } => {
            t!("missing-advisory-version", advisory = advisory.to_string(), version = version.as_str())
        }
        Missing::NotAffectedSystem { system } => t!("missing-not-affected-system", system = system.as_str()),
        Missing::NoSupplierOrg { supplier } => t!("missing-no-supplier-org", supplier = quoted(supplier)),
        Missing::NoPack { name } => t!("missing-no-pack", name = quoted(name)),
        Missing::NoOrgNamed { name } => t!("missing-no-org-named", name = quoted(name)),
        Missing::NoUserEmail { email } => t!("missing-no-user-email", email = quoted(email)),
        Missing::UserOrDisabled { id } => t!("missing-user-or-disabled", id = id.to_string()),
        Missing::ResetLink => t!("missing-reset-link"),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    /// Every refusal of every crate has a message in both languages: English word for word the
    /// crate's own sentence, Dutch another sentence, and neither shows a message id.
    #[test]
    fn every_refusal_in_both_languages() {
        let examples = Refusal::examples();
        assert!(examples.len() > 90, "{} examples", examples.len());
        for example in &examples {
            let english = i18n::with(Lang::En, || refusal(example));
            assert_eq!(english, example.to_string(), "{}: English differs from Display", example.code());
            let dutch = i18n::with(Lang::Nl, || refusal(example));
            assert!(
                ["refusal-", "invalid-", "rule-", "csaf-", "field-"].iter().all(|id| !dutch.contains(id)),
                "{dutch}"
            );
            assert_ne!(dutch, english, "{}: not translated", example.code());
        }
    }

    /// Every purl and version-range problem in both languages, English word for word the
    /// parsers' own `Display`.
    #[test]
    fn purl_and_range_problems_in_both_languages() {
        for problem in PurlProblem::examples() {
            let error = PurlError(problem);
            assert_eq!(i18n::with(Lang::En, || purl_error(&error)), error.to_string());
            let dutch = i18n::with(Lang::Nl, || purl_error(&error));
            assert_ne!(dutch, error.to_string(), "not translated");
        }
        for (i, problem) in VersProblem::examples().into_iter().enumerate() {
            let error = VersError { text: (i % 2 == 0).then(|| "[1.0".to_string()), problem };
            assert_eq!(i18n::with(Lang::En, || vers_error(&error)), error.to_string());
            let dutch = i18n::with(Lang::Nl, || vers_error(&error));
            assert_ne!(dutch, error.to_string(), "not translated");
        }
    }

    /// Every "not found" of the store in both languages: English word for word its `Display`.
    #[test]
    fn every_missing_thing_in_both_languages() {
        for example in Missing::examples() {
            let english = i18n::with(Lang::En, || missing(&example));
            assert_eq!(english, example.to_string());
            let dutch = i18n::with(Lang::Nl, || missing(&example));
            assert!(!dutch.contains("missing-") && !dutch.contains("thing-"), "{dutch}");
            if !matches!(example, Missing::Thing { what: Thing::Host | Thing::Product, .. }) {
                assert_ne!(dutch, english, "not translated");
            }
        }
        let dutch = i18n::with(Lang::Nl, || missing(&Missing::thing(Thing::RegistryEntry, 12)));
        assert_eq!(dutch, "registervermelding 12");
    }

    #[test]
    fn pack_signature_refusals_in_both_languages() {
        use quell_packs::signed::SignatureError;
        let all = [
            SignatureError::Unsigned,
            SignatureError::Malformed("x".into()),
            SignatureError::WrongKey { signed_by: "A".into(), pinned: "B".into() },
            SignatureError::BadSignature,
            SignatureError::NoExpiry { comment: "c".into() },
            SignatureError::BadExpiry { value: "v".into() },
            SignatureError::Expired { expires_at: "2026-01-01T00:00:00Z".into() },
            SignatureError::Pack(vec!["a.toml:1: bad".into(), "a.toml:2: bad".into()]),
        ];
        for error in &all {
            assert_eq!(i18n::with(Lang::En, || signature(error)), error.to_string());
            let dutch = i18n::with(Lang::Nl, || signature(error));
            assert!(!dutch.contains("pack-") && dutch != error.to_string(), "{dutch}");
        }
    }

    #[test]
    fn fields_in_the_readers_language() {
        i18n::with(Lang::Nl, || {
            assert_eq!(field("title"), "de titel");
            assert_eq!(field("products[2].supplier"), "de leverancier van product 3");
            assert_eq!(field("references[0]"), "referentie 1");
            assert_eq!(field("the e-mail address"), "het e-mailadres");
            assert_eq!(field("unknown_field"), "unknown_field");
            assert_eq!(
                refusal(&Refusal::Advisory(Invalid::Required { field: "title".into() })),
                "de titel is verplicht"
            );
            assert_eq!(
                refusal(&Refusal::Advisory(Invalid::TooLong { field: "summary".into(), max: 20_000 })),
                "de samenvatting is langer dan 20.000 bytes"
            );
        });
        i18n::with(Lang::En, || {
            for name in ["title", "products[2].supplier", "references[0]", "the e-mail address", "revision_note"] {
                assert_eq!(field(name), name);
            }
        });
    }
}
