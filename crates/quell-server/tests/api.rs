//! The JSON API end to end: upload, idempotency, validation, inventory, search, trend, tokens.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::Write;

use common::*;
use quell_server::Limits;
use serde_json::Value;

#[test]
fn upload_is_idempotent_and_feeds_the_inventory() {
    let server = start(Limits::default());
    let a = org(&server, "alpha");

    let first = report("web-1", &days_ago(2), 3, 1, "a");
    let (status, body) = upload(&server, &a.upload, &first);
    assert_eq!(status, 201, "{body}");
    let id = body["id"].as_i64().unwrap();
    assert_eq!(body["duplicate"], false);
    assert_eq!(body["findings"], 4);
    assert_eq!(body["affected"], 3);

    // A retry stores nothing new and answers the same id.
    let (status, body) = upload(&server, &a.upload, &first);
    assert_eq!((status, body["id"].as_i64().unwrap(), body["duplicate"].clone()), (200, id, Value::Bool(true)));

    // gzip, from the same host, newer: it becomes the latest picture.
    let second = report("web-1", &days_ago(0), 1, 3, "a");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(second.as_bytes()).unwrap();
    let gz = gz.finish().unwrap();
    let (status, body) = send(&server, "POST", &a.upload, "/api/v1/reports", &gz, &[("Content-Encoding", "gzip")]);
    assert_eq!(status, 201, "{body}");
    let second_id = body["id"].as_i64().unwrap();

    // An older report arriving late does not replace the latest picture.
    let (status, _) = upload(&server, &a.upload, &report("web-1", &days_ago(5), 7, 0, "a"));
    assert_eq!(status, 201);
    upload(&server, &a.upload, &report("db-1", &days_ago(1), 2, 0, "d"));

    let (status, hosts) = get(&server, &a.full, "/api/v1/hosts");
    assert_eq!(status, 200);
    let names: Vec<&str> = hosts.as_array().unwrap().iter().map(|h| h["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["db-1", "web-1"]);
    let web = &hosts[1];
    assert_eq!(
        (web["latest_report_id"].as_i64().unwrap(), web["copies"].as_i64(), web["affected"].as_i64()),
        (second_id, Some(4), Some(1))
    );

    let host_id = web["id"].as_i64().unwrap();
    let (status, detail) = get(&server, &a.full, &format!("/api/v1/hosts/{host_id}"));
    assert_eq!(status, 200);
    assert_eq!(detail["reports"], 3);
    assert_eq!(detail["latest"]["report"]["tool_version"], "quell 0.1.0");
    assert_eq!(detail["latest"]["findings"].as_array().unwrap().len(), 4);
    assert_eq!(detail["latest"]["findings"][0]["kind"], "finding");
    assert_eq!(detail["latest"]["errors"][0]["message"], "corrupt zip archive");

    let (_, history) = get(&server, &a.full, &format!("/api/v1/hosts/{host_id}/reports"));
    let ids: Vec<i64> = history.as_array().unwrap().iter().map(|r| r["id"].as_i64().unwrap()).collect();
    assert_eq!(ids[0], second_id);
    assert_eq!(ids.len(), 3);

    let (_, report_detail) = get(&server, &a.full, &format!("/api/v1/reports/{id}"));
    assert_eq!(report_detail["findings"].as_array().unwrap().len(), 4);

    let (_, inventory) = get(&server, &a.full, "/api/v1/inventory");
    assert_eq!(inventory["hosts"], 2);
    assert_eq!(inventory["reports"], 4);
    assert_eq!(inventory["copies"], 6); // web-1: 4, db-1: 2
    assert_eq!(inventory["affected_copies"], 3); // web-1: 1, db-1: 2
    assert_eq!(inventory["affected_hosts"], 2);
    let versions = inventory["versions"].as_array().unwrap();
    assert!(versions.iter().any(|v| v["version"] == "2.14.1" && v["copies"] == 3 && v["hosts"] == 2));
    assert!(versions.iter().any(|v| v["version"] == "2.17.1" && v["copies"] == 3 && v["affected"] == 0));
    let cves = inventory["cves"].as_array().unwrap();
    assert!(cves.iter().any(|c| c["cve"] == "CVE-2021-44228" && c["status"] == "affected" && c["copies"] == 3));

    let (_, found) = get(&server, &a.full, "/api/v1/search?component=log4j-core&version=2.14.1");
    let found = found.as_array().unwrap();
    assert_eq!(found.len(), 3);
    assert!(found.iter().all(|f| f["affected"] == true));
    let (_, found) = get(&server, &a.full, "/api/v1/search?q=app0.war");
    assert_eq!(found.as_array().unwrap().len(), 2, "{found}");
    let (_, found) = get(&server, &a.full, "/api/v1/search?q=APP0.WAR");
    assert_eq!(found.as_array().unwrap().len(), 2, "case is ignored: {found}");
    let (_, found) = get(&server, &a.full, "/api/v1/search?q=%25");
    assert_eq!(found.as_array().unwrap().len(), 0, "LIKE wildcards are escaped");

    // Trend: affected copies per day, each host's newest report as of that day.
    let (_, trend) = get(&server, &a.full, "/api/v1/trend?days=7");
    let affected: Vec<i64> = trend.as_array().unwrap().iter().map(|d| d["affected_copies"].as_i64().unwrap()).collect();
    assert_eq!(affected, [0, 7, 7, 7, 3, 5, 3]);
    // A window that opens after a host's report: the host counts from the start, as it was.
    let (_, trend) = get(&server, &a.full, "/api/v1/trend?days=4");
    let days: Vec<(i64, i64)> = trend
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["affected_copies"].as_i64().unwrap(), d["hosts"].as_i64().unwrap()))
        .collect();
    assert_eq!(days, [(7, 1), (3, 1), (5, 2), (3, 2)]);
}

