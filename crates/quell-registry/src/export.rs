//! Exports in the Dutch list's formats: the 9-column Markdown, and its CSV and JSON releases.
//!
//! Columns: `Supplier | Product | Version (see Status) | Status CVE-2021-4104 | Status CVE-2021-44228 |
//! Status CVE-2021-45046 | Status CVE-2021-45105 | Notes | Links`; a further `Status CVE-…` column
//! (before Notes) for every other CVE that an entry has (the registry holds any CVE); CSV and JSON
//! also get `purl` and `cpe` columns when an entry has one. Statuses are written with the list's labels
//! (`Vulnerable`, `Fix`, `Workaround`, `Not vuln`, `Investigation`), no information as an empty cell.
//!
//! The Version cell is the one the importer reads back (see [`crate::ncsc`]): versions joined with
//! `, `, given to the CVEs of the row's leading class. An entry whose CVEs have different versions
//! (merged from several rows or from the US list) is written as several rows with the same supplier,
//! product, notes and links (see `rows`); importing and merging them gives the entry back.
//! Not written: sources, conflicts, `last_updated`, and (in Markdown) purl and CPE.
//! Exporting a registry and importing it again gives the same entries (tests/round_trip.rs).

use crate::model::Entry;
use crate::ncsc::{VersionClass, cve_columns, dedup, status_class};

/// One exported row of an entry: its Version cell and the CVEs whose status it carries.
pub(crate) struct Row<'e> {
    pub version: String,
    pub cves: Vec<&'e str>,
}

impl Row<'_> {
    fn status(&self, entry: &Entry, cve: &str) -> &'static str {
        if self.cves.contains(&cve) { entry.statuses.get(cve).map(|s| s.status.ncsc_label()).unwrap_or("") } else { "" }
    }
}

fn versions_of(status: &crate::model::VulnStatus) -> &[String] {
    match status_class(status.status) {
        VersionClass::Fixed => &status.fixed_versions,
        VersionClass::Affected => &status.affected_versions,
        VersionClass::Unaffected => &status.unaffected_versions,
    }
}

/// The rows an entry needs so that importing them (and merging) gives its versions back.
///
/// A row has one Version cell, which the importer gives to the CVEs of the row's leading class (see
/// the module docs). So CVEs are grouped by (class, versions): one row per group, in class order;
/// a CVE without versions joins the first row whose class leads its own (it gets no version
/// there), or else a row with an empty Version cell. A Dutch row always needs one row; an entry
/// merged from several rows or lists may need more (they share supplier, product, notes and links).
pub(crate) fn rows(entry: &Entry) -> Vec<Row<'_>> {
    let mut groups: Vec<(VersionClass, Vec<String>, Vec<&str>)> = Vec::new();
    let mut bare: Vec<(VersionClass, &str)> = Vec::new();
    for (cve, status) in &entry.statuses {
        let class = status_class(status.status);
        let versions: Vec<String> =
            dedup(versions_of(status).iter().filter(|v| !v.trim().is_empty()).cloned().collect());
        if versions.is_empty() {
            bare.push((class, cve.as_str()));
        } else if let Some(group) = groups.iter_mut().find(|(c, v, _)| *c == class && *v == versions) {
            group.2.push(cve.as_str());
        } else {
            groups.push((class, versions, vec![cve.as_str()]));
        }
    }
    groups.sort_by_key(|g| g.0);
    let mut empty_row: Vec<&str> = Vec::new();
    for (class, cve) in bare {
        match groups.iter_mut().find(|(c, _, _)| *c < class) {
            Some(group) => group.2.push(cve),
            None => empty_row.push(cve),
        }
    }
    let mut out: Vec<Row<'_>> =
        groups.into_iter().map(|(_, versions, cves)| Row { version: versions.join(", "), cves }).collect();
    if !empty_row.is_empty() || out.is_empty() {
        out.push(Row { version: String::new(), cves: empty_row });
    }
    for row in &mut out {
        row.cves.sort_unstable();
    }
    out
}

fn markdown_escape(text: &str) -> String {
    let mut cell = text.trim().replace('|', "\\|").replace("\r\n", "<br>").replace(['\n', '\r'], "<br>");
    if cell.ends_with('\\') {
        // Not `\|` (an escaped pipe): the importer trims the space.
        cell.push(' ');
    }
    cell
}

fn markdown_link(url: &str) -> String {
    if url.contains(['(', ')', ' ', '<', '>']) {
        format!("[source](<{}>)", url.replace(['<', '>', '|'], ""))
    } else {
        format!("[source]({url})")
    }
}

