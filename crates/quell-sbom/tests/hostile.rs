//! Hostile input: deep nesting, millions of components, huge strings, wrong types everywhere,
//! and arbitrary or mutated bytes. Every case ends in a precise error (or a result), fast, and
//! nothing panics.

use std::time::{Duration, Instant};

use proptest::prelude::*;
use quell_sbom::{Limit, SbomError, SbomLimits, parse};

const HEAD: &str = r#"{"bomFormat": "CycloneDX", "specVersion": "1.6", "#;

#[test]
fn a_100000_deep_array_is_not_an_sbom() {
    let doc = "[".repeat(100_000);
    let e = parse(doc.as_bytes(), &SbomLimits::default()).expect_err("rejected");
    assert_eq!(
        e.to_string(),
        "not a CycloneDX 1.4–1.7 or SPDX 2.3 JSON document: the top level is an array, not an object"
    );
}

#[test]
fn a_100000_deep_value_inside_a_document_hits_the_depth_limit() {
    let doc = format!(r#"{HEAD}"x": {}"#, "[".repeat(100_000));
    let e = parse(doc.as_bytes(), &SbomLimits::default()).expect_err("rejected");
    assert!(matches!(&e, SbomError::Limit { limit: Limit::JsonDepth, max: 100, .. }), "{e}");
    let doc = format!(r#"{HEAD}"x": {}"#, r#"{"a": "#.repeat(100_000));
    let e = parse(doc.as_bytes(), &SbomLimits::default()).expect_err("rejected");
    assert!(matches!(&e, SbomError::Limit { limit: Limit::JsonDepth, max: 100, .. }), "{e}");
}

/// With our own limit out of the way, serde_json's recursion guard (128) stops the document, and
/// surfaces as the same precise limit error with a line and column.
#[test]
fn serde_json_recursion_limit_surfaces_as_the_depth_limit() {
    let unlimited = SbomLimits { max_json_depth: usize::MAX, ..SbomLimits::default() };
    let doc = format!(r#"{HEAD}"x": {}"#, "[".repeat(100_000));
    let e = parse(doc.as_bytes(), &unlimited).expect_err("rejected");
    let SbomError::Limit { limit: Limit::JsonDepth, max: 128, at } = &e else { panic!("{e}") };
    assert!(at.starts_with("line 1, column "), "{at}");
    assert!(
        e.to_string().contains("more than 128 levels of nested JSON arrays and objects (SbomLimits::max_json_depth)"),
        "{e}"
    );
    // A deep components chain too, with both our limits out of the way.
    let unlimited = SbomLimits { max_json_depth: usize::MAX, max_component_depth: usize::MAX, ..SbomLimits::default() };
    let doc = format!(r#"{HEAD}"components": {}"#, r#"[{"name": "c", "components": "#.repeat(100_000));
    let e = parse(doc.as_bytes(), &unlimited).expect_err("rejected");
    assert!(matches!(&e, SbomError::Limit { limit: Limit::JsonDepth, max: 128, .. }), "{e}");
}

#[test]
fn a_deep_components_chain_stops_at_the_component_depth_limit() {
    let doc = format!(r#"{HEAD}"components": {}"#, r#"[{"name": "c", "components": "#.repeat(100_000));
    let e = parse(doc.as_bytes(), &SbomLimits::default()).expect_err("rejected");
    assert!(matches!(&e, SbomError::Limit { limit: Limit::ComponentDepth, max: 32, .. }), "{e}");
}

/// Two million components (about 30 MB): the limit error, after reading the first 200,000 only.
#[test]
fn millions_of_components_fail_with_the_limit_fast() {
    let mut doc = String::from(HEAD);
    doc.push_str(r#""components": ["#);
    for i in 0..2_000_000 {
        if i > 0 {
            doc.push(',');
        }
        doc.push_str(r#"{"name":"c","version":"1"}"#);
    }
    doc.push_str("]}");
    let start = Instant::now();
    let e = parse(doc.as_bytes(), &SbomLimits::default()).expect_err("rejected");
    let took = start.elapsed();
    assert_eq!(e, SbomError::Limit { limit: Limit::Components, max: 200_000, at: "/components/200000".into() });
    // Debug builds on a shared 2-core machine: generous, but far below reading all of it twice.
    assert!(took < Duration::from_secs(20), "took {took:?}");
    // Exactly at the limit is fine.
    let at_limit = SbomLimits { max_components: 2_000_000, ..SbomLimits::default() };
    assert_eq!(parse(doc.as_bytes(), &at_limit).map(|s| s.components.len()), Ok(2_000_000));
}

#[test]
fn huge_strings() {
    let huge = "x".repeat(16 << 20);
    for field in ["name", "group", "version", "purl", "bom-ref"] {
        let doc = format!(r#"{HEAD}"components": [{{"name": "a", "{field}": "{huge}"}}]}}"#);
        let e = parse(doc.as_bytes(), &SbomLimits::default()).expect_err("rejected");
        assert_eq!(e, SbomError::Limit { limit: Limit::StringBytes, max: 4096, at: format!("/components/0/{field}") });
    }
    let doc = format!(r#"{{"bomFormat": "CycloneDX", "specVersion": "{huge}"}}"#);
    assert!(matches!(
        parse(doc.as_bytes(), &SbomLimits::default()),
        Err(SbomError::Limit { limit: Limit::StringBytes, .. })
    ));
    // An escaped string is measured after unescaping.
    let escaped = r"\u0041".repeat(5000);
    let doc = format!(r#"{HEAD}"components": [{{"name": "{escaped}"}}]}}"#);
    assert!(matches!(
        parse(doc.as_bytes(), &SbomLimits::default()),
        Err(SbomError::Limit { limit: Limit::StringBytes, .. })
    ));
}

/// Every field that is read, given every wrong JSON type, in both formats: a `WrongType` error
/// at that field (or, for `null`, the field is absent).
#[test]
fn wrong_types_everywhere() {
    let cdx = r#"{"bomFormat": "CycloneDX", "specVersion": "1.5", "serialNumber": "s",
        "metadata": {"timestamp": "t", "tools": [{"name": "n", "version": "v"}],
                     "component": {"name": "p", "purl": "pkg:maven/g/p@1", "components": [{"name": "q"}]}},
        "components": [{"name": "a", "group": "g", "version": "1", "purl": "pkg:maven/g/a@1", "bom-ref": "r",
                        "hashes": [{"alg": "SHA-1", "content": "0812f284ac5dd0d617461d9a2ab6ac6811137f25"}],
                        "components": [{"name": "b"}]}]}"#;
    let spdx = r#"{"spdxVersion": "SPDX-2.3", "name": "d", "documentNamespace": "ns",
        "creationInfo": {"created": "t", "creators": ["Tool: x"]}, "documentDescribes": ["SPDXRef-a"],
        "relationships": [{"spdxElementId": "SPDXRef-DOCUMENT", "relationshipType": "DESCRIBES", "relatedSpdxElement": "SPDXRef-a"}],
        "packages": [{"name": "a", "SPDXID": "SPDXRef-a", "versionInfo": "1",
                      "externalRefs": [{"referenceType": "purl", "referenceLocator": "pkg:maven/g/a@1"}],
                      "checksums": [{"algorithm": "SHA1", "checksumValue": "0812f284ac5dd0d617461d9a2ab6ac6811137f25"}]}]}"#;
    let wrong = ["17", "true", "\"s\"", "[1]", "{\"k\": 1}", "null"];
    let mut checked = 0;
    for doc in [cdx, spdx] {
        let original: serde_json::Value = serde_json::from_str(doc).expect("valid");
        parse(doc.as_bytes(), &SbomLimits::default()).expect("the original reads");
        let mut pointers = Vec::new();
        collect_pointers(&original, String::new(), &mut pointers);
        for pointer in &pointers {
            for replacement in wrong {
                let mut value = original.clone();
                *value.pointer_mut(pointer).expect("pointer") = serde_json::from_str(replacement).expect("json");
                let bytes = serde_json::to_vec(&value).expect("json");
                match parse(&bytes, &SbomLimits::default()) {
                    Ok(_) => {}
                    Err(SbomError::WrongType { pointer: at, .. }) => {
                        // At the field, or inside the replacement (`[1]` for an array of objects).
                        let inside =
                            at.strip_prefix(pointer.as_str()).is_some_and(|r| r.is_empty() || r.starts_with('/'));
                        assert!(inside, "{replacement} at {pointer}: error at {at}");
                        checked += 1;
                    }
                    Err(other) => {
                        // Wrong values of identifying fields are their own errors.
                        assert!(
                            matches!(
                                other,
                                SbomError::NotSbom(_)
                                    | SbomError::UnsupportedSpecVersion { .. }
                                    | SbomError::Missing { .. }
                                    | SbomError::InvalidValue { .. }
                            ),
                            "{replacement} at {pointer}: {other}"
                        );
                    }
                }
            }
        }
    }
    assert!(checked > 150, "{checked}");
}

fn collect_pointers(value: &serde_json::Value, at: String, out: &mut Vec<String>) {
    match value {
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                let p = format!("{at}/{k}");
                out.push(p.clone());
                collect_pointers(v, p, out);
            }
        }
        serde_json::Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                let p = format!("{at}/{i}");
                out.push(p.clone());
                collect_pointers(v, p, out);
            }
        }
        _ => {}
    }
}

const SMALL: &str = r#"{"bomFormat": "CycloneDX", "specVersion": "1.6", "metadata": {"component": {"name": "p",
    "components": [{"name": "q"}]}, "tools": {"components": [{"name": "t", "version": "1"}]}},
    "components": [{"name": "a", "group": "g", "purl": "pkg:maven/g/a@1",
    "hashes": [{"alg": "SHA-256", "content": "0812f284ac5dd0d617461d9a2ab6ac6811137f25122dfffd4788a4871e732d00"}],
    "components": [{"name": "b", "components": [{"name": "c"}]}]}],
    "spdxVersion": "SPDX-2.3", "packages": [{"name": "x", "checksums": [{"algorithm": "SHA1", "checksumValue": "0812f284ac5dd0d617461d9a2ab6ac6811137f25"}]}]}"#;

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = parse(&bytes, &SbomLimits::default());
    }

    #[test]
    fn mutated_documents_never_panic(
        edits in proptest::collection::vec((any::<usize>(), any::<u8>(), 0u8..3), 1..6),
        tight in any::<bool>(),
    ) {
        let mut bytes = SMALL.as_bytes().to_vec();
        for (at, byte, kind) in edits {
            if bytes.is_empty() {
                break;
            }
            let at = at % bytes.len();
            match kind {
                0 => bytes[at] = byte,
                1 => bytes.insert(at, byte),
                _ => { bytes.remove(at); }
            }
        }
        let limits = if tight {
            SbomLimits { max_component_depth: 1, max_components: 2, max_string_bytes: 3, max_json_depth: 4 }
        } else {
            SbomLimits::default()
        };
        match parse(&bytes, &limits) {
            Err(e) => prop_assert!(!e.to_string().is_empty()),
            Ok(sbom) => {
                // The output's invariants (the same as the fuzz target `sbom_parse` checks).
                prop_assert!(sbom.components.len() <= limits.max_components);
                let hex = |h: &str, len: usize| h.len() == len && h.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
                for c in &sbom.components {
                    prop_assert!(!c.name.is_empty() && !c.path.is_empty());
                    prop_assert!(c.sha1.as_deref().is_none_or(|h| hex(h, 40)));
                    prop_assert!(c.sha256.as_deref().is_none_or(|h| hex(h, 64)));
                    for s in [Some(&c.name), c.group.as_ref(), c.version.as_ref(), c.purl.as_ref()].into_iter().flatten() {
                        prop_assert!(s.len() <= limits.max_string_bytes);
                    }
                }
            }
        }
    }
}
