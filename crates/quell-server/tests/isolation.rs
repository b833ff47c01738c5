//! Organisation A's credentials cannot read, list, count or modify anything of organisation B,
//! guessed ids included; an upload-only token can only upload; a coordinator sees counts per
//! organisation and never host names or paths.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use quell_server::Limits;

#[test]
fn organisations_are_isolated() {
    let server = start(Limits::default());
    let a = org(&server, "alpha");
    let b = org(&server, "bravo");
    let coordinator = coordinator(&server);

    let (_, a_report) = upload(&server, &a.upload, &report("alpha-web", &days_ago(0), 2, 1, "alpha-secret"));
    let (_, b_report) = upload(&server, &b.upload, &report("bravo-db", &days_ago(0), 5, 0, "bravo-secret"));
    // The very same report body in two organisations is two reports: idempotency is per organisation.
    let same = report("shared-name", &days_ago(0), 1, 0, "same");
    let (_, a_same) = upload(&server, &a.upload, &same);
    let (_, b_same) = upload(&server, &b.upload, &same);
    assert_ne!(a_same["id"], b_same["id"]);
    assert_eq!((a_same["duplicate"].as_bool(), b_same["duplicate"].as_bool()), (Some(false), Some(false)));

    let b_host = b_report["host_id"].as_i64().unwrap();
    let b_report_id = b_report["id"].as_i64().unwrap();
    let a_host = a_report["host_id"].as_i64().unwrap();

    for token in [&a.full, &a.member_full] {
        // Lists and counts hold only A's data.
        let (_, hosts) = get(&server, token, "/api/v1/hosts?limit=1000");
        let text = hosts.to_string();
        assert!(text.contains("alpha-web") && !text.contains("bravo"), "{text}");
        let (_, inventory) = get(&server, token, "/api/v1/inventory");
        assert_eq!((inventory["hosts"].as_i64(), inventory["copies"].as_i64()), (Some(2), Some(4)), "{inventory}");
        let (_, found) = get(&server, token, "/api/v1/search?q=bravo");
        assert_eq!(found.as_array().unwrap().len(), 0);
        let (_, found) = get(&server, token, "/api/v1/search?component=log4j-core");
        assert!(!found.to_string().contains("bravo"));
        let (_, trend) = get(&server, token, "/api/v1/trend?days=1");
        assert_eq!(trend[0]["affected_copies"], 3);
        let (_, tokens) = get(&server, token, "/api/v1/tokens");
        assert!(!tokens.to_string().contains("bravo"));
        // Where does log4j-core run? Only A's own systems and paths.
        let (_, asked) = get(&server, token, "/api/v1/components?purl=pkg:maven/org.apache.logging.log4j/log4j-core");
        assert_eq!(asked["systems"], 2, "{asked}");
        assert!(asked.get("by_organisation").is_none(), "{asked}");
        assert!(!asked.to_string().contains("bravo"), "{asked}");
        let (_, lists) = get(&server, token, "/api/v1/inventories");
        assert!(!lists.to_string().contains("bravo") && lists.to_string().contains("alpha-web"), "{lists}");

        // B's ids, and every id around them, are not found (the same answer as a missing id).
        for id in [b_host, b_report_id, b_host + 1, 999_999] {
            if id == a_host || id == a_same["host_id"].as_i64().unwrap() {
                continue; // A's own
            }
            for path in [format!("/api/v1/hosts/{id}"), format!("/api/v1/hosts/{id}/reports")] {
                let (status, body) = get(&server, token, &path);
                assert_eq!(status, 404, "{path}: {body}");
            }
        }
        for id in [b_report_id, b_same["id"].as_i64().unwrap()] {
            assert_eq!(get(&server, token, &format!("/api/v1/reports/{id}")).0, 404);
        }
        // B's events are not in A's audit log (members are refused it).
        let (_, log) = get(&server, token, "/api/v1/audit");
        assert!(!log.to_string().contains("bravo"), "{log}");
        // B's tokens cannot be revoked from A.
        for id in [b.full_id, b.upload_id] {
            assert_eq!(send(&server, "DELETE", token, &format!("/api/v1/tokens/{id}"), b"", &[]).0, 404);
        }
        // Coordinator views are closed to organisations.
        assert_eq!(get(&server, token, "/api/v1/orgs").0, 403);
        assert_eq!(
            send(&server, "POST", token, "/api/v1/orgs", br#"{"name":"x"}"#, &[("Content-Type", "application/json")]).0,
            403
        );
    }
    // B's tokens still work: nothing was revoked.
    assert_eq!(get(&server, &b.full, "/api/v1/hosts").0, 200);
    assert_eq!(upload(&server, &b.upload, &report("bravo-2", &days_ago(0), 0, 1, "b2")).0, 201);

    // The upload-only token can upload and nothing else.
    for path in [
        "/api/v1/hosts".to_string(),
        format!("/api/v1/hosts/{a_host}"),
        format!("/api/v1/hosts/{a_host}/reports"),
        format!("/api/v1/reports/{}", a_report["id"]),
        "/api/v1/inventory".into(),
        "/api/v1/search?q=x".into(),
        "/api/v1/trend".into(),
        "/api/v1/components?purl=pkg:maven/org.apache.logging.log4j/log4j-core".into(),
        "/api/v1/inventories".into(),
        "/api/v1/audit".into(),
        "/api/v1/orgs".into(),
        "/api/v1/tokens".into(),
    ] {
        assert_eq!(get(&server, &a.upload, &path).0, 403, "{path}");
    }
    let json = [("Content-Type", "application/json")];
    assert_eq!(send(&server, "POST", &a.upload, "/api/v1/tokens", br#"{"name":"x","scope":"full"}"#, &json).0, 403);
    assert_eq!(send(&server, "DELETE", &a.upload, &format!("/api/v1/tokens/{}", a.full_id), b"", &[]).0, 403);

    // Signed detection packs: every token reads them (agents fetch them with upload-only
    // tokens), only coordinators upload or withdraw them.
    for token in [&a.upload, &a.full, &b.upload] {
        let (status, packs) = get(&server, token, "/api/v1/packs");
        assert_eq!((status, packs["packs"].as_array().map(Vec::len)), (200, Some(0)), "{packs}");
    }
    let pack = br#"{"pack":"schema = 1","signature":"x"}"#;
    for token in [&a.upload, &a.full] {
        assert_eq!(send(&server, "POST", token, "/api/v1/packs", pack, &json).0, 403);
        assert_eq!(send(&server, "DELETE", token, "/api/v1/packs/acme", b"", &[]).0, 403);
    }
    assert_eq!(get(&server, "not-a-token", "/api/v1/packs").0, 401);

    // The coordinator: counts per organisation, no host names, no paths; no host views; no uploads.
    let (status, orgs) = get(&server, &coordinator, "/api/v1/orgs");
    assert_eq!(status, 200);
    let text = orgs.to_string();
    for secret in ["alpha-web", "bravo-db", "alpha-secret", "bravo-secret", "shared-name", "/srv"] {
        assert!(!text.contains(secret), "{secret} in {text}");
    }
    let alpha = orgs.as_array().unwrap().iter().find(|o| o["name"] == "alpha").unwrap();
    assert_eq!(
        (alpha["hosts"].as_i64(), alpha["copies"].as_i64(), alpha["affected_copies"].as_i64()),
        (Some(2), Some(4), Some(3))
    );
    for path in ["/api/v1/hosts", "/api/v1/inventory", "/api/v1/search?q=a", "/api/v1/trend", "/api/v1/inventories"] {
        assert_eq!(get(&server, &coordinator, path).0, 403, "{path}");
    }
    // The ask as a coordinator: counts per organisation, no names or paths of organisations
    // that do not share details.
    let (_, asked) =
        get(&server, &coordinator, "/api/v1/components?purl=pkg:maven/org.apache.logging.log4j/log4j-core");
    assert_eq!((asked["organisations"].as_i64(), asked["systems"].as_i64()), (Some(2), Some(5)), "{asked}");
    let text = asked.to_string();
    for secret in ["alpha-web", "bravo-db", "alpha-secret", "bravo-secret", "shared-name", "/srv", "/opt"] {
        assert!(!text.contains(secret), "{secret} in {text}");
    }
    assert_eq!(get(&server, &coordinator, &format!("/api/v1/hosts/{b_host}")).0, 403);
    assert_eq!(upload(&server, &coordinator, &report("c", &days_ago(0), 0, 1, "c")).0, 403);
    let sbom = br#"{"bomFormat":"CycloneDX","specVersion":"1.6","components":[]}"#;
    assert_eq!(
        send(&server, "POST", &coordinator, "/api/v1/sboms?system=x", sbom, &json).0,
        403,
        "coordinators own no systems"
    );
    // An SBOM stored for A is A's alone.
    let (status, stored) = send(&server, "POST", &a.upload, "/api/v1/sboms?system=alpha-app", sbom, &json);
    assert_eq!(status, 201, "{stored}");
    assert!(!get(&server, &b.full, "/api/v1/inventories").1.to_string().contains("alpha-app"));
    // Without --pack-public-key the server takes no packs, not even from a coordinator.
    let (status, refused) = send(&server, "POST", &coordinator, "/api/v1/packs", pack, &json);
    assert_eq!(status, 409, "{refused}");
    assert!(refused["message"].as_str().unwrap().contains("--pack-public-key"), "{refused}");
    assert_eq!(send(&server, "DELETE", &coordinator, "/api/v1/packs/acme", b"", &[]).0, 404);
    let (status, created) = send(&server, "POST", &coordinator, "/api/v1/orgs", br#"{"name":"charlie"}"#, &json);
    assert_eq!(status, 201, "{created}");
}

#[test]
fn accounts_stay_in_their_organisation() {
    let server = start(Limits::default());
    let a = org(&server, "alpha");
    let b = org(&server, "bravo");
    let coordinator = coordinator(&server);
    let json = [("Content-Type", "application/json")];
    let new_user = |email: &str, role: &str, org_id: i64| {
        format!(r#"{{"email":"{email}","password":"{PASSWORD}","role":"{role}","org_id":{org_id}}}"#)
    };

    // A's admin adds a member: it lands in A even when B's id is named.
    let body = new_user("new@alpha.example", "member", b.id);
    let (status, created) = send(&server, "POST", &a.full, "/api/v1/users", body.as_bytes(), &json);
    assert_eq!((status, created["org_id"].as_i64()), (201, Some(a.id)), "{created}");
    // A's admin cannot create coordinators; members and upload tokens cannot add anyone.
    let body = new_user("boss@alpha.example", "coordinator", a.id);
    assert_eq!(send(&server, "POST", &a.full, "/api/v1/users", body.as_bytes(), &json).0, 403);
    let body = new_user("x@alpha.example", "admin", a.id);
    assert_eq!(send(&server, "POST", &a.member_full, "/api/v1/users", body.as_bytes(), &json).0, 403);
    assert_eq!(send(&server, "POST", &a.upload, "/api/v1/users", body.as_bytes(), &json).0, 403);

    // Lists: A's admin sees A's accounts only, whatever ?org_id says; members see none.
    let (status, users) = get(&server, &a.full, &format!("/api/v1/users?org_id={}", b.id));
    assert_eq!(status, 200);
    let text = users.to_string();
    assert!(text.contains("new@alpha.example") && !text.contains("bravo"), "{text}");
    assert_eq!(get(&server, &a.member_full, "/api/v1/users").0, 403);

    // The coordinator adds an admin to B and sees B's accounts.
    let body = new_user("second@bravo.example", "admin", b.id);
    let (status, created) = send(&server, "POST", &coordinator, "/api/v1/users", body.as_bytes(), &json);
    assert_eq!((status, created["org_id"].as_i64()), (201, Some(b.id)));
    let (_, users) = get(&server, &coordinator, &format!("/api/v1/users?org_id={}", b.id));
    assert!(users.to_string().contains("second@bravo.example"));
    let body = new_user("ghost@x.example", "admin", 999_999);
    assert_eq!(send(&server, "POST", &coordinator, "/api/v1/users", body.as_bytes(), &json).0, 404);
    // The same e-mail again is a conflict.
    let body = new_user("new@alpha.example", "member", a.id);
    assert_eq!(send(&server, "POST", &a.full, "/api/v1/users", body.as_bytes(), &json).0, 409);

    // Reset links and second factors of another organisation's accounts: not found from A;
    // upload tokens and members manage no accounts; only coordinators set the two-factor policy
    // and manage subscriptions to other CSAF providers.
    let (_, theirs) = get(&server, &coordinator, &format!("/api/v1/users?org_id={}", b.id));
    let bravo_admin =
        theirs.as_array().unwrap().iter().find(|u| u["email"] == b.admin_email).unwrap()["id"].as_i64().unwrap();
    for (method, path) in [
        ("POST", format!("/api/v1/users/{bravo_admin}/reset-link")),
        ("DELETE", format!("/api/v1/users/{bravo_admin}/two-factor")),
    ] {
        assert_eq!(send(&server, method, &a.full, &path, b"", &[]).0, 404, "{method} {path}");
        assert_eq!(send(&server, method, &a.member_full, &path, b"", &[]).0, 403, "{method} {path}");
        assert_eq!(send(&server, method, &a.upload, &path, b"", &[]).0, 403, "{method} {path}");
    }
    let policy = br#"{"policy":"off"}"#;
    assert_eq!(send(&server, "PUT", &a.full, "/api/v1/two-factor/policy", policy, &json).0, 403);
    assert_eq!(get(&server, &a.upload, "/api/v1/two-factor/policy").0, 403);
    assert_eq!(get(&server, &a.full, "/api/v1/csaf/subscriptions").0, 403);
    let subscribe = br#"{"url":"https://csaf.example/.well-known/csaf/provider-metadata.json"}"#;
    assert_eq!(send(&server, "POST", &a.full, "/api/v1/csaf/subscriptions", subscribe, &json).0, 403);
}

#[test]
fn host_names_reach_coordinators_only_when_shared() {
    let server = start(Limits::default());
    let a = org(&server, "alpha");
    let coordinator = coordinator(&server);
    upload(&server, &a.upload, &report("alpha-web", &days_ago(0), 2, 1, "alpha-path"));
    let json = [("Content-Type", "application/json")];

    // Counts are always there; names are not until the organisation shares them.
    let (status, counts) = get(&server, &coordinator, &format!("/api/v1/orgs/{}/inventory", a.id));
    assert_eq!((status, counts["affected_copies"].as_i64()), (200, Some(2)));
    assert!(!counts.to_string().contains("alpha-web"));
    assert_eq!(get(&server, &coordinator, &format!("/api/v1/orgs/{}/hosts", a.id)).0, 403);
    assert_eq!(get(&server, &coordinator, "/api/v1/orgs/999999/hosts").0, 404);
    // Organisations cannot use the coordinator's views on each other.
    assert_eq!(get(&server, &a.full, &format!("/api/v1/orgs/{}/inventory", a.id)).0, 403);

    // Only the organisation's admin decides.
    let on = br#"{"shares_details":true}"#;
    assert_eq!(send(&server, "PUT", &a.member_full, "/api/v1/sharing", on, &json).0, 403);
    assert_eq!(send(&server, "PUT", &a.upload, "/api/v1/sharing", on, &json).0, 403);
    assert_eq!(send(&server, "PUT", &coordinator, "/api/v1/sharing", on, &json).0, 403);
    assert_eq!(send(&server, "PUT", &a.full, "/api/v1/sharing", on, &json).0, 200);
    assert_eq!(get(&server, &a.member_full, "/api/v1/sharing").1["shares_details"], true);

    let (status, hosts) = get(&server, &coordinator, &format!("/api/v1/orgs/{}/hosts", a.id));
    assert_eq!(status, 200);
    assert_eq!(hosts[0]["name"], "alpha-web");
    let (_, orgs) = get(&server, &coordinator, "/api/v1/orgs");
    assert_eq!(orgs[0]["shares_details"], true);

    let off = br#"{"shares_details":false}"#;
    assert_eq!(send(&server, "PUT", &a.full, "/api/v1/sharing", off, &json).0, 200);
    assert_eq!(get(&server, &coordinator, &format!("/api/v1/orgs/{}/hosts", a.id)).0, 403);
}
