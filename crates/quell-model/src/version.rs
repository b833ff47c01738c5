//! Log4j release numbers and their order.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

/// A pre-release qualifier. Ordered `Alpha < Beta < Rc`; every pre-release sorts before the release.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PreRelease {
    Alpha(u32),
    Beta(u32),
    Rc(u32),
}

/// A Log4j version such as `2.0-beta9`, `2.0-rc1`, `2.14.1` or `1.2.17`.
///
/// Missing components are zero (`2.1` == `2.1.0`); the textual form is kept for display so that a
/// version reads back exactly as Apache spelled it.
#[derive(Debug, Clone)]
pub struct Version {
    pub major: u32,
    pub minor: u32,
    pub patch: u32,
    pub pre: Option<PreRelease>,
    text: String,
}

/// A string that is not a Log4j-style version number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a version number: {0:?}")]
pub struct ParseVersionError(pub String);

impl Version {
    /// Builds a release version `major.minor.patch`.
    pub fn new(major: u32, minor: u32, patch: u32) -> Self {
        Version { major, minor, patch, pre: None, text: format!("{major}.{minor}.{patch}") }
    }

    /// The version as Apache spelled it (`2.1`, not `2.1.0`).
    pub fn as_str(&self) -> &str {
        &self.text
    }

    fn key(&self) -> (u32, u32, u32, u8, u32) {
        let (rank, n) = match self.pre {
            Some(PreRelease::Alpha(n)) => (0, n),
            Some(PreRelease::Beta(n)) => (1, n),
            Some(PreRelease::Rc(n)) => (2, n),
            None => (3, 0),
        };
        (self.major, self.minor, self.patch, rank, n)
    }
}

impl FromStr for Version {
    type Err = ParseVersionError;

    /// Parses `2.14.1`, `2.0-beta9`, `2.0-rc2`, `2.0.0.RC2` style numbers. A trailing
    /// `-SNAPSHOT` is accepted and ignored for ordering.
    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let err = || ParseVersionError(input.to_string());
        let text = input.trim();
        let core = text.strip_suffix("-SNAPSHOT").unwrap_or(text);
        // Split the numeric part from a qualifier at the first '-' or at a non-numeric dotted part.
        let (numbers, qualifier) = match core.find('-') {
            Some(i) => (&core[..i], Some(&core[i + 1..])),
            None => (core, None),
        };
        let mut parts: Vec<&str> = numbers.split('.').collect();
        let mut qualifier = qualifier.map(str::to_string);
        if qualifier.is_none()
            && let Some(last) = parts.last()
            && !last.is_empty()
            && !last.chars().all(|c| c.is_ascii_digit())
        {
            qualifier = Some(last.to_string());
            parts.pop();
        }
        if parts.is_empty() || parts.len() > 3 {
            return Err(err());
        }
        let mut nums = [0u32; 3];
        for (slot, part) in nums.iter_mut().zip(&parts) {
            if part.is_empty() || !part.chars().all(|c| c.is_ascii_digit()) {
                return Err(err());
            }
            *slot = part.parse().map_err(|_| err())?;
        }
        let pre = match qualifier {
            None => None,
            Some(q) => {
                let lower = q.to_ascii_lowercase();
                let (kind, digits) =
                    lower.find(|c: char| c.is_ascii_digit()).map_or((lower.as_str(), ""), |i| lower.split_at(i));
                let n: u32 = if digits.is_empty() { 0 } else { digits.parse().map_err(|_| err())? };
                match kind {
                    "alpha" => Some(PreRelease::Alpha(n)),
                    "beta" => Some(PreRelease::Beta(n)),
                    "rc" => Some(PreRelease::Rc(n)),
                    _ => return Err(err()),
                }
            }
        };
        Ok(Version { major: nums[0], minor: nums[1], patch: nums[2], pre, text: text.to_string() })
    }
}

impl PartialEq for Version {
    fn eq(&self, other: &Self) -> bool {
        self.key() == other.key()
    }
}
impl Eq for Version {}
impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        self.key().cmp(&other.key())
    }
}
impl std::hash::Hash for Version {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.key().hash(state);
    }
}
impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Version {
        s.parse().expect("valid version")
    }

    #[test]
    fn orders_prereleases_before_releases() {
        assert!(v("2.0-alpha1") < v("2.0-beta9"));
        assert!(v("2.0-beta9") < v("2.0-rc1"));
        assert!(v("2.0-rc2") < v("2.0"));
        assert!(v("2.0") < v("2.0.1"));
        assert!(v("2.9.1") < v("2.10.0"));
        assert_eq!(v("2.1"), v("2.1.0"));
        assert_eq!(v("2.0.0.RC2-SNAPSHOT"), v("2.0-rc2"));
    }

    #[test]
    fn keeps_spelling_and_rejects_garbage() {
        assert_eq!(v("2.1").to_string(), "2.1");
        for bad in ["", "x", "2..1", "2.1.2.3", "2.0-gamma1", "${jndi}"] {
            assert!(bad.parse::<Version>().is_err(), "{bad}");
        }
    }
}
