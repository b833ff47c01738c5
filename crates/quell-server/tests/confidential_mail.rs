//! Confidential e-mail against a real SMTP server on loopback (Python's aiosmtpd,
//! `scripts/smtp-sink.py`) that requires STARTTLS and AUTH, with a certificate made by `openssl`
//! at test time: the server logs in over TLS; RED to a named individual with a registered OpenPGP
//! key arrives as PGP/MIME that GnuPG decrypts with that individual's secret key; RED to one
//! without a key is not e-mailed and the delivery log says so; `--smtp-tls required` towards a
//! relay without STARTTLS sends nothing. Key registration refuses unusable keys with reasons.
//!
//! Needs `gpg`, `openssl` and a Python with aiosmtpd (`QUELL_SMTP_PYTHON`, as `scripts/test`
//! installs into target/smtp-venv); skips without them, fails under `QUELL_REQUIRE_SMTP_TLS=1`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use quell_server::Limits;
use quell_server::advisories::{Config, Smtp, SmtpTls};
use serde_json::{Value, json};

const SINK_USER: &str = "quell";
const SINK_PASSWORD: &str = "relay password";

fn draft(title: &str, tlp: &str, orgs: &[i64], users: &[i64]) -> Value {
    json!({
        "content": {
            "title": title,
            "summary": "Secret details of the vulnerability only the recipients may read.",
            "cves": ["CVE-2021-44228"],
            "products": [{"supplier": "Apache", "product": "Log4j", "versions": "2.0-beta9 to 2.14.1"}],
            "consequences": "An attacker can run code on the server.",
            "solution": "Update to 2.17.1.",
            "references": [],
            "rating": log4shell_rating(),
            "tlp": tlp
        },
        "recipients": {"orgs": orgs, "users": users, "match_inventory": false}
    })
}

/// The tools, or `None` (skip) when one is missing and not required.
fn tools() -> Option<String> {
    let python = std::env::var("QUELL_SMTP_PYTHON").ok().filter(|p| !p.is_empty());
    let have = |cmd: &str| Command::new(cmd).arg("--version").output().is_ok();
    let missing: Vec<&str> = [
        (python.is_none(), "QUELL_SMTP_PYTHON (a Python with aiosmtpd)"),
        (!have("gpg"), "gpg"),
        (!have("openssl") && Command::new("openssl").arg("version").output().is_err(), "openssl"),
    ]
    .into_iter()
    .filter(|(m, _)| *m)
    .map(|(_, n)| n)
    .collect();
    if missing.is_empty() {
        return python;
    }
    assert_ne!(std::env::var("QUELL_REQUIRE_SMTP_TLS").as_deref(), Ok("1"), "missing: {missing:?}");
    eprintln!("skipped: missing {missing:?}");
    None
}

/// The SMTP server: a child process killed on drop, writing each message to `out`.
struct Sink {
    child: Child,
    port: u16,
    out: PathBuf,
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn sink(python: &str, dir: &Path, tls: Option<(&Path, &Path)>) -> Sink {
    let out = dir.join(if tls.is_some() { "mail-tls" } else { "mail-plain" });
    std::fs::create_dir_all(&out).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/smtp-sink.py");
    let mut command = Command::new(python);
    command.arg(script).arg("--out").arg(&out).args(["--user", SINK_USER, "--password", SINK_PASSWORD]);
    if let Some((cert, key)) = tls {
        command.arg("--cert").arg(cert).arg("--key").arg(key);
    }
    let mut child = command.stdout(Stdio::piped()).spawn().unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let port = line.trim().strip_prefix("port ").expect("the sink prints its port").parse().unwrap();
    Sink { child, port, out }
}

/// A test CA and a relay certificate it signed for 127.0.0.1: (CA certificate, relay
/// certificate, relay key). The server trusts the CA (`--smtp-ca-file`), as with an internal CA.
fn certificates(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let p = |name: &str| dir.join(name);
    let run = |args: &[&str]| {
        let out = Command::new("openssl").current_dir(dir).args(args).output().unwrap();
        assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    };
    run(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "1",
        "-subj",
        "/CN=quell test CA",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
    ]);
    run(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=127.0.0.1",
        "-keyout",
        "relay.key",
        "-out",
        "relay.csr",
    ]);
    std::fs::write(p("relay.ext"), "basicConstraints=CA:FALSE\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n").unwrap();
    run(&[
        "x509",
        "-req",
        "-in",
        "relay.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "1",
        "-extfile",
        "relay.ext",
        "-out",
        "relay.pem",
    ]);
    (p("ca.pem"), p("relay.pem"), p("relay.key"))
}

fn me(server: &Server, token: &str) -> i64 {
    get(server, token, "/api/v1/me").1["user_id"].as_i64().unwrap()
}

fn publish(server: &Server, coord: &str, body: &Value) -> (i64, String) {
    let h = [("Content-Type", "application/json")];
    let (status, created) = send(server, "POST", coord, "/api/v1/advisories", body.to_string().as_bytes(), &h);
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_i64().unwrap();
    let (status, answer) = send(server, "POST", coord, &format!("/api/v1/advisories/{id}/publish"), b"{}", &h);
    assert_eq!(status, 200, "{answer}");
    (id, created["identifier"].as_str().unwrap().to_string())
}

