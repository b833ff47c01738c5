//! SBOMs written by real generators (`scripts/make-sboms`): cdxgen over the pinned pack jars
//! (CycloneDX 1.5, 1.6 and 1.7 read, with hashes when the jars are in a Gradle cache; 1.7 and SPDX 3
//! named as unsupported), cyclonedx-python-lib (CycloneDX 1.4, nested) and spdx-tools (SPDX
//! 2.3, validated by spdx-tools), read back and checked against the jars themselves.
//!
//! `QUELL_SBOM_FIXTURES` names the directory `scripts/make-sboms` wrote. Without it these tests
//! skip, unless `QUELL_REQUIRE_SBOM=1` (`scripts/test` sets both): then they fail, so they can
//! never pass silently there.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use quell_sbom::{Format, Sbom, SbomComponent, SbomLimits, parse};
use sha1::Digest;

/// The fixtures directory, or `None` to skip.
fn fixtures() -> Option<PathBuf> {
    match std::env::var_os("QUELL_SBOM_FIXTURES") {
        Some(dir) if !dir.is_empty() => Some(PathBuf::from(dir)),
        _ if std::env::var("QUELL_REQUIRE_SBOM").as_deref() == Ok("1") => {
            panic!("QUELL_REQUIRE_SBOM=1 but QUELL_SBOM_FIXTURES is not set (run scripts/make-sboms DIR)")
        }
        _ => {
            eprintln!("skipped: QUELL_SBOM_FIXTURES is not set (scripts/make-sboms DIR writes them)");
            None
        }
    }
}

fn read(dir: &Path, name: &str) -> Sbom {
    let path = dir.join(name);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    parse(&bytes, &SbomLimits::default()).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// One pinned jar: `jars.tsv` as `scripts/fetch-pack-jars --tsv` prints it, with the groupId and
/// the SHA-1 and SHA-256 of the jar's bytes computed here.
struct Jar {
    file: String,
    source: String,
    group: &'static str,
    artifact: String,
    version: String,
    sha1: String,
    sha256: String,
}

fn jars(dir: &Path) -> Vec<Jar> {
    let tsv = std::fs::read_to_string(dir.join("jars.tsv")).expect("jars.tsv");
    let mut out = Vec::new();
    for line in tsv.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        let [file, artifact, version, source, sha256] = cols[..] else { panic!("jars.tsv line {line:?}") };
        let bytes = std::fs::read(dir.join("jars").join(file)).expect("jar");
        let sha1 = hex(&sha1::Sha1::digest(&bytes));
        assert_eq!(hex(&sha2::Sha256::digest(&bytes)), sha256, "{file}");
        let group = match artifact {
            "commons-text" | "commons-collections4" => "org.apache.commons",
            "commons-collections" => "commons-collections",
            "spring-beans" => "org.springframework",
            other => panic!("no groupId known for {other}"),
        };
        out.push(Jar {
            file: file.to_string(),
            source: source.to_string(),
            group,
            artifact: artifact.to_string(),
            version: version.to_string(),
            sha1,
            sha256: sha256.to_string(),
        });
    }
    assert_eq!(out.len(), 16, "the pinned pack jars");
    out
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn by_purl<'a>(sbom: &'a Sbom, purl: &str) -> &'a SbomComponent {
    sbom.components
        .iter()
        .find(|c| c.purl.as_deref() == Some(purl))
        .unwrap_or_else(|| panic!("no component {purl}; have {:?}", purls(sbom)))
}

fn purls(sbom: &Sbom) -> BTreeSet<&str> {
    sbom.components.iter().filter_map(|c| c.purl.as_deref()).collect()
}

