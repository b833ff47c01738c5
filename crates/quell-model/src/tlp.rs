//! The one TLP 2.0 marking type of quell: advisories, hunt indicators and every export use it.
//! Who may see what under a marking is decided in `quell-advisory::tlp::may_see`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

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

    /// Reads a marking; `TLP:` prefix and case are ignored, `WHITE` (TLP 1.0) is CLEAR.
    pub fn parse(text: &str) -> Option<Tlp> {
        text.parse().ok()
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

    /// Whether every read, export and delivery of information under this marking is written to
    /// the audit log (AMBER, AMBER+STRICT and RED: information with named recipients).
    pub fn is_audited(self) -> bool {
        self >= Tlp::Amber
    }

    /// The CSAF 2.0 `distribution.tlp.label` (CSAF 2.0 speaks TLP 1.0: CLEAR is WHITE and
    /// AMBER+STRICT is AMBER, with the strict rule stated in `distribution.text`).
    pub fn csaf_label(self) -> &'static str {
        match self {
            Tlp::Clear => "WHITE",
            Tlp::Green => "GREEN",
            Tlp::Amber | Tlp::AmberStrict => "AMBER",
            Tlp::Red => "RED",
        }
    }

    /// Lower-case CSAF directory name of the marking's documents (`white`, `green`, `amber`,
    /// `red`).
    pub fn csaf_dir(self) -> &'static str {
        match self {
            Tlp::Clear => "white",
            Tlp::Green => "green",
            Tlp::Amber | Tlp::AmberStrict => "amber",
            Tlp::Red => "red",
        }
    }

    /// Whether the marking is public.
    pub fn is_public(self) -> bool {
        self == Tlp::Clear
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amber_and_above_are_audited() {
        let audited: Vec<Tlp> = Tlp::ALL.into_iter().filter(|t| t.is_audited()).collect();
        assert_eq!(audited, [Tlp::Amber, Tlp::AmberStrict, Tlp::Red]);
    }

    #[test]
    fn names_order_and_ranks() {
        for tlp in Tlp::ALL {
            assert_eq!(Tlp::parse(tlp.as_str()), Some(tlp));
            assert_eq!(Tlp::from_rank(tlp.rank()), Some(tlp));
            assert_eq!(serde_json::to_value(tlp).ok(), Some(serde_json::Value::String(tlp.as_str().into())));
        }
        assert_eq!(Tlp::parse("tlp:white"), Some(Tlp::Clear));
        assert_eq!(Tlp::parse("amber strict"), None);
        assert_eq!(Tlp::AmberStrict.csaf_label(), "AMBER");
        assert!(Tlp::Clear < Tlp::Green && Tlp::Amber < Tlp::AmberStrict && Tlp::AmberStrict < Tlp::Red);
        assert!(Tlp::Amber.leaves_org() && !Tlp::AmberStrict.leaves_org());
        assert_eq!(Tlp::default(), Tlp::Amber);
    }
}
