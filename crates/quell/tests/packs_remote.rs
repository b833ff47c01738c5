//! Signed detection packs handed out by `quell serve`, as a CERT and its hosts use them: the
//! coordinator signs a pack for a made-up component with the real `minisign` tool and uploads
//! it; an agent's `quell scan --rules-from URL --rules-key KEY` finds the component in a jar;
//! a wrong pinned key, a pack changed in the database, a signature removed there and an expired
//! signature each stop the scan (exit 2, nothing scanned) with the pack and the reason.
//!
//! Needs `minisign` (Debian's package): without it the tests say so and pass, unless
//! `QUELL_REQUIRE_MINISIGN=1` (`scripts/test`), where they fail. The database is changed with
//! Python's `sqlite3` module, as someone with access to the server's disk would.
#![cfg(feature = "server")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
#[path = "../../quell-packs/tests/minisign/mod.rs"]
mod minisign;
#[allow(unused_imports)]
use common::*;
use minisign::{key_pair, minisign_available};

use std::io::{Cursor, Write};
use std::path::Path;
use std::process::{Command, Output};

use serde_json::{Value, json};
use zip::write::SimpleFileOptions;

/// A pack for a made-up component (as in `rules_cli.rs`): a class `render/Renderer` proves it,
/// pom.properties dates it, CVE-2031-0001 affects it before 2.0.1.
const ACME_PACK: &str = r#"schema = 1
name = "acme"
title = "ACME Widgets, a made-up library"

[[component]]
name = "acme-widget"
purl = "pkg:maven/com.acme/widget"
root = "com/acme/widget/"
pom = ["com.acme:widget"]
unknown_range = "1.0.."
releases = ["1.0", "1.1", "2.0", "2.0.1"]

[[component.class]]
id = "Renderer"
path = "render/Renderer"

[[component.proof]]
when = ["Renderer"]

[[vulnerability]]
id = "CVE-2031-0001"
name = "AcmeEvaluatorRce"
title = "ACME Evaluator runs expressions from rendered data"
description = "Widgets before 2.0.1 evaluate expressions in data they render."
remedy = "Upgrade acme-widget to 2.0.1."
cvss = 9.1
cwe = [917]
[[vulnerability.affects]]
component = "acme-widget"
events = [{ introduced = "1.0" }, { fixed = "2.0.1" }]
"#;

/// Signs `text` as `minisign -S -t "quell-pack expires=..."` does; the signature's text.
fn sign(dir: &Path, secret: &Path, text: &str, expires_at: i64) -> String {
    minisign::sign(dir, secret, text, &format!("quell-pack expires={}", quell_model::time::format_rfc3339(expires_at)))
}

/// The tokens of a coordinator and of organisation alpha's admin (upload-only and full).
struct Accounts {
    cert: String,
    agent_token: String,
    org_full: String,
}

fn accounts(data: &Path) -> Accounts {
    create_coordinator(data);
    let cert = create_token(data, COORDINATOR, "packs", "full");
    let alpha = create_org_admin(data, "alpha");
    let agent_token = create_token(data, &alpha, "agent", "upload");
    let org_full = create_token(data, &alpha, "read", "full");
    Accounts { cert, agent_token, org_full }
}

/// POSTs a pack upload with a token: status and JSON answer.
fn upload_pack(base: &str, token: &str, body: &Value) -> (u16, Value) {
    let mut response = agent()
        .post(&format!("{base}/api/v1/packs"))
        .header("Authorization", &format!("Bearer {token}"))
        .header("Content-Type", "application/json")
        .send(body.to_string().as_bytes())
        .unwrap();
    let status = response.status().as_u16();
    (status, serde_json::from_str(&response.body_mut().read_to_string().unwrap()).unwrap_or(Value::Null))
}

/// A jar with ACME widget 1.1: its marker class and its pom.properties.
fn acme_jar() -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (name, bytes) in [
        ("com/acme/widget/render/Renderer.class", vec![0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 52]),
        ("META-INF/maven/com.acme/widget/pom.properties", b"version=1.1\n".to_vec()),
    ] {
        writer.start_file(name, SimpleFileOptions::default()).unwrap();
        writer.write_all(&bytes).unwrap();
    }
    writer.finish().unwrap().into_inner()
}

fn scan(base: &str, key: &Path, token: &str, target: &Path, extra: &[&str]) -> Output {
    quell()
        .args(["scan", "--format", "json", "--rules-from", base, "--rules-key"])
        .arg(key)
        .args(["--token", token])
        .args(extra)
        .arg(target)
        .env_remove("QUELL_TOKEN")
        .output()
        .unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The scan refused its packs: exit 2, the reason on stderr, nothing scanned (no records).
fn assert_refused(out: &Output, reason: &str) -> String {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("pack \"acme\"") && err.contains(reason), "{reason:?} in {err}");
    assert!(err.contains("the scan did not run"), "{err}");
    assert!(out.stdout.is_empty(), "nothing scanned: {}", String::from_utf8_lossy(&out.stdout));
    err
}

