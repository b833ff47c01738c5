//! `quell fix` end to end: corpus jars and built fixtures (Spring Boot fat jar, war in ear,
//! prepended script, shaded copy, duplicate names, signed jar, read-only file), dry run, restore,
//! fault injection, and an independent reader (`unzip -t`, `jar tf`) on every rewritten archive.

use std::collections::BTreeMap;
use std::io::{Cursor, Read, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;

use quell_fix::{ActionStatus, FaultPoint, FileAction, FixOptions, FixRecord, FixSummary, RestoreStatus};
use quell_model::{Component, Cve, CveStatus, Finding, ScanRecord};
use sha2::{Digest, Sha256};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipArchive, ZipWriter};

const CORPUS: &str = "../../../shared/corpus/jars";
const JNDI: &str = "org/apache/logging/log4j/core/lookup/JndiLookup.class";
const MANAGER: &str = "org/apache/logging/log4j/core/net/JndiManager.class";

fn corpus_jar(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(CORPUS).join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("corpus jar {}: {e}", path.display()))
}

fn core_jar(version: &str) -> Vec<u8> {
    corpus_jar(&format!("log4j-core-{version}.jar"))
}

fn zip_of(entries: Vec<(&str, Vec<u8>, bool)>) -> Vec<u8> {
    let mut writer = ZipWriter::new(Cursor::new(Vec::new()));
    for (name, bytes, stored) in entries {
        let method = if stored { CompressionMethod::Stored } else { CompressionMethod::Deflated };
        writer.start_file(name, SimpleFileOptions::default().compression_method(method)).expect("start");
        writer.write_all(&bytes).expect("write");
    }
    writer.finish().expect("finish").into_inner()
}

fn entries_of(zip: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut archive = ZipArchive::new(Cursor::new(zip)).expect("zip");
    (0..archive.len())
        .map(|i| {
            let mut file = archive.by_index(i).expect("entry");
            let mut bytes = Vec::new();
            file.read_to_end(&mut bytes).expect("read");
            (file.name().expect("name").to_string(), bytes)
        })
        .collect()
}

