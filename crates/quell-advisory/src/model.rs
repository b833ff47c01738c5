//! What a coordinator writes: the content of one advisory version, and its checks.

use serde::{Deserialize, Serialize};

use crate::Invalid;
use crate::rating::{Answers, Rating};
use crate::tlp::Tlp;

/// Longest title.
pub const MAX_TITLE_BYTES: usize = 300;
/// Longest free text (summary, consequences, solution, revision note).
pub const MAX_TEXT_BYTES: usize = 20_000;
/// Most CVEs in one advisory.
pub const MAX_CVES: usize = 100;
/// Most affected products in one advisory.
pub const MAX_PRODUCTS: usize = 1000;
/// Most references in one advisory.
pub const MAX_REFERENCES: usize = 100;
/// Longest supplier, product, versions text or reference URL.
pub const MAX_FIELD_BYTES: usize = 500;

/// An affected product.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Product {
    pub supplier: String,
    pub product: String,
    /// The affected versions, as the supplier states them (`2.0-beta9 to 2.14.1`).
    pub versions: String,
    /// The registry entry this product is, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registry_entry_id: Option<i64>,
}

/// Most affected components (purl + versions) in one advisory.
pub const MAX_COMPONENTS: usize = 100;

/// An affected component named by package URL and versions: the platform matches it against
/// every stored inventory and SBOM (where does it run?).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AffectedComponent {
    /// `pkg:maven/org.apache.commons/commons-text` (a version here is an exact version). Empty
    /// only while a [`AffectedComponent::pack`] entry waits to be expanded.
    #[serde(default)]
    pub purl: String,
    /// The affected versions: `vers:maven/>=1.5|<1.10.0`, a Maven range `[1.5,1.10.0)`, or one
    /// version; empty: every version.
    #[serde(default)]
    pub range: String,
    /// The detection pack this entry was taken from, when a coordinator named a pack instead of
    /// a purl (the server expands a pack into its components and their affected ranges).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pack: Option<String>,
}

impl AffectedComponent {
    /// The package key and version set this names; `None` in the error when the version is
    /// given twice (in the purl and in the range), else the parser's explanation.
    pub fn parse(
        &self,
    ) -> Result<(quell_model::purl::Purl, quell_model::vers::Versions), Option<crate::ComponentProblem>> {
        let purl = quell_model::purl::Purl::parse(&self.purl).map_err(|e| Some(e.into()))?;
        let range = self.range.trim();
        let versions = match (&purl.version, range.is_empty()) {
            (Some(_), false) => return Err(None),
            (Some(v), true) => v.parse().map_err(|e: quell_model::vers::VersError| Some(e.into()))?,
            (None, false) => range.parse().map_err(|e: quell_model::vers::VersError| Some(e.into()))?,
            (None, true) => quell_model::vers::Versions::All,
        };
        Ok((purl, versions))
    }
}

/// The content of one advisory version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdvisoryContent {
    pub title: String,
    pub summary: String,
    #[serde(default)]
    pub cves: Vec<String>,
    #[serde(default)]
    pub products: Vec<Product>,
    /// Affected components by purl and versions, matched against stored inventories and SBOMs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub components: Vec<AffectedComponent>,
    #[serde(default)]
    pub consequences: String,
    #[serde(default)]
    pub solution: String,
    /// Whether a fix (an update) exists. When false, affected systems are advised to be
    /// switched off temporarily where no other measure is possible.
    #[serde(default = "yes")]
    pub fix_available: bool,
    #[serde(default)]
    pub references: Vec<String>,
    pub rating: Answers,
    pub tlp: Tlp,
    /// What changed in this version (revision history); `Initial release` when empty on 1.00.
    #[serde(default)]
    pub revision_note: String,
    /// The language the texts above are written in: `nl` or `en` (absent: `en`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
    /// The texts in the other language, when written (either may be the original).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub translation: Option<Translation>,
}