/// The delivery log once nothing is pending any more.
fn settled(server: &Server, coord: &str, id: i64) -> Vec<Value> {
    let started = Instant::now();
    loop {
        let (_, log) = get(server, coord, &format!("/api/v1/advisories/{id}/deliveries"));
        let log = log.as_array().unwrap().clone();
        if !log.iter().any(|d| d["state"] == "pending" || d["state"] == "sending") {
            return log;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "deliveries still pending: {log:?}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn mails(out: &Path) -> Vec<String> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "eml"))
        .collect();
    files.sort();
    files.iter().map(|p| String::from_utf8_lossy(&std::fs::read(p).unwrap()).into_owned()).collect()
}

fn fast(smtp: Smtp) -> Config {
    Config {
        smtp: Some(smtp),
        retry_base: Duration::from_secs(1),
        delivery_timeout: Duration::from_secs(5),
        poll_interval: Duration::from_millis(100),
        max_attempts: 1,
        ..Config::default()
    }
}

#[test]
fn red_is_encrypted_or_not_emailed_over_required_starttls_and_auth() {
    let Some(python) = tools() else { return };
    let dir = tempfile::tempdir().unwrap();
    let (ca, cert, key) = certificates(dir.path());
    let relay = sink(&python, dir.path(), Some((&cert, &key)));
    let smtp = Smtp {
        host: "127.0.0.1".into(),
        port: relay.port,
        from: "cert@ncsc.example".into(),
        tls: SmtpTls::Required,
        credentials: Some((SINK_USER.into(), SINK_PASSWORD.into())),
        extra_roots_pem: Some(std::fs::read(&ca).unwrap()),
    };
    let server_dir = tempfile::tempdir().unwrap();
    let server = start_with(fresh_location(server_dir.path()), Limits::default(), fast(smtp), server_dir);
    let coord = coordinator(&server);
    let keyed = org(&server, "keyed");
    let keyless = org(&server, "keyless");
    let reader = org(&server, "reader");

    // Key registration: unusable keys refused with the reason, a good one answered with its
    // fingerprint.
    let gpg = Gpg { home: tempfile::tempdir().unwrap() };
    let public = gpg.key("keyed admin <admin@keyed.example>", "default");
    let sign_only = gpg.key("sign only <signonly@keyed.example>", "sign");
    let secret =
        String::from_utf8(gpg.run(&["--armor", "--export-secret-keys", "admin@keyed.example"]).stdout).unwrap();
    let h = [("Content-Type", "application/json")];
    let put = |token: &str, key: &str| {
        send(&server, "PUT", token, "/api/v1/me/openpgp-key", json!({"key": key}).to_string().as_bytes(), &h)
    };
    let (status, body) = put(&keyed.full, "garbage");
    assert_eq!(status, 400, "{body}");
    assert!(body["message"].as_str().unwrap().contains("not an ASCII-armored OpenPGP public key"), "{body}");
    let (status, body) = put(&keyed.full, &secret);
    assert_eq!(status, 400);
    assert!(body["message"].as_str().unwrap().contains("secret key"), "{body}");
    let (status, body) = put(&keyed.full, &sign_only);
    assert_eq!(status, 400);
    assert!(body["message"].as_str().unwrap().contains("no subkey for encryption"), "{body}");
    assert_eq!(put(&keyed.upload, &public).0, 403, "upload-only tokens cannot");
    let (status, body) = put(&keyed.full, &public);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["fingerprint"].as_str().unwrap().len(), 40);

    // RED to two named individuals: one with a key, one without; AMBER to an organisation.
    let (keyed_id, keyless_id) = (me(&server, &keyed.full), me(&server, &keyless.full));
    let (red, red_identifier) =
        publish(&server, &coord, &draft("Red secret title", "RED", &[], &[keyed_id, keyless_id]));
    let (amber, amber_identifier) = publish(&server, &coord, &draft("Amber title", "AMBER", &[reader.id], &[]));
    let red_log = settled(&server, &coord, red);
    let amber_log = settled(&server, &coord, amber);

    let received = mails(&relay.out);
    // Every message came over TLS, after login.
    assert!(!received.is_empty(), "nothing arrived: {red_log:?} {amber_log:?}");
    for m in &received {
        assert!(m.starts_with(&format!("X-Sink-Transport: tls\r\nX-Sink-Login: {SINK_USER}\r\n")), "{m}");
    }
    // AMBER in plain text (it is not AMBER+STRICT), to the organisation's accounts.
    let amber_mails: Vec<&String> = received.iter().filter(|m| m.contains(&amber_identifier)).collect();
    assert_eq!(amber_mails.len(), 2, "admin and member of the reader organisation: {amber_log:?}");
    assert!(amber_mails.iter().all(|m| m.contains("Amber title")));

    // RED: only the keyed individual got mail, encrypted, without the title in the subject.
    let red_mails: Vec<&String> = received.iter().filter(|m| m.contains(&red_identifier)).collect();
    assert_eq!(red_mails.len(), 1, "{red_log:?}");
    let mail = red_mails[0];
    assert!(mail.contains("X-Sink-Rcpt: admin@keyed.example\r\n"), "{mail}");
    assert!(mail.contains("multipart/encrypted") && mail.contains("application/pgp-encrypted"), "{mail}");
    assert!(!mail.contains("Red secret title") && !mail.contains("Secret details"), "plain text leaked: {mail}");
    let begin = mail.find("-----BEGIN PGP MESSAGE-----").expect("an armored message");
    let end = mail.find("-----END PGP MESSAGE-----").expect("its end") + "-----END PGP MESSAGE-----".len();
    let armored = mail[begin..end].replace("\r\n", "\n");
    let file = dir.path().join("red.asc");
    std::fs::write(&file, armored).unwrap();
    let decrypted = gpg.run(&["--decrypt", file.to_str().unwrap()]);
    assert!(decrypted.status.success(), "gpg --decrypt: {}", String::from_utf8_lossy(&decrypted.stderr));
    let plain = String::from_utf8(decrypted.stdout).unwrap();
    assert!(plain.starts_with("Content-Type: text/plain; charset=utf-8"), "{plain}");
    assert!(
        plain.contains("Red secret title") && plain.contains("Secret details") && plain.contains("TLP:RED"),
        "{plain}"
    );

    // The keyless individual: not e-mailed, and the log says why.
    let keyless_entry = red_log.iter().find(|d| d["target"] == "admin@keyless.example").expect("logged");
    assert_eq!(keyless_entry["state"], "failed", "{keyless_entry}");
    assert!(keyless_entry.to_string().contains("no OpenPGP key"), "{keyless_entry}");
    let keyed_entry = red_log.iter().find(|d| d["target"] == "admin@keyed.example").unwrap();
    assert_eq!(keyed_entry["state"], "delivered", "{keyed_entry}");

    // Removing the key: the next RED is not e-mailed to them either.
    assert_eq!(send(&server, "DELETE", &keyed.full, "/api/v1/me/openpgp-key", b"", &[]).0, 204);
    let (again, _) = publish(&server, &coord, &draft("Red again", "RED", &[], &[keyed_id]));
    let log = settled(&server, &coord, again);
    assert!(log.iter().all(|d| d["channel"] != "email" || d["state"] == "failed"), "{log:?}");

    // A password-reset link an admin issues is e-mailed to the account's owner (over the same
    // required STARTTLS and login), in the owner's language, and works from the mail.
    let (_, users) = get(&server, &reader.full, "/api/v1/users");
    let member = users.as_array().unwrap().iter().find(|u| u["email"] == "member@reader.example").unwrap()["id"]
        .as_i64()
        .unwrap();
    let location = server.location.clone();
    quell_server::block_on(async move {
        let db = open(location).await;
        quell_server::auth::set_language(&db, member, Some("nl")).await.unwrap();
    })
    .unwrap();
    let before = mails(&relay.out).len();
    let (status, issued) = send(&server, "POST", &reader.full, &format!("/api/v1/users/{member}/reset-link"), b"", &[]);
    assert_eq!(status, 201, "{issued}");
    assert_eq!(issued["emailed"], true, "{issued}");
    let url = issued["url"].as_str().unwrap();
    let received = mails(&relay.out);
    assert_eq!(received.len(), before + 1);
    let reset_mail = received
        .iter()
        .find(|m| m.contains("X-Sink-Rcpt: member@reader.example\r\n") && !m.contains("TLP:"))
        .expect("mailed");
    assert!(reset_mail.starts_with(&format!("X-Sink-Transport: tls\r\nX-Sink-Login: {SINK_USER}\r\n")));
    let unfolded = reset_mail.replace("=\r\n", "").replace("\r\n", "\n");
    assert!(unfolded.contains(url) || unfolded.contains(&url.replace('=', "=3D")), "the link: {reset_mail}");
    assert!(unfolded.contains("wachtwoord"), "Dutch for a Dutch reader: {reset_mail}");
}

#[test]
fn required_tls_sends_nothing_to_a_relay_without_starttls() {
    let Some(python) = tools() else { return };
    let dir = tempfile::tempdir().unwrap();
    let relay = sink(&python, dir.path(), None);
    let smtp = Smtp {
        host: "127.0.0.1".into(),
        port: relay.port,
        from: "cert@ncsc.example".into(),
        tls: SmtpTls::Required,
        credentials: None,
        extra_roots_pem: None,
    };
    let server_dir = tempfile::tempdir().unwrap();
    let server = start_with(fresh_location(server_dir.path()), Limits::default(), fast(smtp), server_dir);
    let coord = coordinator(&server);
    let reader = org(&server, "reader");
    let (id, _) = publish(&server, &coord, &draft("Amber", "AMBER", &[reader.id], &[]));
    let log = settled(&server, &coord, id);
    let email: Vec<&Value> = log.iter().filter(|d| d["channel"] == "email").collect();
    assert!(!email.is_empty());
    assert!(email.iter().all(|d| d["state"] == "failed"), "{log:?}");
    assert!(mails(&relay.out).is_empty(), "nothing may go out without TLS");
}
