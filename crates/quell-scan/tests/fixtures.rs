//! Built fixtures: nesting, shading, mitigation, renaming, prepended data, tar family, exploded
//! trees, corruption and the 1.x bridges.

mod common;

use common::*;
use quell_model::{Component, Confidence, Cve, CveStatus};

fn affected_all(f: &quell_model::Finding) -> bool {
    statuses(f).iter().all(|s| *s == CveStatus::Affected)
}

#[test]
fn jar_in_war_in_ear_has_the_full_path_chain() {
    let war = zip_of(vec![
        entry("WEB-INF/web.xml", b"<web-app/>".to_vec()),
        stored("WEB-INF/lib/log4j-core-2.14.1.jar", core_jar("2.14.1")),
    ]);
    let ear = zip_of(vec![entry("META-INF/application.xml", b"<application/>".to_vec()), entry("lib/web.war", war)]);
    let (dir, outcome) = scan_bytes("app.ear", &ear);
    let f = only_core(&outcome);
    let top = dir.path().join("app.ear").display().to_string();
    assert_eq!(f.path, vec![top, "lib/web.war".into(), "WEB-INF/lib/log4j-core-2.14.1.jar".into()]);
    assert_eq!(f.version.as_deref(), Some("2.14.1"));
    assert!(affected_all(f));
    assert_eq!(outcome.summary.archives, 3);
    assert_eq!(outcome.summary.affected, 1);
}

#[test]
fn spring_boot_fat_jar_with_stored_nested_jars() {
    let fat = zip_of(vec![
        entry("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\r\nMain-Class: org.springframework.boot.loader.JarLauncher\r\nImplementation-Title: demo\r\nImplementation-Version: 9.9.9\r\n".to_vec()),
        entry("BOOT-INF/classes/com/example/App.class", vec![0xca, 0xfe, 0xba, 0xbe, 0, 0]),
        stored("BOOT-INF/lib/spring-core-5.3.jar", zip_of(vec![entry("org/springframework/core/X.class", vec![1, 2, 3])])),
        stored("BOOT-INF/lib/log4j-core-2.16.0.jar", core_jar("2.16.0")),
        stored("BOOT-INF/lib/log4j-api-2.14.1.jar", corpus_jar("log4j-api-2.14.1.jar")),
    ]);
    let (_dir, outcome) = scan_bytes("demo-0.0.1.jar", &fat);
    let f = only_core(&outcome);
    assert_eq!(f.path[1], "BOOT-INF/lib/log4j-core-2.16.0.jar");
    assert_eq!(f.version.as_deref(), Some("2.16.0"), "the fat jar's own manifest must not leak into the copy");
    assert_eq!(status(f, Cve::Cve2021_44228), CveStatus::NotAffected);
    assert_eq!(status(f, Cve::Cve2021_45105), CveStatus::Affected);
    assert_eq!(outcome.findings.len(), 1);
}

#[test]
fn shaded_copy_without_metadata_and_with_dropped_core_segment() {
    let uber = zip_of(
        entries_of(&shade(&core_jar("2.14.1"), "clt/shaded/l/"))
            .into_iter()
            .map(|(n, b)| entry(&n, b))
            .chain([entry("com/vendor/Main.class", vec![0xca, 0xfe, 0xba, 0xbe])])
            .collect(),
    );
    let (_dir, outcome) = scan_bytes("vendor-agent.jar", &uber);
    let f = only_core(&outcome);
    // No metadata: the release's class bytes (the Log4j pack's fingerprint table) pin it.
    assert_eq!(f.version.as_deref(), Some("2.14.1"));
    assert_eq!(f.version_range, None);
    assert!(f.evidence.iter().any(|e| e == "fingerprint:JndiManager"), "{:?}", f.evidence);
    assert!(f.evidence.iter().any(|e| e == "class:clt/shaded/l/lookup/JndiLookup.class"), "{:?}", f.evidence);
    assert!(affected_all(f));
}

