//! The aggregator (issue 19, point 2) with real servers on loopback and no mocks:
//! - two `quell serve`s, each a trusted provider with a signing key GnuPG makes at test time,
//!   subscribe to each other and exchange advisories both ways (through the ROLIE feeds, hash
//!   files and `.asc` signatures they serve), with TLP kept (anonymous readers see only the
//!   CLEAR import), a second poll that imports nothing again, `aggregator.json` listing the
//!   peer, a pinned key that is not the peer's refusing everything, and "forward to target
//!   group" as a new own advisory whose CSAF references the original (`external`);
//! - a hostile provider (a small HTTP server in this test) whose feed lists a good document and
//!   tampered ones — wrong hash, bad signature, oversized, invalid CSAF, a redirect loop, a slow
//!   answer —: only the good one is imported, every other is in the subscription's log with its
//!   reason; a second poll sends `If-None-Match` and reads nothing more on 304;
//! - a plain `csaf_provider` without keys (directory distribution, `changes.csv`, only a
//!   `.sha256`) found by the server's own background poller.
//!
//! SQLite always; PostgreSQL too when `QUELL_TEST_POSTGRES` is set (see `common`). Needs `gpg`
//! (skips without it, fails under `QUELL_REQUIRE_GPG=1`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use quell_server::advisories::Config;
use quell_server::auth::{self, Role, Scope};
use quell_server::limits::PeerLimits;
use quell_server::openpgp::CsafKeys;
use quell_server::{Limits, ServeConfig};
use serde_json::{Value, json};
use sha2::Digest;

const JSON: (&str, &str) = ("Content-Type", "application/json");

/// A free loopback port (so the server's public URL can name it).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// The peer limits of the tests: private addresses allowed (loopback), no background polls
/// (the test polls), a small size limit and a short timeout for the hostile cases.
fn peer_limits() -> PeerLimits {
    PeerLimits {
        max_document_bytes: 256 * 1024,
        max_redirects: 3,
        timeout: Duration::from_secs(3),
        poll_interval: Duration::ZERO,
        allow_private: true,
    }
}

/// A trusted provider named `name` whose public URL is its loopback address.
fn provider(name: &str, secret: &str) -> Server {
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let keys = CsafKeys::new(secret, "", &[]).unwrap();
    let advisories = Config {
        prefix: name.to_ascii_uppercase(),
        publisher_name: format!("CERT {name}"),
        public_url: base,
        csaf_keys: Some(Arc::new(keys)),
        ..Config::default()
    };
    let dir = tempfile::tempdir().unwrap();
    let config = ServeConfig {
        listen: format!("127.0.0.1:{port}").parse().unwrap(),
        limits: Limits { peers: peer_limits(), ..Limits::default() },
        advisories,
        ..test_config(fresh_location(dir.path()))
    };
    start_config(config, dir)
}

/// A user of `role` on a server and a token of theirs.
fn user_token(server: &Server, email: &str, role: Role, org: Option<i64>) -> String {
    let location = server.location.clone();
    let email = email.to_string();
    quell_server::block_on(async move {
        let db = open(location).await;
        let user = auth::create_user(&db, &email, PASSWORD, role, org).await.unwrap();
        auth::create_token(&db, user, "peer", Scope::Full).await.unwrap().token
    })
    .unwrap()
}

/// Publishes an advisory; its id.
fn publish(server: &Server, coord: &str, title: &str, tlp: &str, cve: &str, orgs: &[i64]) -> i64 {
    let draft = json!({
        "content": {
            "title": title,
            "summary": format!("{title}: remote code execution."),
            "cves": [cve],
            "products": [{"supplier": "Apache", "product": "Log4j", "versions": "2.0-beta9 to 2.14.1"}],
            "references": ["https://logging.apache.org/log4j/2.x/security.html"],
            "rating": log4shell_rating(),
            "tlp": tlp
        },
        "recipients": {"orgs": orgs, "users": [], "match_inventory": false}
    });
    let (status, created) = send(server, "POST", coord, "/api/v1/advisories", draft.to_string().as_bytes(), &[JSON]);
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_i64().unwrap();
    let (status, body) = send(server, "POST", coord, &format!("/api/v1/advisories/{id}/publish"), b"{}", &[JSON]);
    assert_eq!(status, 200, "{body}");
    id
}

fn post_json(server: &Server, token: &str, path: &str, body: &Value) -> (u16, Value) {
    send(server, "POST", token, path, body.to_string().as_bytes(), &[JSON])
}

