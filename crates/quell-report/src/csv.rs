//! CSV (RFC 4180, through the `csv` crate: fields holding commas, quotes or line breaks are
//! quoted, quotes doubled; lines end in CRLF) for spreadsheets.
//!
//! - [`write_scan`]: one row per copy, columns [`SCAN_COLUMNS`] then one per CVE ([`all_cves`]
//!   order) holding that copy's verdict (`affected`, `mitigated`, `not_affected`, or empty when the
//!   CVE does not concern the component), then the evidence.
//! - [`HuntCsv`]: one row per attempt or trace ([`HUNT_COLUMNS`]), or, for `--summary`, one row per
//!   indicator ([`INDICATOR_COLUMNS`]). Rows are written as they come, so a hunt streams.
//!
//! Lists inside a cell (JNDI names, evidence, mitigations) are joined with a line break: one item
//! per line in a spreadsheet cell, unambiguous for items without line breaks of their own. The
//! path chain is joined with `!/`, as in the text report. Column names are a contract: add at the
//! end, never rename.

use std::io::Write;

use quell_model::hunt::{Attempt, IndicatorCount, Trace, Workable};

use crate::cve_info::all_cves;
use crate::{ScanReport, chain, overall_status};

pub use ::csv::Error;

/// The scan columns before the per-CVE ones.
pub const SCAN_COLUMNS: [&str; 8] =
    ["host", "path", "component", "version", "version_range", "confidence", "status", "mitigations"];

/// Writes the scan's findings, one row per copy, ordered by path chain.
pub fn write_scan<W: Write>(report: &ScanReport<'_>, out: W) -> Result<(), Error> {
    let mut writer = ::csv::WriterBuilder::new().terminator(::csv::Terminator::CRLF).from_writer(out);
    let all = all_cves();
    let mut header: Vec<String> = SCAN_COLUMNS.iter().map(|c| c.to_string()).collect();
    header.extend(all.iter().map(|c| c.id().to_string()));
    header.push("evidence".into());
    writer.write_record(&header)?;
    for (_, finding) in report.ordered() {
        let mut row = vec![
            report.meta.host.clone(),
            chain(&finding.path),
            finding.component.name().to_string(),
            finding.version.clone().unwrap_or_default(),
            finding.version_range.clone().unwrap_or_default(),
            match finding.confidence {
                quell_model::Confidence::Confirmed => "confirmed".to_string(),
                quell_model::Confidence::Declared => "declared".to_string(),
            },
            overall_status(finding).to_string(),
            finding.mitigations.join("\n"),
        ];
        row.extend(all.iter().map(|c| finding.status(c).map(|s| s.to_string()).unwrap_or_default()));
        row.push(finding.evidence.join("\n"));
        writer.write_record(&row)?;
    }
    writer.flush()?;
    Ok(())
}

/// Columns of the hunt's attempt and trace rows.
pub const HUNT_COLUMNS: [&str; 27] = [
    "kind",
    "file",
    "line",
    "offset",
    "field",
    "source_ip",
    "time",
    "jndi",
    "normalized",
    "targets",
    "callback_class",
    "functional",
    "dos",
    "rescan_only",
    "could_work_2.14.1",
    "could_work_2.15.0",
    "could_work_2.16.0",
    "could_work_2.17.0",
    "techniques",
    "decode_chain",
    "exfiltration",
    "commands",
    "tail_host",
    "indicator",
    "raw",
    "vulnerability",
    "actions",
];

/// Columns of the hunt's indicator rows (`--summary`).
pub const INDICATOR_COLUMNS: [&str; 11] = [
    "indicator",
    "value",
    "count",
    "callback_class",
    "first_seen_file",
    "first_seen_line",
    "first_seen_time",
    "last_seen_file",
    "last_seen_line",
    "last_seen_time",
    "vulnerabilities",
];

/// A hunt written as CSV row by row. The header is written by [`HuntCsv::attempts`] or
/// [`HuntCsv::indicators`]; rows of the other kind are refused.
pub struct HuntCsv<W: Write> {
    writer: ::csv::Writer<W>,
    indicators: bool,
}

/// What a Text4Shell or Spring4Shell attempt does, one item per line: `script ENGINE: CODE`,
/// `dns NAME`, `url URL`, `file PATH`; `STAGE writes FILE` or `webshell REQUEST`.
fn actions(a: &Attempt) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(t) = &a.text4shell {
        out.extend(t.scripts.iter().map(|s| format!("script {}: {}", s.engine, s.code)));
        out.extend(t.dns.iter().map(|d| format!("dns {d}")));
        out.extend(t.urls.iter().map(|u| format!("url {u}")));
        out.extend(t.files.iter().map(|f| format!("file {f}")));
    }
    if let Some(s) = &a.spring4shell {
        match (&s.request, &s.written_file) {
            (Some(r), _) => out.push(format!("{} {r}", s.stage)),
            (None, Some(f)) => out.push(format!("{} writes {f}", s.stage)),
            (None, None) => out.push(s.stage.clone()),
        }
    }
    out
}

