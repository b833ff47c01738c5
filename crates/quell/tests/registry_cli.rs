//! `quell registry check | convert | import` as a user runs them, on the full Dutch and US lists.
#![cfg(feature = "server")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
#[allow(unused_imports)]
use common::*;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Output;

const CORPUS: &str = "../../../shared/corpus/registry";

fn files(dir: &str, prefix: &str) -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join(CORPUS).join(dir);
    let mut files: Vec<PathBuf> = std::fs::read_dir(root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_str().unwrap().starts_with(prefix))
        .collect();
    files.sort();
    files
}

fn both_lists() -> Vec<PathBuf> {
    let mut all = files("ncsc-nl", "software_list_");
    all.extend(files("cisa", "cisagov_"));
    all
}

fn run(args: &[&str], paths: &[PathBuf]) -> Output {
    quell().args(["registry"]).args(args).args(paths).output().expect("quell registry")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn check_reports_every_problem_with_file_and_line_and_the_counts() {
    let output = run(&["check"], &both_lists());
    assert_eq!(output.status.code(), Some(1), "problems reported: exit 1");
    let text = stdout(&output);
    assert!(
        text.contains("software_list_b.md:174: non_standard_status: CVE-2021-44228: status \"Not Vuln\""),
        "{text}"
    );
    assert!(text.contains("cisagov_A.yml:67: fix_without_version: CVE-2021-44228"));
    assert!(text.contains("54 files, 10235 rows, 6564 entries after merging"));
    assert!(text.lines().any(|l| l.split_whitespace().collect::<Vec<_>>() == ["CVE-2021-44228", "527", "701", "488", "3992", "127"]));
    // The problems of the two lists add up (tests/full_lists.rs pins each list's).
    assert!(text.contains(
        "2878 problems: missing_product 273, non_standard_status 153, unknown_status 5, fix_without_version 566, \
         no_status 1639, missing_link 202, version_without_status 16, inconsistent 24"
    ));
    assert_eq!(text.lines().filter(|l| l.contains(".md:") || l.contains(".yml:")).count(), 2878);

    let output = run(&["check", "--format", "json"], &both_lists());
    assert_eq!(output.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("one JSON object");
    assert_eq!(json["rows"], 10235);
    assert_eq!(json["entries"], 6564);
    assert_eq!(json["statuses"]["CVE-2021-4104"]["not_vulnerable"], 3717);
    assert_eq!(json["problems_by_kind"]["no_status"], 1639);
    assert_eq!(json["problems"].as_array().unwrap().len(), 2878);
    assert_eq!(json["problems"][0]["file"], "software_list_0-9.md");
    assert!(json["problems"][0]["line"].as_u64().unwrap() > 0);
}

#[test]
fn check_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let clean = dir.path().join("clean.md");
    std::fs::write(
        &clean,
        "| Supplier | Product | Version (see Status) | Status CVE-2021-44228 | Notes | Links |\n|---|---|---|---|---|---|\n\
         |Acme|Widget|2.1|Fix||[source](https://acme.example/psirt)|\n",
    )
    .unwrap();
    let output = run(&["check"], std::slice::from_ref(&clean));
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    assert!(stdout(&output).contains("0 problems"));

    let output = run(&["check"], &[dir.path().join("missing.md")]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("missing.md"));

    let odd = dir.path().join("list.txt");
    std::fs::write(&odd, "nothing like a list").unwrap();
    let output = run(&["check"], std::slice::from_ref(&odd));
    assert_eq!(output.status.code(), Some(2), "unknown format");
    let output = run(&["check", "--from", "ncsc-csv"], &[odd]);
    assert_eq!(output.status.code(), Some(1), "read as CSV: no header is a problem");
    assert!(stdout(&output).contains("list.txt:1: missing_header"));
}

#[test]
fn convert_round_trips_and_writes_csaf_per_supplier() {
    let dir = tempfile::tempdir().unwrap();
    let dutch = files("ncsc-nl", "software_list_");
    let before = run(&["check", "--format", "json"], &dutch);
    let before: serde_json::Value = serde_json::from_slice(&before.stdout).unwrap();
    for (to, name) in [("markdown", "registry.md"), ("csv", "registry.csv"), ("json", "registry.json")] {
        let out = dir.path().join(name);
        let output =
            quell().args(["registry", "convert", "--to", to, "--out"]).arg(&out).args(&dutch).output().unwrap();
        assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
        let after = run(&["check", "--format", "json"], &[out]);
        let after: serde_json::Value = serde_json::from_slice(&after.stdout).unwrap();
        assert_eq!(after["statuses"], before["statuses"], "{to}");
        assert_eq!(after["entries"], before["entries"], "{to}");
    }
    // Markdown to standard output.
    let output = quell().args(["registry", "convert", "--to", "markdown"]).args(&dutch[..1]).output().unwrap();
    assert!(stdout(&output).starts_with("# List of software"));

    let vex = dir.path().join("vex");
    let output = quell()
        .args([
            "registry",
            "convert",
            "--to",
            "csaf",
            "--date",
            "2026-11-28T16:00:00Z",
            "--id-prefix",
            "NL-REG",
            "--out",
        ])
        .arg(&vex)
        .args(files("ncsc-nl", "software_list_a"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    let abb: serde_json::Value = serde_json::from_slice(&std::fs::read(vex.join("nl-reg-abb.json")).unwrap()).unwrap();
    assert_eq!(abb["document"]["tracking"]["id"], "NL-REG-ABB");
    assert_eq!(abb["document"]["tracking"]["current_release_date"], "2026-11-28T16:00:00Z");
    let count = std::fs::read_dir(&vex).unwrap().count();
    assert_eq!(count, 49, "one per supplier of the A file with a status");
}

/// A request as the fake server saw it: request line, header lines, body.
type Seen = (String, Vec<String>, Vec<u8>);

/// A one-connection-at-a-time HTTP server that records requests and answers with `answer`.
fn fake_server(status: u16, answer: &'static str) -> (String, std::sync::mpsc::Receiver<Seen>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let mut stream = stream.unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request_line = String::new();
            reader.read_line(&mut request_line).unwrap();
            let mut headers = Vec::new();
            let mut length = 0usize;
            loop {
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                let line = line.trim_end().to_string();
                if line.is_empty() {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap();
                }
                headers.push(line);
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            let _ = tx.send((request_line.trim_end().to_string(), headers, body));
            let reply = format!(
                "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}",
                answer.len()
            );
            stream.write_all(reply.as_bytes()).unwrap();
        }
    });
    (url, rx)
}

#[test]
fn import_posts_each_file_raw_with_its_format() {
    let answer = r#"{"format":"cisa-yaml","file":"cisagov_Q.yml","entries":2,"created":2,"updated":0,"unchanged":0,
        "problems":[{"file":"cisagov_Q.yml","line":7,"kind":"no_status","message":"no status","raw":""}]}"#;
    let (url, requests) = fake_server(200, answer);
    let files = files("cisa", "cisagov_Q");
    let output = quell()
        .args(["registry", "import", "--server", &url, "--token", "secret-token"])
        .args(&files)
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(1),
        "a problem reported: exit 1; {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout(&output).contains("cisagov_Q.yml: 2 entries: 2 created, 0 updated, 0 unchanged; 1 problems"));
    assert!(stdout(&output).contains("cisagov_Q.yml:7: no_status: no status"));
    let (line, headers, body) = requests.recv().unwrap();
    assert_eq!(line, "POST /api/v1/registry/import?format=cisa-yaml&name=cisagov_Q.yml HTTP/1.1");
    assert!(
        headers.iter().any(|h| h == "authorization: Bearer secret-token" || h == "Authorization: Bearer secret-token")
    );
    assert_eq!(body, std::fs::read(&files[0]).unwrap(), "the file, raw");

    let (url, _requests) = fake_server(403, r#"{"error":"coordinators only"}"#);
    let output = quell().args(["registry", "import", "--server", &url, "--token", "t"]).args(&files).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("HTTP 403"));
}

