//! Advisories: identifiers and versions, immutability of published versions, validation, the
//! TLP matrix over every channel, target groups, signed webhook retries, e-mail through an SMTP
//! sink, call lists, decisions, deadlines, progress, the CSAF provider and import.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use quell_store::sqlx;
use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use quell_server::Limits;
use quell_server::advisories::{Config, DeadlineDays, Smtp};
use quell_server::auth::{self, Role, Scope};
use serde_json::{Value, json};
use sha2::Digest;

fn low_rating() -> Value {
    json!({
        "chance": {
            "default_configuration": "no", "exploit_code": "none", "details_public": "none",
            "access": "physical", "credentials": "admin", "complexity": "complex", "user_interaction": "complex",
            "actively_exploited": "no", "exploitation_expected": "no", "solution": "more_than_two_months"
        },
        "damage": {
            "denial_of_service": "none", "code_execution": "none", "remote_access": "none",
            "privilege_escalation": "no", "information_leak": "none"
        }
    })
}

fn draft(title: &str, tlp: &str, orgs: &[i64], users: &[i64], match_inventory: bool) -> Value {
    log4shell_draft(title, tlp, orgs, users, match_inventory)
}

fn post(server: &Server, token: &str, path: &str, body: &Value) -> (u16, Value) {
    send(server, "POST", token, path, body.to_string().as_bytes(), &[("Content-Type", "application/json")])
}

fn put(server: &Server, token: &str, path: &str, body: &Value) -> (u16, Value) {
    send(server, "PUT", token, path, body.to_string().as_bytes(), &[("Content-Type", "application/json")])
}

/// GET without credentials, or with a bearer token, or with a session cookie: (status, body text).
fn raw(server: &Server, path: &str, bearer: Option<&str>, cookie: Option<&str>) -> (u16, String) {
    let mut request = ureq::http::Request::builder().method("GET").uri(format!("{}{path}", server.base));
    if let Some(t) = bearer {
        request = request.header("Authorization", format!("Bearer {t}"));
    }
    if let Some(c) = cookie {
        request = request.header("Cookie", c);
    }
    let mut response = agent().run(request.body(Vec::new()).unwrap()).unwrap();
    (response.status().as_u16(), response.body_mut().read_to_string().unwrap())
}

/// A user with a full token and a browser session: (user id, token, cookie).
fn user(server: &Server, email: &str, role: Role, org: Option<i64>) -> (i64, String, String) {
    let location = server.location.clone();
    let email = email.to_string();
    quell_server::block_on(async move {
        let db = open(location).await;
        let id = auth::create_user(&db, &email, PASSWORD, role, org).await.unwrap();
        let token = auth::create_token(&db, id, "t", Scope::Full).await.unwrap().token;
        let secret = auth::new_secret("qs_").unwrap();
        sqlx::query(
            "INSERT INTO sessions (id_hash, user_id, csrf, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(auth::secret_hash(&secret))
        .bind(id)
        .bind("csrf-token")
        .bind(quell_server::now())
        .bind(quell_server::now() + 3600)
        .execute(&db.pool)
        .await
        .unwrap();
        (id, token, format!("quell_session={secret}"))
    })
    .unwrap()
}

fn db_exec(server: &Server, sql: &str) -> Result<u64, String> {
    let location = server.location.clone();
    let sql = sql.to_string();
    quell_server::block_on(async move {
        let db = open(location).await;
        sqlx::query(&sql).execute(&db.pool).await.map(|r| r.rows_affected()).map_err(|e| e.to_string())
    })
    .unwrap()
}

fn fast_config() -> Config {
    Config {
        retry_base: Duration::from_secs(1),
        // Long enough that a loaded 2-core machine never times out a receiver that answers (an
        // attempt that times out is retried, and the tests count attempts exactly).
        delivery_timeout: Duration::from_secs(5),
        poll_interval: Duration::from_millis(100),
        // The test's receivers listen on loopback over plain http.
        allow_private_webhooks: true,
        ..Config::default()
    }
}

fn start_config(config: Config) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let location = fresh_location(dir.path());
    start_with(location, Limits::default(), config, dir)
}

fn year() -> i64 {
    quell_server::time::civil_from_days(quell_server::now() / 86_400).0
}

#[test]
fn identifiers_versions_and_immutability() {
    let server = start(Limits::default());
    let coord = coordinator(&server);
    let a = org(&server, "a");

    let (status, created) = post(&server, &coord, "/api/v1/advisories", &draft("First", "CLEAR", &[a.id], &[], false));
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["identifier"], format!("QUELL-{}-0001", year()));
    assert_eq!(created["version"], "1.00");
    let id = created["id"].as_i64().unwrap();
    let (_, second) = post(&server, &coord, "/api/v1/advisories", &draft("Second", "CLEAR", &[], &[], false));
    assert_eq!(second["identifier"], format!("QUELL-{}-0002", year()));

    // Drafts: coordinators only, editable.
    assert_eq!(get(&server, &a.full, &format!("/api/v1/advisories/{id}")).0, 404);
    let (status, _) = put(
        &server,
        &coord,
        &format!("/api/v1/advisories/{id}/versions/1.00"),
        &draft("First, edited", "CLEAR", &[a.id], &[], false),
    );
    assert_eq!(status, 200);
    let (_, shown) = get(&server, &coord, &format!("/api/v1/advisories/{id}"));
    assert_eq!(shown["title"], "First, edited");
    assert_eq!(shown["label"], "HIGH/HIGH");
    assert_eq!(shown["tag"], "[H/H]");
    assert_eq!(shown["rating"]["chance_points"], 37);
    assert_eq!(shown["rating"]["urgency"], "urgent");

    // Publish once; a published version never changes.
    let (status, published) = post(&server, &coord, &format!("/api/v1/advisories/{id}/publish"), &json!({}));
    assert_eq!(status, 200, "{published}");
    assert_eq!(post(&server, &coord, &format!("/api/v1/advisories/{id}/publish"), &json!({})).0, 409);
    let (status, body) = put(
        &server,
        &coord,
        &format!("/api/v1/advisories/{id}/versions/1.00"),
        &draft("Changed", "CLEAR", &[], &[], false),
    );
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"], "conflict");
    let refused = db_exec(&server, "UPDATE advisory_versions SET title = 'sneaky' WHERE status = 'published'");
    assert!(refused.unwrap_err().contains("immutable"));
    assert!(db_exec(&server, "DELETE FROM advisory_versions WHERE status = 'published'").is_err());
    let (_, shown) = get(&server, &a.full, &format!("/api/v1/advisories/{id}"));
    assert_eq!(shown["title"], "First, edited");
    assert_eq!(shown["status"], "published");

    // A change is a new version: a new row, 1.01.
    let (status, next) = post(&server, &coord, &format!("/api/v1/advisories/{id}/versions"), &json!(null));
    assert_eq!(status, 201, "{next}");
    assert_eq!(next["version"], "1.01");
    assert_eq!(post(&server, &coord, &format!("/api/v1/advisories/{id}/versions"), &json!(null)).0, 409);
    let mut d = draft("First, updated", "CLEAR", &[a.id], &[], false);
    d["content"]["revision_note"] = json!("Fixed versions corrected.");
    assert_eq!(put(&server, &coord, &format!("/api/v1/advisories/{id}/versions/1.01"), &d).0, 200);
    // Organisations still see 1.00 while 1.01 is a draft.
    assert_eq!(get(&server, &a.full, &format!("/api/v1/advisories/{id}")).1["version"], "1.00");
    assert_eq!(post(&server, &coord, &format!("/api/v1/advisories/{id}/publish"), &json!({})).0, 200);
    let (_, shown) = get(&server, &a.full, &format!("/api/v1/advisories/{id}"));
    assert_eq!(shown["version"], "1.01");
    assert_eq!(shown["versions"].as_array().unwrap().len(), 2);
    assert_eq!(get(&server, &a.full, &format!("/api/v1/advisories/{id}/versions/1.00")).1["title"], "First, edited");
    let (_, csaf) = get(&server, &a.full, &format!("/api/v1/advisories/{id}/csaf"));
    assert_eq!(csaf["document"]["tracking"]["version"], "2");
    assert_eq!(csaf["document"]["tracking"]["revision_history"][1]["summary"], "Fixed versions corrected.");
    let identifier = shown["identifier"].as_str().unwrap().to_string();
    assert_eq!(get(&server, &a.full, &format!("/api/v1/advisories/{identifier}")).1["id"], id);
}