fn sha(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// Raw local header + compressed data of every entry, in central directory order, read with the
/// `zip` crate's offsets (independent of quell-fix's own parser).
fn raw_spans(zip: &[u8]) -> Vec<(String, CompressionMethod, Vec<u8>)> {
    let mut archive = ZipArchive::new(Cursor::new(zip)).expect("zip");
    let mut out = Vec::new();
    for i in 0..archive.len() {
        let file = archive.by_index_raw(i).expect("entry");
        let start = usize::try_from(file.header_start()).expect("offset");
        let header = &zip[start..];
        assert_eq!(&header[..4], b"PK\x03\x04", "local header of {:?}", file.name());
        let n = usize::from(u16::from_le_bytes([header[26], header[27]]));
        let e = usize::from(u16::from_le_bytes([header[28], header[29]]));
        let end = start + 30 + n + e + usize::try_from(file.compressed_size()).expect("size");
        out.push((file.name().expect("name").to_string(), file.compression(), zip[start..end].to_vec()));
    }
    out
}

fn options(backup: &Path, apply: bool) -> FixOptions {
    FixOptions { apply, backup_dir: backup.to_path_buf(), ..FixOptions::default() }
}

fn run(paths: &[PathBuf], opts: &FixOptions) -> (Vec<FileAction>, FixSummary) {
    let mut actions = Vec::new();
    let summary = quell_fix::fix(paths, opts, &mut |r| {
        if let FixRecord::Action(a) = r {
            actions.push(a);
        }
    });
    (actions, summary)
}

struct Collect(std::sync::Mutex<Vec<ScanRecord>>);
impl quell_scan::ReportSink for Collect {
    fn record(&self, record: ScanRecord) {
        self.0.lock().expect("lock").push(record);
    }
}

fn scan(path: &Path) -> Vec<Finding> {
    let sink = Collect(Default::default());
    quell_scan::scan(&[path.to_path_buf()], &Default::default(), &sink);
    let mut findings: Vec<Finding> = sink
        .0
        .into_inner()
        .expect("lock")
        .into_iter()
        .filter_map(|r| match r {
            ScanRecord::Finding(f) if f.component == Component::Log4jCore => Some(f),
            _ => None,
        })
        .collect();
    findings.sort_by(|a, b| a.path.cmp(&b.path));
    findings
}

fn statuses(f: &Finding) -> Vec<CveStatus> {
    f.cves.iter().map(|c| c.status).collect()
}

/// A fixed 2.x copy of an affected release: mitigated for the two, still affected for the others.
fn assert_mitigated(f: &Finding) {
    assert_eq!(f.status(Cve::Cve2021_44228), Some(CveStatus::Mitigated), "{f:?}");
    assert_eq!(f.status(Cve::Cve2021_45046), Some(CveStatus::Mitigated), "{f:?}");
    assert_eq!(f.status(Cve::Cve2021_45105), Some(CveStatus::Affected), "{f:?}");
    assert_eq!(f.mitigations, vec!["jndi_lookup_removed".to_string()]);
}

/// Every entry of `before` except those named in `removed` is in `after`, in the same order,
/// with byte-identical local header and data.
fn assert_untouched_except(before: &[u8], after: &[u8], removed: &[&str], changed: &[&str]) {
    let old: Vec<_> = raw_spans(before).into_iter().filter(|(n, ..)| !removed.contains(&n.as_str())).collect();
    let new = raw_spans(after);
    assert_eq!(old.iter().map(|(n, ..)| n).collect::<Vec<_>>(), new.iter().map(|(n, ..)| n).collect::<Vec<_>>());
    for ((name, method, bytes), (_, new_method, new_bytes)) in old.iter().zip(&new) {
        assert_eq!(method, new_method, "{name} keeps its method");
        if !changed.contains(&name.as_str()) {
            assert!(bytes == new_bytes, "{name}: local header and data must be byte-identical");
        }
    }
}

fn have(tool: &str) -> bool {
    Command::new("sh").arg("-c").arg(format!("command -v {tool}")).output().is_ok_and(|o| o.status.success())
}

/// An independent reader accepts the archive: `unzip -t` and, where a JDK is present, `jar tf`.
fn independent_check(path: &Path) {
    if have("unzip") {
        let out = Command::new("unzip").arg("-tqq").arg(path).output().expect("unzip");
        // 1 = warnings only (e.g. prepended data), which unzip reports for launcher scripts.
        assert!(out.status.code().is_some_and(|c| c <= 1), "unzip -t {}: {:?}", path.display(), out);
    }
    if have("jar") {
        let out = Command::new("jar").arg("tf").arg(path).output().expect("jar");
        assert!(out.status.success(), "jar tf {}: {}", path.display(), String::from_utf8_lossy(&out.stderr));
    }
}

fn tree_hashes(dir: &Path) -> BTreeMap<PathBuf, (String, u32, i64)> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("read_dir") {
            let p = e.expect("entry").path();
            let m = std::fs::symlink_metadata(&p).expect("meta");
            if m.is_dir() {
                stack.push(p);
            } else {
                out.insert(p.clone(), (sha(&std::fs::read(&p).expect("read")), m.mode(), m.mtime()));
            }
        }
    }
    out
}

fn temp_leftovers(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .expect("dir")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".quell-"))
        .collect()
}

#[test]
fn corpus_jars_affected_ones_fixed_others_left_alone() {
    let dir = tempfile::tempdir().expect("tempdir");
    let backup = tempfile::tempdir().expect("backup");
    let affected = ["2.0-beta9", "2.1", "2.10.0", "2.11.2", "2.12.1", "2.13.3", "2.14.0", "2.14.1", "2.15.0"];
    let safe = ["2.12.2", "2.12.4", "2.16.0", "2.17.0", "2.17.1", "2.3.1", "2.3.2"];
    for v in affected.iter().chain(&safe) {
        std::fs::write(dir.path().join(format!("log4j-core-{v}.jar")), core_jar(v)).expect("write");
    }
    std::fs::write(dir.path().join("log4j-1.2.17.jar"), corpus_jar("log4j-1.2.17.jar")).expect("write");
    let before = tree_hashes(dir.path());
    let (actions, summary) = run(&[dir.path().to_path_buf()], &options(backup.path(), true));
    assert_eq!(summary.files_changed, affected.len() as u64, "{actions:#?}");
    assert_eq!(summary.copies_still_affected, 0);
    assert!(actions.iter().all(|a| a.status == ActionStatus::Fixed), "{actions:#?}");
    for v in affected {
        let path = dir.path().join(format!("log4j-core-{v}.jar"));
        let fixed = std::fs::read(&path).expect("read");
        let original = core_jar(v);
        assert_untouched_except(&original, &fixed, &[JNDI], &[]);
        assert!(entries_of(&fixed).iter().any(|(n, _)| n == MANAGER) || v == "2.0-beta9", "JndiManager stays");
        let findings = scan(&path);
        assert_eq!(findings.len(), 1);
        if v == "2.15.0" {
            assert_eq!(statuses(&findings[0])[..2], [CveStatus::NotAffected, CveStatus::Mitigated]);
        } else {
            assert_mitigated(&findings[0]);
            assert_eq!(findings[0].version.as_deref(), Some(v), "version still read after the fix");
        }
        let action = actions.iter().find(|a| a.path == path.display().to_string()).expect("action");
        assert_eq!(action.copies[0].removed, vec![JNDI.to_string()]);
        assert_eq!(action.copies[0].needs_upgrade, vec![Cve::Cve2021_45105, Cve::Cve2021_44832]);
        assert!(action.copies[0].upgrade_to.as_deref().is_some_and(|u| u.contains("2.17.1")));
        assert_eq!(action.copies[0].verified, Some(true));
        independent_check(&path);
    }
    let after = tree_hashes(dir.path());
    for (path, hash) in &before {
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        if !affected.iter().any(|v| name == format!("log4j-core-{v}.jar")) {
            assert_eq!(after.get(path), Some(hash), "{name} must not change");
        }
    }
    // A second run has nothing left to do.
    let (actions, summary) = run(&[dir.path().to_path_buf()], &options(backup.path(), true));
    assert!(actions.is_empty(), "{actions:#?}");
    assert_eq!(summary.files_changed, 0);
}

