//! Indicator exports for SOC tooling: CSV, a MISP event (JSON) and a STIX 2.1 bundle — the
//! documents `quell serve` serves at `GET /api/v1/indicators/feed`.
//!
//! Every export is TLP-marked from what went into it: each indicator carries the marking of its
//! sightings (the most restrictive), and the document as a whole the most restrictive marking of
//! its indicators (CLEAR when it is empty) — a MISP event tag, STIX `object_marking_refs` on each
//! indicator (TLP 2.0 marking definitions as published by OASIS, included in the bundle), a `tlp`
//! column in CSV, and ([`Rendered::tlp`]) an `X-Quell-TLP` response header on all three.
//! Organisation names are never exported. Pure: the time of the export comes in as an argument.

use quell_model::indicators::{IndicatorKind, Tlp};
use quell_model::time::{day_string, format_rfc3339};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// The formats of `GET /api/v1/indicators/feed?format=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Stix,
    Misp,
    Csv,
}

impl ExportFormat {
    /// `stix`, `misp` or `csv`.
    pub fn parse(text: &str) -> Option<ExportFormat> {
        match text {
            "stix" => Some(ExportFormat::Stix),
            "misp" => Some(ExportFormat::Misp),
            "csv" => Some(ExportFormat::Csv),
            _ => None,
        }
    }
}

/// One exported indicator.
#[derive(Debug, Clone)]
pub struct ExportRow {
    pub kind: IndicatorKind,
    pub value: String,
    pub known_scanner: bool,
    /// Pooled indicators: how many organisations saw it (an organisation's own: `None`).
    pub organisations: Option<i64>,
    pub count: i64,
    /// RFC 3339.
    pub first_seen: String,
    pub last_seen: String,
    pub techniques: Vec<String>,
    /// The vulnerabilities of the attempts that carried it (CVE ids); empty for older uploads,
    /// which were all Log4Shell (a dropped file: Spring4Shell).
    pub vulnerabilities: Vec<String>,
    pub tlp: Tlp,
}

/// The CVE ids of a row: as uploaded, else what older uploads meant.
fn cves(r: &ExportRow) -> Vec<&str> {
    if !r.vulnerabilities.is_empty() {
        return r.vulnerabilities.iter().map(String::as_str).collect();
    }
    match r.kind {
        IndicatorKind::DroppedFile => vec!["CVE-2022-22965"],
        _ => vec!["CVE-2021-44228"],
    }
}

/// The name the field gives a CVE (`Log4Shell (CVE-2021-44228)`), else the id.
fn crisis_name(cve: &str) -> String {
    let name = match cve {
        "CVE-2021-44228" | "CVE-2021-45046" => "Log4Shell",
        "CVE-2022-42889" => "Text4Shell",
        "CVE-2022-22965" => "Spring4Shell",
        _ => return cve.to_string(),
    };
    format!("{name} ({cve})")
}

/// `Log4Shell` / `Text4Shell and Spring4Shell`: the short names of a row's crises.
fn crisis_short(r: &ExportRow) -> String {
    let names: Vec<String> =
        cves(r).iter().map(|c| crisis_name(c).split(" (").next().unwrap_or(c).to_string()).collect();
    names.join(" and ")
}

/// The most restrictive marking of the rows (CLEAR for none).
pub fn document_tlp(rows: &[ExportRow]) -> Tlp {
    rows.iter().map(|r| r.tlp).max().unwrap_or(Tlp::Clear)
}

/// A UUID (version 4 layout) derived from `parts`: the same indicator keeps its id across
/// exports, so feed consumers update rather than duplicate it.
pub fn derived_uuid(parts: &[&str]) -> String {
    let mut hasher = Sha256::new();
    for p in parts {
        hasher.update(p.as_bytes());
        hasher.update([0]);
    }
    let d = hasher.finalize();
    let mut b = [0u8; 16];
    b.copy_from_slice(&d[..16]);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|byte| format!("{byte:02x}")).collect();
    format!("{}-{}-{}-{}-{}", &h[0..8], &h[8..12], &h[12..16], &h[16..20], &h[20..32])
}

/// A rendered export: its media type, its text, and the document's marking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub content_type: &'static str,
    pub body: String,
    /// The most restrictive marking of the rows (CLEAR for none).
    pub tlp: Tlp,
}