#[test]
fn cdxgen_over_the_pack_jars() {
    let Some(dir) = fixtures() else { return };
    let jars = jars(&dir);
    for spec in ["1.5", "1.6", "1.7"] {
        let sbom = read(&dir, &format!("cdxgen-jars-{spec}.cdx.json"));
        assert_eq!(sbom.format, Format::CycloneDx);
        assert_eq!(sbom.spec_version, spec);
        assert!(sbom.serial.as_deref().is_some_and(|s| s.starts_with("urn:uuid:")), "{:?}", sbom.serial);
        assert!(sbom.created.as_deref().is_some_and(|t| t.starts_with("20") && t.ends_with('Z')), "{:?}", sbom.created);
        assert_eq!(sbom.tools, ["cdxgen 12.8.4"]);
        // The subject (the scanned folder) has a purl, so it is an entry.
        assert_eq!(sbom.subject.as_deref(), Some("jars"));
        let subject = by_purl(&sbom, "pkg:maven/jars@latest");
        assert_eq!((subject.group.as_deref(), subject.version.as_deref()), (None, Some("latest")));
        // cdxgen names each distinct jar identity once (by file name and manifest; it drops
        // `.RELEASE`), so every (group, artifact, version) of the pinned jars is there.
        let mut expected = BTreeSet::new();
        for jar in &jars {
            let version = jar.version.trim_end_matches(".RELEASE");
            let purl = format!("pkg:maven/{}/{}@{version}?type=jar", jar.group, jar.artifact);
            let c = by_purl(&sbom, &purl);
            assert_eq!(c.group.as_deref(), Some(jar.group), "{purl}");
            assert_eq!(c.name, jar.artifact, "{purl}");
            assert_eq!(c.version.as_deref(), Some(version), "{purl}");
            assert_eq!(c.path, [purl.as_str()], "bom-ref is the purl");
            // `-t jar` writes no hashes; if a later cdxgen does, they must be the jar's.
            if let Some(sha1) = &c.sha1 {
                assert!(jars.iter().any(|j| &j.sha1 == sha1), "{purl}: {sha1}");
            }
            expected.insert(purl);
        }
        assert!(expected.contains("pkg:maven/org.apache.commons/commons-text@1.9?type=jar"));
        // Debian's commons-collections 3.2.2 manifest names org.apache.commons, which cdxgen
        // takes as the group: a real generator's quirk, read as written.
        assert!(purls(&sbom).contains("pkg:maven/org.apache.commons/commons-collections@3.2.2?type=jar"));
        assert_eq!(sbom.components.len(), expected.len() + 2, "{:?}", purls(&sbom));
    }
}

/// With the jars also in a Gradle module cache, cdxgen writes each identity's hashes: they are the
/// hashes of a pinned jar of that identity.
#[test]
fn cdxgen_with_a_gradle_cache_writes_hashes() {
    let Some(dir) = fixtures() else { return };
    let jars = jars(&dir);
    let sbom = read(&dir, "cdxgen-jars-gradle-1.6.cdx.json");
    assert_eq!(sbom.spec_version, "1.6");
    let mut hashed = 0;
    for jar in &jars {
        let version = jar.version.trim_end_matches(".RELEASE");
        let purl = format!("pkg:maven/{}/{}@{version}?type=jar", jar.group, jar.artifact);
        let c = by_purl(&sbom, &purl);
        let (Some(sha1), Some(sha256)) = (&c.sha1, &c.sha256) else { panic!("{purl} has no hashes: {c:?}") };
        let same_identity: Vec<_> = jars
            .iter()
            .filter(|j| {
                (j.group, &j.artifact, j.version.trim_end_matches(".RELEASE")) == (jar.group, &jar.artifact, version)
            })
            .collect();
        assert!(same_identity.iter().any(|j| (&j.sha1, &j.sha256) == (sha1, sha256)), "{purl}: {sha1} {sha256}");
        hashed += 1;
    }
    assert_eq!(hashed, jars.len());
    let sha = by_purl(&sbom, "pkg:maven/commons-collections/commons-collections@3.2.1?type=jar");
    let jar = jars.iter().find(|j| j.file == "commons-collections-3.2.1.jar").expect("pinned");
    assert_eq!((sha.sha1.as_deref(), sha.sha256.as_deref()), (Some(jar.sha1.as_str()), Some(jar.sha256.as_str())));
    // Debian's commons-collections 3.2.2, taken as org.apache.commons, is not in the cache.
    let debian = by_purl(&sbom, "pkg:maven/org.apache.commons/commons-collections@3.2.2?type=jar");
    assert_eq!((&debian.sha1, &debian.sha256), (&None, &None));
}

/// cdxgen's SPDX export (SPDX 3.0.1 JSON-LD) is a version this reader does not read: it says
/// which, precisely. (Its default CycloneDX 1.7 is read: `cdxgen_over_the_pack_jars`.)
#[test]
fn cdxgen_versions_not_read_are_named() {
    let Some(dir) = fixtures() else { return };
    let read_err = |name: &str| {
        let bytes = std::fs::read(dir.join(name)).expect("fixture");
        parse(&bytes, &SbomLimits::default()).expect_err("not read")
    };
    assert_eq!(
        read_err("cdxgen-jars-3.0.spdx.json").to_string(),
        "unsupported SPDX version \"3.0.1\" (this reader reads SPDX 2.3 and 2.2 (JSON))"
    );
}