#[test]
fn agent_extensions_esclazz_and_classdata_count() {
    for ext in ["esclazz", "classdata"] {
        let agent = rewrite(&core_jar("2.12.1"), |name| {
            if name.starts_with("META-INF/") {
                return None;
            }
            let relocated = name.replacen("org/apache/logging/log4j/core/", "agent/shaded/log4j2/core/", 1);
            Some(match relocated.strip_suffix(".class") {
                Some(stem) => format!("{stem}.{ext}"),
                None => relocated,
            })
        });
        let (_dir, outcome) = scan_bytes("elastic-apm-agent.jar", &agent);
        let f = only_core(&outcome);
        assert_eq!(f.version.as_deref(), Some("2.12.1"), "{ext}");
        assert!(affected_all(f));
    }
}

#[test]
fn jndi_lookup_removed_is_mitigated_for_two_cves_only() {
    let (_dir, outcome) = scan_bytes("log4j-core-2.14.1.jar", &without_jndi_lookup(&core_jar("2.14.1")));
    let f = only_core(&outcome);
    assert_eq!(f.version.as_deref(), Some("2.14.1"));
    assert_eq!(f.mitigations, vec!["jndi_lookup_removed".to_string()]);
    assert_eq!(statuses(f), vec![CveStatus::Mitigated, CveStatus::Mitigated, CveStatus::Affected, CveStatus::Affected]);
    // 2.0-beta9 has no JndiManager: with JndiLookup gone only the metadata says which release.
    let (_dir, outcome) = scan_bytes("log4j-core-2.0-beta9.jar", &without_jndi_lookup(&core_jar("2.0-beta9")));
    let f = only_core(&outcome);
    assert_eq!(f.version.as_deref(), Some("2.0-beta9"));
    assert_eq!(status(f, Cve::Cve2021_44228), CveStatus::Mitigated);
    // ... and stripped of metadata too, it is never called safe or pre-beta9.
    let stripped =
        rewrite(&without_jndi_lookup(&core_jar("2.0-beta9")), |n| (!n.starts_with("META-INF/")).then(|| n.to_string()));
    let (_dir, outcome) = scan_bytes("x.jar", &stripped);
    let f = only_core(&outcome);
    assert_eq!(f.version_range.as_deref(), Some("2.0-alpha1..2.0.2"));
    assert_eq!(status(f, Cve::Cve2021_44228), CveStatus::Mitigated);
    assert_eq!(status(f, Cve::Cve2021_45105), CveStatus::Affected);
    // A fixed release with JndiLookup removed stays not affected, not "mitigated".
    let (_dir, outcome) = scan_bytes("x.jar", &without_jndi_lookup(&core_jar("2.17.1")));
    assert!(statuses(only_core(&outcome)).iter().all(|s| *s == CveStatus::NotAffected));
}

#[test]
fn a_patched_copy_never_hides_a_vulnerable_sibling_and_two_versions_are_both_reported() {
    let war = zip_of(vec![
        stored("WEB-INF/lib/log4j-core-2.14.1.jar", without_jndi_lookup(&core_jar("2.14.1"))),
        stored("WEB-INF/lib/log4j-core-2.11.0.jar", core_jar("2.11.0")),
        stored("WEB-INF/lib/log4j-core-2.17.1.jar", core_jar("2.17.1")),
    ]);
    let (_dir, outcome) = scan_bytes("app.war", &war);
    let mut versions: Vec<_> = outcome.findings.iter().map(|f| f.version.clone().unwrap_or_default()).collect();
    versions.sort();
    assert_eq!(versions, ["2.11.0", "2.14.1", "2.17.1"]);
    assert_eq!(outcome.summary.affected, 2, "the mitigated copy still needs 45105/44832; 2.11.0 is fully affected");
    let v2110 = outcome.findings.iter().find(|f| f.version.as_deref() == Some("2.11.0")).expect("2.11.0");
    assert!(affected_all(v2110));
}

#[test]
fn renamed_jars_are_found_by_content() {
    for name in ["library.zip", "log4j-core", "blob.bin"] {
        let (_dir, outcome) = scan_bytes(name, &core_jar("2.13.0"));
        assert_eq!(only_core(&outcome).version.as_deref(), Some("2.13.0"), "{name}");
    }
    // Nested without an extension too.
    let outer = zip_of(vec![stored("vendor/payload", core_jar("2.13.0"))]);
    let (_dir, outcome) = scan_bytes("outer.zip", &outer);
    assert_eq!(only_core(&outcome).path[1], "vendor/payload");
}

