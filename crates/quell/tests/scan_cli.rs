//! The `quell scan` command as a user runs it: exit codes, JSON lines, help text, many files.

use std::io::{Cursor, Write};
use std::path::Path;
use std::process::Command;

use zip::write::SimpleFileOptions;

const CORPUS: &str = "../../../shared/corpus/jars";

fn quell() -> Command {
    Command::new(env!("CARGO_BIN_EXE_quell"))
}

fn corpus(name: &str) -> Vec<u8> {
    std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join(CORPUS).join(name)).expect("corpus jar")
}

fn zip_with(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (name, bytes) in entries {
        writer.start_file(*name, SimpleFileOptions::default()).expect("start");
        writer.write_all(bytes).expect("write");
    }
    writer.finish().expect("finish").into_inner()
}

fn json_lines(stdout: &[u8]) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(stdout)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON: {line}: {e}")))
        .collect()
}

#[test]
fn two_thousand_generated_archives_scan_and_the_json_parses() {
    let dir = tempfile::tempdir().expect("tempdir");
    let vulnerable = corpus("log4j-core-2.14.1.jar");
    let fixed = corpus("log4j-core-2.17.1.jar");
    for i in 0..2000 {
        let sub = dir.path().join(format!("app{}", i % 40));
        std::fs::create_dir_all(&sub).expect("mkdir");
        let bytes = match i % 100 {
            0 => zip_with(&[("WEB-INF/lib/log4j-core-2.14.1.jar", &vulnerable)]),
            1 => zip_with(&[("lib/log4j-core-2.17.1.jar", &fixed)]),
            _ => zip_with(&[
                ("com/example/Main.class", b"\xca\xfe\xba\xbe"),
                ("README.txt", format!("archive {i}").as_bytes()),
            ]),
        };
        std::fs::write(sub.join(format!("archive-{i}.war")), bytes).expect("write");
    }
    let output = quell().args(["scan", "--format", "json"]).arg(dir.path()).output().expect("run quell");
    assert_eq!(
        output.status.code(),
        Some(1),
        "affected copies mean exit code 1; stderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let records = json_lines(&output.stdout);
    let summary = records.last().expect("summary");
    assert_eq!(summary["kind"], "summary");
    assert_eq!(summary["files"], 2000);
    assert_eq!(summary["archives"], 2000 + 40);
    assert_eq!(summary["findings"], 40);
    assert_eq!(summary["affected"], 20);
    assert_eq!(summary["errors"], 0);
    let findings: Vec<_> = records.iter().filter(|r| r["kind"] == "finding").collect();
    assert_eq!(findings.len(), 40);
    for f in findings {
        for field in ["path", "component", "version", "version_range", "confidence", "evidence", "mitigations", "cves"]
        {
            assert!(f.get(field).is_some(), "field {field} missing in {f}");
        }
    }
}

#[test]
fn exit_codes_zero_one_two() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("fixed.jar"), corpus("log4j-core-2.17.1.jar")).expect("write");
    let clean = quell().args(["scan", "--quiet"]).arg(dir.path()).output().expect("run");
    assert_eq!(clean.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&clean.stdout).contains("log4j-core 2.17.1"));

    std::fs::write(dir.path().join("old.jar"), corpus("log4j-core-2.1.jar")).expect("write");
    let affected = quell().args(["scan"]).arg(dir.path()).output().expect("run");
    assert_eq!(affected.status.code(), Some(1));

    let missing = quell().args(["scan", "/nonexistent/quell-test-path"]).output().expect("run");
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("cannot read"));

    let bad_glob = quell().args(["scan", "--exclude", "[", "."]).output().expect("run");
    assert_eq!(bad_glob.status.code(), Some(2));
}

#[test]
fn text_output_has_no_colour_when_piped_and_errors_are_listed() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("log4j-core-2.14.1.jar"), corpus("log4j-core-2.14.1.jar")).expect("write");
    std::fs::write(dir.path().join("broken.jar"), b"PK\x03\x04 this is not really a zip at all, sorry").expect("write");
    let output = quell().arg("scan").arg(dir.path()).output().expect("run");
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(!text.contains('\u{1b}'), "no ANSI escapes when stdout is not a terminal");
    assert!(text.contains("AFFECTED  log4j-core 2.14.1"), "{text}");
    assert!(text.contains("CVE-2021-44228 affected"), "{text}");
    assert!(text.contains("broken.jar: corrupt zip archive"), "{text}");
    assert!(text.contains("1 affected, 1 errors"), "{text}");
}

