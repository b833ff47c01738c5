//! Maven version order, version ranges and OSV-style affected events.
//!
//! [`MavenVersion`] orders versions exactly as Maven's own `ComparableVersion` (maven-artifact 3.8)
//! does: numbers compare as numbers, `.`/`-` and digit/letter transitions separate items, trailing
//! zeros and release qualifiers are ignored (`2.1` = `2.1.0`, `5.3.18.RELEASE` = `5.3.18`), and
//! qualifiers order `alpha` < `beta` < `milestone` < `rc` = `cr` < `snapshot` < release (`ga`,
//! `final`) < `sp` < anything else (lexically). The test `maven_order_matches_maven` in
//! `crates/quell-model/tests/maven_oracle.rs` checks it against Maven's class in a JVM.
//!
//! Written by hand because no maintained crate implements Maven's order (the `version-compare`
//! and `semver` crates order `-beta9` and `.Final` differently).
//!
//! [`VersionRange`] is the range syntax of detection packs (`1.5..1.9`, `2.17.1..`, `..<2.4`,
//! or one exact version) and [`affected_by_events`] evaluates OSV `introduced`/`fixed` events.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

/// One item of a parsed version.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Item {
    /// Digits without leading zeros (`"0"` is stored as the empty string).
    Int(String),
    /// A qualifier, lowercased and with its aliases resolved (`ga`/`final`/`release` → ``, `cr` → `rc`).
    Str(String),
    List(Vec<Item>),
}

const QUALIFIERS: [&str; 7] = ["alpha", "beta", "milestone", "rc", "snapshot", "", "sp"];

fn qualifier_rank(q: &str) -> String {
    match QUALIFIERS.iter().position(|k| *k == q) {
        Some(i) => i.to_string(),
        None => format!("{}-{q}", QUALIFIERS.len()),
    }
}

impl Item {
    fn int(digits: &str) -> Item {
        Item::Int(digits.trim_start_matches('0').to_string())
    }

    fn string(text: &str, followed_by_digit: bool) -> Item {
        let mut value = text.to_string();
        if followed_by_digit && value.len() == 1 {
            value = match value.as_str() {
                "a" => "alpha".into(),
                "b" => "beta".into(),
                "m" => "milestone".into(),
                _ => value,
            };
        }
        let value = match value.as_str() {
            "ga" | "final" | "release" => String::new(),
            "cr" => "rc".into(),
            _ => value,
        };
        Item::Str(value)
    }

    fn is_null(&self) -> bool {
        match self {
            Item::Int(d) => d.is_empty(),
            Item::Str(s) => s.is_empty(),
            Item::List(l) => l.is_empty(),
        }
    }

    /// `ComparableVersion.Item.compareTo`; `None` is the padding of a shorter list.
    fn cmp_opt(&self, other: Option<&Item>) -> Ordering {
        match (self, other) {
            (Item::Int(d), None) => {
                if d.is_empty() {
                    Ordering::Equal
                } else {
                    Ordering::Greater
                }
            }
            (Item::Int(a), Some(Item::Int(b))) => a.len().cmp(&b.len()).then_with(|| a.cmp(b)),
            (Item::Int(_), Some(_)) => Ordering::Greater,
            (Item::Str(s), None) => qualifier_rank(s).cmp(&qualifier_rank("")),
            (Item::Str(_), Some(Item::Int(_))) => Ordering::Less,
            (Item::Str(a), Some(Item::Str(b))) => qualifier_rank(a).cmp(&qualifier_rank(b)),
            (Item::Str(_), Some(Item::List(_))) => Ordering::Less,
            // Every item against nothing, not just the first (MNG-6964).
            (Item::List(l), None) => {
                l.iter().map(|item| item.cmp_opt(None)).find(|o| *o != Ordering::Equal).unwrap_or(Ordering::Equal)
            }
            (Item::List(_), Some(Item::Int(_))) => Ordering::Less,
            (Item::List(_), Some(Item::Str(_))) => Ordering::Greater,
            (Item::List(a), Some(Item::List(b))) => cmp_lists(a, b),
        }
    }
}

