//! Every real Apache jar in the corpus yields exactly the version and verdicts of EXPECTED.tsv.

mod common;

use common::*;
use quell_model::{Component, Confidence, CveStatus};

#[test]
fn every_corpus_jar_matches_expected_tsv() {
    let expected_path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(CORPUS).join("EXPECTED.tsv");
    let table = std::fs::read_to_string(&expected_path).expect("EXPECTED.tsv");
    let mut checked = 0;
    for line in table.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()) {
        let cols: Vec<&str> = line.split('\t').collect();
        let (file, component, version) = (cols[0], cols[1], cols[2]);
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(CORPUS).join(file);
        let outcome = scan_one(&path);
        assert!(outcome.errors.is_empty(), "{file}: {:?}", outcome.errors);
        match component {
            "log4j-api" => assert!(outcome.findings.is_empty(), "{file}: the API alone is no finding"),
            "log4j" => {
                assert_eq!(outcome.findings.len(), 1, "{file}");
                let f = &outcome.findings[0];
                assert_eq!(f.component, Component::Log4j1);
                assert_eq!(f.version.as_deref(), Some(version));
                // 1.2.17 ships every class behind the five 1.x CVEs.
                assert!(statuses(f).iter().all(|s| *s == CveStatus::Affected), "{f:?}");
                assert_eq!(f.cves.len(), 5);
            }
            "log4j-core" => {
                let f = only_core(&outcome);
                assert_eq!(f.version.as_deref(), Some(version), "{file}");
                assert_eq!(f.confidence, Confidence::Confirmed);
                assert_eq!(f.path, vec![path.display().to_string()]);
                let want: Vec<CveStatus> = cols[3..7]
                    .iter()
                    .map(|s| match *s {
                        "affected" => CveStatus::Affected,
                        "not-affected" => CveStatus::NotAffected,
                        other => panic!("unknown verdict {other}"),
                    })
                    .collect();
                assert_eq!(statuses(f), want, "{file}");
                let ids: Vec<&str> = f.cves.iter().map(|c| c.id.id()).collect();
                assert_eq!(ids, ["CVE-2021-44228", "CVE-2021-45046", "CVE-2021-45105", "CVE-2021-44832"]);
            }
            other => panic!("unknown component {other}"),
        }
        checked += 1;
    }
    assert_eq!(checked, 25);
}

#[test]
fn class_markers_alone_decide_the_version_where_they_can() {
    // Shaded with all metadata stripped: the classes must still tell these apart exactly — by
    // their marker strings, and, where those cannot, by the fingerprint table of the Log4j pack
    // (built by `quell rules build` from these very releases).
    for (version, want_exact, want_range) in [
        ("2.0-beta9", None, Some("2.0-beta9..2.0.2")),
        // 2.2 .. 2.9.1 are releases the table has not read: they may ship 2.1's bytes.
        ("2.1", None, Some("2.1..2.9.1")),
        ("2.10.0", Some("2.10.0"), None),
        ("2.11.0", Some("2.11.0"), None),
        ("2.11.1", Some("2.11.1"), None),
        ("2.12.0", Some("2.12.0"), None),
        ("2.12.1", Some("2.12.1"), None),
        ("2.13.1", Some("2.13.1"), None),
        ("2.13.2", Some("2.13.2"), None),
        ("2.13.3", Some("2.13.3"), None),
        ("2.14.1", Some("2.14.1"), None),
        ("2.15.0", Some("2.15.0"), None),
        ("2.16.0", Some("2.16.0"), None),
        ("2.12.2", Some("2.12.2"), None),
        ("2.12.3", Some("2.12.3"), None),
        ("2.12.4", Some("2.12.4"), None),
        ("2.3.1", Some("2.3.1"), None),
        ("2.3.2", Some("2.3.2"), None),
        ("2.17.0", Some("2.17.0"), None),
        ("2.17.1", Some("2.17.1"), None),
    ] {
        let shaded = shade(&core_jar(version), "com/acme/vendor/l4j/core/");
        let (_dir, outcome) = scan_bytes("uber.jar", &shaded);
        let f = only_core(&outcome);
        assert_eq!(f.version.as_deref(), want_exact, "{version}: {f:?}");
        assert_eq!(f.version_range.as_deref(), want_range, "{version}: {f:?}");
        let exact = core_jar(version);
        let (_dir2, plain) = scan_bytes("plain.jar", &exact);
        assert_eq!(statuses(f), statuses(only_core(&plain)), "{version}: shaded verdicts equal the original's");
    }
}

#[test]
fn class_bytes_the_table_has_not_seen_prove_nothing_but_markers_still_narrow() {
    // A relocating shade plugin rewrites constant pools, so no fingerprint matches: 2.12.1 is
    // then known only by its marker classes (NoSqlAppender: 2.10.0 or later).
    let rebuilt = rewrite_classes(&core_jar("2.12.1"), |bytes| bytes.push(0));
    let (_dir, outcome) = scan_bytes("rebuilt.jar", &shade(&rebuilt, "com/acme/vendor/l4j/core/"));
    let f = only_core(&outcome);
    assert_eq!(f.version, None, "{f:?}");
    assert_eq!(f.version_range.as_deref(), Some("2.10.0..2.14.1"), "{f:?}");
    assert!(!f.evidence.iter().any(|e| e.starts_with("fingerprint:")), "{:?}", f.evidence);
    assert!(statuses(f).iter().all(|s| *s == CveStatus::Affected));
    // Without NoSqlAppender (a minimised copy) the markers say no more than before.
    let minimised = rewrite(&rebuilt, |n| (!n.contains("/nosql/")).then(|| n.to_string()));
    let (_dir, outcome) = scan_bytes("minimised.jar", &shade(&minimised, "com/acme/vendor/l4j/core/"));
    assert_eq!(only_core(&outcome).version_range.as_deref(), Some("2.1..2.14.1"));
}

/// `scripts/fetch-corpus` pins every corpus jar by URL and sha256: the pins must be the local
/// corpus's bytes (and EXPECTED.tsv's hashes), so that a clone elsewhere tests the same jars.
#[test]
fn fetch_corpus_pins_the_bytes_of_the_local_corpus() {
    use sha2::Digest;
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let pins = std::fs::read_to_string(root.join("../../scripts/corpus-jars.tsv")).expect("scripts/corpus-jars.tsv");
    let expected = std::fs::read_to_string(root.join(CORPUS).join("EXPECTED.tsv")).expect("EXPECTED.tsv");
    let copy = std::fs::read_to_string(root.join("../../scripts/corpus-expected.tsv")).expect("corpus-expected.tsv");
    assert_eq!(copy, expected, "scripts/corpus-expected.tsv is the corpus's EXPECTED.tsv");
    let mut pinned = 0;
    for line in pins.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()) {
        let cols: Vec<&str> = line.split('\t').collect();
        let (file, url, sha256) = (cols[0], cols[1], cols[2]);
        assert!(url.starts_with("https://repo1.maven.org/maven2/") && url.ends_with(&format!("/{file}")), "{url}");
        let bytes = std::fs::read(root.join(CORPUS).join(file)).expect("corpus jar");
        let hex: String = sha2::Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, sha256, "{file}");
        assert!(expected.lines().any(|l| l.starts_with(&format!("{file}\t")) && l.ends_with(sha256)), "{file}");
        pinned += 1;
    }
    assert_eq!(pinned, 25);
}