/// Renders the export of `rows` (`label` names what they are, `now` is the export's time).
pub fn render(format: ExportFormat, rows: &[ExportRow], label: &str, now: i64) -> Result<Rendered, csv::Error> {
    let tlp = document_tlp(rows);
    let (content_type, body) = match format {
        ExportFormat::Stix => ("application/stix+json;version=2.1", stix_bundle(rows, now).to_string()),
        ExportFormat::Misp => ("application/json", misp_event(rows, label, now).to_string()),
        ExportFormat::Csv => ("text/csv; charset=utf-8", csv(rows)?),
    };
    Ok(Rendered { content_type, body, tlp })
}

// ---- CSV ----

/// Columns: kind, value, tlp, organisations (empty for one's own), count, first_seen, last_seen,
/// known_scanner, techniques (`;`-separated), vulnerabilities (`;`-separated CVE ids).
pub fn csv(rows: &[ExportRow]) -> Result<String, csv::Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "kind",
        "value",
        "tlp",
        "organisations",
        "count",
        "first_seen",
        "last_seen",
        "known_scanner",
        "techniques",
        "vulnerabilities",
    ])?;
    for r in rows {
        w.write_record([
            r.kind.as_str(),
            &r.value,
            r.tlp.as_str(),
            &r.organisations.map(|n| n.to_string()).unwrap_or_default(),
            &r.count.to_string(),
            &r.first_seen,
            &r.last_seen,
            if r.known_scanner { "true" } else { "false" },
            &r.techniques.join(";"),
            &cves(r).join(";"),
        ])?;
    }
    let bytes = w.into_inner().map_err(|e| csv::Error::from(e.into_error()))?;
    // Every field is UTF-8, so the document is.
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

// ---- what a value is ----

/// A value taken apart for the typed formats.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Net {
    Ipv4(String),
    Ipv6(String),
    Domain(String),
}

/// `host[:port]` (or `[v6]:port`) as an address or a domain name and a port.
fn host_port(value: &str) -> (Net, Option<u16>) {
    let (host, port) = if let Some(rest) = value.strip_prefix('[')
        && let Some((h, p)) = rest.split_once(']')
    {
        (h, p.strip_prefix(':').and_then(|p| p.parse().ok()))
    } else {
        match value.rsplit_once(':') {
            Some((h, p)) if !h.contains(':') => match p.parse::<u16>() {
                Ok(port) => (h, Some(port)),
                Err(_) => (value, None),
            },
            _ => (value, None),
        }
    };
    let net = match host.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(_)) => Net::Ipv4(host.to_owned()),
        Ok(std::net::IpAddr::V6(_)) => Net::Ipv6(host.to_owned()),
        Err(_) => Net::Domain(host.to_owned()),
    };
    (net, port)
}

fn kind_label(kind: IndicatorKind) -> &'static str {
    match kind {
        IndicatorKind::CallbackHost => "callback host",
        IndicatorKind::PayloadUrl => "payload URL",
        IndicatorKind::CommandHost => "host in a decoded command",
        IndicatorKind::SourceAddress => "source address",
        IndicatorKind::DroppedFile => "file dropped through Tomcat's access log (a web shell)",
    }
}

fn description(r: &ExportRow) -> String {
    let crisis = cves(r).iter().map(|c| crisis_name(c)).collect::<Vec<_>>().join(" and ");
    let mut text = format!("{crisis} {}", kind_label(r.kind));
    if let Some(n) = r.organisations {
        text.push_str(&format!(", seen by {n} organisations"));
    }
    text.push_str(&format!(" in {} attempts, {} to {}", r.count, r.first_seen, r.last_seen));
    if r.known_scanner {
        text.push_str("; a known research scanning or testing service");
    }
    if !r.techniques.is_empty() {
        text.push_str(&format!("; techniques: {}", r.techniques.join(", ")));
    }
    text
}

/// The crises of a whole document (`Log4Shell, Spring4Shell`), in a fixed order.
fn event_crises(rows: &[ExportRow]) -> String {
    let mut names: Vec<String> = rows.iter().map(crisis_short).collect();
    names.sort();
    names.dedup();
    if names.is_empty() { "Log4Shell".to_string() } else { names.join(", ") }
}

// ---- MISP ----

fn misp_tag(tlp: Tlp) -> Value {
    json!({ "name": format!("tlp:{}", tlp.as_str().to_ascii_lowercase()) })
}

/// MISP wants `2021-12-10T08:00:00.000000+00:00`.
fn misp_time(rfc3339: &str) -> String {
    match rfc3339.strip_suffix('Z') {
        Some(t) => format!("{t}.000000+00:00"),
        None => rfc3339.to_owned(),
    }
}