/// `ListItem.compareTo(ListItem)`: item by item, a missing item compared as nothing.
fn cmp_lists(a: &[Item], b: &[Item]) -> Ordering {
    for i in 0..a.len().max(b.len()) {
        let result = match (a.get(i), b.get(i)) {
            (None, None) => Ordering::Equal,
            (None, Some(right)) => right.cmp_opt(None).reverse(),
            (Some(left), right) => left.cmp_opt(right),
        };
        if result != Ordering::Equal {
            return result;
        }
    }
    Ordering::Equal
}

fn normalize(list: &mut Vec<Item>) {
    let mut i = list.len();
    while i > 0 {
        i -= 1;
        if list[i].is_null() {
            list.remove(i);
        } else if !matches!(list[i], Item::List(_)) {
            break;
        }
    }
}

/// Parses like `ComparableVersion.parseVersion`: a stack of lists, a new list after each `-` and
/// at each digit/letter transition.
/// Characters of a version that are parsed; the rest is ignored for ordering (still displayed).
/// Real versions are a few dozen characters; the cap keeps the nested item lists (one level per
/// `-` or digit/letter change) shallow whatever a scanned file's metadata says.
pub const MAX_VERSION_CHARS: usize = 128;

fn parse_items(text: &str) -> Vec<Item> {
    let version: String = text.to_lowercase().chars().take(MAX_VERSION_CHARS).collect();
    let chars: Vec<char> = version.chars().collect();
    // stack[k] is the list being filled at depth k; a finished list is attached to its parent.
    let mut stack: Vec<Vec<Item>> = vec![Vec::new()];
    let mut is_digit = false;
    let mut start = 0usize;
    let sub = |a: usize, b: usize| chars[a..b].iter().collect::<String>();
    let push = |stack: &mut Vec<Vec<Item>>, item: Item| {
        if let Some(top) = stack.last_mut() {
            top.push(item);
        }
    };
    for (i, &c) in chars.iter().enumerate() {
        if c == '.' || c == '-' {
            let item = if i == start {
                Item::Int(String::new())
            } else if is_digit {
                Item::int(&sub(start, i))
            } else {
                Item::string(&sub(start, i), false)
            };
            push(&mut stack, item);
            start = i + 1;
            if c == '-' {
                stack.push(Vec::new());
            }
        } else if c.is_ascii_digit() {
            if !is_digit && i > start {
                // 1.0.0.X1 < 1.0.0-X2: treat .X as -X for any string qualifier X.
                if stack.last().is_some_and(|top| !top.is_empty()) {
                    stack.push(Vec::new());
                }
                push(&mut stack, Item::string(&sub(start, i), true));
                start = i;
                stack.push(Vec::new());
            }
            is_digit = true;
        } else {
            if is_digit && i > start {
                push(&mut stack, Item::int(&sub(start, i)));
                start = i;
                stack.push(Vec::new());
            }
            is_digit = false;
        }
    }
    if chars.len() > start {
        let rest = sub(start, chars.len());
        if !is_digit && stack.last().is_some_and(|top| !top.is_empty()) {
            stack.push(Vec::new());
        }
        push(&mut stack, if is_digit { Item::int(&rest) } else { Item::string(&rest, false) });
    }
    // Pop: normalise each list and attach it to its parent, innermost first.
    while stack.len() > 1 {
        let mut list = stack.pop().unwrap_or_default();
        normalize(&mut list);
        push(&mut stack, Item::List(list));
    }
    let mut root = stack.pop().unwrap_or_default();
    normalize(&mut root);
    root
}

/// A version in Maven order; the text is kept as written for display.
#[derive(Debug, Clone)]
pub struct MavenVersion {
    text: String,
    items: Vec<Item>,
}

impl MavenVersion {
    /// Any text is a Maven version (Maven accepts everything); empty text is refused by
    /// [`FromStr`] only.
    pub fn new(text: &str) -> Self {
        MavenVersion { text: text.trim().to_string(), items: parse_items(text.trim()) }
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }
}

/// An empty version string.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a version: {0:?}")]
pub struct MavenVersionError(pub String);

impl FromStr for MavenVersion {
    type Err = MavenVersionError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        if t.is_empty() || t.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(MavenVersionError(s.to_string()));
        }
        Ok(MavenVersion::new(t))
    }
}

impl Ord for MavenVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        cmp_lists(&self.items, &other.items)
    }
}
impl PartialOrd for MavenVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl PartialEq for MavenVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for MavenVersion {}
impl fmt::Display for MavenVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// An upper bound of a [`VersionRange`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Upper {
    Inclusive(MavenVersion),
    Exclusive(MavenVersion),
}

