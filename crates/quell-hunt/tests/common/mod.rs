//! Shared test helpers: the corpus, base64, a deterministic PRNG (from [`benign`], the benign-log
//! generator), the attempts the hunter reports for some lines, and the JVM oracles' harness.
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use quell_hunt::Hunter;
use quell_model::hunt::{Attempt, HuntRecord};

pub mod benign;
#[allow(unused_imports)] // Not every test uses every helper.
pub use benign::Rng;

/// `../shared/corpus` relative to the repository root, or `$QUELL_CORPUS`.
pub fn corpus() -> PathBuf {
    if let Some(p) = std::env::var_os("QUELL_CORPUS") {
        return PathBuf::from(p);
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus")
}

pub fn b64d(s: &str) -> Vec<u8> {
    quell_hunt::indicators::lenient_base64(s).unwrap_or_default()
}

pub fn b64e(data: &[u8]) -> String {
    quell_hunt::text4shell::base64_encode(data)
}

pub fn hex(s: &str) -> Vec<u8> {
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("valid hex")).collect()
}

/// One test vector of `hunt/vectors.jsonl`.
#[derive(Debug, Clone)]
pub struct Vector {
    pub id: String,
    pub kind: String,
    pub input: Vec<u8>,
    pub expected_jndi: Vec<String>,
    pub decoded: Option<Vec<u8>>,
}

pub fn vectors() -> Vec<Vector> {
    let path = corpus().join("hunt/vectors.jsonl");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("vector is JSON");
            let s = |k: &str| v.get(k).and_then(|x| x.as_str()).unwrap_or("").to_owned();
            Vector {
                id: s("id"),
                kind: s("kind"),
                input: b64d(&s("input_b64")),
                expected_jndi: v
                    .get("expected_jndi")
                    .and_then(|x| x.as_array())
                    .map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_owned)).collect())
                    .unwrap_or_default(),
                decoded: v.get("decoded_b64").and_then(|x| x.as_str()).map(b64d),
            }
        })
        .collect()
}

/// The attempts `hunter` reports for `lines` of `file` (numbered from 1, each examined on its own).
pub fn attempts<L: AsRef<[u8]>>(hunter: &Hunter, file: &str, lines: &[L]) -> Vec<Attempt> {
    let mut records: Vec<HuntRecord> = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        hunter.analyze_line(file, i as u64 + 1, 0, line.as_ref(), None, &mut records);
    }
    only_attempts(records)
}

/// The attempts among `records`, in order.
pub fn only_attempts(records: Vec<HuntRecord>) -> Vec<Attempt> {
    records
        .into_iter()
        .filter_map(|r| match r {
            HuntRecord::Attempt(a) => Some(a),
            _ => None,
        })
        .collect()
}

/// Compiles the JVM oracle `tests/oracle/{class}.java` (with the protocol it shares,
/// `tests/oracle/OracleProtocol.java`) against `classpath`, runs it with `java_opts`, gives it
/// every payload base64-encoded on a line of its own, and returns its answers split at tabs:
/// one line of `fields` fields per payload. Without `javac` or `java` it panics: the oracle is
/// never skipped.
pub fn run_java_oracle(
    class: &str,
    classpath: &str,
    java_opts: &[&str],
    payloads: &[String],
    fields: usize,
) -> Vec<Vec<String>> {
    let dir = tempfile::tempdir().expect("temp dir");
    let sources = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oracle");
    let status = Command::new("javac")
        .args(["-nowarn", "-cp", classpath, "-d"])
        .arg(dir.path())
        .arg(sources.join(format!("{class}.java")))
        .arg(sources.join("OracleProtocol.java"))
        .status()
        .expect("javac must be installed: the oracle is required (scripts/test installs default-jdk-headless)");
    assert!(status.success(), "javac failed");
    let cp = format!("{}:{classpath}", dir.path().display());
    let mut child = Command::new("java")
        .args(java_opts)
        .args(["-cp", &cp, class])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("java runs");
    let mut stdin = child.stdin.take().expect("stdin");
    let input: String = payloads.iter().map(|p| b64e(p.as_bytes()) + "\n").collect();
    let writer = std::thread::spawn(move || {
        stdin.write_all(input.as_bytes()).expect("write payloads");
    });
    let out = child.wait_with_output().expect("java output");
    writer.join().expect("writer");
    assert!(out.status.success(), "java failed");
    let text = String::from_utf8(out.stdout).expect("utf-8");
    let answers: Vec<Vec<String>> = text
        .lines()
        .map(|l| {
            let p: Vec<String> = l.split('\t').map(str::to_owned).collect();
            assert_eq!(p.len(), fields, "oracle line {l:?}");
            p
        })
        .collect();
    assert_eq!(answers.len(), payloads.len(), "one answer per payload");
    answers
}

/// A list field of an oracle's answer (`=BASE64,=BASE64,...`, empty for none) decoded, each
/// entry once, in order.
pub fn b64_list(field: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    if field.is_empty() {
        return out;
    }
    for e in field.split(',') {
        let e = String::from_utf8(b64d(e.strip_prefix('=').expect("'=' prefix"))).expect("utf-8 entry");
        if !out.contains(&e) {
            out.push(e);
        }
    }
    out
}