fn spring_boot_fat_jar() -> Vec<u8> {
    zip_of(vec![
        (
            "META-INF/MANIFEST.MF",
            b"Manifest-Version: 1.0\r\nMain-Class: org.springframework.boot.loader.JarLauncher\r\n".to_vec(),
            false,
        ),
        ("org/springframework/boot/loader/JarLauncher.class", vec![0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 52], false),
        ("BOOT-INF/classes/com/example/App.class", vec![0xca, 0xfe, 0xba, 0xbe, 1, 2], false),
        (
            "BOOT-INF/lib/spring-core-5.3.jar",
            zip_of(vec![("org/springframework/core/X.class", vec![1, 2, 3], false)]),
            true,
        ),
        ("BOOT-INF/lib/log4j-core-2.14.1.jar", core_jar("2.14.1"), true),
        ("BOOT-INF/lib/log4j-api-2.14.1.jar", corpus_jar("log4j-api-2.14.1.jar"), true),
        ("BOOT-INF/lib/log4j-core-2.17.1.jar", core_jar("2.17.1"), true),
        ("BOOT-INF/classpath.idx", b"- \"BOOT-INF/lib/log4j-core-2.14.1.jar\"\n".to_vec(), false),
    ])
}

#[test]
fn spring_boot_fat_jar_keeps_nested_jars_stored_and_untouched() {
    let dir = tempfile::tempdir().expect("tempdir");
    let backup = tempfile::tempdir().expect("backup");
    let path = dir.path().join("demo-0.0.1.jar");
    let original = spring_boot_fat_jar();
    std::fs::write(&path, &original).expect("write");
    let (actions, summary) = run(std::slice::from_ref(&path), &options(backup.path(), true));
    assert_eq!(summary.copies_fixed, 1, "{actions:#?}");
    let fixed = std::fs::read(&path).expect("read");
    let inner = "BOOT-INF/lib/log4j-core-2.14.1.jar";
    assert_untouched_except(&original, &fixed, &[], &[inner]);
    for (name, method, _) in raw_spans(&fixed) {
        if name.ends_with(".jar") {
            assert_eq!(method, CompressionMethod::Stored, "{name} stays STORED");
        }
    }
    let inner_fixed = entries_of(&fixed).into_iter().find(|(n, _)| n == inner).expect("inner").1;
    assert_untouched_except(&core_jar("2.14.1"), &inner_fixed, &[JNDI], &[]);
    let findings = scan(&path);
    let fixed_copy = findings.iter().find(|f| f.path[1] == inner).expect("copy");
    assert_mitigated(fixed_copy);
    let other = findings.iter().find(|f| f.path[1] == "BOOT-INF/lib/log4j-core-2.17.1.jar").expect("2.17.1");
    assert!(statuses(other).iter().all(|s| *s == CveStatus::NotAffected));
    independent_check(&path);
}