#[test]
fn shell_script_prepended_to_a_jar() {
    let mut exe = b"#!/bin/sh\nexec java -jar \"$0\" \"$@\"\nexit 1\n".to_vec();
    exe.extend_from_slice(&zip_of(vec![stored("BOOT-INF/lib/log4j-core-2.15.0.jar", core_jar("2.15.0"))]));
    let (_dir, outcome) = scan_bytes("myservice", &exe);
    let f = only_core(&outcome);
    assert_eq!(f.version.as_deref(), Some("2.15.0"));
    assert_eq!(status(f, Cve::Cve2021_45046), CveStatus::Affected);
}

#[test]
fn tgz_holding_a_zip_holding_a_jar() {
    let zip = zip_of(vec![entry("app/lib/log4j-core-2.12.1.jar", core_jar("2.12.1"))]);
    let tgz = tgz_of(&[("dist/readme.txt", b"hello"), ("dist/bundle.zip", &zip)]);
    let (dir, outcome) = scan_bytes("release.tgz", &tgz);
    let f = only_core(&outcome);
    assert_eq!(
        f.path,
        vec![
            dir.path().join("release.tgz").display().to_string(),
            "dist/bundle.zip".into(),
            "app/lib/log4j-core-2.12.1.jar".into()
        ]
    );
    assert_eq!(f.version.as_deref(), Some("2.12.1"));
    // A single-file .gz of a jar.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, &core_jar("2.10.0")).expect("gz");
    let (_dir, outcome) = scan_bytes("log4j-core-2.10.0.jar.gz", &gz.finish().expect("gz"));
    assert_eq!(only_core(&outcome).version.as_deref(), Some("2.10.0"));
}

#[test]
fn exploded_class_directory_is_a_copy() {
    let dir = tempfile::tempdir().expect("tempdir");
    let classes = dir.path().join("webapp/WEB-INF/classes");
    for (name, bytes) in entries_of(&core_jar("2.14.0")) {
        let path = classes.join(&name);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, bytes).expect("write");
    }
    let outcome = scan_one(dir.path());
    let f = only_core(&outcome);
    assert_eq!(f.path, vec![classes.join("org/apache/logging/log4j/core").display().to_string()]);
    assert_eq!(f.version.as_deref(), Some("2.14.0"), "pom.properties beside the classes refines the range");
    assert!(affected_all(f));
}

#[test]
fn corrupt_central_directory_is_an_error_and_the_scan_goes_on() {
    let mut broken = core_jar("2.14.1");
    let eocd = broken.len() - 22;
    assert_eq!(&broken[eocd..eocd + 4], b"PK\x05\x06");
    // Point the central directory offset past the end of the file.
    broken[eocd + 16..eocd + 20].copy_from_slice(&u32::MAX.to_le_bytes());
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("broken.jar"), &broken).expect("write");
    std::fs::write(dir.path().join("good.jar"), core_jar("2.17.0")).expect("write");
    std::fs::write(dir.path().join("truncated.jar"), &core_jar("2.16.0")[..50_000]).expect("write");
    let outcome = scan_one(dir.path());
    assert_eq!(only_core(&outcome).version.as_deref(), Some("2.17.0"));
    let errored: Vec<_> =
        outcome.errors.iter().map(|(p, _)| p[0].rsplit('/').next().unwrap_or("").to_string()).collect();
    assert!(errored.contains(&"broken.jar".to_string()), "{:?}", outcome.errors);
    assert!(errored.contains(&"truncated.jar".to_string()), "{:?}", outcome.errors);
    assert!(outcome.errors.iter().all(|(_, m)| m.contains("corrupt zip archive")), "{:?}", outcome.errors);
}

/// A minimal class file whose constant pool holds the given strings: enough for the classifier,
/// which reads constant-pool text, to tell a bridge from the real 1.x.
fn fake_class(strings: &[&str]) -> Vec<u8> {
    let mut bytes = vec![0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 52];
    for s in strings {
        bytes.push(1);
        bytes.extend_from_slice(&(s.len() as u16).to_be_bytes());
        bytes.extend_from_slice(s.as_bytes());
    }
    bytes
}

