//! The advisory model of `quell serve`, pure (no I/O, no clock): the chance × damage
//! questionnaire and its derived labels ([`rating`]), TLP 2.0 markings and the one access rule
//! every channel applies ([`tlp`]), advisory identifiers and versions ([`ident`]), and the
//! renderers of a published advisory as a CSAF 2.0 `csaf_security_advisory` ([`csaf`]) and of
//! an Atom feed ([`atom`]); affected systems over time, their states, counts and progress
//! ([`progress`]).
//!
//! Invariants:
//! - Every function is deterministic: times, ids and URLs come in as arguments.
//! - [`tlp::may_see`] is the only place that decides who may see an advisory; the server calls it
//!   (through [`tlp::can_view`], which adds that drafts are for coordinators) for pages, the API,
//!   the feed, the CSAF directories, webhooks and e-mail alike.

pub mod atom;
pub mod csaf;
pub mod ident;
pub mod model;
pub mod progress;
pub mod rating;
pub mod rolie;
pub mod tlp;

pub use ident::{AdvisoryId, Version};
pub use model::{AdvisoryContent, AffectedComponent, LANGUAGES, Product, Translation};
pub use rating::{Answers, Damage, DeadlineClass, Level, Rating, Severity};
pub use tlp::{Audience, Tlp, Viewer, can_view, is_coordinator, may_see};