/// A contiguous set of versions in Maven order: `LO..HI` (both inclusive), `LO..<HI`, `LO..`,
/// `..HI`, `..<HI`, or one exact version `V` (= `V..V`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionRange {
    pub lo: Option<MavenVersion>,
    pub hi: Option<Upper>,
}

/// A range string that does not follow the syntax.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a version range: {0:?} (write LO..HI, LO..<HI, LO.., ..HI or one version)")]
pub struct RangeError(pub String);

impl FromStr for VersionRange {
    type Err = RangeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || RangeError(s.to_string());
        let text = s.trim();
        let version = |t: &str| t.parse::<MavenVersion>().map_err(|_| err());
        let Some((lo, hi)) = text.split_once("..") else {
            let v = version(text)?;
            return Ok(VersionRange { lo: Some(v.clone()), hi: Some(Upper::Inclusive(v)) });
        };
        let lo = if lo.is_empty() { None } else { Some(version(lo)?) };
        let hi = if hi.is_empty() {
            None
        } else if let Some(ex) = hi.strip_prefix('<') {
            Some(Upper::Exclusive(version(ex)?))
        } else {
            Some(Upper::Inclusive(version(hi)?))
        };
        if lo.is_none() && hi.is_none() {
            return Err(err());
        }
        let range = VersionRange { lo, hi };
        if let (Some(lo), Some(hi)) = (&range.lo, &range.hi) {
            let empty = match hi {
                Upper::Inclusive(h) => lo > h,
                Upper::Exclusive(h) => lo >= h,
            };
            if empty {
                return Err(err());
            }
        }
        Ok(range)
    }
}

impl VersionRange {
    pub fn exact(version: MavenVersion) -> Self {
        VersionRange { lo: Some(version.clone()), hi: Some(Upper::Inclusive(version)) }
    }

    pub fn contains(&self, v: &MavenVersion) -> bool {
        self.lo.as_ref().is_none_or(|lo| v >= lo)
            && match &self.hi {
                None => true,
                Some(Upper::Inclusive(h)) => v <= h,
                Some(Upper::Exclusive(h)) => v < h,
            }
    }

    /// The exact version when the range holds one version only.
    pub fn as_exact(&self) -> Option<&MavenVersion> {
        match (&self.lo, &self.hi) {
            (Some(lo), Some(Upper::Inclusive(hi))) if lo == hi => Some(lo),
            _ => None,
        }
    }
}

impl fmt::Display for VersionRange {
    /// `2.14.1`, `2.1..2.14.1`, `2.17.1..`, `..<2.4`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(exact) = self.as_exact() {
            return write!(f, "{exact}");
        }
        if let Some(lo) = &self.lo {
            write!(f, "{lo}")?;
        }
        f.write_str("..")?;
        match &self.hi {
            None => Ok(()),
            Some(Upper::Inclusive(h)) => write!(f, "{h}"),
            Some(Upper::Exclusive(h)) => write!(f, "<{h}"),
        }
    }
}

/// One OSV event of an affected range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// Affected from this version on; `0` means from the first release.
    Introduced(MavenVersion),
    /// Not affected from this version on.
    Fixed(MavenVersion),
    /// Affected up to and including this version.
    LastAffected(MavenVersion),
}

/// OSV `events` in the order both readers of them walk: by version in Maven order, and at one
/// version `fixed` before `introduced` before `last_affected` (`introduced 0` first of all).
pub fn sorted_events(events: &[Event]) -> Vec<&Event> {
    let zero = MavenVersion::new("0");
    let key = |e: &Event| -> (MavenVersion, u8) {
        match e {
            Event::Introduced(v) if v.as_str() == "0" => (zero.clone(), 0),
            Event::Introduced(v) => (v.clone(), 1),
            Event::Fixed(v) => (v.clone(), 0),
            Event::LastAffected(v) => (v.clone(), 2),
        }
    };
    let mut sorted: Vec<&Event> = events.iter().collect();
    sorted.sort_by(|a, b| {
        let (va, ka) = key(a);
        let (vb, kb) = key(b);
        va.cmp(&vb).then(ka.cmp(&kb))
    });
    sorted
}

