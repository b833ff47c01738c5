//! Importer of the US (CISA) list: `cisagov_*.yml`.
//!
//! The file is `{version, owners, software: [item…]}`; an item is `{vendor, product, cves: {cve-id:
//! {investigated, affected_versions, fixed_versions, unaffected_versions}}, vendor_links, notes,
//! references, last_updated}`.
//!
//! # Deriving a status per CVE
//! The list itself shows Unknown / Affected / Not Affected / Fixed / Under Investigation. Read as
//! (empty strings in the version lists are markers without a version, e.g. `fixed_versions: ['']`):
//! 1. `fixed_versions` not empty → `fix` with those versions (affected versions kept); when it holds
//!    only empty strings there is no released version: `workaround` (`fix_without_version`, the
//!    registry's rule; the list's "Fixed" also meant "mitigations available");
//! 2. else `affected_versions` not empty → `vulnerable`;
//! 3. else `unaffected_versions` not empty → `not_vulnerable`;
//! 4. else `investigated: true` → `under_investigation`;
//! 5. else (not investigated, nothing listed: the list's Unknown) → no information (CVE absent).
//!
//! `investigated: false` with versions listed is `inconsistent` (read from the versions, as above);
//! `investigated: ''` (a value the list has) is read as `false`: one `non_standard_status` per item.
//! Links: `vendor_links` then `references` (every URL in them, empty strings skipped). `notes` and
//! `last_updated` are kept. Version strings are split at `, ` as the Dutch Version cells are
//! ([`crate::ncsc::split_versions`]), so `stretch, buster` is two versions in both lists.
//! Lines: the line of each item's `- ` in the file (YAML parsers give no
//! positions, so the item starts are found by scanning for the list's indentation); 0 if that scan
//! does not find exactly one start per item.

use serde_yaml_ng::Value;

use crate::limits::{MAX_FILE_BYTES, MAX_ROWS_PER_FILE};
use crate::model::{Entry, ImportOutcome, ProblemKind, SourceRef, Status, VulnStatus, normalise_cve_id};
use crate::ncsc::{dedup, extract_urls, split_versions};
use crate::problems::Problems;

/// The name of the US list in [`SourceRef::list`].
pub const LIST_NAME: &str = "cisa";

/// Imports one YAML file of the US list (see the module docs).
pub fn import_yaml(file: &str, bytes: &[u8]) -> ImportOutcome {
    let mut problems = Problems::new(file);
    let mut entries = Vec::new();
    if bytes.len() > MAX_FILE_BYTES {
        problems.push(
            0,
            ProblemKind::InvalidFile,
            format!("{} bytes: larger than the {MAX_FILE_BYTES}-byte limit; nothing imported", bytes.len()),
            "",
        );
        return ImportOutcome { entries, problems: problems.into_vec() };
    }
    let text = String::from_utf8_lossy(bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes));
    let document: Value = match serde_yaml_ng::from_str(&text) {
        Ok(value) => value,
        Err(err) => {
            let line = err.location().map(|l| l.line() as u64).unwrap_or(0);
            problems.push(line, ProblemKind::InvalidFile, format!("YAML: {err}; nothing imported"), "");
            return ImportOutcome { entries, problems: problems.into_vec() };
        }
    };
    let Some(items) = document.get("software").and_then(Value::as_sequence) else {
        problems.push(0, ProblemKind::InvalidFile, "no `software:` list: nothing imported".to_string(), "");
        return ImportOutcome { entries, problems: problems.into_vec() };
    };
    let starts = item_lines(&text);
    let lines: Vec<u64> = if starts.len() == items.len() { starts } else { vec![0; items.len()] };
    for (index, (item, line)) in items.iter().zip(lines).enumerate() {
        if index == MAX_ROWS_PER_FILE {
            problems.push(
                line,
                ProblemKind::InvalidFile,
                format!("more than {MAX_ROWS_PER_FILE} items: the rest of the file is skipped"),
                "",
            );
            break;
        }
        if let Some(entry) = read_item(item, file, line, &mut problems) {
            entries.push(entry);
        }
    }
    ImportOutcome { entries, problems: problems.into_vec() }
}

/// The 1-based lines where the items of the top-level `software:` list start.
fn item_lines(text: &str) -> Vec<u64> {
    let mut lines = Vec::new();
    let mut in_software = false;
    let mut indent: Option<usize> = None;
    for (index, line) in text.lines().enumerate() {
        if !line.starts_with(' ') && !line.starts_with('-') && !line.trim().is_empty() && !line.starts_with('#') {
            in_software = line.starts_with("software:");
            continue;
        }
        if !in_software {
            continue;
        }
        let stripped = line.trim_start_matches(' ');
        if stripped.starts_with("- ") || stripped == "-" {
            let this = line.len() - stripped.len();
            match indent {
                None => {
                    indent = Some(this);
                    lines.push(index as u64 + 1);
                }
                Some(i) if i == this => lines.push(index as u64 + 1),
                Some(_) => {}
            }
        }
    }
    lines
}

/// An item as compact JSON for problems (truncated by `Problems`), made only when a problem needs it.
struct LazyRaw<'a> {
    item: &'a Value,
    text: std::cell::OnceCell<String>,
}