/// Why a component of an advisory (a purl and a version range) does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ComponentProblem {
    #[error(transparent)]
    Purl(#[from] quell_model::purl::PurlError),
    #[error(transparent)]
    Versions(#[from] quell_model::vers::VersError),
}

/// Bad input to the model, typed: a stable machine code ([`Invalid::code`]) with its arguments,
/// so a caller can say it in its reader's language. `Display` is the English sentence, which
/// says what to fix. `field` values are the JSON paths of the content (`title`,
/// `products[2].supplier`, `translation.summary`): machine-readable, never translated here.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Invalid {
    #[error("{field} is required")]
    Required { field: String },
    #[error("{field} is longer than {max} bytes")]
    TooLong { field: String, max: usize },
    #[error("{field} contains control characters")]
    ControlCharacters { field: String },
    #[error("lang must be one of {:?}, not {lang:?}", model::LANGUAGES)]
    Language { lang: String },
    #[error("translation.lang must be the other language than {original:?}, not {lang:?}")]
    TranslationLanguage { original: String, lang: String },
    /// The title (or, with `translated`, the translated title) holds a line break.
    #[error("{} is one line", if *translated { "the translated title" } else { "the title" })]
    TitleOneLine { translated: bool },
    #[error("at most {max} CVEs")]
    TooManyCves { max: usize },
    #[error("cves[{index}] is not a CVE id like CVE-2021-44228: {cve:?}")]
    NotCve { index: usize, cve: String },
    #[error("{cve} is listed twice")]
    CveTwice { cve: String },
    #[error("at most {max} products")]
    TooManyProducts { max: usize },
    #[error("at most {max} components")]
    TooManyComponents { max: usize },
    /// A component's purl or versions do not parse; `detail` is the parser's typed explanation.
    #[error("components[{index}]: {detail}")]
    Component { index: usize, detail: ComponentProblem },
    /// A component names a version both in its purl and in its range.
    #[error("components[{index}]: give the version in the purl or in range, not both")]
    ComponentVersionTwice { index: usize },
    #[error("at most {max} references")]
    TooManyReferences { max: usize },
    #[error("references[{index}] is not an http(s) URL: {url:?}")]
    NotUrl { index: usize, url: String },
    /// An override of the chance (`which`: `chance`) or damage (`damage`) without a reason.
    #[error("an override of {which} needs a written reason")]
    OverrideReason { which: &'static str },
    #[error("the {which} override reason is longer than {max} bytes")]
    OverrideReasonTooLong { which: &'static str, max: usize },
    #[error("an advisory prefix is 1 to {max} upper-case letters or digits, starting with a letter: {prefix:?}")]
    Prefix { prefix: String, max: usize },
    #[error("not an advisory identifier PREFIX-YYYY-NNNN: {text:?}")]
    Identifier { text: String },
    #[error("not an advisory version like 1.00: {text:?}")]
    Version { text: String },
    /// An imported document is not a CSAF 2.0 document quell can store.
    #[error("not a valid CSAF 2.0 document: {0}")]
    Csaf(csaf::ImportProblem),
}

impl Invalid {
    /// The stable machine code of the refusal (`required`, `too_long`, …): API clients and
    /// the server's message files key on it.
    pub fn code(&self) -> &'static str {
        match self {
            Invalid::Required { .. } => "required",
            Invalid::TooLong { .. } => "too_long",
            Invalid::ControlCharacters { .. } => "control_characters",
            Invalid::Language { .. } => "language",
            Invalid::TranslationLanguage { .. } => "translation_language",
            Invalid::TitleOneLine { .. } => "title_one_line",
            Invalid::TooManyCves { .. } => "too_many_cves",
            Invalid::NotCve { .. } => "not_cve",
            Invalid::CveTwice { .. } => "cve_twice",
            Invalid::TooManyProducts { .. } => "too_many_products",
            Invalid::TooManyComponents { .. } => "too_many_components",
            Invalid::Component { .. } => "component",
            Invalid::ComponentVersionTwice { .. } => "component_version_twice",
            Invalid::TooManyReferences { .. } => "too_many_references",
            Invalid::NotUrl { .. } => "not_url",
            Invalid::OverrideReason { .. } => "override_reason",
            Invalid::OverrideReasonTooLong { .. } => "override_reason_too_long",
            Invalid::Prefix { .. } => "prefix",
            Invalid::Identifier { .. } => "identifier",
            Invalid::Version { .. } => "version",
            Invalid::Csaf(_) => "csaf",
        }
    }

    /// One value of every variant, for callers' tests that each has a message.
    pub fn examples() -> Vec<Invalid> {
        let field = || "title".to_string();
        let mut out = vec![
            Invalid::Required { field: field() },
            Invalid::TooLong { field: field(), max: 300 },
            Invalid::ControlCharacters { field: field() },
            Invalid::Language { lang: "de".into() },
            Invalid::TranslationLanguage { original: "nl".into(), lang: "nl".into() },
            Invalid::TitleOneLine { translated: false },
            Invalid::TitleOneLine { translated: true },
            Invalid::TooManyCves { max: model::MAX_CVES },
            Invalid::NotCve { index: 0, cve: "CVE-1".into() },
            Invalid::CveTwice { cve: "CVE-2021-44228".into() },
            Invalid::TooManyProducts { max: model::MAX_PRODUCTS },
            Invalid::TooManyComponents { max: model::MAX_COMPONENTS },
            Invalid::Component {
                index: 0,
                detail: ComponentProblem::Purl(quell_model::purl::PurlError(
                    quell_model::purl::PurlProblem::ControlCharacters,
                )),
            },
            Invalid::Component {
                index: 1,
                detail: ComponentProblem::Versions(quell_model::vers::VersError {
                    text: Some("[1.0".into()),
                    problem: quell_model::vers::VersProblem::MavenNotClosed,
                }),
            },
            Invalid::ComponentVersionTwice { index: 0 },
            Invalid::TooManyReferences { max: model::MAX_REFERENCES },
            Invalid::NotUrl { index: 0, url: "ftp://x".into() },
            Invalid::OverrideReason { which: "chance" },
            Invalid::OverrideReasonTooLong { which: "damage", max: 2000 },
            Invalid::Prefix { prefix: "x".into(), max: ident::MAX_PREFIX_CHARS },
            Invalid::Identifier { text: "x".into() },
            Invalid::Version { text: "x".into() },
        ];
        out.extend(csaf::ImportProblem::examples().into_iter().map(Invalid::Csaf));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The English sentences are those the model said before its refusals were typed, and every
    /// variant has its own code.
    #[test]
    fn refusals_say_what_they_said() {
        assert_eq!(Invalid::Required { field: "title".into() }.to_string(), "title is required");
        assert_eq!(
            Invalid::TooLong { field: "products[0].supplier".into(), max: 500 }.to_string(),
            "products[0].supplier is longer than 500 bytes"
        );
        assert_eq!(
            Invalid::Language { lang: "de".into() }.to_string(),
            "lang must be one of [\"nl\", \"en\"], not \"de\""
        );
        assert_eq!(Invalid::TitleOneLine { translated: true }.to_string(), "the translated title is one line");
        assert_eq!(
            Invalid::Prefix { prefix: "x".into(), max: 16 }.to_string(),
            "an advisory prefix is 1 to 16 upper-case letters or digits, starting with a letter: \"x\""
        );
        assert_eq!(
            Invalid::Csaf(csaf::ImportProblem::Missing { pointer: "/document/title" }).to_string(),
            "not a valid CSAF 2.0 document: /document/title is missing"
        );
        assert_eq!(
            Invalid::ComponentVersionTwice { index: 2 }.to_string(),
            "components[2]: give the version in the purl or in range, not both"
        );
        let examples = Invalid::examples();
        let codes: std::collections::BTreeSet<_> = examples.iter().map(Invalid::code).collect();
        // TitleOneLine twice, Component twice (a purl and a range) and the CSAF problems share
        // their codes.
        assert_eq!(codes.len(), examples.len() - 2 - (csaf::ImportProblem::examples().len() - 1));
    }
}