/// The registry as one 9-column Markdown table (plus a column per further CVE), with a title.
pub fn to_markdown(entries: &[Entry]) -> String {
    let cves = cve_columns(entries);
    let mut out = String::with_capacity(entries.len() * 256 + 1024);
    out.push_str("# List of software (un)affected by the log4shell CVEs\n\n");
    out.push_str("| Supplier | Product | Version (see Status) |");
    for cve in &cves {
        out.push_str(&format!(" Status {cve} |"));
    }
    out.push_str(" Notes | Links |\n|:---------|:--------|:--------------------:|");
    for _ in &cves {
        out.push_str(":--------------------:|");
    }
    out.push_str(":------|------:|\n");
    let blank_if_empty = |s: String| if s.is_empty() { " ".to_string() } else { s };
    for entry in entries {
        for row in rows(entry) {
            out.push('|');
            out.push_str(&markdown_escape(&entry.supplier));
            out.push('|');
            out.push_str(&markdown_escape(&entry.product));
            out.push('|');
            out.push_str(&blank_if_empty(markdown_escape(&row.version)));
            out.push('|');
            for cve in &cves {
                out.push_str(&blank_if_empty(row.status(entry, cve).to_string()));
                out.push('|');
            }
            out.push_str(&markdown_escape(&entry.notes));
            out.push('|');
            out.push_str(&entry.links.iter().map(|l| markdown_link(l)).collect::<Vec<_>>().join(" "));
            out.push_str("|\n");
        }
    }
    out
}

/// The links as the list's CSV release wrote them: a Python list literal, `['https://a', 'https://b']`.
fn python_list(links: &[String]) -> String {
    let items: Vec<String> = links
        .iter()
        .map(|l| if l.contains('\'') { format!("\"{}\"", l.replace('"', "%22")) } else { format!("'{l}'") })
        .collect();
    format!("[{}]", items.join(", "))
}

fn has_identifiers(entries: &[Entry]) -> (bool, bool) {
    (entries.iter().any(|e| e.purl.is_some()), entries.iter().any(|e| e.cpe.is_some()))
}

/// The registry in the CSV release format (RFC 4180, header row; see the module docs).
pub fn to_csv(entries: &[Entry]) -> String {
    let cves = cve_columns(entries);
    let (purl, cpe) = has_identifiers(entries);
    let mut writer = csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).from_writer(Vec::new());
    let mut header: Vec<String> = vec!["Supplier".into(), "Product".into(), "Version".into()];
    header.extend(cves.iter().map(|c| format!("Status {c}")));
    header.extend(["Notes".to_string(), "Links".to_string()]);
    if purl {
        header.push("purl".into());
    }
    if cpe {
        header.push("cpe".into());
    }
    // Writing to a Vec cannot fail; a failure would only come from the csv crate's own invariants.
    let _ = writer.write_record(&header);
    for entry in entries {
        for exported in rows(entry) {
            let mut row: Vec<String> = vec![entry.supplier.clone(), entry.product.clone(), exported.version.clone()];
            row.extend(cves.iter().map(|c| exported.status(entry, c).to_string()));
            row.push(entry.notes.clone());
            row.push(if entry.links.is_empty() { String::new() } else { python_list(&entry.links) });
            if purl {
                row.push(entry.purl.clone().unwrap_or_default());
            }
            if cpe {
                row.push(entry.cpe.clone().unwrap_or_default());
            }
            let _ = writer.write_record(&row);
        }
    }
    let bytes = writer.into_inner().unwrap_or_default();
    String::from_utf8(bytes).unwrap_or_default()
}

/// `source`, `source 002`, `source 003`, …: keys that sort in link order (JSON objects may be sorted).
fn link_key(index: usize) -> String {
    if index == 0 { "source".to_string() } else { format!("source {:03}", index + 1) }
}

/// The registry in the JSON release format: an array of objects keyed like the CSV header, `Links`
/// an object `{"source": url, "source 002": url, …}` as the release had (link text → URL).
pub fn to_json(entries: &[Entry]) -> serde_json::Value {
    let cves = cve_columns(entries);
    let items = entries
        .iter()
        .flat_map(|entry| rows(entry).into_iter().map(move |row| (entry, row)))
        .map(|(entry, row)| {
            let mut object = serde_json::Map::new();
            object.insert("Supplier".into(), entry.supplier.clone().into());
            object.insert("Product".into(), entry.product.clone().into());
            object.insert("Version".into(), row.version.clone().into());
            for cve in &cves {
                object.insert(format!("Status {cve}"), row.status(entry, cve).into());
            }
            object.insert("Notes".into(), entry.notes.clone().into());
            let links: serde_json::Map<String, serde_json::Value> =
                entry.links.iter().enumerate().map(|(i, l)| (link_key(i), l.clone().into())).collect();
            object.insert("Links".into(), links.into());
            if let Some(purl) = &entry.purl {
                object.insert("purl".into(), purl.clone().into());
            }
            if let Some(cpe) = &entry.cpe {
                object.insert("cpe".into(), cpe.clone().into());
            }
            serde_json::Value::Object(object)
        })
        .collect();
    serde_json::Value::Array(items)
}
