//! Fuzzes the SBOM reader (`quell_sbom::parse`) with the default and with tight limits. It must
//! never panic, and what it returns must keep its documented invariants: every component named,
//! a non-empty path, hashes lowercase hex of their length, no more components than the limit.
#![no_main]

use libfuzzer_sys::fuzz_target;
use quell_sbom::{SbomLimits, parse};

fn check(data: &[u8], limits: &SbomLimits) {
    let Ok(sbom) = parse(data, limits) else { return };
    assert!(sbom.components.len() <= limits.max_components);
    for c in &sbom.components {
        assert!(!c.name.is_empty());
        assert!(!c.path.is_empty());
        let hex = |h: &str, len: usize| h.len() == len && h.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        assert!(c.sha1.as_deref().is_none_or(|h| hex(h, 40)), "{:?}", c.sha1);
        assert!(c.sha256.as_deref().is_none_or(|h| hex(h, 64)), "{:?}", c.sha256);
        for s in [Some(&c.name), c.group.as_ref(), c.version.as_ref(), c.purl.as_ref()].into_iter().flatten() {
            assert!(s.len() <= limits.max_string_bytes);
        }
    }
}

fuzz_target!(|data: &[u8]| {
    check(data, &SbomLimits::default());
    check(data, &SbomLimits { max_component_depth: 2, max_components: 3, max_string_bytes: 8, max_json_depth: 6 });
});
