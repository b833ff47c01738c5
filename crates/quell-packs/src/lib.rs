//! # quell-packs — what quell knows about vulnerable libraries, as data
//!
//! A *detection pack* is a TOML file that describes one or more Java components: the marker
//! classes that make a copy (found after any relocation prefix), how copies are grouped, which
//! class contents and class hashes pin a version, what metadata declares it, the vulnerabilities
//! with OSV-style affected ranges in Maven order, and the mitigations (a removable class). The
//! scanner knows no library by itself: Log4j is a pack like any other.
//!
//! - [`format`] — the file format (`schema = 1`) and [`format::parse`], which validates a pack
//!   with file, line and reason for every problem.
//! - [`rules`] — packs compiled into [`Rules`]: the entry-name index ([`Rules::interest`]) and the
//!   classifier ([`Rules::classify`]).
//! - [`signed`] — packs handed out by a server: [`signed::verify`] checks a minisign signature
//!   against a pinned public key, the `expires=` of its trusted comment against a clock the
//!   caller passes, and that the pack parses; each refusal a precise [`signed::SignatureError`].
//! - [`builtin`] — the packs compiled into quell (`packs/*.toml`): Log4j, Commons Text, Spring
//!   Framework (spring-beans), Commons Collections.
//!
//! Invariants: pure (no I/O; callers read files and pass text); a pack that [`format::parse`]
//! accepts always compiles; the built-in packs always parse (a test and [`builtin`] check it).

pub mod format;
pub mod rules;
pub mod signed;

use std::sync::{Arc, OnceLock, RwLock};

pub use format::{Pack, PackError, SCHEMA_VERSION, parse};
pub use rules::{ClassifiedCopy, ComponentInfo, EvidenceEntry, Interest, PackSummary, Rules, VulnInfo};

/// The packs shipped inside quell: (file name, text).
pub const BUILTIN_PACKS: [(&str, &str); 4] = [
    ("log4j.toml", include_str!("../packs/log4j.toml")),
    ("commons-text.toml", include_str!("../packs/commons-text.toml")),
    ("spring-beans.toml", include_str!("../packs/spring-beans.toml")),
    ("commons-collections.toml", include_str!("../packs/commons-collections.toml")),
];

/// The built-in packs, parsed. A built-in pack that does not parse is a build defect; the test
/// `builtin_packs_parse` catches it, and here it is skipped rather than taking the scanner down.
pub fn builtin_packs() -> Vec<(Pack, String)> {
    BUILTIN_PACKS
        .iter()
        .filter_map(|(file, text)| parse(file, text).ok().map(|p| (p, format!("built-in:{file}"))))
        .collect()
}

/// The built-in packs compiled, once per process.
pub fn builtin() -> Arc<Rules> {
    static BUILTIN: OnceLock<Arc<Rules>> = OnceLock::new();
    BUILTIN.get_or_init(|| Arc::new(Rules::compile(&builtin_packs()))).clone()
}

static ACTIVE: RwLock<Option<Arc<Rules>>> = RwLock::new(None);

/// The rules this process scans and reports with: the built-in packs unless [`set_active`]
/// installed others (`quell scan --rules`). Reports look vulnerability texts and package URLs up
/// here, so they describe what the scan used.
pub fn active() -> Arc<Rules> {
    match ACTIVE.read() {
        Ok(guard) => guard.clone().unwrap_or_else(builtin),
        Err(poisoned) => poisoned.into_inner().clone().unwrap_or_else(builtin),
    }
}

/// Installs the rules of this process (the CLI does this once, after reading `--rules`).
pub fn set_active(rules: Arc<Rules>) {
    match ACTIVE.write() {
        Ok(mut guard) => *guard = Some(rules),
        Err(poisoned) => *poisoned.into_inner() = Some(rules),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_packs_parse() {
        for (file, text) in BUILTIN_PACKS {
            if let Err(errors) = parse(file, text) {
                panic!("{}", errors.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n"));
            }
        }
        assert_eq!(builtin().packs().len(), BUILTIN_PACKS.len());
    }
}
