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
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The value of [`IndicatorUpload::format`].
pub const UPLOAD_FORMAT: &str = "quell-indicators/1";

/// A Traffic Light Protocol 2.0 marking, from the least to the most restrictive (the derived
/// order is that order, so `max` is "the most restrictive").
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default)]
pub enum Tlp {
    /// Public.
    #[serde(rename = "CLEAR")]
    Clear,
    /// The community, not public.
    #[serde(rename = "GREEN")]
    Green,
    /// The recipient organisation and its clients, need to know.
    #[default]
    #[serde(rename = "AMBER")]
    Amber,
    /// The recipient organisation only.
    #[serde(rename = "AMBER+STRICT")]
    AmberStrict,
    /// Named recipients only.
    #[serde(rename = "RED")]
    Red,
}

impl Tlp {
    pub const ALL: [Tlp; 5] = [Tlp::Clear, Tlp::Green, Tlp::Amber, Tlp::AmberStrict, Tlp::Red];

    /// `CLEAR`, `GREEN`, `AMBER`, `AMBER+STRICT`, `RED`.
    pub fn as_str(self) -> &'static str {
        match self {
            Tlp::Clear => "CLEAR",
            Tlp::Green => "GREEN",
            Tlp::Amber => "AMBER",
            Tlp::AmberStrict => "AMBER+STRICT",
            Tlp::Red => "RED",
        }
    }

    /// 0 (CLEAR) to 4 (RED): how the marking is stored.
    pub fn rank(self) -> i64 {
        match self {
            Tlp::Clear => 0,
            Tlp::Green => 1,
            Tlp::Amber => 2,
            Tlp::AmberStrict => 3,
            Tlp::Red => 4,
        }
    }

    pub fn from_rank(rank: i64) -> Option<Tlp> {
        Tlp::ALL.into_iter().find(|t| t.rank() == rank)
    }

    /// Whether information under this marking may leave the organisation that holds it
    /// (AMBER+STRICT and RED may not).
    pub fn leaves_org(self) -> bool {
        self <= Tlp::Amber
    }
}

impl fmt::Display for Tlp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error of [`Tlp::from_str`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown TLP marking {0:?} (CLEAR, GREEN, AMBER, AMBER+STRICT or RED)")]
pub struct ParseTlpError(pub String);

impl FromStr for Tlp {
    type Err = ParseTlpError;

    /// Case-insensitive, with or without the `TLP:` prefix; `WHITE` (TLP 1.0) is `CLEAR`.
    fn from_str(s: &str) -> Result<Tlp, ParseTlpError> {
        let upper = s.trim().to_ascii_uppercase();
        let name = upper.strip_prefix("TLP:").unwrap_or(&upper);
        match name {
            "CLEAR" | "WHITE" => Ok(Tlp::Clear),
            "GREEN" => Ok(Tlp::Green),
            "AMBER" => Ok(Tlp::Amber),
            "AMBER+STRICT" => Ok(Tlp::AmberStrict),
            "RED" => Ok(Tlp::Red),
            _ => Err(ParseTlpError(s.to_owned())),
        }
    }
}

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
}

impl IndicatorKind {
    pub const ALL: [IndicatorKind; 4] = [
        IndicatorKind::CallbackHost,
        IndicatorKind::PayloadUrl,
        IndicatorKind::CommandHost,
        IndicatorKind::SourceAddress,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            IndicatorKind::CallbackHost => "callback_host",
            IndicatorKind::PayloadUrl => "payload_url",
            IndicatorKind::CommandHost => "command_host",
            IndicatorKind::SourceAddress => "source_address",
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

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Parses `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)` to Unix seconds (the fraction dropped);
/// `None` for anything else. Written by hand: the few lines spare a date crate.
pub fn parse_rfc3339(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't') || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let num = |from: usize, to: usize| -> Option<i64> {
        let part = text.get(from..to)?;
        if part.bytes().all(|c| c.is_ascii_digit()) { part.parse().ok() } else { None }
    };
    let (year, month, day) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
    let (hour, minute, second) = (num(11, 13)?, num(14, 16)?, num(17, 19)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let mut rest = &text[19..];
    if let Some(fraction) = rest.strip_prefix('.') {
        let digits = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        rest = &fraction[digits..];
    }
    let offset = match rest {
        "Z" | "z" => 0,
        _ => {
            let ob = rest.as_bytes();
            if ob.len() != 6 || !matches!(ob[0], b'+' | b'-') || ob[3] != b':' {
                return None;
            }
            let h: i64 = rest.get(1..3)?.parse().ok()?;
            let m: i64 = rest.get(4..6)?.parse().ok()?;
            if h > 23 || m > 59 {
                return None;
            }
            let sign = if ob[0] == b'-' { -1 } else { 1 };
            sign * (h * 3600 + m * 60)
        }
    };
    Some(days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second - offset)
}

/// The date of a day number: `YYYY-MM-DD`.
pub fn day_string(days: i64) -> String {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

/// `2026-11-28T12:39:08Z` for Unix seconds.
pub fn format_rfc3339(unix: i64) -> String {
    let secs = unix.rem_euclid(86_400);
    format!("{}T{:02}:{:02}:{:02}Z", day_string(unix.div_euclid(86_400)), secs / 3600, secs / 60 % 60, secs % 60)
}

/// Parses `YYYY-MM-DD` to days since 1970-01-01.
pub fn parse_day(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let num = |from: usize, to: usize| -> Option<i64> {
        let part = text.get(from..to)?;
        if part.bytes().all(|c| c.is_ascii_digit()) { part.parse().ok() } else { None }
    };
    let (year, month, day) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    Some(days_from_civil(year, month, day))
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
}