#[test]
fn invalid_reports_get_precise_errors() {
    let limits = Limits { max_report_bytes: 4096, max_report_inflated_bytes: 8192, ..Limits::default() };
    let server = start(limits);
    let a = org(&server, "alpha");

    let good = report("h", &days_ago(0), 1, 0, "x");
    let mut lines: Vec<&str> = good.lines().collect();
    lines.insert(1, r#"{"kind":"finding","path":[]}"#);
    let (status, body) = upload(&server, &a.upload, &lines.join("\n"));
    assert_eq!(
        (status, body["error"].as_str(), body["line"].as_i64()),
        (400, Some("invalid_record"), Some(2)),
        "{body}"
    );

    let (status, body) = upload(&server, &a.upload, "{\"kind\":\"error\",\"path\":[],\"message\":\"x\"}\n");
    assert_eq!(status, 400);
    assert!(body["message"].as_str().unwrap().contains("no summary"), "{body}");

    let (status, body) = upload(&server, &a.upload, "not json\n");
    assert_eq!((status, body["line"].as_i64()), (400, Some(1)));

    let big = report("h", &days_ago(0), 40, 0, "x");
    let (status, body) = upload(&server, &a.upload, &big);
    assert_eq!((status, body["error"].as_str()), (413, Some("too_large")), "{body}");

    // A gzip bomb: small on the wire, over the inflated limit.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(&vec![b'\n'; 100_000]).unwrap();
    let gz = gz.finish().unwrap();
    let (status, _) = send(&server, "POST", &a.upload, "/api/v1/reports", &gz, &[("Content-Encoding", "gzip")]);
    assert_eq!(status, 413);
    let (status, _) = send(&server, "POST", &a.upload, "/api/v1/reports", b"plain", &[("Content-Encoding", "gzip")]);
    assert_eq!(status, 400);
    let (status, _) = send(&server, "POST", &a.upload, "/api/v1/reports", b"x", &[("Content-Encoding", "br")]);
    assert_eq!(status, 400);

    // The host may come from ?host= for reports of older tools; must agree when both are given.
    let no_host = good.replace(",\"host\":\"h\"", "");
    assert_eq!(upload(&server, &a.upload, &no_host).0, 400);
    let (status, body) = send(&server, "POST", &a.upload, "/api/v1/reports?host=old-box", no_host.as_bytes(), &[]);
    assert_eq!(status, 201, "{body}");
    let (status, _) = send(&server, "POST", &a.upload, "/api/v1/reports?host=other", good.as_bytes(), &[]);
    assert_eq!(status, 400);

    // No token, a wrong one, a revoked one.
    assert_eq!(send(&server, "POST", "", "/api/v1/reports", good.as_bytes(), &[]).0, 401);
    assert_eq!(upload(&server, "qt_wrong", &good).0, 401);
    let (status, _) = send(&server, "DELETE", &a.full, &format!("/api/v1/tokens/{}", a.upload_id), b"", &[]);
    assert_eq!(status, 204);
    assert_eq!(upload(&server, &a.upload, &good).0, 401);
}

#[test]
fn tokens_are_shown_once_and_revocable() {
    let server = start(Limits::default());
    let a = org(&server, "alpha");
    let body = br#"{"name":"ci agent","scope":"upload"}"#;
    let (status, created) =
        send(&server, "POST", &a.member_full, "/api/v1/tokens", body, &[("Content-Type", "application/json")]);
    assert_eq!(status, 201, "{created}");
    let token = created["token"].as_str().unwrap().to_string();
    assert!(token.starts_with("qt_"));
    let (_, list) = get(&server, &a.full, "/api/v1/tokens");
    let text = list.to_string();
    assert!(text.contains("ci agent"), "an admin sees the organisation's tokens");
    assert!(!text.contains(&token), "a token is never shown again");
    let (_, me) = get(&server, &a.member_full, "/api/v1/me");
    assert_eq!(me["role"], "member");
    assert_eq!(upload(&server, &token, &report("h", &days_ago(0), 0, 1, "t")).0, 201);
    // A member cannot revoke the admin's tokens; the admin can revoke the member's.
    let (status, _) = send(&server, "DELETE", &a.member_full, &format!("/api/v1/tokens/{}", a.full_id), b"", &[]);
    assert_eq!(status, 404);
    let id = created["id"].as_i64().unwrap();
    assert_eq!(send(&server, "DELETE", &a.full, &format!("/api/v1/tokens/{id}"), b"", &[]).0, 204);
    assert_eq!(upload(&server, &token, &report("h", &days_ago(0), 0, 2, "t")).0, 401);
}

#[test]
fn health_and_metrics() {
    let server = start(Limits::default());
    let a = org(&server, "alpha");
    upload(&server, &a.upload, &report("h", &days_ago(0), 2, 0, "m"));
    let (status, body) = get(&server, "", "/healthz");
    assert_eq!((status, body["status"].as_str()), (200, Some("ok")));
    // `/metrics` on the main address needs a coordinator (issue 18: it was open to anyone).
    assert_eq!(agent().get(&format!("{}/metrics", server.base)).call().unwrap().status().as_u16(), 401);
    assert_eq!(get(&server, &a.full, "/metrics").0, 403);
    let coordinator = coordinator(&server);
    let mut response = agent()
        .get(&format!("{}/metrics", server.base))
        .header("Authorization", &format!("Bearer {coordinator}"))
        .call()
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let text = response.body_mut().read_to_string().unwrap();
    assert!(text.contains("quell_reports_stored_total 1"), "{text}");
    assert!(text.contains("quell_findings_stored_total 2"), "{text}");
}

/// `--metrics-listen`: a second address that serves `/metrics` (and nothing else) without login.
#[test]
fn metrics_listen_serves_only_metrics() {
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let metrics_address = free.local_addr().unwrap();
    drop(free);
    let dir = tempfile::tempdir().unwrap();
    let config =
        quell_server::ServeConfig { metrics_listen: Some(metrics_address), ..test_config(fresh_location(dir.path())) };
    let server = start_config(config, dir);
    let a = org(&server, "alpha");
    upload(&server, &a.upload, &report("h", &days_ago(0), 1, 0, "m"));
    let mut response = agent().get(&format!("http://{metrics_address}/metrics")).call().unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert!(response.body_mut().read_to_string().unwrap().contains("quell_reports_stored_total 1"));
    assert_eq!(agent().get(&format!("http://{metrics_address}/api/v1/hosts")).call().unwrap().status().as_u16(), 404);
}

#[test]
fn two_servers_share_one_database() {
    let first = start(Limits::default());
    let a = org(&first, "alpha");
    let second = start_at(first.location.clone(), Limits::default(), tempfile::tempdir().unwrap());
    let body = report("web-1", &days_ago(0), 1, 1, "shared");
    let (status, stored) = upload(&first, &a.upload, &body);
    assert_eq!(status, 201);
    // The retry lands on the other server: still stored once.
    let (status, again) = upload(&second, &a.upload, &body);
    assert_eq!((status, again["id"].clone()), (200, stored["id"].clone()));
    let (_, hosts) = get(&second, &a.full, "/api/v1/hosts");
    assert_eq!(hosts[0]["name"], "web-1");
}

#[test]
fn concurrent_retries_are_stored_once() {
    let server = std::sync::Arc::new(start(Limits::default()));
    let a = org(&server, "alpha");
    let body = std::sync::Arc::new(report("web-1", &days_ago(0), 2, 2, "race"));
    let threads: Vec<_> = (0..8)
        .map(|i| {
            let (server, token, body) = (server.clone(), a.upload.clone(), body.clone());
            let other = report(&format!("other-{i}"), &days_ago(0), 1, 0, "race");
            std::thread::spawn(move || {
                let (_, _) = upload(&server, &token, &other);
                upload(&server, &token, &body)
            })
        })
        .collect();
    let answers: Vec<(u16, Value)> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    assert_eq!(answers.iter().filter(|(s, _)| *s == 201).count(), 1, "{answers:?}");
    assert!(answers.iter().all(|(s, b)| (*s == 200 || *s == 201) && b["id"] == answers[0].1["id"]));
    let (_, inventory) = get(&server, &a.full, "/api/v1/inventory");
    assert_eq!((inventory["hosts"].as_i64(), inventory["reports"].as_i64()), (Some(9), Some(9)));
}

/// One JSON error shape everywhere, authorisation before the body (issue 18): bad JSON is a 400
/// with the JSON error (not axum's plain-text 422), an oversized body a 413, and an upload-only
/// token is refused (403) before its body is looked at.
#[test]
fn errors_are_json_and_authorisation_comes_first() {
    let server = start(Limits::default());
    let a = org(&server, "alpha");
    let coordinator = coordinator(&server);
    let json_type = [("Content-Type", "application/json")];
    for (token, path, method) in [
        (&coordinator, "/api/v1/orgs", "POST"),
        (&a.full, "/api/v1/tokens", "POST"),
        (&a.full, "/api/v1/users", "POST"),
        (&a.full, "/api/v1/sharing", "PUT"),
    ] {
        let (status, body) = send(&server, method, token, path, b"{not json", &json_type);
        assert_eq!((status, body["error"].as_str()), (400, Some("invalid")), "{method} {path}: {body}");
    }
    // A 30 MB advisory body: 413 with the JSON error. Written by hand, the body from a second
    // thread: the server may answer and close before it has read all of it.
    let answer = {
        use std::io::{Read, Write};
        let address = server.base.trim_start_matches("http://").to_string();
        let mut stream = std::net::TcpStream::connect(&address).unwrap();
        stream.set_read_timeout(Some(std::time::Duration::from_secs(30))).unwrap();
        let size = 30 * 1024 * 1024;
        let head = format!(
            "POST /api/v1/advisories HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {coordinator}\r\n\
             Content-Type: application/json\r\nContent-Length: {size}\r\nConnection: close\r\n\r\n"
        );
        stream.write_all(head.as_bytes()).unwrap();
        let mut writer = stream.try_clone().unwrap();
        let sender = std::thread::spawn(move || {
            let chunk = vec![b' '; 1 << 20];
            for _ in 0..30 {
                if writer.write_all(&chunk).is_err() {
                    break;
                }
            }
        });
        let mut answer = Vec::new();
        let _ = stream.read_to_end(&mut answer);
        let _ = sender.join();
        String::from_utf8_lossy(&answer).into_owned()
    };
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains(r#""error":"too_large""#), "{answer}");
    let (status, body) = send(&server, "POST", &a.upload, "/api/v1/tokens", b"{not json", &json_type);
    assert_eq!((status, body["error"].as_str()), (403, Some("forbidden")), "{body}");
}

/// Signed detection packs on both engines: an upload becomes the current pack of its name, a
/// later upload replaces it (the history is kept), a pack signed for other bytes is 422, a
/// withdrawn pack leaves the bundle. The fixtures in `tests/packs/` were made with the real
/// `minisign` (`minisign -G`, then `minisign -S -t "quell-pack expires=2099-01-01T00:00:00Z"`);
/// `quell-packs/tests/signed.rs` and `quell/tests/packs_remote.rs` sign at test time.
#[test]
fn signed_packs_are_current_per_name_replaced_and_withdrawn() {
    let dir = tempfile::tempdir().unwrap();
    let key = quell_packs::signed::PinnedKey::parse(include_str!("packs/fixture.pub")).unwrap();
    let config = quell_server::ServeConfig { pack_keys: vec![key], ..test_config(fresh_location(dir.path())) };
    let server = start_config(config, dir);
    let cert = coordinator(&server);
    let a = org(&server, "alpha");
    let json = [("Content-Type", "application/json")];
    let (v1, v1_sig) = (include_str!("packs/v1.toml"), include_str!("packs/v1.toml.minisig"));
    let (v2, v2_sig) = (include_str!("packs/v2.toml"), include_str!("packs/v2.toml.minisig"));
    let body = |pack: &str, signature: &str| serde_json::json!({ "pack": pack, "signature": signature }).to_string();
    let current = || get(&server, &a.upload, "/api/v1/packs").1["packs"].as_array().unwrap().clone();

    let (status, stored) = send(&server, "POST", &cert, "/api/v1/packs", body(v1, v1_sig).as_bytes(), &json);
    assert_eq!(status, 201, "{stored}");
    assert_eq!((stored["name"].as_str(), stored["key_id"].as_str()), (Some("fixture"), Some("4DE63956CF3CCDA5")));
    let packs = current();
    assert_eq!(packs.len(), 1);
    assert_eq!((packs[0]["pack"].as_str(), packs[0]["signature"].as_str()), (Some(v1), Some(v1_sig)));
    assert_eq!(packs[0]["expires_at"], "2099-01-01T00:00:00Z");
    assert_eq!(packs[0]["sha256"].as_str().map(str::len), Some(64));

    // The signature of revision 2 does not cover revision 1's bytes.
    let (status, refused) = send(&server, "POST", &cert, "/api/v1/packs", body(v1, v2_sig).as_bytes(), &json);
    assert_eq!(status, 422, "{refused}");
    assert_eq!(refused["error"], "unprocessable");
    let (status, refused) =
        send(&server, "POST", &cert, "/api/v1/packs", br#"{"pack":"x","signature":"y","z":1}"#, &json);
    assert_eq!(status, 400, "{refused}");

    // Revision 2 replaces revision 1.
    let (status, stored) = send(&server, "POST", &cert, "/api/v1/packs", body(v2, v2_sig).as_bytes(), &json);
    assert_eq!(status, 201, "{stored}");
    let packs = current();
    assert_eq!((packs.len(), packs[0]["pack"].as_str()), (1, Some(v2)));

    // Withdrawn: gone from the bundle; a second withdrawal finds nothing; a new upload is current.
    assert_eq!(send(&server, "DELETE", &cert, "/api/v1/packs/fixture", b"", &[]).0, 204);
    assert!(current().is_empty());
    assert_eq!(send(&server, "DELETE", &cert, "/api/v1/packs/fixture", b"", &[]).0, 404);
    assert_eq!(send(&server, "POST", &cert, "/api/v1/packs", body(v1, v1_sig).as_bytes(), &json).0, 201);
    assert_eq!(current()[0]["pack"].as_str(), Some(v1));

    // The history: every upload, newest first, the withdrawn one marked; coordinators only.
    let (status, history) = get(&server, &cert, "/api/v1/packs/fixture/history");
    assert_eq!(status, 200, "{history}");
    let uploads = history["uploads"].as_array().unwrap();
    let texts: Vec<&str> = uploads.iter().map(|u| u["pack"].as_str().unwrap()).collect();
    assert_eq!(texts, [v1, v2, v1]);
    let withdrawn: Vec<bool> = uploads.iter().map(|u| u.get("withdrawn_at").is_some()).collect();
    assert_eq!(withdrawn, [false, true, false]);
    assert_eq!(get(&server, &a.full, "/api/v1/packs/fixture/history").0, 403);
    assert_eq!(get(&server, &cert, "/api/v1/packs/nothing/history").0, 404);

    // Too large a body is 413 before anything is read as a pack.
    let huge = vec![b' '; quell_server::limits::MAX_PACK_UPLOAD_BYTES + 1];
    assert_eq!(send(&server, "POST", &cert, "/api/v1/packs", &huge, &json).0, 413);
}
