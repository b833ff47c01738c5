//! What reports say about each vulnerability: a title, a description, the remedy, weakness
//! classes, the CVSS score and its severity band — read from the detection pack that describes
//! it (`quell_packs::active()`), so reports describe exactly what the scan classified.
//!
//! Facts only as published by the vendors and NVD; the wording is the packs'.

use quell_model::Cve;
use quell_packs::VulnInfo;

/// Every vulnerability of the active packs, in the order reports list them (pack order: Log4j
/// 2.x first, then 1.x, then the other packs).
pub fn all_cves() -> Vec<Cve> {
    quell_packs::active().vulnerabilities().iter().map(|v| v.id.clone()).collect()
}

/// What a pack says about a vulnerability (texts, CVSS, CWEs, preconditions, advisory); an
/// identifier no active pack describes (a report read back with other packs) gets neutral texts
/// and no score.
pub fn info(cve: &Cve) -> VulnInfo {
    quell_packs::active().vulnerability(cve).cloned().unwrap_or_else(|| VulnInfo {
        id: cve.clone(),
        aliases: Vec::new(),
        name: cve.id().chars().filter(char::is_ascii_alphanumeric).collect(),
        title: cve.id().to_string(),
        description: format!("{} (no detection pack in use describes it).", cve.id()),
        remedy: "See the vendor's advisory.".to_string(),
        cvss: 0.0,
        cvss_vector: None,
        cwes: Vec::new(),
        preconditions: Vec::new(),
        advisory_url: None,
        advisory_title: None,
        pack: String::new(),
    })
}

/// The CVSS v3 severity band of a score: `critical` (9.0–10.0), `high` (7.0–8.9), `medium`
/// (4.0–6.9), `low` (0.1–3.9), `none` (0).
pub fn severity(score: f32) -> &'static str {
    if score >= 9.0 {
        "critical"
    } else if score >= 7.0 {
        "high"
    } else if score >= 4.0 {
        "medium"
    } else if score > 0.0 {
        "low"
    } else {
        "none"
    }
}

/// The CVSS score as reports write it: one decimal (`10.0`, `5.9`).
pub fn score_text(cve: &Cve) -> String {
    format!("{:.1}", info(cve).cvss)
}

/// The score as a JSON number with one decimal, free of `f32` rounding noise (`5.9`, not
/// `5.900000095367432`).
pub fn score_number(cve: &Cve) -> f64 {
    (f64::from(info(cve).cvss) * 10.0).round() / 10.0
}

/// The public page of an identifier: NVD for CVEs, GitHub's advisory database for GHSAs.
pub fn nvd_url(cve: &Cve) -> String {
    if cve.id().starts_with("GHSA-") {
        format!("https://github.com/advisories/{}", cve.id())
    } else {
        format!("https://nvd.nist.gov/vuln/detail/{}", cve.id())
    }
}

/// The vendor's advisory (title, URL); the NVD page when the pack names none.
pub fn advisory(cve: &Cve) -> (String, String) {
    let info = info(cve);
    match info.advisory_url {
        Some(url) => (info.advisory_title.unwrap_or_else(|| format!("{} advisory", cve.id())), url),
        None => (cve.id().to_string(), nvd_url(cve)),
    }
}

/// The vendor's advisory page.
pub fn advisory_url(cve: &Cve) -> String {
    advisory(cve).1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severity_bands() {
        assert_eq!(severity(10.0), "critical");
        assert_eq!(severity(9.0), "critical");
        assert_eq!(severity(8.8), "high");
        assert_eq!(severity(6.6), "medium");
        assert_eq!(severity(5.9), "medium");
        assert_eq!(severity(0.0), "none");
    }

    #[test]
    fn scores_have_no_float_noise() {
        assert_eq!(serde_json::json!(score_number(&Cve::Cve2021_45105)).to_string(), "5.9");
        assert_eq!(score_text(&Cve::Cve2021_44228), "10.0");
    }

    #[test]
    fn every_cve_has_distinct_texts() {
        let all = all_cves();
        assert!(all.len() >= 9 + 3, "Log4j's nine and the other built-in packs' CVEs");
        let names: std::collections::HashSet<_> = all.iter().map(|c| info(c).name).collect();
        assert_eq!(names.len(), all.len());
        for cve in &all {
            assert!(!info(cve).cwes.is_empty(), "{cve}");
            assert!(info(cve).cvss > 0.0, "{cve}");
        }
        assert_eq!(advisory_url(&Cve::Cve2021_44228), "https://logging.apache.org/log4j/2.x/security.html");
        assert_eq!(info(&Cve::new("CVE-1999-0001")).cvss, 0.0);
    }
}