#[test]
fn war_in_ear_is_rewritten_inside_out() {
    let dir = tempfile::tempdir().expect("tempdir");
    let backup = tempfile::tempdir().expect("backup");
    let war = zip_of(vec![
        ("WEB-INF/web.xml", b"<web-app/>".to_vec(), false),
        ("WEB-INF/lib/log4j-core-2.12.1.jar", core_jar("2.12.1"), true),
    ]);
    let ear =
        zip_of(vec![("META-INF/application.xml", b"<application/>".to_vec(), false), ("web.war", war.clone(), false)]);
    let path = dir.path().join("app.ear");
    std::fs::write(&path, &ear).expect("write");
    // Dry run first: the plan names the whole chain.
    let (actions, summary) = run(std::slice::from_ref(&path), &options(backup.path(), false));
    assert_eq!(actions.len(), 1);
    assert_eq!(actions[0].status, ActionStatus::Planned);
    let top = path.display().to_string();
    assert_eq!(actions[0].copies[0].path, vec![top, "web.war".into(), "WEB-INF/lib/log4j-core-2.12.1.jar".into()]);
    assert_eq!(actions[0].copies[0].mitigates, vec![Cve::Cve2021_44228, Cve::Cve2021_45046]);
    assert_eq!(summary.copies_still_affected, 1);
    assert_eq!(std::fs::read(&path).expect("read"), ear, "dry run changes nothing");
    let (_, summary) = run(std::slice::from_ref(&path), &options(backup.path(), true));
    assert_eq!(summary.copies_fixed, 1);
    let fixed = std::fs::read(&path).expect("read");
    assert_untouched_except(&ear, &fixed, &[], &["web.war"]);
    let new_war = entries_of(&fixed).into_iter().find(|(n, _)| n == "web.war").expect("war").1;
    assert_untouched_except(&war, &new_war, &[], &["WEB-INF/lib/log4j-core-2.12.1.jar"]);
    assert_eq!(raw_spans(&fixed)[1].1, CompressionMethod::Deflated, "the war keeps its method");
    assert_eq!(raw_spans(&new_war)[1].1, CompressionMethod::Stored, "the jar keeps its method");
    assert_mitigated(&scan(&path)[0]);
    independent_check(&path);
}

#[test]
fn prepended_launcher_script_is_kept() {
    let dir = tempfile::tempdir().expect("tempdir");
    let backup = tempfile::tempdir().expect("backup");
    let script = b"#!/bin/sh\nexec java -jar \"$0\" \"$@\"\nexit 1\n".to_vec();
    let mut exe = script.clone();
    exe.extend_from_slice(&zip_of(vec![("BOOT-INF/lib/log4j-core-2.14.1.jar", core_jar("2.14.1"), true)]));
    let path = dir.path().join("myservice");
    std::fs::write(&path, &exe).expect("write");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let (actions, _) = run(std::slice::from_ref(&path), &options(backup.path(), true));
    assert_eq!(actions[0].status, ActionStatus::Fixed, "{actions:#?}");
    let fixed = std::fs::read(&path).expect("read");
    assert!(fixed.starts_with(&script), "the launcher script stays in front");
    assert_eq!(std::fs::metadata(&path).expect("meta").mode() & 0o777, 0o755);
    assert_mitigated(&scan(&path)[0]);
    assert_eq!(entries_of(&fixed).len(), 1);
    independent_check(&path);
}

#[test]
fn shaded_copy_is_matched_by_suffix() {
    let dir = tempfile::tempdir().expect("tempdir");
    let backup = tempfile::tempdir().expect("backup");
    let shaded: Vec<(String, Vec<u8>)> = entries_of(&core_jar("2.14.1"))
        .into_iter()
        .filter(|(n, _)| !n.starts_with("META-INF/"))
        .map(|(n, b)| (n.replacen("org/apache/logging/log4j/core/", "clt/shaded/l/core/", 1), b))
        .chain([("com/vendor/Main.class".to_string(), vec![0xca, 0xfe, 0xba, 0xbe])])
        .collect();
    let jar = zip_of(shaded.iter().map(|(n, b)| (n.as_str(), b.clone(), false)).collect());
    let path = dir.path().join("vendor-agent.jar");
    std::fs::write(&path, &jar).expect("write");
    let (actions, _) = run(std::slice::from_ref(&path), &options(backup.path(), true));
    assert_eq!(actions[0].copies[0].removed, vec!["clt/shaded/l/core/lookup/JndiLookup.class".to_string()]);
    let fixed = std::fs::read(&path).expect("read");
    assert_untouched_except(&jar, &fixed, &["clt/shaded/l/core/lookup/JndiLookup.class"], &[]);
    assert!(entries_of(&fixed).iter().any(|(n, _)| n == "clt/shaded/l/core/net/JndiManager.class"));
    let f = &scan(&path)[0];
    assert_eq!(f.status(Cve::Cve2021_44228), Some(CveStatus::Mitigated));
}

/// Renames every occurrence of `from` to `to` (same length) in the raw bytes of a zip.
fn rename_raw(zip: &mut [u8], from: &[u8], to: &[u8]) {
    assert_eq!(from.len(), to.len());
    let mut i = 0;
    while let Some(pos) = zip[i..].windows(from.len()).position(|w| w == from) {
        zip[i + pos..i + pos + from.len()].copy_from_slice(to);
        i += pos + from.len();
    }
}