impl<'a> LazyRaw<'a> {
    fn new(item: &'a Value) -> LazyRaw<'a> {
        LazyRaw { item, text: std::cell::OnceCell::new() }
    }

    fn get(&self) -> &str {
        self.text.get_or_init(|| serde_json::to_string(self.item).unwrap_or_default())
    }
}

fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn string_list(value: Option<&Value>) -> (bool, Vec<String>) {
    match value {
        None | Some(Value::Null) => (false, Vec::new()),
        Some(Value::Sequence(items)) => {
            (!items.is_empty(), dedup(items.iter().filter_map(scalar_text).flat_map(|s| split_versions(&s)).collect()))
        }
        Some(other) => (true, split_versions(&scalar_text(other).unwrap_or_default())),
    }
}

fn read_item(item: &Value, file: &str, line: u64, problems: &mut Problems) -> Option<Entry> {
    let raw = &LazyRaw::new(item);
    if !item.is_mapping() {
        problems.push(line, ProblemKind::MalformedRow, "item is not a mapping: skipped".to_string(), raw.get());
        return None;
    }
    let supplier = item.get("vendor").and_then(scalar_text).unwrap_or_default().trim().to_string();
    let product = item.get("product").and_then(scalar_text).unwrap_or_default().trim().to_string();
    if supplier.is_empty() {
        problems.push(line, ProblemKind::MissingSupplier, "item without a vendor: skipped".to_string(), raw.get());
        return None;
    }
    if product.is_empty() {
        problems.push(
            line,
            ProblemKind::MissingProduct,
            "item without a product: imported with an empty product".to_string(),
            raw.get(),
        );
    }
    let mut entry = Entry::new(supplier, product);
    entry.sources.push(SourceRef { list: LIST_NAME.to_string(), file: file.to_string(), line });
    entry.notes = item.get("notes").and_then(scalar_text).unwrap_or_default().trim().to_string();
    entry.last_updated = item.get("last_updated").and_then(scalar_text).filter(|s| !s.trim().is_empty());
    let mut links = Vec::new();
    for key in ["vendor_links", "references"] {
        let (_, texts) = string_list(item.get(key));
        for text in texts {
            links.extend(extract_urls(&text));
        }
    }
    entry.links = dedup(links);

    let mut odd_investigated: Vec<String> = Vec::new();
    match item.get("cves") {
        None | Some(Value::Null) => {}
        Some(Value::Mapping(cves)) => {
            for (key, record) in cves {
                let key_text = scalar_text(key).unwrap_or_default();
                let Some(cve) = normalise_cve_id(&key_text) else {
                    problems.push(
                        line,
                        ProblemKind::InvalidCve,
                        format!("{key_text:?} is not a CVE id: its status is skipped"),
                        raw.get(),
                    );
                    continue;
                };
                if let Some(status) = read_cve(&cve, record, line, raw, problems, &mut odd_investigated) {
                    entry.statuses.insert(cve, status);
                }
            }
        }
        Some(_) => problems.push(
            line,
            ProblemKind::MalformedRow,
            "`cves` is not a mapping: no statuses".to_string(),
            raw.get(),
        ),
    }
    if !odd_investigated.is_empty() {
        problems.push(
            line,
            ProblemKind::NonStandardStatus,
            format!("investigated is not a boolean: {}", odd_investigated.join("; ")),
            raw.get(),
        );
    }
    if entry.statuses.is_empty() {
        problems.push(
            line,
            ProblemKind::NoStatus,
            "no status for any CVE (all Unknown): imported with no information".to_string(),
            raw.get(),
        );
    }
    if entry.links.is_empty() {
        problems.push(
            line,
            ProblemKind::MissingLink,
            "no source link (vendor_links, references): imported, but it does not validate".to_string(),
            raw.get(),
        );
    }
    Some(entry)
}

fn read_cve(
    cve: &str,
    record: &Value,
    line: u64,
    raw: &LazyRaw<'_>,
    problems: &mut Problems,
    odd_investigated: &mut Vec<String>,
) -> Option<VulnStatus> {
    if !record.is_mapping() {
        problems.push(line, ProblemKind::MalformedRow, format!("{cve}: not a mapping: no information"), raw.get());
        return None;
    }
    let investigated = match record.get("investigated") {
        Some(Value::Bool(b)) => *b,
        None | Some(Value::Null) => false,
        Some(other) => {
            let text = scalar_text(other).unwrap_or_default();
            let value = matches!(text.trim().to_ascii_lowercase().as_str(), "true" | "yes");
            odd_investigated.push(format!("{cve}: {text:?} read as {value}"));
            value
        }
    };
    let (affected_listed, affected) = string_list(record.get("affected_versions"));
    let (fixed_listed, fixed) = string_list(record.get("fixed_versions"));
    let (unaffected_listed, unaffected) = string_list(record.get("unaffected_versions"));
    let any_listed = affected_listed || fixed_listed || unaffected_listed;
    let status = if fixed_listed {
        if fixed.is_empty() {
            problems.push(
                line,
                ProblemKind::FixWithoutVersion,
                format!("{cve}: Fixed without a fixed version: imported as workaround"),
                raw.get(),
            );
            Status::Workaround
        } else {
            Status::Fix
        }
    } else if affected_listed {
        Status::Vulnerable
    } else if unaffected_listed {
        Status::NotVulnerable
    } else if investigated {
        Status::UnderInvestigation
    } else {
        return None;
    };
    if any_listed && !investigated {
        problems.push(
            line,
            ProblemKind::Inconsistent,
            format!("{cve}: not investigated, yet versions are listed: read from the versions as {status}"),
            raw.get(),
        );
    }
    Some(VulnStatus { status, affected_versions: affected, fixed_versions: fixed, unaffected_versions: unaffected })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn item_starts_are_found() {
        let text = "---\nversion: '1.0'\nowners:\n  - name: x\nsoftware:\n  - vendor: A\n    product: B\n    references:\n      - ''\n  - vendor: C\n";
        assert_eq!(item_lines(text), vec![6, 10]);
    }
}