fn workable(w: Workable) -> &'static str {
    match w {
        Workable::Yes => "yes",
        Workable::Possible => "possible",
        Workable::DenialOfService => "denial_of_service",
        Workable::No => "no",
    }
}

fn snake<T: std::fmt::Debug>(value: &T) -> String {
    // The model's enums serialise in snake_case; their Debug names are the CamelCase of the same.
    let debug = format!("{value:?}");
    let mut out = String::with_capacity(debug.len() + 4);
    for (i, c) in debug.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

impl<W: Write> HuntCsv<W> {
    fn new(out: W, header: &[&str], indicators: bool) -> Result<Self, Error> {
        let mut writer = ::csv::WriterBuilder::new().terminator(::csv::Terminator::CRLF).from_writer(out);
        writer.write_record(header)?;
        Ok(HuntCsv { writer, indicators })
    }

    /// A writer of attempt and trace rows; writes the header.
    pub fn attempts(out: W) -> Result<Self, Error> {
        Self::new(out, &HUNT_COLUMNS, false)
    }

    /// A writer of indicator rows; writes the header.
    pub fn indicators(out: W) -> Result<Self, Error> {
        Self::new(out, &INDICATOR_COLUMNS, true)
    }

    fn kind_error(&self) -> Error {
        Error::from(std::io::Error::new(std::io::ErrorKind::InvalidInput, "row of the wrong kind for this CSV"))
    }

    /// One attempt.
    pub fn attempt(&mut self, a: &Attempt) -> Result<(), Error> {
        if self.indicators {
            return Err(self.kind_error());
        }
        let targets: Vec<String> = a
            .targets
            .iter()
            .map(|t| match t.port {
                Some(port) => format!("{}://{}:{port}{}", t.scheme, t.host, t.path),
                None => format!("{}://{}{}", t.scheme, t.host, t.path),
            })
            .collect();
        let commands: Vec<String> = a.commands.iter().map(|c| format!("{}: {}", c.kind, c.command)).collect();
        let row: [String; 27] = [
            "attempt".into(),
            a.file.clone(),
            a.line.to_string(),
            a.offset.to_string(),
            a.field.clone().unwrap_or_default(),
            a.source_ip.clone().unwrap_or_default(),
            a.time.clone().unwrap_or_default(),
            a.jndi.join("\n"),
            a.normalized.join("\n"),
            targets.join("\n"),
            snake(&a.callback_class),
            a.functional.to_string(),
            a.dos.to_string(),
            a.rescan_only.to_string(),
            workable(a.could_work.log4j_2_14_1).into(),
            workable(a.could_work.log4j_2_15_0).into(),
            workable(a.could_work.log4j_2_16_0).into(),
            workable(a.could_work.log4j_2_17_0).into(),
            a.techniques.join("\n"),
            a.decode_chain.join("\n"),
            a.exfiltration.join("\n"),
            commands.join("\n"),
            a.tail_host.clone().unwrap_or_default(),
            String::new(),
            a.raw.clone(),
            a.vulnerability.clone(),
            actions(a).join("\n"),
        ];
        self.writer.write_record(&row)
    }

    /// One trace of a lookup that happened.
    pub fn trace(&mut self, t: &Trace) -> Result<(), Error> {
        if self.indicators {
            return Err(self.kind_error());
        }
        let mut row: [String; 27] = Default::default();
        row[0] = "trace".into();
        row[1] = t.file.clone();
        row[2] = t.line.to_string();
        row[3] = t.offset.to_string();
        row[7] = t.jndi.join("\n");
        row[23] = t.indicator.clone();
        row[24] = t.raw.clone();
        self.writer.write_record(&row)
    }

    /// One deduplicated indicator.
    pub fn indicator(&mut self, i: &IndicatorCount) -> Result<(), Error> {
        if !self.indicators {
            return Err(self.kind_error());
        }
        let row: [String; 11] = [
            i.indicator.clone(),
            i.value.clone(),
            i.count.to_string(),
            i.callback_class.as_ref().map(snake).unwrap_or_default(),
            i.first_seen.file.clone(),
            i.first_seen.line.to_string(),
            i.first_seen.time.clone().unwrap_or_default(),
            i.last_seen.file.clone(),
            i.last_seen.line.to_string(),
            i.last_seen.time.clone().unwrap_or_default(),
            i.vulnerabilities.join("\n"),
        ];
        self.writer.write_record(&row)
    }

    /// Flushes what was written to the underlying writer.
    pub fn flush(&mut self) -> Result<(), Error> {
        self.writer.flush()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ReportMeta;
    use quell_model::hunt::{CallbackClass, CouldWork, Sighting, Target};
    use quell_model::{Component, Confidence, Cve, CveStatus, CveVerdict, Finding};

    fn read(bytes: &[u8]) -> Vec<Vec<String>> {
        ::csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(bytes)
            .records()
            .map(|r| r.expect("record").iter().map(str::to_string).collect())
            .collect()
    }

    #[test]
    fn scan_rows_quote_commas_quotes_and_newlines() {
        let nasty = "/srv/a \"b\", c\nd/app.war";
        let findings = vec![Finding {
            path: vec![nasty.into(), "WEB-INF/lib/log4j-core-2.14.1.jar".into()],
            component: Component::Log4jCore,
            purl: None,
            version: Some("2.14.1".into()),
            version_range: None,
            confidence: Confidence::Confirmed,
            evidence: vec!["class:x".into(), "pom.properties:2.14.1".into()],
            mitigations: vec![],
            cves: vec![CveVerdict { id: Cve::Cve2021_44228, status: CveStatus::Affected }],
        }];
        let meta = ReportMeta {
            host: "web,1".into(),
            tool_version: "0".into(),
            timestamp: "2021-12-10T00:00:00Z".into(),
            serial_number: None,
            roots: vec![],
        };
        let mut out = Vec::new();
        write_scan(&ScanReport { meta: &meta, findings: &findings, summary: None, inventory: &[] }, &mut out)
            .expect("csv");
        let rows = read(&out);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].len(), SCAN_COLUMNS.len() + all_cves().len() + 1);
        assert_eq!(rows[0][8], "CVE-2021-44228");
        assert_eq!(rows[1][0], "web,1");
        assert_eq!(rows[1][1], format!("{nasty}!/WEB-INF/lib/log4j-core-2.14.1.jar"));
        assert_eq!(rows[1][6], "affected");
        assert_eq!(rows[1][8], "affected");
        assert_eq!(rows[1][9], "", "a CVE the copy does not list is empty");
        assert_eq!(rows[1][SCAN_COLUMNS.len() + all_cves().len()], "class:x\npom.properties:2.14.1");
        assert!(String::from_utf8_lossy(&out).contains("\"/srv/a \"\"b\"\", c\nd/app.war"));
        assert!(out.ends_with(b"\r\n"));
    }

    #[test]
    fn hunt_rows() {
        let attempt = Attempt {
            file: "access,log".into(),
            line: 7,
            offset: 12,
            field: Some("user_agent".into()),
            source_ip: Some("203.0.113.9".into()),
            time: None,
            raw: "${jndi:ldap://x\"y}".into(),
            decode_chain: vec!["url".into()],
            techniques: vec!["lower".into(), "env_default".into()],
            jndi: vec!["ldap://198.51.100.7:1389/a".into()],
            rescan_only: false,
            targets: vec![Target {
                scheme: "ldap".into(),
                host: "198.51.100.7".into(),
                port: Some(1389),
                path: "/a".into(),
                alt_host: None,
            }],
            exfiltration: vec![],
            commands: vec![],
            callback_class: CallbackClass::Oast,
            normalized: vec![],
            functional: true,
            dos: false,
            could_work: CouldWork {
                log4j_2_14_1: Workable::Yes,
                log4j_2_15_0: Workable::Possible,
                log4j_2_16_0: Workable::No,
                log4j_2_17_0: Workable::DenialOfService,
            },
            encoded: None,
            tail_host: None,
            vulnerability: quell_model::hunt::LOG4SHELL.into(),
            text4shell: None,
            spring4shell: None,
        };
        let trace = Trace {
            file: "app.log".into(),
            line: 9,
            offset: 0,
            raw: "Error looking up JNDI resource [ldap://x]".into(),
            jndi: vec!["ldap://x".into()],
            indicator: "jndi_error".into(),
        };
        let mut out = Vec::new();
        let mut csv = HuntCsv::attempts(&mut out).expect("header");
        csv.attempt(&attempt).expect("attempt");
        csv.trace(&trace).expect("trace");
        let sighting = Sighting { file: "a".into(), line: 1, time: None };
        let indicator = IndicatorCount {
            indicator: "host".into(),
            value: "x".into(),
            count: 1,
            first_seen: sighting.clone(),
            last_seen: sighting,
            callback_class: Some(CallbackClass::Oast),
            vulnerabilities: vec![],
        };
        assert!(csv.indicator(&indicator).is_err());
        csv.flush().expect("flush");
        drop(csv);
        let rows = read(&out);
        assert_eq!(rows[0], HUNT_COLUMNS);
        assert_eq!(rows[1][0], "attempt");
        assert_eq!(rows[1][1], "access,log");
        assert_eq!(rows[1][9], "ldap://198.51.100.7:1389/a");
        assert_eq!(rows[1][10], "oast");
        assert_eq!(rows[1][15], "possible");
        assert_eq!(rows[1][17], "denial_of_service");
        assert_eq!(rows[1][18], "lower\nenv_default");
        assert_eq!(rows[1][24], "${jndi:ldap://x\"y}");
        assert_eq!(rows[2][0], "trace");
        assert_eq!(rows[2][23], "jndi_error");
        assert_eq!(rows[1][25], "CVE-2021-44228");

        let mut out = Vec::new();
        let mut csv = HuntCsv::indicators(&mut out).expect("header");
        csv.indicator(&indicator).expect("indicator");
        csv.flush().expect("flush");
        drop(csv);
        let rows = read(&out);
        assert_eq!(rows[0], INDICATOR_COLUMNS);
        assert_eq!(rows[1][3], "oast");
    }
}