/// MISP attribute type and value.
fn misp_type(r: &ExportRow) -> (&'static str, String) {
    match r.kind {
        IndicatorKind::PayloadUrl => ("url", r.value.clone()),
        IndicatorKind::DroppedFile => ("filename", r.value.clone()),
        IndicatorKind::SourceAddress | IndicatorKind::CallbackHost | IndicatorKind::CommandHost => {
            let source = r.kind == IndicatorKind::SourceAddress;
            match host_port(&r.value) {
                (Net::Ipv4(ip) | Net::Ipv6(ip), None) => (if source { "ip-src" } else { "ip-dst" }, ip),
                (Net::Ipv4(ip) | Net::Ipv6(ip), Some(port)) => {
                    (if source { "ip-src|port" } else { "ip-dst|port" }, format!("{ip}|{port}"))
                }
                (Net::Domain(d), None) => ("hostname", d),
                (Net::Domain(d), Some(port)) => ("hostname|port", format!("{d}|{port}")),
            }
        }
    }
}

/// A MISP event (the `{"Event": ...}` form MISP imports), tagged with the document's TLP and
/// each attribute with its own. Known scanners are not for IDS (`to_ids: false`).
pub fn misp_event(rows: &[ExportRow], label: &str, now: i64) -> Value {
    let tlp = document_tlp(rows);
    let stamp = now.to_string();
    let attributes: Vec<Value> = rows
        .iter()
        .map(|r| {
            let (kind, value) = misp_type(r);
            json!({
                "uuid": derived_uuid(&["misp-attribute", r.kind.as_str(), &r.value]),
                "type": kind,
                "category": match r.kind {
                    IndicatorKind::PayloadUrl => "Payload delivery",
                    IndicatorKind::DroppedFile => "Artifacts dropped",
                    _ => "Network activity",
                },
                "value": value,
                "to_ids": !r.known_scanner,
                "distribution": "5",
                "comment": description(r),
                "first_seen": misp_time(&r.first_seen),
                "last_seen": misp_time(&r.last_seen),
                "timestamp": stamp,
                "Tag": [misp_tag(r.tlp)],
            })
        })
        .collect();
    json!({
        "Event": {
            "uuid": derived_uuid(&["misp-event", label, &stamp]),
            "info": format!("quell: {} {label} ({} indicators, TLP:{tlp})", event_crises(rows), rows.len()),
            "date": day_string(now.div_euclid(86_400)),
            "timestamp": stamp,
            "published": false,
            "analysis": "2",
            "threat_level_id": "2",
            "distribution": "0",
            "Tag": [misp_tag(tlp)],
            "Attribute": attributes,
        }
    })
}

// ---- STIX 2.1 ----

/// The TLP 2.0 extension definition (OASIS cti-stix-common-objects).
const TLP2_EXTENSION: &str = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d";

/// The TLP 2.0 marking-definition ids as published by OASIS (cti-stix-common-objects,
/// `extension-definition-specifications/tlp-2.0`).
pub fn tlp_marking_id(tlp: Tlp) -> &'static str {
    match tlp {
        Tlp::Clear => "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
        Tlp::Green => "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
        Tlp::Amber => "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
        Tlp::AmberStrict => "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
        Tlp::Red => "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
    }
}

/// The published TLP 2.0 marking-definition object.
fn tlp_marking(tlp: Tlp) -> Value {
    json!({
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": tlp_marking_id(tlp),
        "created": "2022-10-01T00:00:00.000Z",
        "name": format!("TLP:{}", tlp.as_str()),
        "extensions": {
            TLP2_EXTENSION: { "extension_type": "property-extension", "tlp_2_0": tlp.as_str().to_ascii_lowercase() }
        }
    })
}

/// A string literal of a STIX pattern: `\` and `'` escaped.
fn pattern_string(text: &str) -> String {
    format!("'{}'", text.replace('\\', "\\\\").replace('\'', "\\'"))
}

