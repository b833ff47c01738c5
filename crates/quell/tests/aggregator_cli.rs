//! Two `quell serve` processes on loopback, each a trusted CSAF provider with a signing key
//! GnuPG makes at test time, subscribe to each other (`--allow-private-providers`, polled on
//! request) and exchange advisories both ways, verified by hash and signature. Needs `gpg`
//! (skips without it, fails under `QUELL_REQUIRE_GPG=1`).
#![cfg(feature = "server")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::*;

use std::path::Path;
use std::process::Command;

use serde_json::{Value, json};

fn post(base: &str, token: &str, path: &str, body: &Value) -> (u16, Value) {
    let mut response = agent()
        .post(&format!("{base}{path}"))
        .header("Authorization", &format!("Bearer {token}"))
        .header("Content-Type", "application/json")
        .send(body.to_string().as_bytes())
        .expect("POST");
    let status = response.status().as_u16();
    let text = response.body_mut().read_to_string().unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// A signing key made by GnuPG in `home`, written to `file`.
fn signing_key(home: &Path, uid: &str, file: &Path) -> bool {
    let gpg = |args: &[&str]| {
        Command::new("gpg")
            .env("GNUPGHOME", home)
            .args(["--batch", "--no-tty", "--pinentry-mode", "loopback", "--passphrase", ""])
            .args(args)
            .output()
    };
    let Ok(made) = gpg(&["--quick-gen-key", uid, "ed25519", "sign", "never"]) else {
        assert_ne!(std::env::var("QUELL_REQUIRE_GPG").as_deref(), Ok("1"), "gpg is required");
        eprintln!("skipped: gpg is missing");
        return false;
    };
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    let secret = gpg(&["--armor", "--export-secret-keys", uid]).unwrap();
    std::fs::write(file, secret.stdout).unwrap();
    true
}

/// A `quell serve` process with its own data directory and key, reachable at its public URL;
/// (process, base URL, coordinator token).
fn provider(dir: &Path, name: &str) -> Option<(std::process::Child, String, String)> {
    let key = dir.join(format!("{name}.asc"));
    let home = dir.join(format!("gnupg-{name}"));
    std::fs::create_dir_all(&home).unwrap();
    if !signing_key(&home, &format!("CERT {name} <csaf@{name}.test.invalid>"), &key) {
        return None;
    }
    let data = dir.join(format!("data-{name}"));
    create_coordinator(&data);
    let token = create_token(&data, COORDINATOR, "t", "full");
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let base = format!("http://127.0.0.1:{port}");
    let listen = format!("127.0.0.1:{port}");
    let mut child = quell()
        .args(["serve", "--listen", &listen, "--public-url", &base, "--publisher-name", &format!("CERT {name}")])
        .args(["--advisory-prefix", &name.to_ascii_uppercase(), "--allow-private-providers"])
        .args(["--peer-poll-interval-secs", "0", "--data-dir"])
        .arg(&data)
        .arg("--csaf-signing-key")
        .arg(&key)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("quell serve");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while agent().get(&format!("{base}/healthz")).call().is_err() {
        assert!(std::time::Instant::now() < deadline, "quell serve did not start");
        if let Ok(Some(status)) = child.try_wait() {
            panic!("quell serve exited: {status}");
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    Some((child, base, token))
}

fn publish(base: &str, token: &str, title: &str) {
    let draft = json!({
        "content": {
            "title": title, "summary": "Remote code execution.", "cves": ["CVE-2021-44228"],
            "products": [{"supplier": "Apache", "product": "Log4j", "versions": "2.0-beta9 to 2.14.1"}],
            "rating": {
                "chance": {"default_configuration": "yes", "exploit_code": "working_exploit", "details_public": "full",
                    "access": "internet", "credentials": "none", "complexity": "easy", "user_interaction": "none",
                    "actively_exploited": "large_scale", "exploitation_expected": "yes", "solution": "less_than_two_months"},
                "damage": {"denial_of_service": "infrastructure", "code_execution": "root", "remote_access": "root_shell",
                    "privilege_escalation": "yes", "information_leak": "data"}
            },
            "tlp": "CLEAR"
        },
        "recipients": {"orgs": [], "users": [], "match_inventory": false}
    });
    let (status, created) = post(base, token, "/api/v1/advisories", &draft);
    assert_eq!(status, 201, "{created}");
    let (status, body) = post(base, token, &format!("/api/v1/advisories/{}/publish", created["id"]), &json!({}));
    assert_eq!(status, 200, "{body}");
}

#[test]
fn two_serve_processes_exchange_advisories() {
    let dir = tempfile::tempdir().unwrap();
    let Some((mut a, base_a, token_a)) = provider(dir.path(), "north") else { return };
    let Some((mut b, base_b, token_b)) = provider(dir.path(), "south") else { return };
    publish(&base_a, &token_a, "From the north");
    publish(&base_b, &token_b, "From the south");
    for (base, token, peer) in [(&base_a, &token_a, &base_b), (&base_b, &token_b, &base_a)] {
        let url = format!("{peer}/.well-known/csaf/provider-metadata.json");
        let (status, created) = post(base, token, "/api/v1/csaf/subscriptions", &json!({"url": url}));
        assert_eq!(status, 201, "{created}");
        let (status, report) =
            post(base, token, &format!("/api/v1/csaf/subscriptions/{}/poll", created["id"]), &json!({}));
        assert_eq!(status, 200, "{report}");
        assert_eq!((report["status"].as_str(), report["imported"].as_u64()), (Some("ok"), Some(1)), "{report}");
    }
    let (_, on_a) = get(&base_a, &token_a, "/api/v1/advisories/external");
    assert_eq!(
        (on_a[0]["title"].as_str(), on_a[0]["publisher"].as_str()),
        (Some("From the south"), Some("CERT south"))
    );
    let (_, on_b) = get(&base_b, &token_b, "/api/v1/advisories/external");
    assert_eq!(
        (on_b[0]["title"].as_str(), on_b[0]["publisher"].as_str()),
        (Some("From the north"), Some("CERT north"))
    );
    for child in [&mut a, &mut b] {
        child.kill().unwrap();
        child.wait().unwrap();
    }
}
