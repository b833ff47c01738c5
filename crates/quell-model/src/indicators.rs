//! The indicator upload: what `quell hunt --upload` sends to `POST /api/v1/indicators`.
//!
//! One JSON document (gzip on the wire): the hunt's deduplicated indicators with counts, first and
//! last seen and the obfuscation techniques used, the host and tool that found them, and a TLP
//! marking for the whole upload. Raw log lines travel only when the user asks
//! (`--upload-lines`). The field names are a public contract: add, never rename.
//!
//! ```json
//! {"format":"quell-indicators/1","host":"web-1","tool_version":"quell 0.1.0","tlp":"AMBER",
//!  "generated_at":"2026-11-28T12:00:00Z",
//!  "indicators":[{"kind":"callback_host","value":"198.51.100.7","count":3,
//!    "first_seen":"2021-12-10T08:00:00Z","last_seen":"2021-12-11T10:00:00Z","time_source":"log",
//!    "techniques":["lower"],"days":{"2021-12-10":1,"2021-12-11":2}}]}
//! ```

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The value of [`IndicatorUpload::format`].
pub const UPLOAD_FORMAT: &str = "quell-indicators/1";

pub use crate::hunt::CallbackClass;
pub use crate::tlp::{ParseTlpError, Tlp};

/// What an indicator is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IndicatorKind {
    /// The host of a JNDI name (`ldap://HOST:1389/a`): where the victim would call back to.
    CallbackHost,
    /// The whole JNDI name, a URL (`ldap://198.51.100.7:1389/Basic/Command/Base64/...`).
    PayloadUrl,
    /// A host inside a command decoded from an exploit-kit path (`wget http://HOST/x.sh`).
    CommandHost,
    /// The client address that sent the attempt (the scanner or attacker).
    SourceAddress,
    /// A file that a Spring4Shell attempt made Tomcat's access log write (`webapps/ROOT/shell.jsp`,
    /// directory, prefix and suffix joined as the valve writes them): requests for it are the
    /// web shell.
    DroppedFile,
}

impl IndicatorKind {
    pub const ALL: [IndicatorKind; 5] = [
        IndicatorKind::CallbackHost,
        IndicatorKind::PayloadUrl,
        IndicatorKind::CommandHost,
        IndicatorKind::SourceAddress,
        IndicatorKind::DroppedFile,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            IndicatorKind::CallbackHost => "callback_host",
            IndicatorKind::PayloadUrl => "payload_url",
            IndicatorKind::CommandHost => "command_host",
            IndicatorKind::SourceAddress => "source_address",
            IndicatorKind::DroppedFile => "dropped_file",
        }
    }

    pub fn parse(text: &str) -> Option<IndicatorKind> {
        IndicatorKind::ALL.into_iter().find(|k| k.as_str() == text)
    }
}

/// Where an indicator's first and last seen come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeSource {
    /// The log lines' own time stamps (at least one attempt had a readable time).
    Log,
    /// No attempt had a readable time: both are the upload's `generated_at`.
    Upload,
}

/// One deduplicated indicator of a hunt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndicatorSighting {
    pub kind: IndicatorKind,
    pub value: String,
    /// Attempts that carried it.
    pub count: u64,
    /// RFC 3339 UTC.
    pub first_seen: String,
    /// RFC 3339 UTC.
    pub last_seen: String,
    pub time_source: TimeSource,
    /// Obfuscation techniques and transport encodings of the attempts (`lower`,
    /// `encoding:url`), sorted, each once.
    #[serde(default)]
    pub techniques: Vec<String>,
    /// Attempts per UTC day (`YYYY-MM-DD`); attempts without a readable time count on the day
    /// of `generated_at`.
    #[serde(default)]
    pub days: BTreeMap<String, u64>,
    /// The vulnerabilities of the attempts that carried it (CVE ids, sorted, each once). Older
    /// uploads have none (they were all Log4Shell).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub vulnerabilities: Vec<String>,
}

/// A raw log line (only with `--upload-lines`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RawLine {
    pub file: String,
    pub line: u64,
    #[serde(default)]
    pub time: Option<String>,
    /// The payload span as logged, after transport decoding (the attempt's `raw`).
    pub raw: String,
}

/// The body of `POST /api/v1/indicators`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndicatorUpload {
    /// Always [`UPLOAD_FORMAT`].
    pub format: String,
    pub host: String,
    pub tool_version: String,
    #[serde(default)]
    pub tlp: Tlp,
    /// When the upload was made (RFC 3339 UTC).
    pub generated_at: String,
    pub indicators: Vec<IndicatorSighting>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lines: Vec<RawLine>,
}