/// Runs SQL on the server's SQLite database with Python's sqlite3 module (another process, as
/// an intruder on the server's disk would).
fn tamper(db: &Path, sql: &str) {
    let script = "import sqlite3, sys\nc = sqlite3.connect(sys.argv[1])\nn = c.execute(sys.argv[2]).rowcount\nc.commit()\nassert n == 1, n\n";
    let out = Command::new("python3").args(["-c", script]).arg(db).arg(sql).output().expect("python3");
    assert!(out.status.success(), "python3 sqlite3: {}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn signed_packs_from_the_server_are_verified_before_the_scan() {
    if !minisign_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (public, secret) = key_pair(dir.path(), "cert");
    let (other_public, other_secret) = key_pair(dir.path(), "other");
    let data = dir.path().join("data");
    let Accounts { cert, agent_token, org_full } = accounts(&data);
    let public_text = std::fs::read_to_string(&public).unwrap();
    let (mut server, base) = serve(&data, &["--pack-public-key", public.to_str().unwrap()]);

    // Uploads: only coordinators; only packs signed with the server's key, unexpired, parsing.
    let now = quell_model::time::now();
    let year = 365 * 86_400;
    let good = sign(dir.path(), &secret, ACME_PACK, now + year);
    let body = json!({ "pack": ACME_PACK, "signature": good });
    assert_eq!(upload_pack(&base, &org_full, &body).0, 403);
    assert_eq!(upload_pack(&base, &agent_token, &body).0, 403);
    let (status, answer) = upload_pack(&base, &cert, &json!({ "pack": ACME_PACK }));
    assert_eq!(status, 400, "{answer}");
    assert!(answer["message"].as_str().unwrap().starts_with("unsigned"), "{answer}");
    let (status, answer) = upload_pack(&base, &cert, &json!({ "pack": ACME_PACK, "signature": "garbage" }));
    assert_eq!(status, 400, "{answer}");
    assert!(answer["message"].as_str().unwrap().starts_with("malformed signature"), "{answer}");
    let foreign = sign(dir.path(), &other_secret, ACME_PACK, now + year);
    let (status, answer) = upload_pack(&base, &cert, &json!({ "pack": ACME_PACK, "signature": foreign }));
    assert_eq!(status, 422, "{answer}");
    assert!(answer["message"].as_str().unwrap().starts_with("signed by another key"), "{answer}");
    let stale = sign(dir.path(), &secret, ACME_PACK, now - 60);
    let (status, answer) = upload_pack(&base, &cert, &json!({ "pack": ACME_PACK, "signature": stale }));
    assert_eq!(status, 422, "{answer}");
    assert!(answer["message"].as_str().unwrap().starts_with("expired"), "{answer}");
    let changed = ACME_PACK.replace("2.0.1", "2.0.2");
    let (status, answer) = upload_pack(&base, &cert, &json!({ "pack": changed, "signature": good }));
    assert_eq!(status, 422, "{answer}");
    assert!(answer["message"].as_str().unwrap().starts_with("bad signature"), "{answer}");
    let (status, answer) = upload_pack(&base, &cert, &body);
    assert_eq!(status, 201, "{answer}");
    assert_eq!(answer["name"], "acme");

    // An agent with an upload-only token reads the bundle.
    let (status, bundle) = get(&base, &agent_token, "/api/v1/packs");
    assert_eq!(status, 200, "{bundle}");
    assert_eq!(bundle["packs"].as_array().unwrap().len(), 1, "{bundle}");
    assert_eq!(bundle["packs"][0]["pack"], ACME_PACK);
    assert_eq!(bundle["packs"][0]["signature"], good);

    // The scan uses the server's pack: ACME widget 1.1 is found, affected.
    let target = dir.path().join("app");
    std::fs::create_dir_all(&target).unwrap();
    std::fs::write(target.join("widget-1.1.jar"), acme_jar()).unwrap();
    let out = scan(&base, &public, &agent_token, &target, &["--only", "acme"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let finding: Value = stdout
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|r| r["kind"] == "finding")
        .expect("a finding");
    assert_eq!((finding["component"].as_str(), finding["version"].as_str()), (Some("acme-widget"), Some("1.1")));
    assert_eq!(finding["cves"][0]["id"], "CVE-2031-0001");
    assert_eq!(finding["cves"][0]["status"], "affected");
    // The key as its base64 line, and from the environment, work the same.
    let line = public_text.lines().nth(1).unwrap();
    let out = quell()
        .args(["scan", "--quiet", "--only", "acme", "--token", &agent_token])
        .arg(&target)
        .env("QUELL_RULES_FROM", &base)
        .env("QUELL_RULES_KEY", line)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    // ... and from the configuration file's [scan] table.
    let config = dir.path().join("quell.toml");
    let key_path = public.display().to_string();
    std::fs::write(
        &config,
        format!(
            "[scan]\nrules-from = {base:?}\nrules-key = [{key_path:?}]\ntoken = {agent_token:?}\nonly = [\"acme\"]\n"
        ),
    )
    .unwrap();
    let out = quell().args(["--config"]).arg(&config).args(["scan", "--quiet"]).arg(&target).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));

    // --rules-from without a key is refused.
    let out = quell().args(["scan", "--rules-from", &base, "--token", &agent_token]).arg(&target).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("--rules-key"), "{}", stderr(&out));

    // A wrong pinned key: refused, with both key ids.
    let out = scan(&base, &other_public, &agent_token, &target, &[]);
    let err = assert_refused(&out, "signed by another key");
    // The id from the .pub file's comment, read as a number: minisign 0.11 prints it without
    // leading zeros (as quell does), 0.12 pads it to sixteen digits.
    let other_id =
        std::fs::read_to_string(&other_public).unwrap().lines().next().unwrap().rsplit(' ').next().unwrap().to_string();
    let other_id = format!("{:X}", u64::from_str_radix(&other_id, 16).unwrap());
    assert!(err.contains(&other_id), "{err}");
    // Pinning a second key next to it (a key rotation) accepts the pack signed by either.
    let out =
        scan(&base, &other_public, &agent_token, &target, &["--rules-key", public.to_str().unwrap(), "--only", "acme"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));

    // The stored pack changed in the server's database: the agent's own check refuses it.
    let db = data.join("quell.db");
    tamper(&db, "UPDATE packs SET pack = replace(pack, 'fixed = \"2.0.1\"', 'fixed = \"1.0\"')");
    assert_refused(&scan(&base, &public, &agent_token, &target, &[]), "bad signature");
    // ... or its signature removed.
    tamper(&db, "UPDATE packs SET signature = ''");
    assert_refused(&scan(&base, &public, &agent_token, &target, &[]), "unsigned");

    // An expired signature: accepted while valid, refused by agents once past, saying when.
    // Valid for 30 s: enough for a signature, an upload and a scan on a loaded machine.
    let short = quell_model::time::now() + 30;
    let brief = sign(dir.path(), &secret, ACME_PACK, short);
    let (status, answer) = upload_pack(&base, &cert, &json!({ "pack": ACME_PACK, "signature": brief }));
    assert_eq!(status, 201, "{answer}");
    let out = scan(&base, &public, &agent_token, &target, &["--only", "acme"]);
    assert_eq!(out.status.code(), Some(1), "still valid: {}", stderr(&out));
    while quell_model::time::now() <= short {
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    let err = assert_refused(&scan(&base, &public, &agent_token, &target, &[]), "expired");
    assert!(err.contains(&quell_model::time::format_rfc3339(short)), "{err}");

    // Withdrawn: the bundle is empty and the scan runs with the built-in packs alone.
    let response = agent()
        .delete(&format!("{base}/api/v1/packs/acme"))
        .header("Authorization", &format!("Bearer {cert}"))
        .call()
        .unwrap();
    assert_eq!(response.status().as_u16(), 204);
    assert_eq!(get(&base, &agent_token, "/api/v1/packs").1["packs"], json!([]));
    let out = scan(&base, &public, &agent_token, &target, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).contains("0 signed pack(s)"), "{}", stderr(&out));

    server.kill().unwrap();
    server.wait().unwrap();
}