#[test]
fn numbering_is_safe_under_concurrency() {
    let server = Arc::new(start(Limits::default()));
    let coord = coordinator(&server);
    let threads: Vec<_> = (0..8)
        .map(|i| {
            let server = server.clone();
            let coord = coord.clone();
            std::thread::spawn(move || {
                let (status, body) = post(
                    &server,
                    &coord,
                    "/api/v1/advisories",
                    &draft(&format!("Concurrent {i}"), "CLEAR", &[], &[], false),
                );
                assert_eq!(status, 201, "{body}");
                body["identifier"].as_str().unwrap().to_string()
            })
        })
        .collect();
    let ids: BTreeSet<String> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    let expected: BTreeSet<String> = (1..=8).map(|n| format!("QUELL-{}-{n:04}", year())).collect();
    assert_eq!(ids, expected);
}

#[test]
fn bad_input_is_refused_with_reasons() {
    let server = start(Limits::default());
    let coord = coordinator(&server);
    let a = org(&server, "a");
    let mut d = draft("x", "CLEAR", &[], &[], false);
    d["content"]["rating"]["damage_override"] = json!({"level": "low", "reason": " "});
    let (status, body) = post(&server, &coord, "/api/v1/advisories", &d);
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid")));
    assert!(body["message"].as_str().unwrap().contains("reason"), "{body}");
    let mut d = draft("x", "CLEAR", &[], &[], false);
    d["content"]["cves"] = json!(["CVE-21-1"]);
    assert_eq!(post(&server, &coord, "/api/v1/advisories", &d).0, 400);
    let mut d = draft("x", "PINK", &[], &[], false);
    d["content"]["tlp"] = json!("PINK");
    assert_eq!(post(&server, &coord, "/api/v1/advisories", &d).0, 400);
    assert_eq!(post(&server, &coord, "/api/v1/advisories", &draft("x", "CLEAR", &[999], &[], false)).0, 400);
    assert_eq!(send(&server, "POST", &coord, "/api/v1/advisories", b"{not json", &[]).1["error"], "invalid");
    // Organisation users and anonymous callers do not write advisories.
    assert_eq!(post(&server, &a.full, "/api/v1/advisories", &draft("x", "CLEAR", &[], &[], false)).0, 403);
    assert_eq!(post(&server, &a.upload, "/api/v1/advisories", &draft("x", "CLEAR", &[], &[], false)).0, 403);
    // Publishing needs a product.
    let mut d = draft("x", "CLEAR", &[], &[], false);
    d["content"]["products"] = json!([]);
    let (_, created) = post(&server, &coord, "/api/v1/advisories", &d);
    let (status, body) = post(&server, &coord, &format!("/api/v1/advisories/{}/publish", created["id"]), &json!({}));
    assert_eq!(status, 400, "{body}");
    assert_eq!(get(&server, &coord, "/api/v1/advisories").1.as_array().unwrap().len(), 1, "nothing stored half-way");
}

// ---- a webhook receiver and an SMTP sink ----

#[derive(Clone, Debug)]
struct Hook {
    headers: BTreeMap<String, String>,
    body: Vec<u8>,
    at: Instant,
}

/// What the receiver does with the n-th request: `Fail` answers 500, `Hang` waits past the
/// client's timeout, `Ok` answers 204.
#[derive(Clone, Copy, Debug)]
enum Act {
    Fail,
    Hang,
    Ok,
}

fn receiver(script: Vec<Act>) -> (String, Arc<Mutex<Vec<Hook>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    std::thread::spawn(move || {
        for (n, stream) in listener.incoming().enumerate() {
            let Ok(mut stream) = stream else { continue };
            let act = script.get(n).copied().unwrap_or(Act::Ok);
            let log = log.clone();
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut headers = BTreeMap::new();
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                loop {
                    line.clear();
                    reader.read_line(&mut line).unwrap();
                    let l = line.trim_end();
                    if l.is_empty() {
                        break;
                    }
                    let (k, v) = l.split_once(':').unwrap();
                    headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
                }
                let len: usize = headers.get("content-length").map_or(0, |v| v.parse().unwrap());
                let mut body = vec![0; len];
                reader.read_exact(&mut body).unwrap();
                log.lock().unwrap().push(Hook { headers, body, at: Instant::now() });
                match act {
                    Act::Fail => {
                        let _ = stream.write_all(
                            b"HTTP/1.1 500 Internal Server Error\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
                        );
                    }
                    Act::Hang => std::thread::sleep(Duration::from_secs(12)),
                    Act::Ok => {
                        let _ = stream.write_all(b"HTTP/1.1 204 No Content\r\nconnection: close\r\n\r\n");
                    }
                }
            });
        }
    });
    (url, seen)
}

#[derive(Clone, Debug)]
struct Mail {
    to: Vec<String>,
    data: String,
}

/// Just enough SMTP (RFC 5321) to accept mail: greeting, EHLO/HELO, MAIL, RCPT, DATA, QUIT.
fn smtp_sink() -> (u16, Arc<Mutex<Vec<Mail>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let mails = Arc::new(Mutex::new(Vec::new()));
    let log = mails.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let log = log.clone();
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                stream.write_all(b"220 sink ESMTP\r\n").unwrap();
                let mut to = Vec::new();
                let mut line = String::new();
                loop {
                    line.clear();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let upper = line.to_ascii_uppercase();
                    if upper.starts_with("EHLO") || upper.starts_with("HELO") {
                        stream.write_all(b"250-sink\r\n250 8BITMIME\r\n").unwrap();
                    } else if upper.starts_with("MAIL FROM") {
                        to.clear();
                        stream.write_all(b"250 ok\r\n").unwrap();
                    } else if upper.starts_with("RCPT TO") {
                        to.push(line.trim()[8..].trim().trim_matches(|c| c == '<' || c == '>').to_string());
                        stream.write_all(b"250 ok\r\n").unwrap();
                    } else if upper.starts_with("DATA") {
                        stream.write_all(b"354 go ahead\r\n").unwrap();
                        let mut data = String::new();
                        loop {
                            line.clear();
                            reader.read_line(&mut line).unwrap();
                            if line == ".\r\n" {
                                break;
                            }
                            data.push_str(&line);
                        }
                        log.lock().unwrap().push(Mail { to: to.clone(), data });
                        stream.write_all(b"250 queued\r\n").unwrap();
                    } else if upper.starts_with("QUIT") {
                        let _ = stream.write_all(b"221 bye\r\n");
                        return;
                    } else {
                        stream.write_all(b"250 ok\r\n").unwrap();
                    }
                }
            });
        }
    });
    (port, mails)
}

