//! Advisory identifiers `PREFIX-YYYY-NNNN` and versions `1.00`, `1.01`, ….

use std::fmt;

use crate::Invalid;

/// Longest identifier prefix.
pub const MAX_PREFIX_CHARS: usize = 16;

/// Checks a prefix: 1 to [`MAX_PREFIX_CHARS`] upper-case ASCII letters or digits, starting
/// with a letter.
pub fn check_prefix(prefix: &str) -> Result<(), Invalid> {
    let ok = !prefix.is_empty()
        && prefix.len() <= MAX_PREFIX_CHARS
        && prefix.starts_with(|c: char| c.is_ascii_uppercase())
        && prefix.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
    if ok { Ok(()) } else { Err(Invalid::Prefix { prefix: prefix.to_string(), max: MAX_PREFIX_CHARS }) }
}

/// `NCSC-2021-1052`: numbered per year, at least four digits.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AdvisoryId {
    pub prefix: String,
    pub year: i64,
    pub number: i64,
}

impl fmt::Display for AdvisoryId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{:04}-{:04}", self.prefix, self.year, self.number)
    }
}

impl AdvisoryId {
    pub fn parse(text: &str) -> Result<AdvisoryId, Invalid> {
        let bad = || Invalid::Identifier { text: text.to_string() };
        let mut parts = text.rsplitn(3, '-');
        let number = parts.next().ok_or_else(bad)?;
        let year = parts.next().ok_or_else(bad)?;
        let prefix = parts.next().ok_or_else(bad)?;
        check_prefix(prefix).map_err(|_| bad())?;
        if year.len() != 4 || number.len() < 4 || !(year.chars().chain(number.chars()).all(|c| c.is_ascii_digit())) {
            return Err(bad());
        }
        Ok(AdvisoryId {
            prefix: prefix.to_string(),
            year: year.parse().map_err(|_| bad())?,
            number: number.parse().map_err(|_| bad())?,
        })
    }
}

/// An advisory version: index 0 is `1.00`, 1 is `1.01`, … 99 is `1.99`, 100 is `2.00`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version(pub i64);

impl Version {
    pub const FIRST: Version = Version(0);

    pub fn next(self) -> Version {
        Version(self.0 + 1)
    }

    /// The CSAF `tracking.version` / revision `number` (integer versioning: index + 1).
    pub fn csaf_number(self) -> String {
        (self.0 + 1).to_string()
    }

    pub fn parse(text: &str) -> Result<Version, Invalid> {
        let bad = || Invalid::Version { text: text.to_string() };
        let (major, minor) = text.split_once('.').ok_or_else(bad)?;
        if minor.len() != 2 || !minor.chars().all(|c| c.is_ascii_digit()) {
            return Err(bad());
        }
        let major: i64 = major.parse().map_err(|_| bad())?;
        let minor: i64 = minor.parse().map_err(|_| bad())?;
        if major < 1 {
            return Err(bad());
        }
        Ok(Version((major - 1) * 100 + minor))
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:02}", 1 + self.0 / 100, self.0 % 100)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn identifiers() {
        let id = AdvisoryId { prefix: "NCSC".into(), year: 2021, number: 1052 };
        assert_eq!(id.to_string(), "NCSC-2021-1052");
        assert_eq!(AdvisoryId::parse("NCSC-2021-1052").unwrap(), id);
        assert_eq!(AdvisoryId { prefix: "QUELL".into(), year: 2026, number: 7 }.to_string(), "QUELL-2026-0007");
        assert_eq!(AdvisoryId { prefix: "Q".into(), year: 2026, number: 12345 }.to_string(), "Q-2026-12345");
        for bad in ["NCSC-21-0001", "ncsc-2021-0001", "NCSC-2021-01", "2021-0001", "NCSC-2021-00a1", "-2021-0001"] {
            assert!(AdvisoryId::parse(bad).is_err(), "{bad}");
        }
        assert!(check_prefix("QUELL").is_ok());
        assert!(check_prefix("CERT2").is_ok());
        assert!(check_prefix("2CERT").is_err());
        assert!(check_prefix("A-B").is_err());
        assert!(check_prefix("").is_err());
    }

    #[test]
    fn versions() {
        assert_eq!(Version::FIRST.to_string(), "1.00");
        assert_eq!(Version::FIRST.next().to_string(), "1.01");
        assert_eq!(Version(99).to_string(), "1.99");
        assert_eq!(Version(100).to_string(), "2.00");
        assert_eq!(Version::parse("1.01").unwrap(), Version(1));
        assert_eq!(Version::parse("2.00").unwrap(), Version(100));
        assert_eq!(Version(1).csaf_number(), "2");
        for bad in ["1", "1.0", "0.01", "1.x0", "a.00"] {
            assert!(Version::parse(bad).is_err(), "{bad}");
        }
    }
}