/// Whether `version` is affected by OSV `events` (an `ECOSYSTEM` range in Maven order): sorted
/// by version, the version is affected when the last `introduced` at or below it is not followed
/// by a `fixed` at or below it (or a `last_affected` below it). Backport lines are written as
/// more events: `introduced 2.0-beta9, fixed 2.3.1, introduced 2.4, fixed 2.12.2, introduced
/// 2.13.0, fixed 2.15.0`.
pub fn affected_by_events(events: &[Event], version: &MavenVersion) -> bool {
    let sorted = sorted_events(events);
    let mut affected = false;
    for event in sorted {
        match event {
            Event::Introduced(v) => {
                if v.as_str() == "0" || version >= v {
                    affected = true;
                } else {
                    break;
                }
            }
            Event::Fixed(v) => {
                if version >= v {
                    affected = false;
                } else {
                    break;
                }
            }
            Event::LastAffected(v) => {
                if version > v {
                    affected = false;
                } else {
                    break;
                }
            }
        }
    }
    affected
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> MavenVersion {
        MavenVersion::new(s)
    }

    #[test]
    fn orders_like_maven() {
        let ordered = [
            "1-alpha1",
            "1-beta1",
            "1-milestone1",
            "1-rc1",
            "1-SNAPSHOT",
            "1",
            "1-sp1",
            "1-abc",
            "1.0.1",
            "2.0-beta9",
            "2.0-rc1",
            "2.0",
            "2.0.1",
            "2.9.1",
            "2.10.0",
        ];
        for pair in ordered.windows(2) {
            assert!(v(pair[0]) < v(pair[1]), "{} < {}", pair[0], pair[1]);
        }
        assert_eq!(v("2.1"), v("2.1.0"));
        assert_eq!(v("5.3.18.RELEASE"), v("5.3.18"));
        assert_eq!(v("1.0.Final"), v("1.0"));
        assert_eq!(v("1-cr1"), v("1-rc1"));
        assert_eq!(v("1a1"), v("1-alpha-1"));
    }

    #[test]
    fn hostile_versions_are_bounded() {
        let long = format!("1{}", "-1".repeat(1_000_000));
        let a = MavenVersion::new(&long);
        let b = MavenVersion::new(&long);
        assert_eq!(a, b);
        assert!(a > MavenVersion::new("1"));
        assert_eq!(a.as_str().len(), long.len(), "shown as written");
    }

    #[test]
    fn ranges_parse_and_contain() {
        let r: VersionRange = "2.1..2.14.1".parse().expect("range");
        assert!(r.contains(&v("2.10.0")) && r.contains(&v("2.14.1")) && !r.contains(&v("2.15.0")));
        let r: VersionRange = "2.3.1..<2.4".parse().expect("range");
        assert!(r.contains(&v("2.3.2")) && !r.contains(&v("2.4")));
        let r: VersionRange = "2.17.1..".parse().expect("range");
        assert!(r.contains(&v("2.25.0")) && r.to_string() == "2.17.1..");
        assert_eq!("1.9".parse::<VersionRange>().expect("exact").to_string(), "1.9");
        for bad in ["", "..", "3..2", "1.0..<1.0", "a b"] {
            assert!(bad.parse::<VersionRange>().is_err(), "{bad}");
        }
    }

    #[test]
    fn osv_events_with_backport_lines() {
        let events = [
            Event::Introduced(v("2.0-beta9")),
            Event::Fixed(v("2.3.1")),
            Event::Introduced(v("2.4")),
            Event::Fixed(v("2.12.2")),
            Event::Introduced(v("2.13.0")),
            Event::Fixed(v("2.15.0")),
        ];
        for (version, want) in [
            ("2.0-beta8", false),
            ("2.0-beta9", true),
            ("2.3", true),
            ("2.3.1", false),
            ("2.3.2", false),
            ("2.4", true),
            ("2.12.1", true),
            ("2.12.4", false),
            ("2.13.0", true),
            ("2.14.1", true),
            ("2.15.0", false),
            ("2.17.1", false),
        ] {
            assert_eq!(affected_by_events(&events, &v(version)), want, "{version}");
        }
        let all = [Event::Introduced(v("0"))];
        assert!(affected_by_events(&all, &v("1.2.17")));
        let last = [Event::Introduced(v("0")), Event::LastAffected(v("3.2.1"))];
        assert!(affected_by_events(&last, &v("3.2.1")) && !affected_by_events(&last, &v("3.2.2")));
    }
}