#[test]
fn log4j1_bridges_are_not_log4j1_and_reload4j_is_named() {
    let api_bridge = zip_of(vec![
        entry(
            "META-INF/maven/org.apache.logging.log4j/log4j-1.2-api/pom.properties",
            b"version=2.17.1\ngroupId=org.apache.logging.log4j\nartifactId=log4j-1.2-api\n".to_vec(),
        ),
        entry(
            "org/apache/log4j/Category.class",
            fake_class(&["org/apache/log4j/Category", "org/apache/logging/log4j/spi/ExtendedLogger"]),
        ),
        entry("org/apache/log4j/Logger.class", fake_class(&["org/apache/log4j/Logger"])),
        entry("org/apache/log4j/net/JMSAppender.class", fake_class(&["org/apache/log4j/net/JMSAppender"])),
    ]);
    let slf4j_bridge = zip_of(vec![
        entry("META-INF/maven/org.slf4j/log4j-over-slf4j/pom.properties", b"version=1.7.32\n".to_vec()),
        entry("org/apache/log4j/Category.class", fake_class(&["org/apache/log4j/Category", "org/slf4j/Logger"])),
    ]);
    for (name, jar) in [("log4j-1.2-api-2.17.1.jar", api_bridge), ("log4j-over-slf4j-1.7.32.jar", slf4j_bridge)] {
        let (_dir, outcome) = scan_bytes(name, &jar);
        assert!(outcome.findings.is_empty(), "{name}: {:?}", outcome.findings);
    }
    // reload4j: the fork of 1.2.17, with its own pom; named, not reported vulnerable.
    let reload4j =
        rewrite(&corpus_jar("log4j-1.2.17.jar"), |n| (!n.starts_with("META-INF/maven/")).then(|| n.to_string()));
    let mut entries: Vec<Entry> = entries_of(&reload4j).into_iter().map(|(n, b)| entry(&n, b)).collect();
    entries.push(entry(
        "META-INF/maven/ch.qos.reload4j/reload4j/pom.properties",
        b"version=1.2.25\ngroupId=ch.qos.reload4j\nartifactId=reload4j\n".to_vec(),
    ));
    let (_dir, outcome) = scan_bytes("reload4j-1.2.25.jar", &zip_of(entries));
    assert_eq!(outcome.findings.len(), 1);
    let f = &outcome.findings[0];
    assert_eq!(f.component, Component::Reload4j);
    assert_eq!(f.version.as_deref(), Some("1.2.25"));
    assert!(!f.is_affected());
}

#[test]
fn log4j1_cves_follow_the_classes_present() {
    let trimmed = rewrite(&corpus_jar("log4j-1.2.17.jar"), |n| {
        let drop = n.ends_with("net/JMSAppender.class") || n.contains("/chainsaw/");
        (!drop).then(|| n.to_string())
    });
    let (_dir, outcome) = scan_bytes("log4j-1.2.17.jar", &trimmed);
    let f = &outcome.findings[0];
    assert_eq!(f.component, Component::Log4j1);
    assert_eq!(status(f, Cve::Cve2021_4104), CveStatus::NotAffected);
    assert_eq!(status(f, Cve::Cve2022_23307), CveStatus::NotAffected);
    assert_eq!(status(f, Cve::Cve2019_17571), CveStatus::Affected);
    assert_eq!(status(f, Cve::Cve2022_23305), CveStatus::Affected);
}

#[test]
fn metadata_without_classes_is_a_declared_copy() {
    let sources = zip_of(vec![
        entry(
            "META-INF/maven/org.apache.logging.log4j/log4j-core/pom.properties",
            b"#Generated by Maven\nversion=2.14.1\ngroupId=org.apache.logging.log4j\nartifactId=log4j-core\n".to_vec(),
        ),
        entry("org/apache/logging/log4j/core/lookup/JndiLookup.java", b"package x;".to_vec()),
        entry("a/b/c.class", vec![0xca, 0xfe, 0xba, 0xbe]),
    ]);
    let (_dir, outcome) = scan_bytes("obfuscated.jar", &sources);
    let f = only_core(&outcome);
    assert_eq!(f.confidence, Confidence::Declared);
    assert_eq!(f.version.as_deref(), Some("2.14.1"));
    assert!(f.is_affected());
}