#[test]
fn duplicate_entry_names_do_not_crash_and_both_jndi_copies_go() {
    let dir = tempfile::tempdir().expect("tempdir");
    let backup = tempfile::tempdir().expect("backup");
    let mut entries = entries_of(&core_jar("2.14.1"));
    let lookup = entries.iter().find(|(n, _)| n == JNDI).expect("lookup").1.clone();
    let twin = "org/apache/logging/log4j/core/lookup/JndiLookuQ.class";
    entries.push((twin.to_string(), lookup));
    entries.push(("notes/AAAA.txt".into(), b"one".to_vec()));
    entries.push(("notes/BBBB.txt".into(), b"two".to_vec()));
    let mut jar = zip_of(entries.iter().map(|(n, b)| (n.as_str(), b.clone(), false)).collect());
    rename_raw(&mut jar, twin.as_bytes(), JNDI.as_bytes());
    rename_raw(&mut jar, b"notes/BBBB.txt", b"notes/AAAA.txt");
    let path = dir.path().join("dups.jar");
    std::fs::write(&path, &jar).expect("write");
    let (actions, _) = run(std::slice::from_ref(&path), &options(backup.path(), true));
    assert_eq!(actions[0].status, ActionStatus::Fixed, "{actions:#?}");
    assert_eq!(actions[0].copies[0].removed, vec![JNDI.to_string(), JNDI.to_string()]);
    let fixed = std::fs::read(&path).expect("read");
    assert_untouched_except(&jar, &fixed, &[JNDI], &[]);
    // The zip crate collapses duplicate names: count them with quell-fix's own reader and, where
    // installed, with unzip.
    let layout = quell_fix::zipfile::ZipLayout::read(&mut Cursor::new(&fixed)).expect("layout");
    let mut names: Vec<String> = layout.entries.iter().map(|e| e.name_lossy()).collect();
    if have("unzip") {
        let out = Command::new("unzip").arg("-Z1").arg(&path).output().expect("unzip");
        let listed: Vec<String> = String::from_utf8_lossy(&out.stdout).lines().map(str::to_string).collect();
        assert_eq!(listed, names, "unzip sees the same entries");
        names = listed;
    }
    assert_eq!(names.iter().filter(|n| *n == "notes/AAAA.txt").count(), 2, "both duplicates are kept");
    assert!(!names.iter().any(|n| n == JNDI));
    let before = quell_fix::zipfile::ZipLayout::read(&mut Cursor::new(&jar)).expect("layout");
    assert_eq!(before.entries.len(), layout.entries.len() + 2);
    assert_mitigated(&scan(&path)[0]);
}

fn signed_jar() -> Vec<u8> {
    let mut entries = entries_of(&core_jar("2.14.1"));
    entries.push(("META-INF/APACHE.SF".into(), b"Signature-Version: 1.0\r\n".to_vec()));
    entries.push(("META-INF/APACHE.RSA".into(), vec![0x30, 0x82, 1, 2]));
    zip_of(entries.iter().map(|(n, b)| (n.as_str(), b.clone(), false)).collect())
}

#[test]
fn signed_jar_is_refused_unless_signatures_are_stripped() {
    let dir = tempfile::tempdir().expect("tempdir");
    let backup = tempfile::tempdir().expect("backup");
    let jar = signed_jar();
    let path = dir.path().join("signed.jar");
    std::fs::write(&path, &jar).expect("write");
    let (actions, summary) = run(std::slice::from_ref(&path), &options(backup.path(), true));
    assert_eq!(actions[0].status, ActionStatus::Refused);
    assert!(
        actions[0]
            .reason
            .as_deref()
            .is_some_and(|r| r.contains("META-INF/APACHE.SF") && r.contains("--strip-signatures"))
    );
    assert_eq!(summary.copies_still_affected, 1);
    assert_eq!(std::fs::read(&path).expect("read"), jar);
    let opts = FixOptions { strip_signatures: true, ..options(backup.path(), true) };
    let (actions, _) = run(std::slice::from_ref(&path), &opts);
    assert_eq!(actions[0].status, ActionStatus::Fixed, "{actions:#?}");
    assert_eq!(actions[0].signature_files_removed.len(), 2);
    let fixed = std::fs::read(&path).expect("read");
    assert_untouched_except(&jar, &fixed, &[JNDI, "META-INF/APACHE.SF", "META-INF/APACHE.RSA"], &[]);
    independent_check(&path);
}