/// An advisory's texts in a second language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Translation {
    /// `nl` or `en`, not the original's.
    pub lang: String,
    pub title: String,
    pub summary: String,
    #[serde(default)]
    pub consequences: String,
    #[serde(default)]
    pub solution: String,
}

/// The languages an advisory's texts may be written in.
pub const LANGUAGES: [&str; 2] = ["nl", "en"];

fn yes() -> bool {
    true
}

fn text(what: &str, value: &str, max: usize, required: bool) -> Result<(), Invalid> {
    if required && value.trim().is_empty() {
        return Err(Invalid::Required { field: what.to_string() });
    }
    if value.len() > max {
        return Err(Invalid::TooLong { field: what.to_string(), max });
    }
    if value.chars().any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t') {
        return Err(Invalid::ControlCharacters { field: what.to_string() });
    }
    Ok(())
}

/// Whether `cve` is `CVE-YYYY-NNNN…`.
pub fn is_cve(cve: &str) -> bool {
    let mut parts = cve.split('-');
    matches!(
        (parts.next(), parts.next(), parts.next(), parts.next()),
        (Some("CVE"), Some(y), Some(n), None)
            if y.len() == 4 && n.len() >= 4 && n.len() <= 19
                && y.chars().chain(n.chars()).all(|c| c.is_ascii_digit())
    )
}

impl AdvisoryContent {
    /// The language of the original texts.
    pub fn original_lang(&self) -> &str {
        self.lang.as_deref().unwrap_or("en")
    }

    /// The languages the texts exist in, the original's first.
    pub fn languages(&self) -> Vec<&str> {
        let mut out = vec![self.original_lang()];
        out.extend(self.translation.as_ref().map(|t| t.lang.as_str()));
        out
    }

    /// The content with its texts in `lang` when a translation in `lang` exists (the original
    /// otherwise); `lang` then names the language of the texts it carries.
    pub fn in_language(&self, lang: &str) -> AdvisoryContent {
        let mut out = self.clone();
        if let Some(t) = self.translation.as_ref().filter(|t| t.lang == lang) {
            out.title = t.title.clone();
            out.summary = t.summary.clone();
            out.consequences = t.consequences.clone();
            out.solution = t.solution.clone();
            out.lang = Some(t.lang.clone());
            out.translation = None;
        }
        out
    }

