//! Nothing left untranslated: page code (`src/pages/*.rs`, `src/html.rs`, `src/error.rs`) holds
//! no user-facing English string literal; every text a reader sees comes from the message files
//! (`locales/{en,nl}/*.ftl`) through `t!`. (That every `t!` id exists in both languages is
//! checked by the unit tests of `quell_server::i18n`.)
//!
//! The heuristic, over every string literal outside comments and `#[cfg(test)]`:
//! - the argument of `t!(`, `expect(`, `from_static(` and the value of a technical attribute
//!   (`href=`, `name=`, `class=`, …) pass;
//! - text inside `{…}` (format placeholders) is ignored; a literal without letters passes;
//! - a literal that reads like an identifier, a path or a URL (lower case, no spaces) passes,
//!   unless it stands alone as a maud text node (`{ "revoked" }`);
//! - a text attribute (`placeholder=`, `title=`, `aria-label=`, `alt=`) is always text;
//! - anything else with letters is English for a reader, unless it is in [`ALLOWED`] (names,
//!   commands, example values and CSS that are the same in every language).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

/// Literals that are the same in every language.
const ALLOWED: &[&str] = &[
    "quell",
    " · quell",
    "TLP:",
    "TLP",
    "TLP ",
    "CSV",
    "JSON",
    "Markdown",
    "purl ",
    "CPE ",
    "CVE-2021-44228",
    "CVE-YYYY-NNNN",
    "pkg:maven/org.apache.commons/commons-text",
    "vers:maven/>=1.5|<1.10.0",
    "quell scan --upload URL --token TOKEN /",
    "quell hunt --upload URL --token TOKEN /var/log",
    "GET /api/v1/indicators/feed?format=stix|misp|csv",
    "text/html; charset=utf-8",
    "; Secure",
    // CSS classes chosen in `class=(if … { "bad" } else { "ok" })`.
    "bad",
    "ok",
    "warn",
];

/// Attributes whose value a reader reads.
const TEXT_ATTRIBUTES: &[&str] = &["placeholder", "title", "aria-label", "alt", "label"];

fn files() -> Vec<PathBuf> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files: Vec<PathBuf> = std::fs::read_dir(src.join("pages"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "rs"))
        .collect();
    files.push(src.join("html.rs"));
    files.push(src.join("error.rs"));
    files.sort();
    files
}

/// (byte offset, literal text) of every string literal outside comments.
fn literals(source: &str) -> Vec<(usize, String)> {
    let bytes = source.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'\'' if bytes.get(i + 2) == Some(&b'\'') || (bytes.get(i + 1) == Some(&b'\\')) => {
                // A char literal ('"', '\n'): skip it.
                let end = source[i + 1..].find('\'').map_or(bytes.len(), |e| i + 1 + e + 1);
                i = end;
            }
            b'"' => {
                let start = i + 1;
                let mut j = start;
                while j < bytes.len() && bytes[j] != b'"' {
                    j += if bytes[j] == b'\\' { 2 } else { 1 };
                }
                out.push((i, source[start..j.min(bytes.len())].to_string()));
                i = j + 1;
            }
            _ => i += 1,
        }
    }
    out
}

fn without_placeholders(text: &str) -> String {
    let mut out = String::new();
    let mut depth = 0;
    for c in text.chars() {
        match c {
            '{' => depth += 1,
            '}' if depth > 0 => depth -= 1,
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

/// Why a literal is user-facing English, or `None`.
fn english(before: &str, literal: &str, after: &str) -> Option<&'static str> {
    let before = before.trim_end();
    if ["t!(", "expect(", "from_static("].iter().any(|p| before.ends_with(p)) {
        return None;
    }
    if ALLOWED.contains(&literal) || literal.contains("SameSite=") || literal.contains("color:") {
        return None;
    }
    if literal.starts_with("\nbody{") || literal.contains("padding:") || literal.contains("default-src") {
        return None; // CSS and the Content-Security-Policy
    }
    let text = without_placeholders(literal);
    if !text.chars().any(|c| c.is_ascii_alphabetic()) {
        return None;
    }
    if let Some(attribute) = before.strip_suffix('=') {
        let name = attribute.rsplit(|c: char| !(c.is_ascii_alphanumeric() || c == '-')).next().unwrap_or("");
        return TEXT_ATTRIBUTES.contains(&name).then_some("text attribute");
    }
    let looks_like_code = !text.contains(' ') && !text.chars().any(|c| c.is_ascii_uppercase()) && !text.ends_with('.');
    let text_node = (before.ends_with('{') || before.ends_with('}') || before.ends_with(')'))
        && (after.trim_start().starts_with('}') || after.trim_start().starts_with('('));
    if looks_like_code && !text_node {
        return None;
    }
    Some(if text_node { "text node" } else { "English literal" })
}

#[test]
fn page_code_has_no_user_facing_english() {
    let mut found = Vec::new();
    for file in files() {
        let source = std::fs::read_to_string(&file).unwrap();
        let source = source.split("#[cfg(test)]").next().unwrap_or_default();
        for (at, literal) in literals(source) {
            let before = &source[..at];
            let after = &source[(at + literal.len() + 2).min(source.len())..];
            if before.trim_end().ends_with("tracing::")
                || before.lines().last().is_some_and(|l| l.contains("tracing::"))
            {
                continue;
            }
            if let Some(why) = english(before, &literal, after) {
                let line = before.lines().count().max(1);
                let name = file.file_name().unwrap().to_string_lossy();
                found.push(format!("{name}:{line}: {why}: {literal:?}"));
            }
        }
    }
    assert!(
        found.is_empty(),
        "user-facing English in page code (move it to locales/*/*.ftl and use t!, or add it to ALLOWED \
         if it is the same in every language):\n{}",
        found.join("\n")
    );
}

/// The lint catches what it is for (so a broken heuristic cannot pass silently).
#[test]
fn the_lint_finds_english() {
    let flagged = |src: &str| {
        literals(src).into_iter().filter(|(at, l)| english(&src[..*at], l, &src[at + l.len() + 2..]).is_some()).count()
    };
    assert_eq!(flagged(r#"html! { p { "Nothing overdue." } }"#), 1);
    assert_eq!(flagged(r#"html! { td { "revoked" } }"#), 1);
    assert_eq!(flagged(r#"input placeholder="host name contains";"#), 1);
    assert_eq!(flagged(r#"ServerError::Invalid("no system".into())"#), 1);
    assert_eq!(flagged(r#"html! { p { (t!("adv-none")) } a href="/registry" class="x" {} }"#), 0);
    assert_eq!(flagged(r#"format!("/advisories/{}/edit", id); format!("{} / {}", a, b)"#), 0);
    assert_eq!(flagged(r#"x.expect("never empty"); let c = '"';"#), 0);
}