fn subscribe(server: &Server, coord: &str, body: Value) -> i64 {
    let (status, created) = post_json(server, coord, "/api/v1/csaf/subscriptions", &body);
    assert_eq!(status, 201, "{created}");
    created["id"].as_i64().unwrap()
}

fn poll(server: &Server, coord: &str, id: i64) -> Value {
    let (status, report) = post_json(server, coord, &format!("/api/v1/csaf/subscriptions/{id}/poll"), &json!({}));
    assert_eq!(status, 200, "{report}");
    report
}

fn log_of(server: &Server, coord: &str, id: i64) -> Vec<Value> {
    let (status, body) = get(server, coord, &format!("/api/v1/csaf/subscriptions/{id}"));
    assert_eq!(status, 200, "{body}");
    body["log"].as_array().unwrap().clone()
}

/// GET without credentials: (status, JSON body or Null).
fn get_anonymous(server: &Server, path: &str) -> (u16, Value) {
    let mut response = agent().get(&format!("{}{path}", server.base)).call().unwrap();
    let status = response.status().as_u16();
    let text = response.body_mut().read_to_string().unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

fn titles(list: &Value) -> Vec<String> {
    let mut t: Vec<String> =
        list.as_array().unwrap().iter().map(|e| e["title"].as_str().unwrap().to_string()).collect();
    t.sort();
    t
}

#[test]
fn two_servers_exchange_advisories_both_ways() {
    let Some(gpg) = Gpg::new() else { return };
    let (secret_a, fingerprint_a) = gpg.new_key("CERT A <csaf@a.test.invalid>");
    let (secret_b, _) = gpg.new_key("CERT B <csaf@b.test.invalid>");
    let a = provider("a", &secret_a);
    let b = provider("b", &secret_b);
    let coord_a = coordinator(&a);
    let coord_b = coordinator(&b);
    let org_a = org(&a, "water");
    publish(&a, &coord_a, "A public", "CLEAR", "CVE-2021-44228", &[]);
    publish(&a, &coord_a, "A sector", "GREEN", "CVE-2021-45046", &[org_a.id]);
    publish(&b, &coord_b, "B public", "CLEAR", "CVE-2021-45105", &[]);
    // A gave B a login for its protected directories; B has none of A's.
    let token_for_b = user_token(&a, "peer-b@a.example", Role::Coordinator, None);

    let metadata = |s: &Server| format!("{}/.well-known/csaf/provider-metadata.json", s.base);
    let b_follows_a = subscribe(&b, &coord_b, json!({"url": metadata(&a), "access_token": token_for_b}));
    let a_follows_b = subscribe(&a, &coord_a, json!({"url": metadata(&b), "pinned_fingerprint": null}));
    // Only coordinators subscribe; the same URL twice is a conflict; a bad URL is refused.
    assert_eq!(post_json(&b, &org_a.full, "/api/v1/csaf/subscriptions", &json!({"url": metadata(&a)})).0, 401);
    assert_eq!(post_json(&b, &coord_b, "/api/v1/csaf/subscriptions", &json!({"url": metadata(&a)})).0, 409);
    assert_eq!(post_json(&b, &coord_b, "/api/v1/csaf/subscriptions", &json!({"url": "ftp://x/"})).0, 400);

    let report = poll(&b, &coord_b, b_follows_a);
    assert_eq!((report["status"].as_str(), report["imported"].as_u64()), (Some("ok"), Some(2)), "{report}");
    let report = poll(&a, &coord_a, a_follows_b);
    assert_eq!((report["status"].as_str(), report["imported"].as_u64()), (Some("ok"), Some(1)), "{report}");
    assert_eq!(report["skipped_feeds"], 3, "B's GREEN/AMBER/RED feeds need a login A has not: {report}");

    // Imported with their own TLP and publisher, marked with the subscription.
    let (_, on_b) = get(&b, &coord_b, "/api/v1/advisories/external");
    assert_eq!(titles(&on_b), ["A public", "A sector"], "{on_b}");
    for e in on_b.as_array().unwrap() {
        assert_eq!(e["publisher"], "CERT a");
        assert_eq!(e["subscription_id"], b_follows_a);
        assert!(e["source_url"].as_str().unwrap().starts_with(&format!("{}/.well-known/csaf/", a.base)));
    }
    let green = on_b.as_array().unwrap().iter().find(|e| e["title"] == "A sector").unwrap().clone();
    assert_eq!(green["tlp_label"], "GREEN");
    let (_, on_a) = get(&a, &coord_a, "/api/v1/advisories/external");
    assert_eq!(titles(&on_a), ["B public"]);
    // TLP as for own advisories: anonymous readers see the CLEAR import only.
    let (_, anonymous) = get_anonymous(&b, "/api/v1/advisories/external");
    assert_eq!(titles(&anonymous), ["A public"]);
    let (_, found) = get(&b, &coord_b, "/api/v1/advisories/external?q=cve-2021-45046");
    assert_eq!(titles(&found), ["A sector"]);
    // One import with its document as served; the GREEN one is not for anonymous readers.
    let (status, one) = get(&b, &coord_b, &format!("/api/v1/advisories/external/{}", green["id"]));
    assert_eq!(status, 200, "{one}");
    assert_eq!(one["document"]["document"]["title"], "A sector");
    assert_eq!(get_anonymous(&b, &format!("/api/v1/advisories/external/{}", green["id"])).0, 404);
    // Beside the own ones on the advisories page (coordinator's session).
    let cookie = session(&b, "cert@ncsc.example");
    let page = fetch(&b, "GET", "/advisories", &cookie, None);
    assert!(page.body.contains("A sector") && page.body.contains("B public"), "{}", page.body);

    // A second poll imports nothing again and refuses nothing.
    let report = poll(&b, &coord_b, b_follows_a);
    assert_eq!((report["imported"].as_u64(), report["refused"].as_u64()), (Some(0), Some(0)), "{report}");
    let imported = log_of(&b, &coord_b, b_follows_a);
    assert_eq!(imported.iter().filter(|e| e["outcome"] == "imported").count(), 2, "{imported:?}");

    // B lists A as a CSAF lister.
    let (status, aggregator) = get_anonymous(&b, "/.well-known/csaf-aggregator/aggregator.json");
    assert_eq!(status, 200);
    assert_eq!(aggregator["aggregator"]["category"], "lister");
    assert_eq!(aggregator["aggregator_version"], "2.0");
    let listed = aggregator["csaf_providers"].as_array().unwrap();
    assert_eq!(listed.len(), 1, "{aggregator}");
    assert_eq!(listed[0]["metadata"]["url"], metadata(&a));
    assert_eq!(listed[0]["metadata"]["role"], "csaf_trusted_provider");
    assert_eq!(listed[0]["metadata"]["publisher"]["name"], "CERT a");

    // Forward to a target group: a new own advisory that references the original.
    let member = org(&b, "energy");
    let (status, group) =
        post_json(&b, &coord_b, "/api/v1/target-groups", &json!({"name": "Energy sector", "orgs": [member.id]}));
    assert_eq!(status, 201, "{group}");
    let group_id = group["id"].as_i64().unwrap();
    let forward = format!("/api/v1/advisories/external/{}/forward", green["id"]);
    let lower = json!({"groups": [group_id], "rating": log4shell_rating(), "tlp": "CLEAR"});
    assert_eq!(post_json(&b, &coord_b, &forward, &lower).0, 400, "a forward never lowers the TLP");
    assert_eq!(
        post_json(&b, &member.full, &forward, &json!({"groups": [group_id], "rating": log4shell_rating()})).0,
        403
    );
    let (status, created) =
        post_json(&b, &coord_b, &forward, &json!({"groups": [group_id], "rating": log4shell_rating()}));
    assert_eq!(status, 201, "{created}");
    let own = created["id"].as_i64().unwrap();
    let (status, body) = send(&b, "POST", &coord_b, &format!("/api/v1/advisories/{own}/publish"), b"{}", &[JSON]);
    assert_eq!(status, 200, "{body}");
    let (status, csaf) = get(&b, &coord_b, &format!("/api/v1/advisories/{own}/csaf"));
    assert_eq!(status, 200, "{csaf}");
    assert_eq!(csaf["document"]["distribution"]["tlp"]["label"], "GREEN");
    check_csaf(&[("forwarded.json", &csaf)]);
    let references = csaf["document"]["references"].as_array().unwrap();
    assert!(
        references.iter().any(|r| r["category"] == "external" && r["url"] == green["source_url"]),
        "{references:?}"
    );
    let (status, recipients) = get(&b, &coord_b, &format!("/api/v1/advisories/{own}/recipients"));
    assert_eq!(status, 200);
    assert!(recipients.to_string().contains("energy"), "{recipients}");

    // With recipient matching, also the organisations whose scanned copies are affected by
    // the original's CVEs.
    let hospital = org(&b, "hospital");
    let (status, body) = upload(&b, &hospital.upload, &common::report("ward-1", &days_ago(0), 1, 0, "h"));
    assert!(status == 200 || status == 201, "{status} {body}");
    let matching = json!({"groups": [group_id], "rating": log4shell_rating(), "match_recipients": true});
    let (status, created) = post_json(&b, &coord_b, &forward, &matching);
    assert_eq!(status, 201, "{created}");
    let matched = created["id"].as_i64().unwrap();
    let (status, body) = send(&b, "POST", &coord_b, &format!("/api/v1/advisories/{matched}/publish"), b"{}", &[JSON]);
    assert_eq!(status, 200, "{body}");
    let (_, recipients) = get(&b, &coord_b, &format!("/api/v1/advisories/{matched}/recipients"));
    let text = recipients.to_string();
    assert!(text.contains("hospital") && text.contains("energy"), "{recipients}");

    // The same from the pages: the imported table links to the forward form (a coordinator's).
    let page = fetch(&b, "GET", "/advisories", &cookie, None);
    let form_path = format!("/advisories/external/{}/forward", green["id"]);
    assert!(page.body.contains(&form_path), "{}", page.body);
    let form = fetch(&b, "GET", &form_path, &cookie, None);
    assert_eq!(form.status, 200, "{}", form.body);
    let mut fields: Vec<(String, String)> =
        vec![("csrf".into(), csrf(&form.body)), ("group".into(), group_id.to_string())];
    for axis in ["chance", "damage"] {
        for (question, answer) in log4shell_rating()[axis].as_object().unwrap() {
            fields.push((format!("q_{question}"), answer.as_str().unwrap().to_string()));
        }
    }
    let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let done = fetch(&b, "POST", &form_path, &cookie, Some(&pairs));
    assert_eq!(done.status, 303, "{}", done.body);
    assert!(done.location.as_deref().is_some_and(|l| l.starts_with("/advisories/")), "{:?}", done.location);
    let anonymous_form = fetch(&b, "GET", &form_path, "", None);
    assert_ne!(anonymous_form.status, 200);

    // A pinned key that is not the peer's: nothing verifies, nothing new is imported.
    let (status, _) = send(&a, "DELETE", &coord_a, &format!("/api/v1/csaf/subscriptions/{a_follows_b}"), b"", &[]);
    assert_eq!(status, 204);
    publish(&b, &coord_b, "B second", "CLEAR", "CVE-2021-44832", &[]);
    let pinned = subscribe(&a, &coord_a, json!({"url": metadata(&b), "pinned_fingerprint": fingerprint_a}));
    let report = poll(&a, &coord_a, pinned);
    assert_eq!(report["imported"], 0, "{report}");
    assert_eq!(report["status"], "partial", "{report}");
    let log = log_of(&a, &coord_a, pinned);
    assert!(log.iter().any(|e| e["reason"] == "pinned_key"), "{log:?}");
    assert!(log.iter().any(|e| e["reason"] == "bad_signature"), "{log:?}");
    let (_, on_a) = get(&a, &coord_a, "/api/v1/advisories/external");
    assert_eq!(titles(&on_a), ["B public"]);

    // Only coordinators read or poll subscriptions.
    assert_eq!(get(&b, &member.full, "/api/v1/csaf/subscriptions").0, 403);
    assert_eq!(get(&b, &member.upload, &format!("/api/v1/csaf/subscriptions/{b_follows_a}")).0, 403);
    assert_eq!(
        post_json(&b, &member.full, &format!("/api/v1/csaf/subscriptions/{b_follows_a}/poll"), &json!({})).0,
        403
    );
    // Subscribing to the same URL again took the ended subscription up again (a fresh read).
    assert_eq!(pinned, a_follows_b);
    assert_eq!(post_json(&a, &coord_a, "/api/v1/csaf/subscriptions/999999/poll", &json!({})).0, 404);
    assert_eq!(get(&a, &coord_a, "/api/v1/csaf/subscriptions/x").0, 404);

    // Subscribing and unsubscribing are in the audit log.
    let (status, audit) = get(&a, &coord_a, "/api/v1/audit");
    assert_eq!(status, 200, "{audit}");
    let audit = audit.to_string();
    assert!(audit.contains("csaf_subscribed") && audit.contains("csaf_unsubscribed"), "{audit}");

    // The subscriptions page and a subscription's log, for coordinators only.
    let cookie_a = session(&a, "cert@ncsc.example");
    let page = fetch(&a, "GET", "/advisories/subscriptions", &cookie_a, None);
    assert_eq!(page.status, 200);
    assert!(page.body.contains(&metadata(&b)), "{}", page.body);
    let page = fetch(&a, "GET", &format!("/advisories/subscriptions/{pinned}?lang=nl"), &cookie_a, None);
    assert!(page.body.contains("ongeldige handtekening"), "{}", page.body);
    let member_cookie = session(&b, &member.admin_email);
    assert_ne!(fetch(&b, "GET", "/advisories/subscriptions", &member_cookie, None).status, 200);
}

// ---- a hostile provider ----

/// One answer of the hostile server.
#[derive(Clone)]
enum Answer {
    Ok(&'static str, Vec<u8>),
    /// 200 with an ETag; 304 when the request names it.
    Tagged(&'static str, Vec<u8>),
    Redirect(String),
    /// Headers, then a byte a second: never done within the client's timeout.
    Slow,
}

/// (path, If-None-Match) of every request the hostile server answered.
type Seen = Arc<Mutex<Vec<(String, Option<String>)>>>;

struct Hostile {
    base: String,
    routes: Arc<Mutex<HashMap<String, Answer>>>,
    /// (path, If-None-Match) of every request.
    seen: Seen,
}

impl Hostile {
    fn start() -> Hostile {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let routes: Arc<Mutex<HashMap<String, Answer>>> = Arc::default();
        let seen: Seen = Arc::default();
        let (r, s) = (routes.clone(), seen.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let (r, s) = (r.clone(), s.clone());
                std::thread::spawn(move || serve_one(stream, &r, &s));
            }
        });
        Hostile { base, routes, seen }
    }

    fn route(&self, path: &str, answer: Answer) {
        self.routes.lock().unwrap().insert(path.to_string(), answer);
    }
}

fn serve_one(
    mut stream: std::net::TcpStream,
    routes: &Mutex<HashMap<String, Answer>>,
    seen: &Mutex<Vec<(String, Option<String>)>>,
) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() {
        return;
    }
    let path = line.split(' ').nth(1).unwrap_or("/").to_string();
    let mut if_none_match = None;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).unwrap_or(0) == 0 || header == "\r\n" {
            break;
        }
        if let Some((name, value)) = header.split_once(':')
            && name.eq_ignore_ascii_case("if-none-match")
        {
            if_none_match = Some(value.trim().to_string());
        }
    }
    seen.lock().unwrap().push((path.clone(), if_none_match.clone()));
    let answer = routes.lock().unwrap().get(&path).cloned();
    let head = |status: &str, extra: &str, length: usize| {
        format!("HTTP/1.1 {status}\r\nConnection: close\r\nContent-Length: {length}\r\n{extra}\r\n")
    };
    let _ = match answer {
        None => stream.write_all(head("404 Not Found", "", 0).as_bytes()),
        Some(Answer::Ok(content_type, body)) => {
            let _ =
                stream.write_all(head("200 OK", &format!("Content-Type: {content_type}\r\n"), body.len()).as_bytes());
            stream.write_all(&body)
        }
        Some(Answer::Tagged(content_type, body)) => {
            let tag = format!("\"{}\"", hex(&sha2::Sha256::digest(&body)));
            if if_none_match.as_deref() == Some(tag.as_str()) {
                stream.write_all(head("304 Not Modified", &format!("ETag: {tag}\r\n"), 0).as_bytes())
            } else {
                let extra = format!("Content-Type: {content_type}\r\nETag: {tag}\r\n");
                let _ = stream.write_all(head("200 OK", &extra, body.len()).as_bytes());
                stream.write_all(&body)
            }
        }
        Some(Answer::Redirect(to)) => stream.write_all(head("302 Found", &format!("Location: {to}\r\n"), 0).as_bytes()),
        Some(Answer::Slow) => {
            let _ = stream.write_all(head("200 OK", "Content-Type: application/json\r\n", 100).as_bytes());
            for _ in 0..100 {
                if stream.write_all(b" ").is_err() {
                    break;
                }
                std::thread::sleep(Duration::from_secs(1));
            }
            Ok(())
        }
    };
    let mut rest = Vec::new();
    let _ = stream.set_read_timeout(Some(Duration::from_millis(10)));
    let _ = reader.read_to_end(&mut rest);
}