#[test]
fn dry_run_changes_no_byte_on_disk() {
    let dir = tempfile::tempdir().expect("tempdir");
    let backup_parent = tempfile::tempdir().expect("backup");
    let backup = backup_parent.path().join("never-created");
    std::fs::create_dir(dir.path().join("lib")).expect("mkdir");
    std::fs::write(dir.path().join("lib/log4j-core-2.14.1.jar"), core_jar("2.14.1")).expect("write");
    std::fs::write(dir.path().join("demo.jar"), spring_boot_fat_jar()).expect("write");
    std::fs::write(dir.path().join("signed.jar"), signed_jar()).expect("write");
    std::fs::write(dir.path().join("log4j-core-2.17.1.jar"), core_jar("2.17.1")).expect("write");
    let before = tree_hashes(dir.path());
    let (actions, summary) = run(&[dir.path().to_path_buf()], &options(&backup, false));
    assert_eq!(summary.files_changed, 2, "{actions:#?}");
    assert_eq!(summary.files_refused, 1);
    assert_eq!(summary.copies_still_affected, 3);
    assert!(!summary.applied);
    assert_eq!(tree_hashes(dir.path()), before);
    assert!(!backup.exists(), "a dry run does not even create the backup directory");
}

#[test]
fn restore_brings_back_the_exact_original_bytes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let backup = tempfile::tempdir().expect("backup");
    let path = dir.path().join("app.jar");
    let original = spring_boot_fat_jar();
    std::fs::write(&path, &original).expect("write");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).expect("chmod");
    let mtime = std::fs::metadata(&path).expect("meta").mtime();
    let (actions, _) = run(std::slice::from_ref(&path), &options(backup.path(), true));
    assert_eq!(actions[0].status, ActionStatus::Fixed);
    assert_eq!(actions[0].sha256_before.as_deref(), Some(sha(&original).as_str()));
    let fixed = std::fs::read(&path).expect("read");
    assert_ne!(fixed, original);
    assert_eq!(actions[0].sha256_after.as_deref(), Some(sha(&fixed).as_str()));
    let meta = std::fs::metadata(&path).expect("meta");
    assert_eq!((meta.mode() & 0o777, meta.mtime()), (0o640, mtime), "mode and timestamps kept");
    let manifest = std::fs::read_to_string(backup.path().join("manifest.jsonl")).expect("manifest");
    assert!(manifest.contains(&sha(&original)));
    let mut records = Vec::new();
    quell_fix::restore(backup.path(), &mut |r| records.push(r)).expect("restore");
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].status, RestoreStatus::Restored, "{records:?}");
    assert_eq!(std::fs::read(&path).expect("read"), original);
    let meta = std::fs::metadata(&path).expect("meta");
    assert_eq!((meta.mode() & 0o777, meta.mtime()), (0o640, mtime));
    // Again: nothing to do. After an upgrade: left alone.
    let records = quell_fix::restore(backup.path(), &mut |_| {}).expect("restore");
    assert_eq!(records[0].status, RestoreStatus::AlreadyOriginal);
    std::fs::write(&path, core_jar("2.17.1")).expect("upgrade");
    let records = quell_fix::restore(backup.path(), &mut |_| {}).expect("restore");
    assert_eq!(records[0].status, RestoreStatus::ChangedSinceFix);
    assert_eq!(std::fs::read(&path).expect("read"), core_jar("2.17.1"));
}

#[test]
fn a_failure_at_any_step_leaves_the_original_untouched() {
    for point in [FaultPoint::BeforeWrite, FaultPoint::MidWrite, FaultPoint::BeforeRename] {
        let dir = tempfile::tempdir().expect("tempdir");
        let backup = tempfile::tempdir().expect("backup");
        let path = dir.path().join("demo.jar");
        let original = spring_boot_fat_jar();
        std::fs::write(&path, &original).expect("write");
        let before = tree_hashes(dir.path());
        let opts = FixOptions { fault: Some(point), ..options(backup.path(), true) };
        let (actions, summary) = run(std::slice::from_ref(&path), &opts);
        assert_eq!(actions[0].status, ActionStatus::Failed, "{point:?}: {actions:#?}");
        assert!(actions[0].reason.as_deref().is_some_and(|r| r.contains("untouched")));
        assert_eq!(summary.files_failed, 1);
        assert_eq!(summary.copies_still_affected, 1);
        assert_eq!(tree_hashes(dir.path()), before, "{point:?}: original intact, no temporary file left");
        assert!(temp_leftovers(dir.path()).is_empty());
    }
}