/// Waits until no delivery is pending or being sent.
fn wait_deliveries(server: &Server, coord: &str, ids: &[i64], limit: Duration) {
    let started = Instant::now();
    loop {
        let busy = ids.iter().any(|id| {
            get(server, coord, &format!("/api/v1/advisories/{id}/deliveries"))
                .1
                .as_array()
                .unwrap()
                .iter()
                .any(|d| d["state"] == "pending" || d["state"] == "sending")
        });
        if !busy {
            return;
        }
        assert!(started.elapsed() < limit, "deliveries still pending after {limit:?}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn tlp_matrix_over_every_channel() {
    let (smtp_port, mails) = smtp_sink();
    let (hook_url, hooks) = receiver(vec![]);
    let server =
        start_config(Config { smtp: Some(Smtp::plain("127.0.0.1", smtp_port, "cert@ncsc.example")), ..fast_config() });
    let author = coordinator(&server);
    let recipient = org(&server, "recipient");
    let outsider = org(&server, "outsider");
    let third = org(&server, "third");
    let (named_id, named_token, named_cookie) = user(&server, "named@third.example", Role::Member, Some(third.id));
    let (_, member_token, member_cookie) = user(&server, "reader@recipient.example", Role::Member, Some(recipient.id));
    let (_, outsider_token, outsider_cookie) =
        user(&server, "reader@outsider.example", Role::Member, Some(outsider.id));
    let (_, other_coord_token, other_coord_cookie) = user(&server, "other@ncsc.example", Role::Coordinator, None);
    let (author_id, author_cookie) = {
        let location = server.location.clone();
        quell_server::block_on(async move {
            let db = open(location).await;
            let id = auth::user_id(&db, "cert@ncsc.example").await.unwrap();
            let secret = auth::new_secret("qs_").unwrap();
            sqlx::query(
                "INSERT INTO sessions (id_hash, user_id, csrf, created_at, expires_at) VALUES ($1, $2, 'c', $3, $4)",
            )
            .bind(auth::secret_hash(&secret))
            .bind(id)
            .bind(quell_server::now())
            .bind(quell_server::now() + 3600)
            .execute(&db.pool)
            .await
            .unwrap();
            (id, format!("quell_session={secret}"))
        })
        .unwrap()
    };
    let _ = author_id;
    // The named individual reads quell in Dutch (the account's setting): their e-mail is Dutch.
    {
        let location = server.location.clone();
        quell_server::block_on(async move {
            let db = open(location).await;
            auth::set_language(&db, named_id, Some("nl")).await.unwrap();
        })
        .unwrap();
    }
    for o in [&recipient, &outsider] {
        let (status, body) = put(&server, &o.full, "/api/v1/webhook", &json!({"url": hook_url}));
        assert_eq!(status, 200, "{body}");
    }

    let mut published: BTreeMap<&str, (i64, String)> = BTreeMap::new();
    for tlp in ["CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED"] {
        let (status, created) = post(
            &server,
            &author,
            "/api/v1/advisories",
            &draft(&format!("Marked {tlp}"), tlp, &[recipient.id], &[named_id], false),
        );
        assert_eq!(status, 201, "{created}");
        let id = created["id"].as_i64().unwrap();
        let (status, body) = post(&server, &author, &format!("/api/v1/advisories/{id}/publish"), &json!({}));
        assert_eq!(status, 200, "{body}");
        published.insert(tlp, (id, created["identifier"].as_str().unwrap().to_string()));
    }

    struct Who<'a> {
        name: &'a str,
        token: Option<&'a str>,
        cookie: Option<&'a str>,
        allowed: [&'a str; 5],
    }
    let everyone = ["CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED"];
    let pick =
        |wanted: &[&'static str]| -> [&'static str; 5] { everyone.map(|t| if wanted.contains(&t) { t } else { "" }) };
    let people = [
        Who { name: "anonymous", token: None, cookie: None, allowed: pick(&["CLEAR"]) },
        Who {
            name: "member of a recipient organisation",
            token: Some(&member_token),
            cookie: Some(&member_cookie),
            allowed: pick(&["CLEAR", "GREEN", "AMBER", "AMBER+STRICT"]),
        },
        Who {
            name: "member of another organisation",
            token: Some(&outsider_token),
            cookie: Some(&outsider_cookie),
            allowed: pick(&["CLEAR", "GREEN"]),
        },
        Who {
            name: "named individual",
            token: Some(&named_token),
            cookie: Some(&named_cookie),
            allowed: pick(&everyone),
        },
        Who {
            name: "author (coordinator)",
            token: Some(&author),
            cookie: Some(&author_cookie),
            allowed: pick(&everyone),
        },
        Who {
            name: "another coordinator",
            token: Some(&other_coord_token),
            cookie: Some(&other_coord_cookie),
            allowed: pick(&["CLEAR", "GREEN", "AMBER"]),
        },
    ];
    for who in &people {
        let (_, api_list) = raw(&server, "/api/v1/advisories", who.token, None);
        let (_, page_list) = raw(&server, "/advisories", None, who.cookie);
        for tlp in everyone {
            let (id, identifier) = &published[tlp];
            let may = who.allowed.contains(&tlp);
            let ctx = format!("{} / TLP:{tlp}", who.name);
            // API: listing and detail.
            assert_eq!(api_list.contains(identifier.as_str()), may, "API list: {ctx}");
            let (status, _) = raw(&server, &format!("/api/v1/advisories/{id}"), who.token, None);
            assert_eq!(status == 200, may, "API detail {status}: {ctx}");
            assert_eq!(
                raw(&server, &format!("/api/v1/advisories/{id}/csaf"), who.token, None).0 == 200,
                may,
                "API CSAF: {ctx}"
            );
            // Pages: listing and detail.
            assert_eq!(page_list.contains(identifier.as_str()), may, "page list: {ctx}");
            let (status, _) = raw(&server, &format!("/advisories/{id}"), None, who.cookie);
            assert_eq!(status == 200, may, "page {status}: {ctx}");
            // CSAF directory of the marking: listing and document.
            let dir = match tlp {
                "CLEAR" => "white",
                "GREEN" => "green",
                "RED" => "red",
                _ => "amber",
            };
            let file = format!("{}/{}.json", year(), identifier.to_lowercase());
            let (status, index) = raw(&server, &format!("/.well-known/csaf/{dir}/index.txt"), who.token, None);
            if who.token.is_none() && dir != "white" {
                assert_eq!(status, 401, "{ctx}");
            } else {
                assert_eq!(status, 200, "{ctx}");
            }
            assert_eq!(index.lines().any(|l| l == file), may, "CSAF index: {ctx}");
            let (_, changes) = raw(&server, &format!("/.well-known/csaf/{dir}/changes.csv"), who.token, None);
            assert_eq!(changes.contains(&file), may, "CSAF changes.csv: {ctx}");
            let (status, _) = raw(&server, &format!("/.well-known/csaf/{dir}/{file}"), who.token, None);
            assert_eq!(status == 200, may, "CSAF document {status}: {ctx}");
        }
    }
    // The public feed: CLEAR only.
    let (status, feed) = raw(&server, "/advisories.atom", None, None);
    assert_eq!(status, 200);
    for tlp in everyone {
        assert_eq!(feed.contains(published[tlp].1.as_str()), tlp == "CLEAR", "feed: TLP:{tlp}");
    }

    // Push channels: webhooks reach the recipient organisation's endpoint (not RED: that is
    // for named individuals only); e-mail reaches the recipient organisation's accounts and the
    // named individual, RED the named individual alone. Nobody else gets anything.
    let ids: Vec<i64> = published.values().map(|(id, _)| *id).collect();
    wait_deliveries(&server, &author, &ids, Duration::from_secs(60));
    let hooks = hooks.lock().unwrap().clone();
    let recipient_emails: BTreeSet<String> =
        ["admin@recipient.example", "member@recipient.example", "reader@recipient.example", "named@third.example"]
            .into_iter()
            .map(String::from)
            .collect();
    let mails = mails.lock().unwrap().clone();
    for tlp in everyone {
        let identifier = &published[tlp].1;
        let got: Vec<&Hook> = hooks.iter().filter(|h| h.headers.get("x-quell-advisory") == Some(identifier)).collect();
        assert_eq!(got.len(), usize::from(tlp != "RED"), "webhooks for TLP:{tlp}");
        let to: BTreeSet<String> =
            mails.iter().filter(|m| m.data.contains(identifier.as_str())).flat_map(|m| m.to.iter().cloned()).collect();
        // AMBER+STRICT and RED are e-mailed only encrypted to the addressee's OpenPGP key; nobody
        // here registered one, so they are not e-mailed at all and the log says why (the
        // encrypted case: tests/confidential_mail.rs).
        let expected: BTreeSet<String> = match tlp {
            "RED" | "AMBER+STRICT" => BTreeSet::new(),
            _ => recipient_emails.clone(),
        };
        assert_eq!(to, expected, "e-mail for TLP:{tlp}");
        if tlp == "RED" || tlp == "AMBER+STRICT" {
            let (_, log) = get(&server, &author, &format!("/api/v1/advisories/{}/deliveries", published[tlp].0));
            let email: Vec<&Value> = log.as_array().unwrap().iter().filter(|d| d["channel"] == "email").collect();
            assert!(!email.is_empty(), "TLP:{tlp}: e-mail deliveries are logged");
            assert!(email.iter().all(|d| d["state"] == "failed"), "TLP:{tlp}: {log}");
            assert!(log.to_string().contains("no OpenPGP key"), "TLP:{tlp}: {log}");
        }
        for m in mails.iter().filter(|m| m.data.contains(identifier.as_str())) {
            assert!(m.data.contains(&format!("[TLP:{tlp}]")), "subject carries the marking");
            // Each recipient's language: Dutch for the named individual, English (the server's
            // default) for the others.
            let dutch = m.to.iter().any(|t| t == "named@third.example");
            assert_eq!(m.data.contains("Samenvatting"), dutch, "Dutch e-mail for TLP:{tlp}: {m:?}");
            assert_eq!(m.data.contains("Summary"), !dutch, "English e-mail for TLP:{tlp}: {m:?}");
            if dutch {
                assert!(m.data.contains(&format!("Dit bericht is TLP:{tlp}")), "{m:?}");
            }
        }
    }

    // The audit log (issue 18): every read of an AMBER, AMBER+STRICT or RED advisory, on every
    // channel, by whom; every delivery, to which endpoint; nothing for CLEAR and GREEN. Read as
    // the coordinators' export (JSON lines, streamed).
    let (status, export) = raw(&server, "/api/v1/audit?format=jsonl", Some(&author), None);
    assert_eq!(status, 200, "{export}");
    let events: Vec<Value> = export.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let readers = [
        ("member of a recipient organisation", "reader@recipient.example"),
        ("member of another organisation", "reader@outsider.example"),
        ("named individual", "named@third.example"),
        ("author (coordinator)", "cert@ncsc.example"),
        ("another coordinator", "other@ncsc.example"),
    ];
    for tlp in everyone {
        let identifier = &published[tlp].1;
        let about: Vec<&Value> =
            events.iter().filter(|e| e["target"].as_str().unwrap().contains(&format!(" {identifier} "))).collect();
        if tlp == "CLEAR" || tlp == "GREEN" {
            assert!(about.is_empty(), "TLP:{tlp} is not audited: {about:?}");
            continue;
        }
        for (name, email) in readers {
            let may = people.iter().find(|w| w.name == name).unwrap().allowed.contains(&tlp);
            let count = |action: &str, detail: &str| {
                about.iter().filter(|e| e["actor"] == email && e["action"] == action && e["detail"] == detail).count()
            };
            let ctx = format!("{name} / TLP:{tlp}");
            // API detail once, the page once; the CSAF document twice (API and directory).
            assert_eq!(count("advisory_read", "api"), usize::from(may), "API read audited: {ctx}");
            assert_eq!(count("advisory_read", "page"), usize::from(may), "page read audited: {ctx}");
            assert_eq!(count("advisory_exported", "csaf"), 2 * usize::from(may), "CSAF export audited: {ctx}");
        }
        let delivered = |detail: &str| {
            about.iter().filter(|e| e["action"] == "advisory_delivered" && e["detail"] == detail).count()
        };
        assert_eq!(delivered(&format!("webhook {hook_url}")), usize::from(tlp != "RED"), "webhook audited: {tlp}");
        for address in &recipient_emails {
            let expected = usize::from(tlp == "AMBER");
            assert_eq!(delivered(&format!("email {address}")), expected, "e-mail to {address} audited: TLP:{tlp}");
        }
    }
    // An organisation's admin reads its own people's reads, not another organisation's.
    let (status, theirs) = get(&server, &recipient.full, "/api/v1/audit?action=advisory_read&limit=1000");
    assert_eq!(status, 200);
    let actors: BTreeSet<&str> = theirs.as_array().unwrap().iter().filter_map(|e| e["actor"].as_str()).collect();
    assert!(actors.contains("reader@recipient.example"), "{actors:?}");
    assert!(!actors.contains("reader@outsider.example") && !actors.contains("cert@ncsc.example"), "{actors:?}");
}

#[test]
fn webhook_retries_with_backoff_and_signature() {
    use hmac::{Hmac, KeyInit, Mac};
    let (url, hooks) = receiver(vec![Act::Fail, Act::Hang, Act::Ok]);
    let server = start_config(fast_config());
    let coord = coordinator(&server);
    let a = org(&server, "a");
    let (status, hook) = put(&server, &a.full, "/api/v1/webhook", &json!({"url": url}));
    assert_eq!(status, 200);
    let secret = hook["secret"].as_str().unwrap().to_string();
    assert_eq!(get(&server, &a.full, "/api/v1/webhook").1["url"], url.as_str());
    assert!(get(&server, &a.full, "/api/v1/webhook").1.get("secret").is_none(), "the secret is shown once");
    assert_eq!(put(&server, &a.member_full, "/api/v1/webhook", &json!({"url": url})).0, 403);
    assert_eq!(put(&server, &a.full, "/api/v1/webhook", &json!({"url": "file:///etc/passwd"})).0, 400);

    let (_, created) = post(&server, &coord, "/api/v1/advisories", &draft("Hooked", "AMBER", &[a.id], &[], false));
    let id = created["id"].as_i64().unwrap();
    let (_, published) = post(&server, &coord, &format!("/api/v1/advisories/{id}/publish"), &json!({}));
    assert_eq!(published["webhooks"], 1);
    wait_deliveries(&server, &coord, &[id], Duration::from_secs(60));

    let (_, log) = get(&server, &coord, &format!("/api/v1/advisories/{id}/deliveries"));
    let delivery = &log[0];
    assert_eq!(delivery["state"], "delivered", "{log}");
    assert_eq!(delivery["attempts"], 3);
    let attempts = delivery["log"].as_array().unwrap();
    assert_eq!(attempts.len(), 3);
    assert_eq!(attempts[0]["status"], 0);
    assert!(attempts[0]["error"].as_str().unwrap().contains("500"));
    assert!(attempts[1]["error"].as_str().unwrap().to_lowercase().contains("time"), "{}", attempts[1]);
    assert_eq!(attempts[2]["status"], 204);
    // Exponential backoff: 1 s after the first failure, 2 s after the second.
    let hooks = hooks.lock().unwrap().clone();
    assert_eq!(hooks.len(), 3);
    assert!(hooks[1].at - hooks[0].at >= Duration::from_millis(900), "{:?}", hooks[1].at - hooks[0].at);
    assert!(hooks[2].at - hooks[1].at >= Duration::from_millis(1900), "{:?}", hooks[2].at - hooks[1].at);
    // Every attempt is signed; the receiver verifies the last one with the shared secret.
    let last = &hooks[2];
    let timestamp = &last.headers["x-quell-timestamp"];
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{timestamp}.").as_bytes());
    mac.update(&last.body);
    let expected = format!("sha256={}", auth::hex(&mac.finalize().into_bytes()));
    assert_eq!(last.headers["x-quell-signature"], expected);
    let mut forged = Hmac::<sha2::Sha256>::new_from_slice(b"wrong").unwrap();
    forged.update(&last.body);
    assert_ne!(last.headers["x-quell-signature"], format!("sha256={}", auth::hex(&forged.finalize().into_bytes())));
    let payload: Value = serde_json::from_slice(&last.body).unwrap();
    assert_eq!(payload["identifier"], created["identifier"]);
    assert_eq!(payload["tlp"], "AMBER");
    assert_eq!(payload["csaf"]["document"]["distribution"]["tlp"]["label"], "AMBER");
}

#[test]
fn target_groups_cycles_and_recipients() {
    let server = start(Limits::default());
    let coord = coordinator(&server);
    let a = org(&server, "a");
    let b = org(&server, "b");
    let c = org(&server, "c");
    let scanned = org(&server, "scanned");
    assert_eq!(upload(&server, &scanned.upload, &report("web1", &days_ago(1), 1, 0, "x")).0, 201);
    assert_eq!(upload(&server, &a.upload, &report("town-hall", &days_ago(1), 2, 0, "t")).0, 201);

    let (status, g1) =
        post(&server, &coord, "/api/v1/target-groups", &json!({"name": "Municipalities", "orgs": [a.id]}));
    assert_eq!(status, 201, "{g1}");
    let g1 = g1["id"].as_i64().unwrap();
    let (_, g2) =
        post(&server, &coord, "/api/v1/target-groups", &json!({"name": "Linking org", "orgs": [b.id], "groups": [g1]}));
    let g2 = g2["id"].as_i64().unwrap();
    assert_eq!(get(&server, &coord, &format!("/api/v1/target-groups/{g2}")).1["members"], json!([a.id, b.id]));
    // Cycles are refused: directly, through another group, or onto itself.
    let (status, body) = put(
        &server,
        &coord,
        &format!("/api/v1/target-groups/{g1}"),
        &json!({"name": "Municipalities", "groups": [g2]}),
    );
    assert_eq!(status, 400, "{body}");
    assert!(body["message"].as_str().unwrap().contains("cycle"));
    assert_eq!(
        put(&server, &coord, &format!("/api/v1/target-groups/{g1}"), &json!({"name": "M", "groups": [g1]})).0,
        400
    );
    assert_eq!(post(&server, &coord, "/api/v1/target-groups", &json!({"name": "Municipalities"})).0, 409);
    assert_eq!(get(&server, &a.full, "/api/v1/target-groups").0, 403);

    let mut d = draft("Grouped", "AMBER", &[], &[], true);
    d["recipients"]["groups"] = json!([g2]);
    let (_, created) = post(&server, &coord, "/api/v1/advisories", &d);
    let id = created["id"].as_i64().unwrap();
    let (_, published) = post(&server, &coord, &format!("/api/v1/advisories/{id}/publish"), &json!({}));
    assert_eq!(published["recipient_orgs"], 3, "{published}");
    let (_, recipients) = get(&server, &coord, &format!("/api/v1/advisories/{id}/recipients"));
    let via: BTreeMap<String, String> = recipients
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["org"].as_str().unwrap().to_string(), r["via"].as_str().unwrap().to_string()))
        .collect();
    assert_eq!(via["a"], "group:Linking org");
    assert_eq!(via["b"], "group:Linking org");
    assert_eq!(via["scanned"], "inventory");
    assert!(!via.contains_key("c"));
    assert_eq!(get(&server, &c.full, &format!("/api/v1/advisories/{id}")).0, 404);
    assert_eq!(get(&server, &a.full, &format!("/api/v1/advisories/{id}")).0, 200);
    assert_eq!(get(&server, &scanned.full, &format!("/api/v1/advisories/{id}")).0, 200);

    // Progress per target group counts the members' systems, through subgroups too.
    let (_, progress) = get(&server, &coord, &format!("/api/v1/advisories/{id}/progress"));
    let per_group: BTreeMap<String, i64> = progress["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| (g["group"].as_str().unwrap().to_string(), g["counts"]["affected"].as_i64().unwrap()))
        .collect();
    assert_eq!(per_group, BTreeMap::from([("Municipalities".into(), 1), ("Linking org".into(), 1)]));
    assert_eq!(progress["counts"]["affected"], 2, "town-hall and web1");
}

#[test]
fn high_high_makes_a_call_list() {
    let server = start(Limits::default());
    let coord = coordinator(&server);
    let a = org(&server, "a");
    let (status, _) = post(
        &server,
        &a.full,
        "/api/v1/contacts",
        &json!({"name": "Duty officer", "phone": "+31 70 000 0000", "email": "duty@a.example"}),
    );
    assert_eq!(status, 201);
    assert_eq!(post(&server, &a.member_full, "/api/v1/contacts", &json!({"name": "x", "phone": "1"})).0, 403);
    assert_eq!(post(&server, &a.full, "/api/v1/contacts", &json!({"name": "x", "phone": ""})).0, 400);

    let (_, hh) = post(&server, &coord, "/api/v1/advisories", &draft("HH", "AMBER", &[a.id], &[], false));
    let hh = hh["id"].as_i64().unwrap();
    let (_, published) = post(&server, &coord, &format!("/api/v1/advisories/{hh}/publish"), &json!({}));
    assert_eq!(published["call_list"], 1);
    let (_, list) = get(&server, &coord, &format!("/api/v1/advisories/{hh}/call-list"));
    assert_eq!(list[0]["name"], "Duty officer");
    assert_eq!(list[0]["org"], "a");
    let entry = list[0]["id"].as_i64().unwrap();
    let (status, _) = post(
        &server,
        &coord,
        &format!("/api/v1/advisories/{hh}/call-list/{entry}/calls"),
        &json!({"result": "no_answer"}),
    );
    assert_eq!(status, 201);
    post(
        &server,
        &coord,
        &format!("/api/v1/advisories/{hh}/call-list/{entry}/calls"),
        &json!({"result": "reached", "note": "patching tonight"}),
    );
    assert_eq!(
        post(&server, &coord, &format!("/api/v1/advisories/{hh}/call-list/{entry}/calls"), &json!({"result": "maybe"}))
            .0,
        400
    );
    let (_, list) = get(&server, &coord, &format!("/api/v1/advisories/{hh}/call-list"));
    let calls = list[0]["calls"].as_array().unwrap();
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[1]["result"], "reached");
    assert_eq!(calls[1]["caller"], "cert@ncsc.example");
    assert_eq!(get(&server, &a.full, &format!("/api/v1/advisories/{hh}/call-list")).0, 403);

    let mut low = draft("Low", "AMBER", &[a.id], &[], false);
    low["content"]["rating"] = low_rating();
    let (_, low) = post(&server, &coord, "/api/v1/advisories", &low);
    let low = low["id"].as_i64().unwrap();
    let (_, published) = post(&server, &coord, &format!("/api/v1/advisories/{low}/publish"), &json!({}));
    assert_eq!(published["call_list"], 0);
    assert_eq!(get(&server, &coord, &format!("/api/v1/advisories/{low}/call-list")).1, json!([]));
}