/// A minimal valid CSAF 2.0 document (`csaf_base`) of the hostile provider.
fn document(namespace: &str, id: &str) -> Value {
    json!({
        "document": {
            "category": "csaf_base",
            "csaf_version": "2.0",
            "title": format!("Hostile {id}"),
            "publisher": {"category": "vendor", "name": "Hostile Vendor", "namespace": namespace},
            "distribution": {"tlp": {"label": "WHITE"}},
            "tracking": {
                "id": id, "version": "1", "status": "final",
                "initial_release_date": "2026-12-01T00:00:00Z", "current_release_date": "2026-12-01T00:00:00Z",
                "revision_history": [{"number": "1", "date": "2026-12-01T00:00:00Z", "summary": "Initial"}]
            }
        }
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn hostile_documents_are_reported_and_never_imported() {
    let Some(gpg) = Gpg::new() else { return };
    let (secret, fingerprint) = gpg.new_key("Hostile <csaf@hostile.test.invalid>");
    let (aggregator_secret, _) = gpg.new_key("Aggregator <csaf@agg.test.invalid>");
    let keys = CsafKeys::new(&secret, "", &[]).unwrap();
    let peer = Hostile::start();
    let namespace = "https://hostile.example";
    let b = peer.base.clone();
    peer.route(
        "/provider-metadata.json",
        Answer::Ok(
            "application/json",
            serde_json::to_vec(&json!({
                "canonical_url": format!("{b}/provider-metadata.json"),
                "metadata_version": "2.0",
                "role": "csaf_trusted_provider",
                "last_updated": "2026-12-01T00:00:00Z",
                "list_on_CSAF_aggregators": false,
                "mirror_on_CSAF_aggregators": false,
                "publisher": {"category": "vendor", "name": "Hostile Vendor", "namespace": namespace},
                "public_openpgp_keys": [{"fingerprint": fingerprint, "url": format!("{b}/key.asc")}],
                "distributions": [{"rolie": {"feeds": [{"summary": "all", "tlp_label": "WHITE", "url": format!("{b}/feed.json")}]}}]
            }))
            .unwrap(),
        ),
    );
    peer.route("/key.asc", Answer::Ok("application/pgp-keys", keys.current.armored.clone().into_bytes()));
    // Each document with its companions: (name, bytes, sha256 text, signature).
    let signed = |name: &str, bytes: Vec<u8>| {
        let sha256 = format!("{}  {name}.json\n", hex(&sha2::Sha256::digest(&bytes)));
        let sha512 = format!("{}  {name}.json\n", hex(&sha2::Sha512::digest(&bytes)));
        let signature = keys.sign(&bytes).unwrap();
        (bytes, sha256, sha512, signature)
    };
    let mut names = Vec::new();
    let mut add = |name: &str, doc: (Vec<u8>, String, String, String)| {
        let path = format!("/docs/{name}.json");
        peer.route(&path, Answer::Ok("application/json", doc.0));
        peer.route(&format!("{path}.sha256"), Answer::Ok("text/plain", doc.1.into_bytes()));
        peer.route(&format!("{path}.sha512"), Answer::Ok("text/plain", doc.2.into_bytes()));
        peer.route(&format!("{path}.asc"), Answer::Ok("application/pgp-signature", doc.3.into_bytes()));
        names.push(name.to_string());
    };
    let bytes_of = |id: &str| serde_json::to_vec(&document(namespace, id)).unwrap();
    add("good", signed("good", bytes_of("HOSTILE-GOOD")));
    let mut wrong_hash = signed("wrong-hash", bytes_of("HOSTILE-WRONG-HASH"));
    wrong_hash.1 = format!("{}  wrong-hash.json\n", "0".repeat(64));
    add("wrong-hash", wrong_hash);
    let mut bad_signature = signed("bad-signature", bytes_of("HOSTILE-BAD-SIGNATURE"));
    bad_signature.3 = keys.sign(b"other bytes").unwrap();
    add("bad-signature", bad_signature);
    let mut big = document(namespace, "HOSTILE-BIG");
    big["document"]["notes"] = json!([{"category": "general", "text": "x".repeat(300 * 1024)}]);
    add("oversized", signed("oversized", serde_json::to_vec(&big).unwrap()));
    let mut invalid = document(namespace, "HOSTILE-INVALID");
    invalid["document"]["tracking"].as_object_mut().unwrap().remove("revision_history");
    add("invalid", signed("invalid", serde_json::to_vec(&invalid).unwrap()));
    add(
        "other-publisher",
        signed("other-publisher", serde_json::to_vec(&document("https://cert.example", "HOSTILE-SPOOF")).unwrap()),
    );
    add("loop", signed("loop", bytes_of("HOSTILE-LOOP")));
    peer.route("/docs/loop.json", Answer::Redirect(format!("{b}/docs/loop.json")));
    add("slow", signed("slow", bytes_of("HOSTILE-SLOW")));
    peer.route("/docs/slow.json", Answer::Slow);
    let entries: Vec<Value> = names
        .iter()
        .map(|n| {
            json!({"id": n, "title": n, "updated": "2026-12-01T00:00:00Z",
                   "link": [{"rel": "self", "href": format!("{b}/docs/{n}.json")}],
                   "content": {"type": "application/json", "src": format!("{b}/docs/{n}.json")}})
        })
        .collect();
    peer.route(
        "/feed.json",
        Answer::Tagged("application/json", serde_json::to_vec(&json!({"feed": {"entry": entries}})).unwrap()),
    );

    let server = provider("agg", &aggregator_secret);
    let coord = coordinator(&server);
    let id = subscribe(&server, &coord, json!({"url": format!("{b}/provider-metadata.json")}));
    let report = poll(&server, &coord, id);
    assert_eq!(report["status"], "partial", "{report}");
    assert_eq!(report["imported"], 1, "{report}");
    let (_, imported) = get(&server, &coord, "/api/v1/advisories/external");
    assert_eq!(titles(&imported), ["Hostile HOSTILE-GOOD"]);
    assert_eq!(imported[0]["publisher"], "Hostile Vendor");
    let log = log_of(&server, &coord, id);
    let reason = |name: &str| {
        let url = format!("{b}/docs/{name}.json");
        log.iter()
            .find(|e| e["url"] == url)
            .map(|e| (e["outcome"].as_str().unwrap().to_string(), e["reason"].as_str().unwrap().to_string()))
    };
    assert_eq!(reason("good"), Some(("imported".into(), "ok".into())), "{log:?}");
    assert_eq!(reason("wrong-hash"), Some(("refused".into(), "wrong_hash".into())), "{log:?}");
    assert_eq!(reason("bad-signature"), Some(("refused".into(), "bad_signature".into())), "{log:?}");
    assert_eq!(reason("oversized"), Some(("refused".into(), "too_large".into())), "{log:?}");
    assert_eq!(reason("invalid"), Some(("refused".into(), "invalid_csaf".into())), "{log:?}");
    assert_eq!(reason("other-publisher"), Some(("refused".into(), "publisher_mismatch".into())), "{log:?}");
    assert_eq!(reason("loop"), Some(("refused".into(), "redirects".into())), "{log:?}");
    assert_eq!(reason("slow"), Some(("error".into(), "timeout".into())), "{log:?}");

    // The slow document could not be read: the feed is read in full again next time and the
    // document retried (now answered at once); what was refused is refused again.
    peer.route("/docs/slow.json", Answer::Ok("application/json", bytes_of("HOSTILE-SLOW")));
    let report = poll(&server, &coord, id);
    assert_eq!((report["imported"].as_u64(), report["refused"].as_u64()), (Some(1), Some(6)), "{report}");
    let (_, imported) = get(&server, &coord, "/api/v1/advisories/external");
    assert_eq!(titles(&imported), ["Hostile HOSTILE-GOOD", "Hostile HOSTILE-SLOW"]);
    let log = log_of(&server, &coord, id);

    // Nothing failed to be read this time: the next poll asks for the feed conditionally, and on
    // 304 nothing else is read or logged.
    let before = (peer.seen.lock().unwrap().len(), log.len());
    let report = poll(&server, &coord, id);
    assert_eq!(report["status"], "ok", "{report}");
    let seen = peer.seen.lock().unwrap().clone();
    let feed_requests: Vec<&(String, Option<String>)> =
        seen[before.0..].iter().filter(|(p, _)| p == "/feed.json").collect();
    assert_eq!(feed_requests.len(), 1);
    assert!(feed_requests[0].1.is_some(), "If-None-Match sent");
    assert!(seen[before.0..].iter().all(|(p, _)| !p.starts_with("/docs/")), "{seen:?}");
    assert_eq!(log_of(&server, &coord, id).len(), before.1);
    let (_, imported) = get(&server, &coord, "/api/v1/advisories/external");
    assert_eq!(imported.as_array().unwrap().len(), 2);

    // A pinned key: a secret key or a key that is not the fingerprint given is refused at once;
    // a pinned key that is not the provider's refuses every document, the good one included.
    let metadata = peer.routes.lock().unwrap().get("/provider-metadata.json").cloned().unwrap();
    peer.route("/provider-metadata.json?again", metadata);
    let again = format!("{b}/provider-metadata.json?again");
    let other = CsafKeys::new(&aggregator_secret, "", &[]).unwrap().current;
    let refused = |body: Value| post_json(&server, &coord, "/api/v1/csaf/subscriptions", &body).0;
    assert_eq!(refused(json!({"url": again, "pinned_key": aggregator_secret})), 400);
    assert_eq!(refused(json!({"url": again, "pinned_key": other.armored, "pinned_fingerprint": fingerprint})), 400);
    assert_eq!(refused(json!({"url": again, "pinned_fingerprint": "not hex"})), 400);
    let pinned = subscribe(&server, &coord, json!({"url": again, "pinned_key": other.armored}));
    let (_, listed) = get(&server, &coord, "/api/v1/csaf/subscriptions");
    let row = listed.as_array().unwrap().iter().find(|s| s["id"] == pinned).unwrap().clone();
    assert_eq!(row["pinned_fingerprint"], other.fingerprint.as_str());
    assert!(row.get("pinned_key").is_none() && row.get("access_token").is_none(), "{row}");
    let report = poll(&server, &coord, pinned);
    assert_eq!(report["imported"], 0, "{report}");
    let log = log_of(&server, &coord, pinned);
    let good = format!("{b}/docs/good.json");
    assert!(log.iter().any(|e| e["url"] == good && e["reason"] == "bad_signature"), "{log:?}");
}

#[test]
fn the_background_poller_imports_from_an_unsigned_provider() {
    // A `csaf_provider` without keys: documents need no signature, but a hash (here only the
    // `.sha256`; the `.sha512` is missing).
    let peer = Hostile::start();
    let b = peer.base.clone();
    let namespace = "https://plain.example";
    let metadata = json!({
        "canonical_url": format!("{b}/provider-metadata.json"), "metadata_version": "2.0", "role": "csaf_provider",
        "last_updated": "2026-12-01T00:00:00Z", "list_on_CSAF_aggregators": true,
        "publisher": {"category": "vendor", "name": "Plain Vendor", "namespace": namespace},
        "distributions": [{"directory_url": format!("{b}/csaf/white/")}]
    });
    peer.route("/provider-metadata.json", Answer::Ok("application/json", serde_json::to_vec(&metadata).unwrap()));
    let doc = serde_json::to_vec(&document(namespace, "PLAIN-1")).unwrap();
    let sha256 = format!("{}  plain-1.json\n", hex(&sha2::Sha256::digest(&doc)));
    peer.route("/csaf/white/2026/plain-1.json", Answer::Ok("application/json", doc));
    peer.route("/csaf/white/2026/plain-1.json.sha256", Answer::Ok("text/plain", sha256.into_bytes()));
    peer.route(
        "/csaf/white/changes.csv",
        Answer::Ok("text/csv", b"\"2026/plain-1.json\",\"2026-12-01T00:00:00Z\"\n".to_vec()),
    );

    let dir = tempfile::tempdir().unwrap();
    let limits =
        Limits { peers: PeerLimits { poll_interval: Duration::from_secs(1), ..peer_limits() }, ..Limits::default() };
    let server = start_with(fresh_location(dir.path()), limits, Config::default(), dir);
    let coord = coordinator(&server);
    let id = subscribe(&server, &coord, json!({"url": format!("{b}/provider-metadata.json")}));
    // No poll asked for: the server's own poller (every second here) finds it. The poll's status
    // is the last thing it writes (after the import, the log and the cache), so wait for that,
    // not for the import: between the two the status still reads `new`.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let subscription = loop {
        let (_, subscription) = get(&server, &coord, &format!("/api/v1/csaf/subscriptions/{id}"));
        if subscription["subscription"]["poll_status"] != "new" {
            break subscription;
        }
        assert!(std::time::Instant::now() < deadline, "the background poller never finished a poll");
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(subscription["subscription"]["poll_status"], "ok", "{subscription}");
    let (_, imported) = get(&server, &coord, "/api/v1/advisories/external");
    assert_eq!(titles(&imported), ["Hostile PLAIN-1"]);
    assert_eq!(subscription["subscription"]["role"], "csaf_provider");
    let (_, aggregator) = get_anonymous(&server, "/.well-known/csaf-aggregator/aggregator.json");
    assert_eq!(aggregator["csaf_providers"][0]["metadata"]["publisher"]["name"], "Plain Vendor");
}