#[test]
fn read_only_file_is_fixed_and_stays_read_only() {
    let dir = tempfile::tempdir().expect("tempdir");
    let backup = tempfile::tempdir().expect("backup");
    let path = dir.path().join("log4j-core-2.13.0.jar");
    std::fs::write(&path, core_jar("2.13.0")).expect("write");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o444)).expect("chmod");
    let (actions, _) = run(std::slice::from_ref(&path), &options(backup.path(), true));
    assert_eq!(actions[0].status, ActionStatus::Fixed, "{actions:#?}");
    assert_eq!(std::fs::metadata(&path).expect("meta").mode() & 0o777, 0o444);
    assert_mitigated(&scan(&path)[0]);
}

#[test]
fn copies_in_tar_archives_and_exploded_trees_are_reported_unfixable() {
    let dir = tempfile::tempdir().expect("tempdir");
    let backup = tempfile::tempdir().expect("backup");
    let classes = dir.path().join("exploded/WEB-INF/classes");
    for (name, bytes) in entries_of(&core_jar("2.14.1")) {
        if name.ends_with(".class") && name.contains("/core/lookup/") || name.ends_with("JndiManager.class") {
            let p = classes.join(&name);
            std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
            std::fs::write(p, bytes).expect("write");
        }
    }
    let before = tree_hashes(dir.path());
    let (actions, summary) = run(&[dir.path().to_path_buf()], &options(backup.path(), true));
    assert_eq!(actions.len(), 1, "{actions:#?}");
    assert_eq!(actions[0].status, ActionStatus::Unfixable);
    assert_eq!(summary.copies_still_affected, 1);
    assert_eq!(tree_hashes(dir.path()), before);
}

#[test]
fn zip64_archive_with_more_than_65535_entries_and_zip64_extras() {
    let dir = tempfile::tempdir().expect("tempdir");
    let backup = tempfile::tempdir().expect("backup");
    let mut writer = ZipWriter::new(Cursor::new(Vec::new()));
    let large = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated).large_file(true);
    for (name, bytes) in entries_of(&core_jar("2.14.1")) {
        writer.start_file(name.as_str(), large).expect("start");
        writer.write_all(&bytes).expect("write");
    }
    let small = SimpleFileOptions::default().compression_method(CompressionMethod::Stored);
    for i in 0..65_600 {
        writer.start_file(format!("filler/{i}.txt"), small).expect("start");
        writer.write_all(b"x").expect("write");
    }
    let jar = writer.finish().expect("finish").into_inner();
    assert!(jar.windows(4).any(|w| w == b"PK\x06\x06"), "the fixture has a zip64 end record");
    let path = dir.path().join("big.jar");
    std::fs::write(&path, &jar).expect("write");
    let (actions, _) = run(std::slice::from_ref(&path), &options(backup.path(), true));
    assert_eq!(actions[0].status, ActionStatus::Fixed, "{actions:#?}");
    let fixed = std::fs::read(&path).expect("read");
    assert!(fixed.windows(4).any(|w| w == b"PK\x06\x06"), "zip64 kept");
    let layout = quell_fix::zipfile::ZipLayout::read(&mut Cursor::new(&fixed)).expect("layout");
    let before = quell_fix::zipfile::ZipLayout::read(&mut Cursor::new(&jar)).expect("layout");
    assert_eq!(layout.entries.len() + 1, before.entries.len());
    assert_mitigated(&scan(&path)[0]);
    independent_check(&path);
}