#[test]
fn decisions_deadlines_overdue_and_progress() {
    // Deadlines of zero days: every open system is overdue a second after publication.
    let server =
        start_config(Config { deadlines: DeadlineDays { critical: 0, high: 0, medium: 0, low: 0 }, ..fast_config() });
    let coord = coordinator(&server);
    let a = org(&server, "a");
    let b = org(&server, "b");
    assert_eq!(upload(&server, &a.upload, &report("web1", &days_ago(1), 2, 0, "x")).0, 201);
    assert_eq!(upload(&server, &a.upload, &report("web2", &days_ago(1), 1, 0, "y")).0, 201);
    assert_eq!(upload(&server, &a.upload, &report("clean", &days_ago(1), 0, 3, "z")).0, 201);
    assert_eq!(upload(&server, &b.upload, &report("bweb", &days_ago(1), 1, 0, "b")).0, 201);

    let mut d = draft("No fix yet", "AMBER", &[], &[], true);
    d["content"]["fix_available"] = json!(false);
    let (_, created) = post(&server, &coord, "/api/v1/advisories", &d);
    let id = created["id"].as_i64().unwrap();
    let (_, published) = post(&server, &coord, &format!("/api/v1/advisories/{id}/publish"), &json!({}));
    assert_eq!(published["recipient_orgs"], 2);
    std::thread::sleep(Duration::from_millis(1100));

    let (status, systems) = get(&server, &a.full, &format!("/api/v1/advisories/{id}/systems"));
    assert_eq!(status, 200, "{systems}");
    let list = systems["systems"].as_array().unwrap();
    let names: BTreeSet<&str> = list.iter().map(|s| s["host"].as_str().unwrap()).collect();
    assert_eq!(names, BTreeSet::from(["web1", "web2"]), "the clean host is no system");
    assert!(list.iter().all(|s| s["state"] == "open" && s["overdue"] == true && s["suggest_switch_off"] == true));
    let web1 = list.iter().find(|s| s["host"] == "web1").unwrap()["host_id"].as_i64().unwrap();
    let bweb =
        get(&server, &b.full, &format!("/api/v1/advisories/{id}/systems")).1["systems"][0]["host_id"].as_i64().unwrap();

    let overdue = get(&server, &a.full, "/api/v1/advisories/overdue").1;
    assert_eq!(overdue.as_array().unwrap().len(), 2);
    let (_, totals) = get(&server, &coord, "/api/v1/advisories/overdue");
    assert_eq!(totals[0]["overdue"], 3);
    assert!(totals.to_string().find("web1").is_none(), "coordinators see counts, not hosts");

    // Bad decisions.
    let path = format!("/api/v1/advisories/{id}/systems/{web1}/decisions");
    for bad in [
        json!({"decision": "ignored"}),
        json!({"decision": "mitigated"}),
        json!({"decision": "not_affected", "justification": "because"}),
        json!({"decision": "risk_accepted", "reason": "legacy"}),
        json!({"decision": "risk_accepted", "reason": "legacy", "expires_at": 1}),
    ] {
        assert_eq!(post(&server, &a.full, &path, &bad).0, 400, "{bad}");
    }
    // Another organisation's host, a coordinator: refused.
    assert_eq!(
        post(
            &server,
            &a.full,
            &format!("/api/v1/advisories/{id}/systems/{bweb}/decisions"),
            &json!({"decision": "patched"})
        )
        .0,
        404
    );
    assert_eq!(post(&server, &coord, &path, &json!({"decision": "patched"})).0, 403);

    let (status, d1) =
        post(&server, &a.member_full, &path, &json!({"decision": "mitigated", "measure": "JndiLookup.class removed"}));
    assert_eq!(status, 201, "{d1}");
    assert_eq!(d1["by"], "member@a.example");
    let later = quell_server::now() + 30 * 86_400;
    assert_eq!(
        post(
            &server,
            &a.full,
            &path,
            &json!({"decision": "risk_accepted", "reason": "vendor patch next week", "expires_at": later})
        )
        .0,
        201
    );
    let history = get(&server, &a.full, &path).1;
    assert_eq!(history.as_array().unwrap().len(), 2, "history is kept");
    assert_eq!(history[0]["decision"], "mitigated");
    assert!(db_exec(&server, "UPDATE advisory_decisions SET decision = 'patched'").is_err(), "append-only");
    assert!(db_exec(&server, "DELETE FROM advisory_decisions").is_err(), "append-only");

    let systems = get(&server, &a.full, &format!("/api/v1/advisories/{id}/systems")).1;
    let web1_state = systems["systems"].as_array().unwrap().iter().find(|s| s["host_id"] == web1).unwrap().clone();
    assert_eq!(web1_state["state"], "resolved");
    assert_eq!(web1_state["decision"]["decision"], "risk_accepted");
    let overdue = get(&server, &a.full, "/api/v1/advisories/overdue").1;
    assert_eq!(overdue.as_array().unwrap().len(), 1);
    assert_eq!(overdue[0]["host"], "web2");

    // A new scan without affected copies resolves web2.
    assert_eq!(upload(&server, &a.upload, &report("web2", &days_ago(0), 0, 1, "y2")).0, 201);
    assert_eq!(get(&server, &a.full, "/api/v1/advisories/overdue").1, json!([]));

    let (_, progress) = get(&server, &a.full, &format!("/api/v1/advisories/{id}/progress"));
    assert_eq!(progress["counts"], json!({"affected": 2, "resolved": 2, "open": 0, "overdue": 0}));
    let series = progress["series"].as_array().unwrap();
    assert_eq!(series.last().unwrap()["resolved"], 2);
    assert!(progress.get("orgs").is_none());
    let (_, all) = get(&server, &coord, &format!("/api/v1/advisories/{id}/progress"));
    assert_eq!(all["counts"], json!({"affected": 3, "resolved": 2, "open": 1, "overdue": 1}));
    assert_eq!(all["orgs"].as_array().unwrap().len(), 2);
    assert!(!all.to_string().contains("web"), "coordinators see counts, not hosts");
    let (status, page) = raw(&server, &format!("/advisories/{id}"), None, None);
    assert_eq!(status, 404, "AMBER is not public: {page}");
    // expires_at as RFC 3339, as every other time field (issue 18); nonsense is a 400.
    let in_rfc3339 = quell_server::time::format_rfc3339(later + 86_400);
    let rfc = json!({"decision": "risk_accepted", "reason": "patch window", "expires_at": in_rfc3339});
    assert_eq!(post(&server, &a.full, &path, &rfc).0, 201);
    let bad = json!({"decision": "risk_accepted", "reason": "patch window", "expires_at": "next week"});
    assert_eq!(post(&server, &a.full, &path, &bad).0, 400);
}