#[test]
fn excludes_and_default_vcs_skips() {
    let dir = tempfile::tempdir().expect("tempdir");
    for sub in [".git/objects", "node_modules/x", "cache", "keep"] {
        std::fs::create_dir_all(dir.path().join(sub)).expect("mkdir");
        std::fs::write(dir.path().join(sub).join("l.jar"), corpus("log4j-core-2.14.1.jar")).expect("write");
    }
    let output =
        quell().args(["scan", "--format", "json", "--exclude", "cache"]).arg(dir.path()).output().expect("run");
    let records = json_lines(&output.stdout);
    let paths: Vec<String> = records
        .iter()
        .filter(|r| r["kind"] == "finding")
        .map(|r| r["path"][0].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(paths.len(), 1, "{paths:?}");
    assert!(paths[0].contains("/keep/"), "{paths:?}");
    let all =
        quell().args(["scan", "--format", "json", "--no-default-excludes"]).arg(dir.path()).output().expect("run");
    assert_eq!(json_lines(&all.stdout).iter().filter(|r| r["kind"] == "finding").count(), 4);
}

#[test]
fn hard_links_and_repeated_paths_are_scanned_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let original = dir.path().join("a.jar");
    std::fs::write(&original, corpus("log4j-core-2.14.1.jar")).expect("write");
    std::fs::hard_link(&original, dir.path().join("b.jar")).expect("hard link");
    let output = quell().args(["scan", "--format", "json"]).arg(dir.path()).arg(&original).output().expect("run");
    let records = json_lines(&output.stdout);
    assert_eq!(records.iter().filter(|r| r["kind"] == "finding").count(), 1);
}

#[test]
fn help_teaches_with_examples() {
    let top = quell().arg("--help").output().expect("run");
    let top = String::from_utf8_lossy(&top.stdout);
    assert!(top.contains("Examples:") && top.contains("quell scan"), "{top}");
    let scan = quell().args(["scan", "--help"]).output().expect("run");
    let scan = String::from_utf8_lossy(&scan.stdout);
    for needle in [
        "Examples:",
        "--max-depth",
        "--max-inflated-bytes",
        "--exclude",
        "Exit codes",
        "\"kind\":\"finding\"",
        "--rules-from https://",
        "--rules-key",
    ] {
        assert!(scan.contains(needle), "scan --help lacks {needle}");
    }
}

#[test]
fn output_is_the_same_every_run_and_a_closed_pipe_exits_quietly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let vulnerable = corpus("log4j-core-2.14.1.jar");
    let fixed = corpus("log4j-core-2.17.1.jar");
    // 400 wars: more output than a pipe holds, so `| head` really closes it mid-write.
    for i in 0..400 {
        let jar = if i % 2 == 0 { &vulnerable } else { &fixed };
        let war = zip_with(&[("WEB-INF/lib/log4j-core.jar", jar)]);
        std::fs::write(dir.path().join(format!("app-{i:03}.war")), war).expect("write");
    }
    std::fs::write(dir.path().join("broken.jar"), b"PK\x03\x04 not really").expect("write");
    let run = |format: &str| {
        let out = quell().args(["scan", "--format", format]).arg(dir.path()).output().expect("run");
        assert_eq!(out.status.code(), Some(1));
        // The summary's times differ between runs; everything before it must not.
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let cut = if format == "json" { text.find("{\"kind\":\"summary\"") } else { text.find("\nscanned ") };
        text[..cut.expect("summary last")].to_string()
    };
    for format in ["json", "text"] {
        let first = run(format);
        assert!(first.matches("log4j-core").count() >= 400, "{first}");
        for _ in 0..2 {
            assert_eq!(run(format), first, "--format {format} differs between runs");
        }
    }
    let first = run("json");
    let paths: Vec<String> = json_lines(first.as_bytes())
        .iter()
        .map(|r| {
            r["path"]
                .as_array()
                .expect("path")
                .iter()
                .map(|p| p.as_str().unwrap_or_default())
                .collect::<Vec<_>>()
                .join("!/")
        })
        .collect();
    let mut sorted = paths.clone();
    sorted.sort();
    assert_eq!(paths, sorted, "records are ordered by path chain");
    // `--sort none` streams: the same records, in whatever order the threads found them.
    let out = quell().args(["scan", "--format", "json", "--sort", "none"]).arg(dir.path()).output().expect("run");
    assert_eq!(json_lines(&out.stdout).len(), json_lines(first.as_bytes()).len() + 1);
    // A reader that goes away (`| head -1`): no error message, the status of the work done.
    for format in ["json", "text"] {
        let mut child = quell()
            .args(["scan", "--format", format])
            .arg(dir.path())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn");
        let mut stdout = child.stdout.take().expect("stdout");
        let mut first_bytes = [0u8; 16];
        std::io::Read::read_exact(&mut stdout, &mut first_bytes).expect("some output");
        drop(stdout);
        let out = child.wait_with_output().expect("wait");
        assert_eq!(out.status.code(), Some(1), "--format {format}: affected copies were found");
        assert!(out.stderr.is_empty(), "--format {format}: {}", String::from_utf8_lossy(&out.stderr));
    }
}