#[test]
fn cyclonedx_python_lib_1_4_nested_with_hashes() {
    let Some(dir) = fixtures() else { return };
    let jars = jars(&dir);
    let sbom = read(&dir, "python-lib-1.4.cdx.json");
    assert_eq!(sbom.format, Format::CycloneDx);
    assert_eq!(sbom.spec_version, "1.4");
    assert_eq!(sbom.serial.as_deref(), Some("urn:uuid:6d1c5c1e-2f4e-4a55-9a47-0a1b2c3d4e5f"));
    assert_eq!(sbom.created.as_deref(), Some("2026-12-02T12:00:00+00:00"));
    assert_eq!(sbom.tools, ["cyclonedx-python-lib 11.12.0"]);
    // The subject has no purl: not an entry.
    assert_eq!(sbom.subject.as_deref(), Some("quell-fixture-app"));
    assert!(sbom.components.iter().all(|c| c.name != "quell-fixture-app"));
    let bundles: Vec<_> = sbom.components.iter().filter(|c| c.path.len() == 1).collect();
    let libraries: Vec<_> = sbom.components.iter().filter(|c| c.path.len() == 2).collect();
    let sources: BTreeSet<&str> = jars.iter().map(|j| j.source.as_str()).collect();
    assert_eq!(bundles.len(), sources.len(), "one per source package");
    assert_eq!(libraries.len(), jars.len());
    assert_eq!(sbom.components.len(), bundles.len() + libraries.len());
    for jar in &jars {
        let reference = format!("jar:{}", jar.file);
        let c = sbom.components.iter().find(|c| c.path.last() == Some(&reference)).expect("the jar's component");
        assert_eq!(c.name, jar.artifact);
        assert_eq!(c.group.as_deref(), Some(jar.group));
        assert_eq!(c.version.as_deref(), Some(jar.version.as_str()));
        assert_eq!(c.purl, Some(format!("pkg:maven/{}/{}@{}", jar.group, jar.artifact, jar.version)));
        assert_eq!(c.sha1.as_deref(), Some(jar.sha1.as_str()), "{}", jar.file);
        assert_eq!(c.sha256.as_deref(), Some(jar.sha256.as_str()), "{}", jar.file);
        // Its enclosing component comes first in the list and is named in its path.
        let parent = &c.path[0];
        let at = sbom.components.iter().position(|p| &p.name == parent).expect("the bundle");
        let me = sbom.components.iter().position(|p| std::ptr::eq(p, c)).expect("itself");
        assert!(at < me);
    }
    let ct = sbom.components.iter().find(|c| c.path.last().map(String::as_str) == Some("jar:commons-text-1.9.jar"));
    assert_eq!(ct.map(|c| c.path[0].as_str()), Some("pypi-pyspark-3.3.0"));
}

#[test]
fn spdx_tools_2_3_validated() {
    let Some(dir) = fixtures() else { return };
    let jars = jars(&dir);
    let sbom = read(&dir, "spdx-tools-2.3.spdx.json");
    assert_eq!(sbom.format, Format::Spdx);
    assert_eq!(sbom.spec_version, "SPDX-2.3");
    assert_eq!(sbom.serial.as_deref(), Some("https://example.invalid/spdx/quell-fixture-app-1"));
    assert_eq!(sbom.created.as_deref(), Some("2026-12-02T12:00:00Z"));
    assert_eq!(sbom.subject.as_deref(), Some("quell-fixture-app"));
    assert_eq!(sbom.tools, ["spdx-tools-0.8.5"]);
    // The described root package has neither version nor purl: skipped.
    assert_eq!(sbom.components.len(), jars.len());
    for (i, (c, jar)) in sbom.components.iter().zip(&jars).enumerate() {
        assert_eq!(c.name, jar.artifact, "the `group:artifact` package name is split");
        assert_eq!(c.group.as_deref(), Some(jar.group));
        assert_eq!(c.version.as_deref(), Some(jar.version.as_str()));
        assert_eq!(c.purl, Some(format!("pkg:maven/{}/{}@{}", jar.group, jar.artifact, jar.version)));
        assert_eq!(c.sha1.as_deref(), Some(jar.sha1.as_str()), "{}", jar.file);
        assert_eq!(c.sha256.as_deref(), Some(jar.sha256.as_str()), "{}", jar.file);
        assert_eq!(c.path, [format!("SPDXRef-jar-{i}")]);
    }
}

/// Every generator's document, mutated byte by byte, still gives a result or an error, never a
/// panic (cheap: a few thousand parses of small documents).
#[test]
fn mutated_real_sboms_never_panic() {
    let Some(dir) = fixtures() else { return };
    let names = [
        "cdxgen-jars-1.5.cdx.json",
        "cdxgen-jars-1.6.cdx.json",
        "cdxgen-jars-gradle-1.6.cdx.json",
        "python-lib-1.4.cdx.json",
        "spdx-tools-2.3.spdx.json",
    ];
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for name in names {
        let original = std::fs::read(dir.join(name)).expect("fixture");
        for _ in 0..300 {
            let mut bytes = original.clone();
            for _ in 0..1 + next() % 4 {
                let at = (next() % bytes.len() as u64) as usize;
                match next() % 3 {
                    0 => bytes[at] = next() as u8,
                    1 => {
                        bytes.remove(at);
                    }
                    _ => bytes.truncate(at),
                }
                if bytes.is_empty() {
                    break;
                }
            }
            let _ = parse(&bytes, &SbomLimits::default());
        }
    }
}