#[test]
fn csaf_provider_and_import() {
    let server = start(Limits::default());
    let coord = coordinator(&server);
    let (_, created) = post(&server, &coord, "/api/v1/advisories", &draft("Public", "CLEAR", &[], &[], false));
    let id = created["id"].as_i64().unwrap();
    post(&server, &coord, &format!("/api/v1/advisories/{id}/publish"), &json!({}));
    // A second version, so the revision history has two entries.
    post(&server, &coord, &format!("/api/v1/advisories/{id}/versions"), &json!(null));
    let mut second = draft("Public", "CLEAR", &[], &[], false);
    second["content"]["revision_note"] = json!("Solution extended.");
    put(&server, &coord, &format!("/api/v1/advisories/{id}/versions/1.01"), &second);
    assert_eq!(post(&server, &coord, &format!("/api/v1/advisories/{id}/publish"), &json!({})).0, 200);
    // No CVE, no fix, two products of one supplier, an override with its reason.
    let mut protected = draft("Protected", "AMBER+STRICT", &[], &[], false);
    protected["content"]["cves"] = json!([]);
    protected["content"]["fix_available"] = json!(false);
    protected["content"]["solution"] = json!("");
    protected["content"]["products"] = json!([
        {"supplier": "Apache", "product": "Log4j", "versions": "2.0-beta9 to 2.14.1"},
        {"supplier": "Apache", "product": "Log4j", "versions": "2.15.0"},
        {"supplier": "Example & Co", "product": "Portal <x>", "versions": "all"}
    ]);
    protected["content"]["rating"]["chance_override"] =
        json!({"level": "medium", "reason": "Only reachable from the office network."});
    let (_, amber) = post(&server, &coord, "/api/v1/advisories", &protected);
    assert_eq!(post(&server, &coord, &format!("/api/v1/advisories/{}/publish", amber["id"]), &json!({})).0, 200);

    let (status, meta) = raw(&server, "/.well-known/csaf/provider-metadata.json", None, None);
    assert_eq!(status, 200);
    let meta: Value = serde_json::from_str(&meta).unwrap();
    assert_eq!(meta["metadata_version"], "2.0");
    assert!(meta["distributions"][0]["directory_url"].as_str().unwrap().ends_with("/.well-known/csaf/white/"));
    let (_, index) = raw(&server, "/.well-known/csaf/white/index.txt", None, None);
    let file = format!("{}/{}.json", year(), created["identifier"].as_str().unwrap().to_lowercase());
    assert_eq!(index.trim(), file);
    let (_, doc_text) = raw(&server, &format!("/.well-known/csaf/white/{file}"), None, None);
    // Hash files over exactly the served bytes, in the sha256sum format (CSAF requirement 18).
    let name = file.rsplit('/').next().unwrap();
    for (ext, expected) in [
        ("sha256", quell_server::auth::hex(&sha2::Sha256::digest(doc_text.as_bytes()))),
        ("sha512", quell_server::auth::hex(&sha2::Sha512::digest(doc_text.as_bytes()))),
    ] {
        let (status, line) = raw(&server, &format!("/.well-known/csaf/white/{file}.{ext}"), None, None);
        assert_eq!(status, 200, "{ext}");
        assert_eq!(line, format!("{expected}  {name}\n"));
    }
    let amber_file = format!("{}/{}.json", year(), amber["identifier"].as_str().unwrap().to_lowercase());
    assert_eq!(raw(&server, &format!("/.well-known/csaf/amber/{amber_file}.sha256"), None, None).0, 401);
    assert_eq!(raw(&server, &format!("/.well-known/csaf/white/{amber_file}.sha256"), None, None).0, 404);
    let doc: Value = serde_json::from_str(&doc_text).unwrap();
    assert_eq!(doc["document"]["category"], "csaf_security_advisory");
    assert_eq!(doc["document"]["csaf_version"], "2.0");
    assert_eq!(doc["document"]["distribution"]["tlp"]["label"], "WHITE");
    assert_eq!(doc["document"]["aggregate_severity"]["text"], "HIGH/HIGH");
    assert_eq!(doc["vulnerabilities"][0]["cve"], "CVE-2021-44228");
    assert_eq!(doc["vulnerabilities"][0]["product_status"]["known_affected"][0], "QUELL-PID-1");
    assert_eq!(doc["document"]["tracking"]["revision_history"].as_array().unwrap().len(), 2);
    let amber_doc = get(&server, &coord, &format!("/api/v1/advisories/{}/csaf", amber["id"])).1;
    assert_eq!(amber_doc["document"]["distribution"]["text"], "TLP:AMBER+STRICT");
    assert_eq!(amber_doc["vulnerabilities"][0]["remediations"][0]["category"], "none_available");
    assert_eq!(amber_doc["product_tree"]["branches"].as_array().unwrap().len(), 2);

    // The official schema and the reference validator's mandatory tests, when available.
    check_csaf(&[("clear.json", &doc), ("amber.json", &amber_doc)]);

    // Import: validated, stored as an external advisory, once.
    let mut foreign = doc.clone();
    foreign["document"]["publisher"] =
        json!({"category": "coordinator", "name": "Other CERT", "namespace": "https://other.example"});
    foreign["document"]["tracking"]["id"] = json!("OTHER-2026-0042");
    let (status, imported) = post(&server, &coord, "/api/v1/advisories/import", &foreign);
    assert_eq!(status, 201, "{imported}");
    assert_eq!(imported["tracking_id"], "OTHER-2026-0042");
    assert_eq!(imported["cves"], json!(["CVE-2021-44228"]));
    assert_eq!(post(&server, &coord, "/api/v1/advisories/import", &foreign).0, 409);
    let mut broken = foreign.clone();
    broken["vulnerabilities"][0]["product_status"]["known_affected"] = json!(["NOPE"]);
    broken["document"]["tracking"]["version"] = json!("9");
    let (status, body) = post(&server, &coord, "/api/v1/advisories/import", &broken);
    assert_eq!(status, 400, "{body}");
    assert!(body["message"].as_str().unwrap().contains("NOPE"));
    assert_eq!(post(&server, &coord, "/api/v1/advisories/import", &json!({"document": {}})).0, 400);
    let a = org(&server, "a");
    assert_eq!(post(&server, &a.full, "/api/v1/advisories/import", &foreign).0, 403);
    let (_, external) = get(&server, &a.full, "/api/v1/advisories/external");
    assert_eq!(external[0]["publisher"], "Other CERT");
    let mut red = foreign.clone();
    red["document"]["distribution"]["tlp"]["label"] = json!("RED");
    red["document"]["tracking"]["id"] = json!("OTHER-2026-0043");
    assert_eq!(post(&server, &coord, "/api/v1/advisories/import", &red).0, 201);
    assert_eq!(
        get(&server, &a.full, "/api/v1/advisories/external").1.as_array().unwrap().len(),
        1,
        "RED import hidden"
    );
    assert_eq!(raw(&server, "/api/v1/advisories/external", None, None).1.matches("OTHER-").count(), 1);
}