#[test]
fn version_names_the_release_the_commit_and_the_build_date() {
    let out = quell().arg("--version").output().expect("run");
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let rest =
        text.strip_prefix(&format!("quell {} (commit ", env!("CARGO_PKG_VERSION"))).unwrap_or_else(|| panic!("{text}"));
    let (commit, date) =
        rest.strip_suffix(')').and_then(|r| r.split_once(", built ")).unwrap_or_else(|| panic!("{text}"));
    assert!(commit == "unknown" || (commit.len() == 12 && commit.chars().all(|c| c.is_ascii_hexdigit())), "{text}");
    let parts: Vec<&str> = date.split('-').collect();
    assert!(parts.len() == 3 && parts[0].len() == 4 && parts.iter().all(|p| p.parse::<u32>().is_ok()), "{text}");
}

/// `--hash-cache`: a second inventory scan reuses the hashes of unchanged files (proved by a
/// tampered entry showing through), hashes a changed file again, survives a broken cache with a
/// warning, and needs `--inventory`.
#[test]
fn the_hash_cache_reuses_hashes_of_unchanged_files_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("tempdir");
    let tree = dir.path().join("srv");
    std::fs::create_dir_all(&tree).expect("mkdir");
    let core = corpus("log4j-core-2.14.1.jar");
    std::fs::write(tree.join("app.war"), zip_with(&[("WEB-INF/lib/log4j-core-2.14.1.jar", &core)])).expect("war");
    std::fs::write(tree.join("lib.jar"), corpus("log4j-core-2.17.1.jar")).expect("jar");
    let cache = dir.path().join("cache/hashes.jsonl");
    std::fs::create_dir_all(cache.parent().expect("parent")).expect("mkdir");
    let scan = || {
        let out = quell()
            .args(["scan", "--inventory", "--format", "json", "--hash-cache"])
            .arg(&cache)
            .arg(&tree)
            .output()
            .expect("run");
        assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
        let mut components: Vec<(String, String)> = json_lines(&out.stdout)
            .into_iter()
            .filter(|r| r["kind"] == "component")
            .map(|r| (r["path"].to_string(), r["hashes"]["sha256"].as_str().expect("sha256").to_string()))
            .collect();
        components.sort();
        (components, String::from_utf8_lossy(&out.stderr).to_string())
    };
    let (first, stderr) = scan();
    assert_eq!(first.len(), 3, "{first:?}");
    assert!(stderr.contains("0 archive hashes reused"), "{stderr}");
    assert_eq!(std::fs::metadata(&cache).expect("cache").permissions().mode() & 0o777, 0o600);
    let (second, stderr) = scan();
    assert_eq!(second, first);
    assert!(stderr.contains("3 archive hashes reused"), "{stderr}");

    // The cache is what answers for unchanged files: a tampered hash shows through...
    let real = &first.iter().find(|(path, _)| path.contains("lib.jar")).expect("lib.jar").1;
    let text = std::fs::read_to_string(&cache).expect("read");
    std::fs::write(&cache, text.replace(real.as_str(), &"0".repeat(64))).expect("tamper");
    let (tampered, _) = scan();
    assert!(tampered.iter().any(|(path, hash)| path.contains("lib.jar") && hash == &"0".repeat(64)));
    // ...but a file written since is hashed again.
    std::fs::write(tree.join("lib.jar"), corpus("log4j-core-2.16.0.jar")).expect("rewrite");
    let (changed, stderr) = scan();
    let lib = &changed.iter().find(|(path, _)| path.contains("lib.jar")).expect("lib.jar").1;
    let want: String = {
        use sha2::Digest;
        sha2::Sha256::digest(corpus("log4j-core-2.16.0.jar")).iter().map(|b| format!("{b:02x}")).collect()
    };
    assert_eq!(lib, &want);
    assert!(stderr.contains("2 archive hashes reused"), "{stderr}");

    // A broken cache is a warning, and the scan's hashes are computed.
    std::fs::write(&cache, "not json\n").expect("break");
    let (after, stderr) = scan();
    assert!(stderr.contains("line 1") && stderr.contains("every archive is hashed again"), "{stderr}");
    assert_eq!(after, changed);
    // A cache others may write is not trusted.
    std::fs::set_permissions(&cache, std::fs::Permissions::from_mode(0o666)).expect("chmod");
    let (_, stderr) = scan();
    assert!(stderr.contains("writable by other users"), "{stderr}");

    let out = quell().args(["scan", "--hash-cache"]).arg(&cache).arg(&tree).output().expect("run");
    assert_eq!(out.status.code(), Some(2), "--hash-cache needs --inventory");
}