#[test]
fn metadata_that_disagrees_with_classes_is_reported_and_classes_win() {
    let lying = rewrite(&core_jar("2.14.1"), |n| Some(n.to_string()));
    let mut entries: Vec<Entry> = entries_of(&lying)
        .into_iter()
        .filter(|(n, _)| !n.ends_with("pom.properties"))
        .map(|(n, b)| entry(&n, b))
        .collect();
    entries
        .push(entry("META-INF/maven/org.apache.logging.log4j/log4j-core/pom.properties", b"version=2.17.1\n".to_vec()));
    let (_dir, outcome) = scan_bytes("relabelled.jar", &zip_of(entries));
    let f = only_core(&outcome);
    assert_eq!(f.version.as_deref(), Some("2.14.1"));
    assert!(
        f.evidence.iter().any(|e| e == "conflict:pom.properties says 2.17.1, classes say 2.14.1"),
        "{:?}",
        f.evidence
    );
    assert!(affected_all(f));
}

#[test]
fn duplicate_entry_names_are_reported() {
    let mut jar = zip_of(vec![entry("a/AAAA.txt", b"one".to_vec()), entry("a/BBBB.txt", b"two".to_vec())]);
    // Rename the second entry to the first one's name in both headers (same length).
    let from = b"a/BBBB.txt";
    let mut i = 0;
    while let Some(pos) = jar[i..].windows(from.len()).position(|w| w == from) {
        jar[i + pos..i + pos + from.len()].copy_from_slice(b"a/AAAA.txt");
        i += pos + from.len();
    }
    let (_dir, outcome) = scan_bytes("dups.jar", &jar);
    assert!(outcome.errors.iter().any(|(_, m)| m.contains("duplicate entry names")), "{:?}", outcome.errors);
}

#[test]
fn nesting_deeper_than_the_limit_is_reported_not_followed() {
    let mut archive = core_jar("2.14.1");
    for level in 0..6 {
        archive = zip_of(vec![stored(&format!("level{level}.jar"), archive)]);
    }
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("deep.jar"), &archive).expect("write");
    let mut options = quell_scan::ScanOptions::default();
    options.limits.max_depth = 3;
    let outcome = scan_paths(&[dir.path().join("deep.jar")], &options);
    assert!(outcome.findings.is_empty());
    assert!(outcome.errors.iter().any(|(_, m)| m.contains("--max-depth")), "{:?}", outcome.errors);
    options.limits.max_depth = 10;
    let outcome = scan_paths(&[dir.path().join("deep.jar")], &options);
    assert_eq!(only_core(&outcome).path.len(), 7, "deep.jar and six levels");
}

#[test]
fn unreadable_paths_are_errors_not_fatal() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("ok.jar"), core_jar("2.17.1")).expect("write");
    let outcome =
        scan_paths(&[dir.path().join("missing.jar"), dir.path().join("ok.jar")], &quell_scan::ScanOptions::default());
    assert_eq!(outcome.findings.len(), 1);
    assert_eq!(outcome.errors.len(), 1);
    assert_eq!(outcome.summary.errors, 1);
}

fn tar_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for (name, bytes) in entries {
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        builder.append_data(&mut header, name, *bytes).expect("tar entry");
    }
    builder.into_inner().expect("tar")
}