/// The STIX pattern of an indicator.
pub fn stix_pattern(kind: IndicatorKind, value: &str) -> String {
    if kind == IndicatorKind::PayloadUrl {
        return format!("[url:value = {}]", pattern_string(value));
    }
    if kind == IndicatorKind::DroppedFile {
        // STIX `file:name` is the name without its directory.
        let name = value.rsplit(['/', '\\']).next().unwrap_or(value);
        return format!("[file:name = {}]", pattern_string(name));
    }
    let (net, port) = host_port(value);
    let (object, host) = match &net {
        Net::Ipv4(h) => ("ipv4-addr", h),
        Net::Ipv6(h) => ("ipv6-addr", h),
        Net::Domain(h) => ("domain-name", h),
    };
    match (kind, port) {
        (IndicatorKind::SourceAddress, _) | (_, None) => format!("[{object}:value = {}]", pattern_string(host)),
        (_, Some(port)) => format!(
            "[network-traffic:dst_ref.type = '{object}' AND network-traffic:dst_ref.value = {} AND \
             network-traffic:dst_port = {port}]",
            pattern_string(host)
        ),
    }
}

/// STIX wants millisecond timestamps: `2021-12-10T08:00:00.000Z`.
fn stix_time(rfc3339: &str) -> String {
    match rfc3339.strip_suffix('Z') {
        Some(t) if !t.contains('.') => format!("{t}.000Z"),
        _ => rfc3339.to_owned(),
    }
}

/// A STIX 2.1 bundle: the quell identity, the TLP 2.0 markings used, one indicator per row
/// (marked with its TLP, deterministic id, `valid_from` its first sighting).
pub fn stix_bundle(rows: &[ExportRow], now: i64) -> Value {
    let identity_id = format!("identity--{}", derived_uuid(&["quell-identity"]));
    let mut objects = vec![json!({
        "type": "identity",
        "spec_version": "2.1",
        "id": identity_id,
        "created": "2021-12-10T00:00:00.000Z",
        "modified": "2021-12-10T00:00:00.000Z",
        "name": "quell",
        "identity_class": "system",
    })];
    let mut used: Vec<Tlp> = rows.iter().map(|r| r.tlp).collect();
    used.sort();
    used.dedup();
    objects.extend(used.into_iter().map(tlp_marking));
    for r in rows {
        let created = stix_time(&r.first_seen);
        let modified = stix_time(&r.last_seen).max(created.clone());
        let mut indicator = json!({
            "type": "indicator",
            "spec_version": "2.1",
            "id": format!("indicator--{}", derived_uuid(&["stix-indicator", r.kind.as_str(), &r.value])),
            "created": created,
            "modified": modified,
            "created_by_ref": identity_id,
            "name": format!("{} {}: {}", crisis_short(r), kind_label(r.kind), r.value),
            "description": description(r),
            "indicator_types": [if r.known_scanner { "anomalous-activity" } else { "malicious-activity" }],
            "pattern": stix_pattern(r.kind, &r.value),
            "pattern_type": "stix",
            "pattern_version": "2.1",
            "valid_from": created,
            "external_references": cves(r)
                .iter()
                .map(|c| json!({ "source_name": "cve", "external_id": c }))
                .collect::<Vec<_>>(),
            "object_marking_refs": [tlp_marking_id(r.tlp)],
        });
        // The techniques as labels; STIX forbids an empty list.
        if !r.techniques.is_empty() {
            indicator["labels"] = json!(r.techniques);
        }
        objects.push(indicator);
    }
    json!({
        "type": "bundle",
        "id": format!("bundle--{}", derived_uuid(&["stix-bundle", &format_rfc3339(now), &rows.len().to_string()])),
        "objects": objects,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns() {
        use IndicatorKind::*;
        assert_eq!(stix_pattern(CallbackHost, "evil.example"), "[domain-name:value = 'evil.example']");
        assert_eq!(stix_pattern(SourceAddress, "203.0.113.9"), "[ipv4-addr:value = '203.0.113.9']");
        assert_eq!(stix_pattern(CallbackHost, "2001:db8::1"), "[ipv6-addr:value = '2001:db8::1']");
        assert_eq!(stix_pattern(PayloadUrl, "ldap://x/a'b\\c"), r"[url:value = 'ldap://x/a\'b\\c']");
        assert!(stix_pattern(CommandHost, "192.0.2.5:4444").contains("network-traffic:dst_port = 4444"));
        assert_eq!(stix_pattern(DroppedFile, "webapps/ROOT/tomcatwar.jsp"), "[file:name = 'tomcatwar.jsp']");
    }

    #[test]
    fn uuids_are_stable_and_well_formed() {
        let a = derived_uuid(&["x", "y"]);
        assert_eq!(a, derived_uuid(&["x", "y"]));
        assert_ne!(a, derived_uuid(&["xy"]));
        assert_eq!((a.len(), &a[14..15]), (36, "4"));
    }
}