/// The next crisis end to end: a CERT describes a new library flaw in a signed pack and uploads
/// it; a host scans with it (`--rules-from`, `--inventory`, `--upload`), a shaded copy without
/// metadata included; the server answers where the component runs, and an advisory that names
/// the pack (not a purl) reaches the organisation.
#[test]
fn a_pack_uploaded_today_finds_copies_answers_where_they_run_and_addresses_the_advisory() {
    if !minisign_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (public, secret) = key_pair(dir.path(), "cert");
    let data = dir.path().join("data");
    let Accounts { cert, agent_token, org_full } = accounts(&data);
    let (mut server, base) = serve(&data, &["--pack-public-key", public.to_str().unwrap()]);
    let signature = sign(dir.path(), &secret, ACME_PACK, quell_model::time::now() + 86_400);
    assert_eq!(upload_pack(&base, &cert, &json!({ "pack": ACME_PACK, "signature": signature })).0, 201);

    // A host with ACME widget 1.1 in a war, and a vendor's shaded copy without metadata.
    let tree = dir.path().join("tree");
    std::fs::create_dir(&tree).unwrap();
    let mut war = zip::ZipWriter::new(Cursor::new(Vec::new()));
    war.start_file("WEB-INF/lib/widget-1.1.jar", SimpleFileOptions::default()).unwrap();
    war.write_all(&acme_jar()).unwrap();
    std::fs::write(tree.join("shop.war"), war.finish().unwrap().into_inner()).unwrap();
    let mut shaded = zip::ZipWriter::new(Cursor::new(Vec::new()));
    shaded.start_file("vendor/shaded/com/acme/widget/render/Renderer.class", SimpleFileOptions::default()).unwrap();
    shaded.write_all(&[0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 52]).unwrap();
    std::fs::write(tree.join("vendor-suite.jar"), shaded.finish().unwrap().into_inner()).unwrap();
    let out = scan(
        &base,
        &public,
        &agent_token,
        &tree,
        &["--quiet", "--inventory", "--host-name", "app-1", "--upload", &base],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));

    let ask = |range: &str| {
        let url = format!(
            "/api/v1/components?purl=pkg%3Amaven%2Fcom.acme%2Fwidget&range={}",
            range.replace('|', "%7C").replace('<', "%3C").replace('>', "%3E").replace('=', "%3D")
        );
        get(&base, &org_full, &url).1
    };
    let answer = ask("vers:maven/<2.0.1");
    assert_eq!(answer["systems"], 1, "{answer}");
    let paths: Vec<&str> =
        answer["locations"].as_array().unwrap().iter().map(|l| l["path"].as_str().unwrap()).collect();
    assert!(
        paths.contains(&"shop.war!/WEB-INF/lib/widget-1.1.jar")
            || paths.iter().any(|p| p.ends_with("shop.war!/WEB-INF/lib/widget-1.1.jar")),
        "{answer}"
    );
    assert!(paths.iter().any(|p| p.ends_with("vendor-suite.jar")), "the shaded copy, by the pack's purl: {answer}");
    // The shaded copy's version is unknown (the pack's `1.0..`): it may be a fixed one too, and
    // is listed as such; the dated 1.1 copy is not.
    let fixed = ask("vers:maven/>=2.0.1");
    let paths: Vec<&str> = fixed["locations"].as_array().unwrap().iter().map(|l| l["path"].as_str().unwrap()).collect();
    assert!(paths.len() == 1 && paths[0].ends_with("vendor-suite.jar"), "{fixed}");

    // The advisory names the pack; the server expands it into the component and its range.
    let advisory = json!({
        "content": {
            "title": "ACME widget evaluator RCE", "summary": "Widgets before 2.0.1 evaluate expressions.",
            "cves": ["CVE-2031-0001"], "components": [{"pack": "acme"}], "tlp": "AMBER",
            "rating": {
                "chance": {"default_configuration": "yes", "exploit_code": "working_exploit", "details_public": "full",
                    "access": "internet", "credentials": "none", "complexity": "easy", "user_interaction": "none",
                    "actively_exploited": "limited", "exploitation_expected": "yes", "solution": "less_than_two_months"},
                "damage": {"denial_of_service": "none", "code_execution": "user", "remote_access": "none",
                    "privilege_escalation": "no", "information_leak": "data"}
            }
        },
        "recipients": {"match_inventory": true}
    });
    let post = |path: &str, body: &Value| {
        let mut response = agent()
            .post(&format!("{base}{path}"))
            .header("Authorization", &format!("Bearer {cert}"))
            .header("Content-Type", "application/json")
            .send(body.to_string().as_bytes())
            .unwrap();
        let status = response.status().as_u16();
        (status, serde_json::from_str::<Value>(&response.body_mut().read_to_string().unwrap()).unwrap_or(Value::Null))
    };
    let (status, created) = post("/api/v1/advisories", &advisory);
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_i64().unwrap();
    let (_, shown) = get(&base, &cert, &format!("/api/v1/advisories/{id}"));
    assert!(shown.to_string().contains("vers:maven/>=1.0|<2.0.1"), "{shown}");
    assert_eq!(post(&format!("/api/v1/advisories/{id}/publish"), &json!({})).0, 200);
    let (_, recipients) = get(&base, &cert, &format!("/api/v1/advisories/{id}/recipients"));
    assert_eq!(recipients[0]["org"], "alpha", "{recipients}");
    // Reached by the scan's findings of CVE-2031-0001 (`inventory`), and by the component too.
    assert!(
        matches!(recipients[0]["via"].as_str(), Some("inventory" | "components:pkg:maven/com.acme/widget")),
        "{recipients}"
    );
    let (_, systems) = get(&base, &org_full, &format!("/api/v1/advisories/{id}/systems"));
    assert_eq!(systems["systems"][0]["name"], "app-1", "{systems}");
    server.kill().unwrap();
    server.wait().unwrap();
}