#[test]
fn tar_bz2_xz_and_zst_and_every_zip_family_extension() {
    use std::io::Write;
    let tar = tar_of(&[("opt/lib/log4j-core-2.13.0.jar", &core_jar("2.13.0"))]);
    let mut bz = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast());
    bz.write_all(&tar).expect("bz2");
    let mut xz = liblzma::write::XzEncoder::new(Vec::new(), 1);
    xz.write_all(&tar).expect("xz");
    let zst = zstd::encode_all(tar.as_slice(), 1).expect("zst");
    for (name, bytes) in [
        ("dist.tar", tar.clone()),
        ("dist.tar.bz2", bz.finish().expect("bz2")),
        ("dist.tar.xz", xz.finish().expect("xz")),
        ("dist.tar.zst", zst),
    ] {
        let (_dir, outcome) = scan_bytes(name, &bytes);
        let f = only_core(&outcome);
        assert_eq!(f.version.as_deref(), Some("2.13.0"), "{name}");
        assert_eq!(f.path[1..], ["opt/lib/log4j-core-2.13.0.jar".to_string()], "{name}");
        assert!(outcome.errors.is_empty(), "{name}: {:?}", outcome.errors);
    }
    // Nested under each zip-family name, a jmod with its 4-byte "JM" header before the zip.
    let mut jmod = b"JM\x01\x00".to_vec();
    jmod.extend_from_slice(&core_jar("2.12.0"));
    let mut entries = vec![stored("jmods/log4j.jmod", jmod)];
    for ext in ["jar", "war", "ear", "zip", "par", "sar", "aar", "rar"] {
        entries.push(entry(&format!("deploy/module.{ext}"), core_jar("2.11.1")));
    }
    let (_dir, outcome) = scan_bytes("bundle.zip", &zip_of(entries));
    assert!(outcome.errors.is_empty(), "{:?}", outcome.errors);
    let mut seen: Vec<(String, Option<String>)> =
        outcome.findings.iter().map(|f| (f.path[1].clone(), f.version.clone())).collect();
    seen.sort();
    let mut expected: Vec<(String, Option<String>)> = ["aar", "ear", "jar", "par", "rar", "sar", "war", "zip"]
        .iter()
        .map(|ext| (format!("deploy/module.{ext}"), Some("2.11.1".to_string())))
        .collect();
    expected.push(("jmods/log4j.jmod".to_string(), Some("2.12.0".to_string())));
    expected.sort();
    assert_eq!(seen, expected);
}

#[test]
fn zip64_archives_are_read() {
    // More than 65,535 entries: the count only fits the zip64 end-of-central-directory record.
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default();
    for (name, bytes) in entries_of(&core_jar("2.14.0")) {
        writer.start_file(name.as_str(), options).expect("start");
        std::io::Write::write_all(&mut writer, &bytes).expect("write");
    }
    let stored = options.compression_method(zip::CompressionMethod::Stored);
    for i in 0..66_000 {
        writer.start_file(format!("static/{i}.txt"), stored).expect("start");
    }
    let zip64 = writer.finish().expect("finish").into_inner();
    assert!(zip64.windows(4).any(|w| w == b"PK\x06\x06"), "the fixture has a zip64 end record");
    let (_dir, outcome) = scan_bytes("app.jar", &zip64);
    assert!(outcome.errors.is_empty(), "{:?}", outcome.errors);
    assert_eq!(only_core(&outcome).version.as_deref(), Some("2.14.0"));
}

#[test]
fn fingerprints_pin_class_only_copies_in_zips_and_tar_streams_alike() {
    // In a zip, fingerprint-only classes are read later by name; a tar stream cannot be read
    // again, so there they are read up front. Both must give the same exact version.
    let classes: Vec<(String, Vec<u8>)> =
        entries_of(&core_jar("2.12.1")).into_iter().filter(|(n, _)| !n.starts_with("META-INF/")).collect();
    let zip = zip_of(classes.iter().map(|(n, b)| entry(n, b.clone())).collect());
    let (_dir, outcome) = scan_bytes("tool.jar", &zip);
    assert_eq!(only_core(&outcome).version.as_deref(), Some("2.12.1"));
    let listed: Vec<(&str, &[u8])> = classes.iter().map(|(n, b)| (n.as_str(), b.as_slice())).collect();
    let (_dir, outcome) = scan_bytes("tool.tgz", &tgz_of(&listed));
    let f = only_core(&outcome);
    assert_eq!(f.version.as_deref(), Some("2.12.1"), "{f:?}");
    assert!(f.evidence.iter().any(|e| e == "fingerprint:ThreadContextDataInjectorCow"), "{:?}", f.evidence);
}