#[test]
fn registered_products_are_recipients_and_systems() {
    let server = start(Limits::default());
    let coord = coordinator(&server);
    let runs = org(&server, "runs-log4j");
    let other = org(&server, "runs-tomcat");
    let linked = org(&server, "linked");
    let (status, body) = post(
        &server,
        &runs.full,
        "/api/v1/registry/my-products",
        &json!({"supplier": "Apache", "product": "log4j", "version": "2.14.1"}),
    );
    assert_eq!(status, 201, "{body}");
    post(&server, &other.full, "/api/v1/registry/my-products", &json!({"supplier": "Apache", "product": "Tomcat"}));
    // A registry entry whose status for the CVE is `vulnerable` (no fix known), registered by id.
    db_exec(
        &server,
        "INSERT INTO registry_entries (id, supplier, product, supplier_key, product_key, notes, links, sources, revision, \
         created_at, created_by, updated_at, updated_by) VALUES (900, 'Example', 'Portal', 'example', 'portal', '', '[]', \
         '[]', 1, 0, 'test', 0, 'test')",
    )
    .unwrap();
    db_exec(
        &server,
        "INSERT INTO registry_statuses (entry_id, cve, status, affected_versions, fixed_versions) \
         VALUES (900, 'CVE-2021-44228', 'vulnerable', '[]', '[]')",
    )
    .unwrap();
    db_exec(
        &server,
        &format!(
            "INSERT INTO org_products (org_id, entry_id, supplier, product, version, supplier_key, product_key, \
             created_at) VALUES ({}, 900, 'Example', 'Portal', NULL, 'example', 'portal', 0)",
            linked.id
        ),
    )
    .unwrap();

    let mut d = draft("Products", "AMBER", &[], &[], false);
    d["content"]["products"] = json!([
        {"supplier": "Apache", "product": "Log4j", "versions": "2.0-beta9 to 2.14.1"},
        {"supplier": "Other name", "product": "Other", "versions": "all", "registry_entry_id": 900}
    ]);
    let (_, created) = post(&server, &coord, "/api/v1/advisories", &d);
    let id = created["id"].as_i64().unwrap();
    let (_, published) = post(&server, &coord, &format!("/api/v1/advisories/{id}/publish"), &json!({}));
    assert_eq!(published["recipient_orgs"], 2, "{published}");
    let (_, recipients) = get(&server, &coord, &format!("/api/v1/advisories/{id}/recipients"));
    let orgs: BTreeMap<String, String> = recipients
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["org"].as_str().unwrap().to_string(), r["via"].as_str().unwrap().to_string()))
        .collect();
    assert_eq!(orgs, BTreeMap::from([("runs-log4j".into(), "products".into()), ("linked".into(), "products".into())]));
    assert_eq!(get(&server, &other.full, &format!("/api/v1/advisories/{id}")).0, 404);

    let (_, systems) = get(&server, &runs.full, &format!("/api/v1/advisories/{id}/systems"));
    let product = &systems["systems"][0];
    assert_eq!(product["kind"], "product", "{systems}");
    assert_eq!(product["name"], "Apache log4j 2.14.1");
    assert_eq!(product["state"], "open");
    assert_eq!(product["suggest_switch_off"], false, "the advisory names a fix and the registry says nothing");
    let (_, linked_systems) = get(&server, &linked.full, &format!("/api/v1/advisories/{id}/systems"));
    assert_eq!(linked_systems["systems"][0]["suggest_switch_off"], true, "the registry knows no fix: {linked_systems}");

    let pid = product["product_id"].as_i64().unwrap();
    let path = format!("/api/v1/advisories/{id}/products/{pid}/decisions");
    assert_eq!(
        post(&server, &other.full, &path, &json!({"decision": "patched"})).0,
        404,
        "another organisation's product"
    );
    let (status, d) = post(&server, &runs.full, &path, &json!({"decision": "switched_off"}));
    assert_eq!(status, 201, "{d}");
    assert_eq!(get(&server, &runs.full, &path).1.as_array().unwrap().len(), 1);
    let (_, systems) = get(&server, &runs.full, &format!("/api/v1/advisories/{id}/systems"));
    assert_eq!(systems["systems"][0]["state"], "resolved");
    let (_, progress) = get(&server, &coord, &format!("/api/v1/advisories/{id}/progress"));
    assert_eq!(progress["counts"]["affected"], 2);
    assert_eq!(progress["counts"]["resolved"], 1);
}