#[test]
fn jar_tool_archives_with_data_descriptors() {
    // Required, never skipped: scripts/test installs the JDK (jar) and unzip.
    assert!(
        have("jar") && have("unzip"),
        "needs the JDK's jar tool and unzip: install default-jdk-headless and unzip (scripts/test does)"
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let backup = tempfile::tempdir().expect("backup");
    let src = dir.path().join("src");
    std::fs::create_dir(&src).expect("mkdir");
    let orig = dir.path().join("orig.jar");
    std::fs::write(&orig, core_jar("2.14.1")).expect("write");
    let ok = Command::new("unzip").arg("-qq").arg(&orig).arg("-d").arg(&src).status().expect("unzip");
    assert!(ok.success());
    std::fs::remove_file(&orig).expect("rm");
    let path = dir.path().join("rebuilt.jar");
    // The JDK's ZipOutputStream writes deflated entries with data descriptors.
    let ok = Command::new("jar").arg("cfM").arg(&path).arg("-C").arg(&src).arg(".").status().expect("jar");
    assert!(ok.success());
    std::fs::remove_dir_all(&src).expect("rm");
    let jar = std::fs::read(&path).expect("read");
    assert!(jar.windows(4).any(|w| w == b"PK\x07\x08"), "the fixture has data descriptors");
    let (actions, _) = run(std::slice::from_ref(&path), &options(backup.path(), true));
    assert_eq!(actions[0].status, ActionStatus::Fixed, "{actions:#?}");
    let fixed = std::fs::read(&path).expect("read");
    assert_untouched_except(&jar, &fixed, &[JNDI], &[]);
    assert_mitigated(&scan(&path)[0]);
    independent_check(&path);
}

#[test]
fn prepended_script_with_offsets_counted_from_the_file_start() {
    // `zip -A` style: the offsets include the script (the other test covers unadjusted offsets).
    let dir = tempfile::tempdir().expect("tempdir");
    let backup = tempfile::tempdir().expect("backup");
    let script = b"#!/bin/sh\nexec java -jar \"$0\" \"$@\"\n".to_vec();
    let mut cursor = Cursor::new(script.clone());
    cursor.set_position(script.len() as u64);
    let mut writer = ZipWriter::new(cursor);
    let stored = SimpleFileOptions::default().compression_method(CompressionMethod::Stored);
    writer.start_file("lib/log4j-core-2.11.1.jar", stored).expect("start");
    writer.write_all(&core_jar("2.11.1")).expect("write");
    let exe = writer.finish().expect("finish").into_inner();
    assert!(exe.starts_with(&script));
    let layout = quell_fix::zipfile::ZipLayout::read(&mut Cursor::new(&exe)).expect("layout");
    assert_eq!(layout.prefix_len(), script.len() as u64);
    let path = dir.path().join("launcher.jar");
    std::fs::write(&path, &exe).expect("write");
    let (actions, _) = run(std::slice::from_ref(&path), &options(backup.path(), true));
    assert_eq!(actions[0].status, ActionStatus::Fixed, "{actions:#?}");
    let fixed = std::fs::read(&path).expect("read");
    assert!(fixed.starts_with(&script));
    assert_mitigated(&scan(&path)[0]);
    independent_check(&path);
}

#[test]
fn hard_linked_file_is_not_split() {
    let dir = tempfile::tempdir().expect("tempdir");
    let backup = tempfile::tempdir().expect("backup");
    let path = dir.path().join("a.jar");
    std::fs::write(&path, core_jar("2.14.1")).expect("write");
    std::fs::hard_link(&path, dir.path().join("b.jar")).expect("link");
    let before = tree_hashes(dir.path());
    let (actions, summary) = run(std::slice::from_ref(&path), &options(backup.path(), true));
    assert_eq!(actions[0].status, ActionStatus::Failed, "{actions:#?}");
    assert!(actions[0].reason.as_deref().is_some_and(|r| r.contains("hard links")));
    assert_eq!(summary.copies_still_affected, 1);
    assert_eq!(tree_hashes(dir.path()), before);
}

#[test]
fn copy_inside_a_compressed_stream_is_reported_unfixable_with_the_reason() {
    let dir = tempfile::tempdir().expect("tempdir");
    let backup = tempfile::tempdir().expect("backup");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&core_jar("2.14.1")).expect("gz");
    let path = dir.path().join("log4j-core-2.14.1.jar.gz");
    std::fs::write(&path, gz.finish().expect("gz")).expect("write");
    let before = tree_hashes(dir.path());
    let (actions, summary) = run(std::slice::from_ref(&path), &options(backup.path(), true));
    assert_eq!(actions.len(), 1, "{actions:#?}");
    assert_eq!(actions[0].status, ActionStatus::Unfixable);
    assert!(actions[0].reason.as_deref().is_some_and(|r| r.contains("not a zip archive")), "{actions:#?}");
    assert_eq!(actions[0].copies[0].needs_upgrade, vec![Cve::Cve2021_45105, Cve::Cve2021_44832]);
    assert_eq!(summary.copies_still_affected, 1);
    assert_eq!(tree_hashes(dir.path()), before);
}

#[test]
fn backups_inside_the_fixed_tree_are_not_fixed_again() {
    let dir = tempfile::tempdir().expect("tempdir");
    let backup = dir.path().join("backups");
    let path = dir.path().join("app.jar");
    std::fs::write(&path, core_jar("2.14.1")).expect("write");
    let (_, summary) = run(&[dir.path().to_path_buf()], &options(&backup, true));
    assert_eq!(summary.copies_fixed, 1);
    let (actions, summary) = run(&[dir.path().to_path_buf()], &options(&backup, true));
    assert!(actions.is_empty(), "{actions:#?}");
    assert_eq!(summary.copies_still_affected, 0);
}
