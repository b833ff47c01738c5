//! Detection packs as a user runs them: the built-in packs against labelled real release jars
//! and fixtures built from them (shaded, relocated under prefixes with `$` and digits, stripped
//! of metadata, nested, agent extensions), a pack for a made-up component written as data only,
//! `quell rules check` errors with file and line, `quell rules build` fingerprints, and
//! `quell fix` removing a class a pack declares removable.
//!
//! The real jars come from `scripts/fetch-pack-jars` (pinned Debian and PyPI packages), which
//! `scripts/test` runs; `QUELL_PACK_JARS` names their directory (default `target/pack-jars`).

use std::io::{Cursor, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use zip::write::SimpleFileOptions;

fn quell() -> Command {
    Command::new(env!("CARGO_BIN_EXE_quell"))
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn pack_jars() -> PathBuf {
    let dir =
        std::env::var_os("QUELL_PACK_JARS").map(PathBuf::from).unwrap_or_else(|| workspace().join("target/pack-jars"));
    assert!(
        dir.join("commons-text-1.9.jar").is_file(),
        "the real release jars are missing in {}: run scripts/fetch-pack-jars (scripts/test does)",
        dir.display()
    );
    dir
}

fn jar(name: &str) -> Vec<u8> {
    std::fs::read(pack_jars().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn entries_of(zip: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut archive = zip::ZipArchive::new(Cursor::new(zip)).expect("zip");
    (0..archive.len())
        .map(|i| {
            let mut file = archive.by_index(i).expect("entry");
            let mut bytes = Vec::new();
            file.read_to_end(&mut bytes).expect("read");
            (file.name().expect("name").to_string(), bytes)
        })
        .filter(|(name, _)| !name.ends_with('/'))
        .collect()
}

fn zip_of(entries: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (name, bytes) in entries {
        writer.start_file(name.as_str(), SimpleFileOptions::default()).expect("start");
        writer.write_all(bytes).expect("write");
    }
    writer.finish().expect("finish").into_inner()
}

/// Rewrites a jar: `rename` maps each entry name to a new one, or drops it (`None`).
fn rewrite(zip: &[u8], rename: impl Fn(&str) -> Option<String>) -> Vec<u8> {
    let entries: Vec<(String, Vec<u8>)> =
        entries_of(zip).into_iter().filter_map(|(n, b)| rename(&n).map(|new| (new, b))).collect();
    zip_of(&entries)
}

/// Relocates `package` under `prefix` and drops all metadata, as a shading fat jar does.
fn shade(zip: &[u8], package: &str, prefix: &str) -> Vec<u8> {
    rewrite(zip, |n| (!n.starts_with("META-INF/")).then(|| n.replacen(package, &format!("{prefix}{package}"), 1)))
}

fn run(cmd: &mut Command) -> Output {
    let output = cmd.output().expect("run quell");
    eprintln!("{}", String::from_utf8_lossy(&output.stderr));
    output
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn findings(output: &Output) -> Vec<serde_json::Value> {
    stdout(output)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("json line"))
        .filter(|r| r["kind"] == "finding")
        .collect()
}

#[test]
fn built_in_packs_pass_their_labels_on_real_release_jars() {
    let labels = workspace().join("crates/quell-packs/labels");
    for pack in ["commons-text", "spring-beans", "commons-collections"] {
        let out = run(quell()
            .args(["rules", "test", pack])
            .arg(labels.join(format!("{pack}.tsv")))
            .arg("--base")
            .arg(pack_jars()));
        assert_eq!(out.status.code(), Some(0), "{pack}:\n{}", stdout(&out));
        assert!(stdout(&out).contains(", 0 mismatched"), "{}", stdout(&out));
    }
    let corpus = workspace().join("../shared/corpus/jars");
    let out = run(quell().args(["rules", "test", "log4j"]).arg(labels.join("log4j.tsv")).arg("--base").arg(corpus));
    assert_eq!(out.status.code(), Some(0), "log4j:\n{}", stdout(&out));
    assert!(stdout(&out).contains("25 files, 0 mismatched"), "{}", stdout(&out));
}

#[test]
fn built_in_packs_find_shaded_stripped_nested_and_renamed_copies() {
    let dir = tempfile::tempdir().expect("tempdir");
    let write = |name: &str, bytes: Vec<u8>| std::fs::write(dir.path().join(name), bytes).expect("write");
    let text = "org/apache/commons/text/";
    // Shaded and stripped: the classes alone decide, under prefixes with `$` and digits.
    write("ct19-shaded.jar", shade(&jar("commons-text-1.9.jar"), text, "com/acme/shaded/"));
    write("ct19-dollar.jar", shade(&jar("commons-text-1.9.jar"), text, "a$1/b2/"));
    write("ct110-shaded.jar", shade(&jar("commons-text-1.10.0.jar"), text, "x/y/"));
    write("ct16-shaded.jar", shade(&jar("commons-text-1.6.jar"), text, "vendor/"));
    // ScriptStringLookup deleted (no mitigation: dns and url stay on): still 1.9, still affected.
    write(
        "ct19-no-script.jar",
        rewrite(&jar("commons-text-1.9.jar"), |n| {
            (!n.ends_with("lookup/ScriptStringLookup.class")).then(|| n.to_string())
        }),
    );
    // Agent extension: classes renamed .esclazz.
    write(
        "ct19-agent.jar",
        rewrite(&jar("commons-text-1.9.jar"), |n| {
            (!n.starts_with("META-INF/"))
                .then(|| n.strip_suffix(".class").map_or(n.to_string(), |stem| format!("agent/{stem}.esclazz")))
        }),
    );
    // Nested: an ear holding a war holding the jar, metadata kept.
    let war = zip_of(&[("WEB-INF/lib/commons-text-1.9.jar".into(), jar("commons-text-1.9.jar"))]);
    write("app.ear", zip_of(&[("web.war".into(), war)]));
    // A fat jar with the real pom.properties of another version kept: classes win, conflict noted.
    let mut lying = entries_of(&shade(&jar("commons-text-1.10.0.jar"), text, "lib/"));
    lying.push((
        "META-INF/maven/org.apache.commons/commons-text/pom.properties".into(),
        b"groupId=org.apache.commons\nartifactId=commons-text\nversion=1.9\n".to_vec(),
    ));
    write("ct-lying-pom.jar", zip_of(&lying));
    let beans = "org/springframework/beans/";
    write("sb514-shaded.jar", shade(&jar("spring-beans-5.1.4.jar"), beans, "BOOT-INF/classes/shade/"));
    write("sb5327-shaded.jar", shade(&jar("spring-beans-5.3.27.jar"), beans, "s/"));
    let cc = "org/apache/commons/collections/";
    write("cc321-shaded.jar", shade(&jar("commons-collections-3.2.1.jar"), cc, "com/vendor/"));
    write("cc322-shaded.jar", shade(&jar("commons-collections-3.2.2-pyspark.jar"), cc, "com/vendor/"));
    let cc4 = "org/apache/commons/collections4/";
    write("cc44-shaded.jar", shade(&jar("commons-collections4-4.4.jar"), cc4, "z/"));
    let tsv = |rows: &[&str]| rows.join("\n") + "\n";
    let suites: [(&str, String); 3] = [
        (
            "commons-text",
            tsv(&[
                "ct19-shaded.jar\tcommons-text\t1.5..1.9\tCVE-2022-42889=affected",
                "ct19-dollar.jar\tcommons-text\t1.5..1.9\tCVE-2022-42889=affected",
                "ct19-agent.jar\tcommons-text\t1.5..1.9\tCVE-2022-42889=affected",
                "ct110-shaded.jar\tcommons-text\t1.10.0..\tCVE-2022-42889=not_affected",
                "ct16-shaded.jar\tcommons-text\t1.5..1.9\tCVE-2022-42889=affected",
                "ct19-no-script.jar\tcommons-text\t1.9\tCVE-2022-42889=affected",
                "app.ear\tcommons-text\t1.9\tCVE-2022-42889=affected",
                "ct-lying-pom.jar\tcommons-text\t1.10.0..\tCVE-2022-42889=not_affected",
            ]),
        ),
        (
            "spring-beans",
            tsv(&[
                "sb514-shaded.jar\tspring-beans\t..5.3.17\tCVE-2022-22965=affected",
                "sb5327-shaded.jar\tspring-beans\t5.2.20..\tCVE-2022-22965=not_affected",
            ]),
        ),
        (
            "commons-collections",
            tsv(&[
                "cc321-shaded.jar\tcommons-collections\t3.0..3.2.1\tCVE-2015-7501=affected,CVE-2015-6420=affected",
                "cc322-shaded.jar\tcommons-collections\t3.2.2..\tCVE-2015-7501=not_affected,CVE-2015-6420=not_affected",
                "cc44-shaded.jar\tcommons-collections4\t4.1..\tCVE-2015-7501=not_affected,CVE-2015-6420=not_affected",
            ]),
        ),
    ];
    for (pack, labels) in suites {
        let path = dir.path().join(format!("{pack}.tsv"));
        std::fs::write(&path, labels).expect("labels");
        let out = run(quell().args(["rules", "test", pack]).arg(&path));
        assert_eq!(out.status.code(), Some(0), "{pack}:\n{}", stdout(&out));
    }
    // The conflict is reported in the finding's evidence.
    let out = run(quell().args(["scan", "--format", "json"]).arg(dir.path().join("ct-lying-pom.jar")));
    let f = &findings(&out)[0];
    let evidence = f["evidence"].to_string();
    assert!(evidence.contains("conflict:pom.properties says 1.9, classes say 1.10.0.."), "{evidence}");
    // Every pack scans the tree at once; `--only` narrows it.
    let out = run(quell().args(["scan", "--format", "json"]).arg(dir.path()));
    assert_eq!(out.status.code(), Some(1));
    let components: std::collections::BTreeSet<String> =
        findings(&out).iter().map(|f| f["component"].as_str().unwrap_or_default().to_string()).collect();
    assert_eq!(
        components.into_iter().collect::<Vec<_>>(),
        ["commons-collections", "commons-collections4", "commons-text", "spring-beans"]
    );
    let out = run(quell().args(["scan", "--format", "json", "--only", "spring-beans"]).arg(dir.path()));
    assert!(findings(&out).iter().all(|f| f["component"] == "spring-beans"));
    assert_eq!(findings(&out).len(), 2);
    // Spring4Shell's preconditions are printed with the finding (SARIF help).
    let out = run(quell().args(["scan", "--format", "sarif", "--only", "spring-beans"]).arg(dir.path()));
    let sarif = stdout(&out);
    assert!(sarif.contains("JDK 9 or later"), "preconditions in the SARIF rule help");
}

const ACME_PACK: &str = r#"
schema = 1
name = "acme"
title = "ACME Widgets, a made-up library"

[[component]]
name = "acme-widget"
purl = "pkg:maven/com.acme/widget"
root = "com/acme/widget/"
pom = ["com.acme:widget"]
unknown_range = "1.0.."
releases = ["1.0", "1.1", "2.0-beta1", "2.0", "2.0.1"]

[[component.class]]
id = "Renderer"
path = "render/Renderer"
strings = ["safeMode"]

[[component.class]]
id = "Evaluator"
path = "eval/Evaluator"

[[component.proof]]
when = ["Renderer"]

[[component.version]]
when = ["Renderer:safeMode"]
range = "2.0.1.."

[[component.version]]
when = ["Renderer"]
range = "1.0..2.0"

[[component.mitigation]]
name = "evaluator_removed"
absent = "Evaluator"
cves = ["CVE-2031-0001"]
removable = true

[[vulnerability]]
id = "CVE-2031-0001"
name = "AcmeEvaluatorRce"
title = "ACME Evaluator runs expressions from rendered data"
description = "Widgets before 2.0.1 evaluate expressions in data they render."
remedy = "Upgrade acme-widget to 2.0.1."
cvss = 9.1
cwe = [917]
preconditions = ["rendering untrusted data"]
[[vulnerability.affects]]
component = "acme-widget"
events = [{ introduced = "1.0" }, { fixed = "2.0.1" }]
"#;

fn class(strings: &[&str]) -> Vec<u8> {
    let mut bytes = vec![0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 52];
    for s in strings {
        bytes.extend_from_slice(s.as_bytes());
    }
    bytes
}

#[test]
fn a_pack_for_a_new_component_is_data_only_scan_report_and_fix_use_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pack = dir.path().join("acme.toml");
    std::fs::write(&pack, ACME_PACK).expect("pack");
    let out = run(quell().args(["rules", "check"]).arg(&pack));
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let vulnerable = zip_of(&[
        ("com/acme/widget/render/Renderer.class".into(), class(&["render"])),
        ("com/acme/widget/eval/Evaluator.class".into(), class(&[])),
        ("META-INF/maven/com.acme/widget/pom.properties".into(), b"version=1.1\n".to_vec()),
    ]);
    let fixed = zip_of(&[("shaded/com/acme/widget/render/Renderer.class".into(), class(&["safeMode"]))]);
    let app = dir.path().join("app");
    std::fs::create_dir_all(&app).expect("mkdir");
    std::fs::write(app.join("widget-1.1.jar"), &vulnerable).expect("write");
    std::fs::write(app.join("fixed.jar"), zip_of(&[("lib/w.jar".into(), fixed)])).expect("write");
    let out = run(quell().args(["scan", "--format", "json", "--only", "acme", "--rules"]).arg(&pack).arg(&app));
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let found = findings(&out);
    assert_eq!(found.len(), 2, "{found:?}");
    let v11 = found.iter().find(|f| f["version"] == "1.1").expect("1.1 found");
    assert_eq!(v11["component"], "acme-widget");
    assert_eq!(v11["cves"][0]["id"], "CVE-2031-0001");
    assert_eq!(v11["cves"][0]["status"], "affected");
    let shaded = found.iter().find(|f| f["version_range"] == "2.0.1..").expect("fixed copy by classes");
    assert_eq!(shaded["cves"][0]["status"], "not_affected");
    // Reports describe it from the pack: CycloneDX purl and the vulnerability's texts.
    let out = run(quell().args(["scan", "--format", "cyclonedx", "--only", "acme", "--rules"]).arg(&pack).arg(&app));
    let bom: serde_json::Value = serde_json::from_slice(&out.stdout).expect("bom");
    let purls = bom["components"].to_string();
    assert!(purls.contains("pkg:maven/com.acme/widget@1.1"), "{purls}");
    assert!(bom["vulnerabilities"].to_string().contains("ACME Evaluator runs expressions"));
    // `quell rules list` shows it beside the built-in packs.
    let out = run(quell().args(["rules", "list", "--rules"]).arg(&pack));
    let listing = stdout(&out);
    for name in ["log4j ", "commons-text ", "spring-beans ", "commons-collections ", "acme "] {
        assert!(listing.contains(name), "{name} missing in:\n{listing}");
    }
    // `quell fix` removes the class the pack declares removable, and the copy is then mitigated.
    let backups = dir.path().join("backups");
    let out = run(quell()
        .args(["fix", "--apply", "--format", "json", "--only", "acme", "--rules"])
        .arg(&pack)
        .arg("--backup-dir")
        .arg(&backups)
        .arg(app.join("widget-1.1.jar")));
    assert_eq!(out.status.code(), Some(0), "mitigated, nothing left affected: {}", stdout(&out));
    let out = run(quell()
        .args(["scan", "--format", "json", "--only", "acme", "--rules"])
        .arg(&pack)
        .arg(app.join("widget-1.1.jar")));
    let after = findings(&out);
    assert_eq!(after[0]["cves"][0]["status"], "mitigated", "{after:?}");
    assert_eq!(after[0]["mitigations"][0], "evaluator_removed");
    // An unknown pack name is a failure that lists the known ones.
    let out = run(quell().args(["scan", "--only", "nonesuch"]).arg(&app));
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("known: log4j, commons-text"));
}

#[test]
fn rules_check_names_file_line_and_problem() {
    let dir = tempfile::tempdir().expect("tempdir");
    let broken = ACME_PACK
        .replace("range = \"2.0.1..\"", "range = \"3..2\"")
        .replace("when = [\"Renderer\"]\nrange = \"1.0..2.0\"", "when = [\"Renderr\"]\nrange = \"1.0..2.0\"")
        .replace("cvss = 9.1", "cvss = 12.0");
    let path = dir.path().join("broken.toml");
    std::fs::write(&path, &broken).expect("write");
    let out = run(quell().args(["rules", "check"]).arg(&path));
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    let line_of = |needle: &str| broken.lines().position(|l| l.contains(needle)).map(|i| i + 1).expect("needle");
    let shown = path.display().to_string();
    assert!(
        text.contains(&format!("{shown}:{}: acme-widget: \"3..2\" is not a range", line_of("range = \"3..2\"") - 2)),
        "{text}"
    );
    assert!(text.contains("condition \"Renderr\" names no class of this component"), "{text}");
    assert!(text.contains("cvss 12 is outside 0.0..10.0"), "{text}");
    // TOML syntax errors and unknown fields carry the line too.
    std::fs::write(&path, "schema = 1\nname = \"x\"\ntitle = \"t\"\nbogus = 3\n").expect("write");
    let out = run(quell().args(["rules", "check"]).arg(&path));
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains(&format!("{shown}:4: unknown field `bogus`")), "{}", stdout(&out));
    // A scan with a broken pack refuses to run rather than scanning with half the rules.
    let out = run(quell().args(["scan", "--rules"]).arg(&path).arg(dir.path()));
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn rules_build_fingerprints_pin_exact_versions_when_every_release_is_covered() {
    let dir = tempfile::tempdir().expect("tempdir");
    let releases = dir.path().join("releases");
    std::fs::create_dir_all(&releases).expect("mkdir");
    for name in ["commons-text-1.6.jar", "commons-text-1.9.jar", "commons-text-1.10.0.jar"] {
        std::fs::write(releases.join(name), jar(name)).expect("copy");
    }
    // The built-in pack, renamed, with a release list that these three jars cover completely.
    let text = quell_packs_text("commons-text.toml")
        .replace("name = \"commons-text\"\ntitle", "name = \"ct-fp\"\ntitle")
        .replace(
            r#"releases = ["1.0", "1.1", "1.2", "1.3", "1.4", "1.5", "1.6", "1.7", "1.8", "1.9", "1.10.0", "1.11.0", "1.12.0", "1.13.0", "1.13.1", "1.14.0"]"#,
            r#"releases = ["1.6", "1.9", "1.10.0"]"#,
        );
    assert!(text.contains("name = \"ct-fp\"") && text.contains(r#"releases = ["1.6", "1.9", "1.10.0"]"#));
    let pack = dir.path().join("ct-fp.toml");
    std::fs::write(&pack, &text).expect("pack");
    let out = run(quell().args(["rules", "build"]).arg(&pack).arg(&releases).arg("--write"));
    assert_eq!(out.status.code(), Some(0));
    let built = std::fs::read_to_string(&pack).expect("read");
    assert!(built.contains("[[fingerprint]]") && built.contains("[[fingerprint_source]]"), "{built}");
    // A second build replaces the generated block instead of adding another.
    let out = run(quell().args(["rules", "build"]).arg(&pack).arg(&releases).arg("--write"));
    assert_eq!(out.status.code(), Some(0));
    let rebuilt = std::fs::read_to_string(&pack).expect("read");
    assert_eq!(rebuilt.matches("BEGIN quell rules build").count(), 1);
    assert_eq!(built, rebuilt);
    // A class-only copy of 1.9 (metadata stripped): the fingerprints pin 1.9 exactly...
    let stripped = rewrite(&jar("commons-text-1.9.jar"), |n| (!n.starts_with("META-INF/")).then(|| n.to_string()));
    let tool = dir.path().join("tool.jar");
    std::fs::write(&tool, stripped).expect("write");
    let out = run(quell().args(["scan", "--format", "json", "--only", "ct-fp", "--rules"]).arg(&pack).arg(&tool));
    let f = &findings(&out)[0];
    assert_eq!(f["version"], "1.9", "{f}");
    assert!(f["evidence"].to_string().contains("fingerprint:StringLookupFactory"), "{f}");
    // ...while the built-in pack, which knows releases the table never saw, keeps the range.
    let out = run(quell().args(["scan", "--format", "json", "--only", "commons-text"]).arg(&tool));
    assert_eq!(findings(&out)[0]["version_range"], "1.5..1.9");
}

/// The built-in Log4j pack's fingerprint table is what `quell rules build` computes from the
/// corpus's release jars — regenerate it with `quell rules build --write` rather than by hand —
/// and a log4j-core jar is a release of log4j-core only, not of Log4j 1.x, even where one of its
/// classes is named like a 1.x marker (`appender/db/jdbc/JDBCAppender`).
#[test]
fn the_log4j_fingerprint_table_is_built_from_the_corpus_releases() {
    let dir = tempfile::tempdir().expect("tempdir");
    let releases = dir.path().join("releases");
    std::fs::create_dir_all(&releases).expect("mkdir");
    let corpus = workspace().join("../shared/corpus/jars");
    let mut copied = 0;
    for entry in std::fs::read_dir(&corpus).expect("corpus") {
        let path = entry.expect("entry").path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_string();
        if name.starts_with("log4j-core-") || name == "log4j-1.2.17.jar" {
            std::fs::copy(&path, releases.join(&name)).expect("copy");
            copied += 1;
        }
    }
    assert_eq!(copied, 24);
    let shipped = quell_packs_text("log4j.toml");
    let pack = dir.path().join("log4j.toml");
    std::fs::write(&pack, &shipped).expect("pack");
    let out = run(quell().args(["rules", "build"]).arg(&pack).arg(&releases).arg("--write"));
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(std::fs::read_to_string(&pack).expect("read"), shipped, "log4j.toml's table is stale");
    assert!(shipped.contains("component = \"log4j\"\nreleases = [\"1.2.17\"]\n"), "only 1.2.17 is a 1.x release");
    // Wildcard classes (Chainsaw: `chainsaw/*`) stand for many entries and get no fingerprint.
    assert!(!shipped.contains("\nclass = \"Chainsaw\""));
}

fn quell_packs_text(file: &str) -> String {
    std::fs::read_to_string(workspace().join("crates/quell-packs/packs").join(file)).expect("pack file")
}

#[test]
fn built_in_packs_match_their_json_schema() {
    let python = std::env::var_os("QUELL_PYTHON").map(PathBuf::from).unwrap_or_else(|| "python3".into());
    let script = workspace().join("scripts/check-pack-schema.py");
    let deps = Command::new(&python).arg(&script).arg("--check-deps").output();
    let ready = deps.as_ref().is_ok_and(|o| o.status.success());
    assert!(
        ready,
        "the pack schema checker cannot run with {} (jsonschema missing): run scripts/test, which installs it \
         into target/report-venv, or set QUELL_PYTHON",
        python.display()
    );
    let packs = workspace().join("crates/quell-packs/packs");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&packs)
        .expect("packs")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    assert_eq!(files.len(), 4);
    let out = run(Command::new(&python).arg(&script).arg(packs.join("schema.json")).args(&files));
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    // The schema refuses what `quell rules check` refuses: an unknown field.
    let dir = tempfile::tempdir().expect("tempdir");
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, ACME_PACK.replace("title = \"ACME", "colour = \"red\"\ntitle = \"ACME")).expect("write");
    let out = run(Command::new(&python).arg(&script).arg(packs.join("schema.json")).arg(&bad));
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
}