#[test]
fn two_servers_share_the_delivery_queue_and_send_each_once() {
    let (url, hooks) = receiver(vec![]);
    let dir = tempfile::tempdir().unwrap();
    let location = fresh_location(dir.path());
    let first = start_with(location.clone(), Limits::default(), fast_config(), dir);
    let second = start_with(location, Limits::default(), fast_config(), tempfile::tempdir().unwrap());
    let coord = coordinator(&first);
    let a = org(&first, "a");
    put(&first, &a.full, "/api/v1/webhook", &json!({"url": url}));
    let mut ids = Vec::new();
    for i in 0..6 {
        let server = if i % 2 == 0 { &first } else { &second };
        let (_, created) =
            post(server, &coord, "/api/v1/advisories", &draft(&format!("Shared {i}"), "GREEN", &[a.id], &[], false));
        let id = created["id"].as_i64().unwrap();
        assert_eq!(post(server, &coord, &format!("/api/v1/advisories/{id}/publish"), &json!({})).0, 200);
        ids.push(id);
    }
    wait_deliveries(&first, &coord, &ids, Duration::from_secs(60));
    std::thread::sleep(Duration::from_millis(500));
    let hooks = hooks.lock().unwrap().clone();
    let mut seen: Vec<String> = hooks.iter().map(|h| h.headers["x-quell-advisory"].clone()).collect();
    seen.sort();
    let before = seen.len();
    seen.dedup();
    assert_eq!((before, seen.len()), (6, 6), "each delivery once: {seen:?}");
}

#[test]
fn scopes_and_isolation_of_advisory_data() {
    let server = start(Limits::default());
    let coord = coordinator(&server);
    let a = org(&server, "a");
    let b = org(&server, "b");
    let (_, created) = post(&server, &coord, "/api/v1/advisories", &draft("Green", "GREEN", &[a.id], &[], false));
    let id = created["id"].as_i64().unwrap();
    post(&server, &coord, &format!("/api/v1/advisories/{id}/publish"), &json!({}));
    // Upload-only tokens read nothing.
    assert_eq!(get(&server, &a.upload, "/api/v1/advisories").0, 403);
    assert_eq!(raw(&server, "/.well-known/csaf/green/index.txt", Some(&a.upload), None).0, 403);
    assert_eq!(raw(&server, "/.well-known/csaf/green/index.txt", Some("qt_wrong"), None).0, 401);
    // Contacts and webhooks are the caller's organisation's only.
    post(&server, &a.full, "/api/v1/contacts", &json!({"name": "A duty", "phone": "1"}));
    assert_eq!(get(&server, &b.full, "/api/v1/contacts").1, json!([]));
    assert_eq!(get(&server, &a.full, "/api/v1/contacts").1[0]["name"], "A duty");
    put(&server, &a.full, "/api/v1/webhook", &json!({"url": "http://127.0.0.1:9/a"}));
    assert_eq!(get(&server, &b.full, "/api/v1/webhook").1["url"], Value::Null);
    // Coordinator-only routes.
    for path in ["recipients", "deliveries", "call-list"] {
        assert_eq!(get(&server, &a.full, &format!("/api/v1/advisories/{id}/{path}")).0, 403, "{path}");
    }
    // A session cookie alone does not change anything through the JSON API (no CSRF token there).
    let (_, _, cookie) = user(&server, "other@ncsc.example", Role::Coordinator, None);
    let mut request = ureq::http::Request::builder()
        .method("POST")
        .uri(format!("{}/api/v1/advisories/{id}/versions", server.base))
        .header("Cookie", &cookie);
    request = request.header("Content-Type", "application/json");
    let response = agent().run(request.body(b"null".to_vec()).unwrap()).unwrap();
    assert_eq!(response.status().as_u16(), 401);
}