#[test]
fn import_into_a_real_server_twice_changes_nothing_the_second_time() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (code, _) =
        admin(&data, &["create-coordinator", "--email", "cert@example.org"], "correct horse battery staple\n");
    assert_eq!(code, 0);
    let (code, token) =
        admin(&data, &["create-token", "--email", "cert@example.org", "--name", "import", "--scope", "full"], "");
    assert_eq!(code, 0, "{token}");
    let (mut server, base) = serve(&data, &[]);
    let lists = [files("ncsc-nl", "software_list_q"), files("cisa", "cisagov_Q")].concat();
    let first =
        quell().args(["registry", "import", "--server", &base, "--token", &token]).args(&lists).output().unwrap();
    let text = stdout(&first);
    server_ok(&first, &text);
    assert!(text.contains("software_list_q.md: "), "{text}");
    assert!(text.contains(" created, 0 updated, 0 unchanged"), "{text}");
    let second =
        quell().args(["registry", "import", "--server", &base, "--token", &token]).args(&lists).output().unwrap();
    let again = stdout(&second);
    server_ok(&second, &again);
    assert!(
        again.lines().filter(|l| l.contains(" entries: ")).all(|l| l.contains(": 0 created, 0 updated")),
        "{again}"
    );
    server.kill().unwrap();
    server.wait().unwrap();
}

/// Exit 0 or 1 (problems reported by the server), never a failed upload.
fn server_ok(output: &Output, text: &str) {
    assert!(matches!(output.status.code(), Some(0 | 1)), "{text}\n{}", String::from_utf8_lossy(&output.stderr));
}