pub use crate::time::{day_string, format_rfc3339, parse_day, parse_rfc3339};

/// Out-of-band testing services: callback catchers used by testers and scanners (ProjectDiscovery's
/// interactsh servers, PortSwigger Burp Collaborator, DNS loggers, Thinkst canarytokens, request
/// bins). A callback to one of these (or a name below one) is most likely a probe.
pub const OAST_DOMAINS: &[&str] = &[
    "interact.sh",
    "interactsh.com",
    "oast.pro",
    "oast.live",
    "oast.site",
    "oast.online",
    "oast.fun",
    "oast.me",
    "oastify.com",
    "burpcollaborator.net",
    "dnslog.cn",
    "dnslog.link",
    "ceye.io",
    "canarytokens.com",
    "canarytokens.org",
    "requestbin.net",
    "pipedream.net",
    "dig.pm",
    "eyes.sh",
];

/// Vulnerability and research scanners, most of which announced their Log4Shell probe domains in
/// December 2021 (Huntress, LeakIX, Shadowserver, Censys, Shodan, Rapid7, Qualys, Tenable/Nessus).
pub const SCANNER_DOMAINS: &[&str] = &[
    "nessus.org",
    "qualys.com",
    "qualysperiscope.com",
    "huntress.com",
    "rapid7.com",
    "leakix.net",
    "shadowserver.org",
    "censys.io",
    "shodan.io",
    "scanner.log4shell.com",
];

/// The kind of well-known probing service `host` belongs to (the domain itself or a name below
/// it, ignoring ASCII case and a trailing dot): [`CallbackClass::Scanner`] or
/// [`CallbackClass::Oast`], `None` for any other host. One list for the hunter's callback classes
/// and the server's `known_scanner` mark, so a host and the platform call the same services probes.
pub fn probe_service(host: &str) -> Option<CallbackClass> {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let under = |domain: &&str| host.strip_suffix(*domain).is_some_and(|rest| rest.is_empty() || rest.ends_with('.'));
    if SCANNER_DOMAINS.iter().any(under) {
        Some(CallbackClass::Scanner)
    } else if OAST_DOMAINS.iter().any(under) {
        Some(CallbackClass::Oast)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tlp_order_and_names() {
        assert!(Tlp::Red > Tlp::AmberStrict && Tlp::AmberStrict > Tlp::Amber && Tlp::Green > Tlp::Clear);
        assert_eq!("tlp:amber+strict".parse::<Tlp>(), Ok(Tlp::AmberStrict));
        assert_eq!("white".parse::<Tlp>(), Ok(Tlp::Clear));
        assert!("purple".parse::<Tlp>().is_err());
        assert_eq!(serde_json::to_string(&Tlp::AmberStrict).ok().as_deref(), Some("\"AMBER+STRICT\""));
        assert!(Tlp::Amber.leaves_org() && !Tlp::AmberStrict.leaves_org() && !Tlp::Red.leaves_org());
        for t in Tlp::ALL {
            assert_eq!(Tlp::from_rank(t.rank()), Some(t));
        }
    }

    #[test]
    fn times() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_rfc3339("2021-12-11T10:00:00Z"), Some(1_639_216_800));
        assert_eq!(parse_rfc3339("2021-12-11T12:00:00.123+02:00"), Some(1_639_216_800));
        assert_eq!(parse_rfc3339("11/Dec/2021:10:00:00 +0000"), None);
        assert_eq!(parse_day("2021-12-11"), Some(1_639_216_800 / 86_400));
        assert_eq!(parse_day("2021-13-11"), None);
        assert_eq!(format_rfc3339(1_639_216_800), "2021-12-11T10:00:00Z");
        assert_eq!(day_string(parse_day("2024-02-29").unwrap_or(0)), "2024-02-29");
    }

    #[test]
    fn probe_services_match_the_domain_and_names_below_it() {
        assert_eq!(probe_service("abc.c6x.interact.sh"), Some(CallbackClass::Oast));
        assert_eq!(probe_service("INTERACT.SH."), Some(CallbackClass::Oast));
        assert_eq!(probe_service("x.log4shell.huntress.com"), Some(CallbackClass::Scanner));
        assert_eq!(probe_service("census.shodan.io"), Some(CallbackClass::Scanner));
        assert_eq!(probe_service("notinteract.sh"), None);
        assert_eq!(probe_service("interact.sh.evil.example"), None);
        assert_eq!(probe_service("198.51.100.7"), None);
    }
}