fn form(server: &Server, path: &str, cookie: &str, fields: &[(&str, &str)]) -> (u16, String, Option<String>) {
    let page = fetch(server, "POST", path, cookie, Some(fields));
    (page.status, page.body, page.location)
}

#[test]
fn pages_forms_need_csrf_and_escape() {
    let server = start(Limits::default());
    let _ = coordinator(&server);
    let a = org(&server, "a");
    let (_, coord_token, coord) = user(&server, "desk@ncsc.example", Role::Coordinator, None);
    let (_, _, member) = user(&server, "reader@a.example", Role::Member, Some(a.id));
    post(&server, &a.full, "/api/v1/contacts", &json!({"name": "Duty <b>officer</b>", "phone": "+31 70"}));
    assert_eq!(upload(&server, &a.upload, &report("web1", &days_ago(1), 1, 0, "x")).0, 201);

    let mut fields: Vec<(&str, &str)> = vec![
        ("named", "reader@a.example"),
        ("title", "<script>alert(1)</script> Log4j"),
        ("summary", "JNDI"),
        ("cves", "cve-2021-44228"),
        ("products", "Apache | Log4j | 2.14.1"),
        ("fix_available", "1"),
        ("tlp", "AMBER"),
        ("match_inventory", "1"),
    ];
    for (name, value) in [
        ("default_configuration", "yes"),
        ("exploit_code", "working_exploit"),
        ("details_public", "full"),
        ("access", "internet"),
        ("credentials", "none"),
        ("complexity", "easy"),
        ("user_interaction", "none"),
        ("actively_exploited", "large_scale"),
        ("exploitation_expected", "yes"),
        ("solution", "less_than_two_months"),
        ("denial_of_service", "infrastructure"),
        ("code_execution", "root"),
        ("remote_access", "root_shell"),
        ("privilege_escalation", "yes"),
        ("information_leak", "data"),
    ] {
        fields.push((Box::leak(format!("q_{name}").into_boxed_str()), value));
    }
    assert_eq!(form(&server, "/advisories/new", &coord, &fields).0, 403, "no CSRF token");
    fields.push(("csrf", "csrf-token"));
    assert_eq!(form(&server, "/advisories/new", &member, &fields).0, 403, "members do not write advisories");
    let (status, _, location) = form(&server, "/advisories/new", &coord, &fields);
    assert_eq!(status, 303);
    let page = location.unwrap();
    let id = page.rsplit('/').next().unwrap().to_string();
    let (_, html) = raw(&server, &page, None, Some(&coord));
    assert!(html.contains("&lt;script&gt;") && !html.contains("<script>alert"), "escaped");
    assert!(html.contains("HIGH/HIGH"));
    assert_eq!(
        get(&server, &coord_token, &format!("/api/v1/advisories/{id}")).1["recipients"]["users"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let mut unknown = fields.clone();
    unknown[0] = ("named", "nobody@nowhere.example");
    assert_eq!(form(&server, "/advisories/new", &coord, &unknown).0, 400);
    // Editing the draft through the page: the form comes back filled in.
    let (status, edit) = raw(&server, &format!("/advisories/{id}/edit"), None, Some(&coord));
    assert_eq!(status, 200);
    assert!(edit.contains("value=\"&lt;script&gt;alert(1)&lt;/script&gt; Log4j\""), "{edit}");
    assert!(edit.contains("<option value=\"working_exploit\" selected>"), "answers kept");
    assert!(edit.contains("value=\"reader@a.example\""), "named individuals kept");
    assert_eq!(raw(&server, &format!("/advisories/{id}/edit"), None, Some(&member)).0, 403);
    let mut edited = fields.clone();
    edited[1] = ("title", "Log4j, edited");
    assert_eq!(form(&server, &format!("/advisories/{id}/edit"), &coord, &edited[..edited.len() - 1]).0, 403, "CSRF");
    assert_eq!(form(&server, &format!("/advisories/{id}/edit"), &coord, &edited).0, 303);
    assert_eq!(get(&server, &coord_token, &format!("/api/v1/advisories/{id}")).1["title"], "Log4j, edited");
    assert_eq!(form(&server, &format!("/advisories/{id}/publish"), &coord, &[]).0, 403);
    assert_eq!(form(&server, &format!("/advisories/{id}/publish"), &coord, &[("csrf", "csrf-token")]).0, 303);
    assert_eq!(raw(&server, &format!("/advisories/{id}/edit"), None, Some(&coord)).0, 409, "published");
    assert_eq!(form(&server, &format!("/advisories/{id}/edit"), &coord, &edited).0, 409, "published");
    let (_, html) = raw(&server, &page, None, Some(&coord));
    assert!(html.contains("Call list") && html.contains("Duty &lt;b&gt;officer&lt;/b&gt;"), "{html}");
    assert!(html.contains("id=\"deliveries\"") && html.contains("a (inventory)"));
    let (_, list) = get(&server, &coord_token, &format!("/api/v1/advisories/{id}/call-list"));
    let entry = list[0]["id"].to_string();
    assert_eq!(
        form(&server, &format!("/advisories/{id}/calls"), &coord, &[("entry", &entry), ("result", "reached")]).0,
        403
    );
    let (status, _, _) = form(
        &server,
        &format!("/advisories/{id}/calls"),
        &coord,
        &[("csrf", "csrf-token"), ("entry", &entry), ("result", "reached"), ("note", "ok")],
    );
    assert_eq!(status, 303);
    assert_eq!(
        get(&server, &coord_token, &format!("/api/v1/advisories/{id}/call-list")).1[0]["calls"][0]["result"],
        "reached"
    );

    // The organisation member records a decision through the page form.
    let (_, html) = raw(&server, &page, None, Some(&member));
    assert!(html.contains("web1") && html.contains("Your affected systems"));
    let host =
        get(&server, &a.full, &format!("/api/v1/advisories/{id}/systems")).1["systems"][0]["host_id"].to_string();
    assert_eq!(
        form(&server, &format!("/advisories/{id}/decide"), &member, &[("host_id", &host), ("decision", "patched")]).0,
        403
    );
    let (status, _, _) = form(
        &server,
        &format!("/advisories/{id}/decide"),
        &member,
        &[("csrf", "csrf-token"), ("host_id", &host), ("decision", "patched")],
    );
    assert_eq!(status, 303);
    assert_eq!(get(&server, &a.full, &format!("/api/v1/advisories/{id}/systems")).1["systems"][0]["state"], "resolved");
    let (status, html, _) = form(
        &server,
        &format!("/advisories/{id}/decide"),
        &member,
        &[("csrf", "csrf-token"), ("host_id", &host), ("decision", "mitigated")],
    );
    assert_eq!(status, 400, "{html}");
    // A new version from the page.
    assert_eq!(form(&server, &format!("/advisories/{id}/new-version"), &coord, &[("csrf", "csrf-token")]).0, 303);
    assert_eq!(get(&server, &coord_token, &format!("/api/v1/advisories/{id}")).1["version"], "1.01");
}

/// Webhooks carry AMBER and RED advisories: by default only https endpoints on public addresses,
/// without credentials in the URL, are accepted (issue 18: they could point anywhere).
#[test]
fn webhooks_must_be_https_on_public_addresses() {
    let server = start(Limits::default());
    let a = org(&server, "alpha");
    for bad in [
        "http://hooks.example/quell",
        "https://169.254.169.254/latest/meta-data/",
        "https://127.0.0.1:8080/hook",
        "https://[::1]:22/",
        "https://10.0.0.5/hook",
        "https://user:secret@hooks.example/quell",
    ] {
        let (status, body) = put(&server, &a.full, "/api/v1/webhook", &json!({ "url": bad }));
        assert_eq!(status, 400, "{bad}: {body}");
    }
    let (status, body) = put(&server, &a.full, "/api/v1/webhook", &json!({ "url": "https://hooks.example/quell" }));
    assert_eq!(status, 200, "{body}");
}