    /// Checks every field and computes the rating.
    pub fn validate(&self) -> Result<Rating, Invalid> {
        if !LANGUAGES.contains(&self.original_lang()) {
            return Err(Invalid::Language { lang: self.original_lang().to_string() });
        }
        if let Some(t) = &self.translation {
            if !LANGUAGES.contains(&t.lang.as_str()) || t.lang == self.original_lang() {
                return Err(Invalid::TranslationLanguage {
                    original: self.original_lang().to_string(),
                    lang: t.lang.clone(),
                });
            }
            text("translation.title", &t.title, MAX_TITLE_BYTES, true)?;
            if t.title.contains('\n') {
                return Err(Invalid::TitleOneLine { translated: true });
            }
            text("translation.summary", &t.summary, MAX_TEXT_BYTES, true)?;
            text("translation.consequences", &t.consequences, MAX_TEXT_BYTES, false)?;
            text("translation.solution", &t.solution, MAX_TEXT_BYTES, false)?;
        }
        text("title", &self.title, MAX_TITLE_BYTES, true)?;
        if self.title.contains('\n') {
            return Err(Invalid::TitleOneLine { translated: false });
        }
        text("summary", &self.summary, MAX_TEXT_BYTES, true)?;
        text("consequences", &self.consequences, MAX_TEXT_BYTES, false)?;
        text("solution", &self.solution, MAX_TEXT_BYTES, false)?;
        text("revision_note", &self.revision_note, MAX_TEXT_BYTES, false)?;
        if self.cves.len() > MAX_CVES {
            return Err(Invalid::TooManyCves { max: MAX_CVES });
        }
        for (i, cve) in self.cves.iter().enumerate() {
            if !is_cve(cve) {
                return Err(Invalid::NotCve { index: i, cve: cve.clone() });
            }
            if self.cves[..i].contains(cve) {
                return Err(Invalid::CveTwice { cve: cve.clone() });
            }
        }
        if self.products.len() > MAX_PRODUCTS {
            return Err(Invalid::TooManyProducts { max: MAX_PRODUCTS });
        }
        for (i, p) in self.products.iter().enumerate() {
            text(&format!("products[{i}].supplier"), &p.supplier, MAX_FIELD_BYTES, true)?;
            text(&format!("products[{i}].product"), &p.product, MAX_FIELD_BYTES, true)?;
            text(&format!("products[{i}].versions"), &p.versions, MAX_FIELD_BYTES, true)?;
        }
        if self.components.len() > MAX_COMPONENTS {
            return Err(Invalid::TooManyComponents { max: MAX_COMPONENTS });
        }
        for (i, c) in self.components.iter().enumerate() {
            text(&format!("components[{i}].range"), &c.range, MAX_FIELD_BYTES, false)?;
            c.parse().map_err(|e| match e {
                Some(detail) => Invalid::Component { index: i, detail },
                None => Invalid::ComponentVersionTwice { index: i },
            })?;
        }
        if self.references.len() > MAX_REFERENCES {
            return Err(Invalid::TooManyReferences { max: MAX_REFERENCES });
        }
        for (i, r) in self.references.iter().enumerate() {
            text(&format!("references[{i}]"), r, MAX_FIELD_BYTES, true)?;
            let ok = (r.starts_with("https://") || r.starts_with("http://"))
                && !r.chars().any(|c| c.is_whitespace() || c == '"' || c == '<' || c == '>');
            if !ok {
                return Err(Invalid::NotUrl { index: i, url: r.clone() });
            }
        }
        self.rating.rate()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_in_the_readers_language() {
        let content: AdvisoryContent = serde_json::from_value(serde_json::json!({
            "title": "Kwetsbaarheid in Log4j", "summary": "Samenvatting", "consequences": "Gevolgen",
            "solution": "Oplossing", "lang": "nl",
            "translation": {"lang": "en", "title": "Vulnerability in Log4j", "summary": "Summary"},
            "rating": {
                "chance": {
                    "default_configuration": "yes", "exploit_code": "working_exploit", "details_public": "full",
                    "access": "internet", "credentials": "none", "complexity": "easy", "user_interaction": "none",
                    "actively_exploited": "large_scale", "exploitation_expected": "yes", "solution": "less_than_two_months"
                },
                "damage": {
                    "denial_of_service": "infrastructure", "code_execution": "root", "remote_access": "root_shell",
                    "privilege_escalation": "yes", "information_leak": "data"
                }
            },
            "tlp": "CLEAR"
        }))
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(content.languages(), ["nl", "en"]);
        let english = content.in_language("en");
        assert_eq!(
            (english.title.as_str(), english.consequences.as_str(), english.lang.as_deref()),
            ("Vulnerability in Log4j", "", Some("en"))
        );
        assert_eq!(content.in_language("nl").title, "Kwetsbaarheid in Log4j");
        assert_eq!(content.in_language("de").title, "Kwetsbaarheid in Log4j", "the original when there is none");
        let same = AdvisoryContent {
            translation: Some(Translation {
                lang: "nl".into(),
                ..content.translation.clone().unwrap_or_else(|| unreachable!())
            }),
            ..content.clone()
        };
        assert!(content.validate().is_ok());
        assert!(
            matches!(same.validate(), Err(e @ Invalid::TranslationLanguage { .. }) if e.to_string().contains("other language"))
        );
    }

    #[test]
    fn cve_ids() {
        assert!(is_cve("CVE-2021-44228"));
        assert!(is_cve("CVE-2021-0001"));
        assert!(!is_cve("CVE-2021-1"));
        assert!(!is_cve("cve-2021-44228"));
        assert!(!is_cve("CVE-2021-44228-1"));
    }
}
