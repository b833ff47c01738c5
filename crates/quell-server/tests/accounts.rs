//! Account lifecycle and the audit log (issue 18): an organisation admin disables, re-enables and
//! removes its users (sessions end, tokens revoked, logins refused), a coordinator does the same
//! for any organisation's admins, nobody acts on another organisation's accounts or on their own;
//! password changes check the current password and end sessions; every change and login is in
//! the append-only audit log, which coordinators read whole and admins for their organisation.
//! SQLite, and PostgreSQL under `scripts/test`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use quell_server::Limits;
use serde_json::{Value, json};

fn post(server: &Server, token: &str, path: &str) -> (u16, Value) {
    send(server, "POST", token, path, b"", &[])
}

fn member_id(server: &Server, admin: &str, email: &str) -> i64 {
    let (_, users) = get(server, admin, "/api/v1/users");
    users.as_array().unwrap().iter().find(|u| u["email"] == email).unwrap()["id"].as_i64().unwrap()
}

#[test]
fn accounts_are_disabled_enabled_and_removed_with_their_sessions_and_tokens() {
    let server = start(Limits::default());
    let coord = coordinator(&server);
    let a = org(&server, "alpha");
    let b = org(&server, "bravo");
    let member = member_id(&server, &a.full, "member@alpha.example");
    let cookie = session(&server, "member@alpha.example");
    assert_eq!(get(&server, &a.member_full, "/api/v1/me").0, 200);

    // Another organisation's admin, the member itself, and one's own account: refused.
    assert_eq!(post(&server, &b.full, &format!("/api/v1/users/{member}/disable")).0, 404);
    assert_eq!(post(&server, &a.member_full, &format!("/api/v1/users/{member}/disable")).0, 403);
    let admin = member_id(&server, &a.full, &a.admin_email);
    assert_eq!(post(&server, &a.full, &format!("/api/v1/users/{admin}/disable")).0, 403);

    let (status, disabled) = post(&server, &a.full, &format!("/api/v1/users/{member}/disable"));
    assert_eq!((status, disabled["disabled"].as_bool()), (200, Some(true)), "{disabled}");
    assert_eq!(get(&server, &a.member_full, "/api/v1/me").0, 401, "its token is revoked");
    let page = fetch(&server, "GET", "/", &cookie, None);
    assert_ne!(page.status, 200, "its session ended");
    assert_eq!(login(&server, "member@alpha.example", PASSWORD).status, 401, "it cannot log in");

    let (status, enabled) = post(&server, &a.full, &format!("/api/v1/users/{member}/enable"));
    assert_eq!((status, enabled["disabled"].as_bool()), (200, Some(false)), "{enabled}");
    assert_eq!(login(&server, "member@alpha.example", PASSWORD).status, 303, "it logs in again");
    assert_eq!(get(&server, &a.member_full, "/api/v1/me").0, 401, "old tokens stay revoked");

    // A coordinator acts on an organisation's admin; removal frees the address.
    let (status, _) = post(&server, &coord, &format!("/api/v1/users/{admin}/disable"));
    assert_eq!(status, 200);
    assert_eq!(get(&server, &a.full, "/api/v1/me").0, 401);
    assert_eq!(send(&server, "DELETE", &coord, &format!("/api/v1/users/{member}"), b"", &[]).0, 204);
    let (_, users) = get(&server, &b.full, "/api/v1/users");
    assert!(!users.to_string().contains("alpha"), "{users}");
    let (_, listed) = get(&server, &coord, &format!("/api/v1/users?org_id={}", a.id));
    assert!(!listed.to_string().contains("member@alpha.example"), "removed: {listed}");
    assert_eq!(send(&server, "DELETE", &coord, &format!("/api/v1/users/{member}"), b"", &[]).0, 404);

    // The audit log: every change, who did it; admins see their organisation's only.
    let (status, log) = get(&server, &coord, "/api/v1/audit");
    assert_eq!(status, 200);
    let actions: Vec<&str> = log.as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    for action in ["account_disabled", "account_enabled", "account_removed", "login", "login_failed"] {
        assert!(actions.contains(&action), "{action} in {actions:?}");
    }
    let removal = log.as_array().unwrap().iter().find(|e| e["action"] == "account_removed").unwrap();
    assert_eq!(removal["actor"], "cert@ncsc.example");
    let (_, theirs) = get(&server, &b.full, "/api/v1/audit");
    assert!(!theirs.to_string().contains("alpha"), "bravo reads only its own events: {theirs}");
    assert_eq!(get(&server, &b.member_full, "/api/v1/audit").0, 403);
}

#[test]
fn passwords_change_only_with_the_current_one_and_end_every_session() {
    let server = start(Limits::default());
    let a = org(&server, "alpha");
    let cookie = session(&server, &a.admin_email);
    let change = |current: &str, new: &str| {
        let body = json!({"current": current, "new": new}).to_string();
        send(&server, "PUT", &a.full, "/api/v1/me/password", body.as_bytes(), &[("Content-Type", "application/json")])
    };
    assert_eq!(change("wrong password here", "a brand new passphrase").0, 403);
    assert_eq!(change(PASSWORD, "short").0, 400);
    assert_eq!(change(PASSWORD, "a brand new passphrase").0, 204);
    assert_ne!(fetch(&server, "GET", "/", &cookie, None).status, 200, "sessions ended");
    assert_eq!(login(&server, &a.admin_email, PASSWORD).status, 401);
    assert_eq!(login(&server, &a.admin_email, "a brand new passphrase").status, 303);
    let (_, log) = get(&server, &a.full, "/api/v1/audit");
    assert!(log.as_array().unwrap().iter().any(|e| e["action"] == "password_changed"), "{log}");
}

#[test]
fn the_audit_log_is_append_only_in_the_database() {
    let server = start(Limits::default());
    let a = org(&server, "alpha");
    assert_eq!(login(&server, &a.admin_email, PASSWORD).status, 303);
    let location = server.location.clone();
    quell_server::block_on(async move {
        let db = open(location).await;
        let n: i64 =
            quell_store::sqlx::query_scalar("SELECT COUNT(*) FROM audit_log").fetch_one(&db.pool).await.unwrap();
        assert!(n >= 1);
        assert!(quell_store::sqlx::query("UPDATE audit_log SET action = 'x'").execute(&db.pool).await.is_err());
        assert!(quell_store::sqlx::query("DELETE FROM audit_log").execute(&db.pool).await.is_err());
    })
    .unwrap();
}

fn reset_secret(url: &str) -> String {
    url.rsplit_once("/reset/").unwrap().1.to_string()
}

#[test]
fn admins_issue_one_time_reset_links_that_expire() {
    // Expiry is kept in whole seconds, so a link lives between LIFETIME - 1 and LIFETIME seconds:
    // long enough for the steps below on a loaded machine, short enough to wait out.
    const LIFETIME: u64 = 8;
    let limits = Limits { password_reset_lifetime: std::time::Duration::from_secs(LIFETIME), ..Limits::default() };
    let server = start(limits);
    let coord = coordinator(&server);
    let a = org(&server, "alpha");
    let b = org(&server, "bravo");
    let member = member_id(&server, &a.full, "member@alpha.example");
    let cookie = session(&server, "member@alpha.example");
    let path = format!("/api/v1/users/{member}/reset-link");

    // Scope: another organisation's admin, a member, one's own account.
    assert_eq!(post(&server, &b.full, &path).0, 404);
    assert_eq!(post(&server, &a.member_full, &path).0, 403);
    let admin = member_id(&server, &a.full, &a.admin_email);
    assert_eq!(post(&server, &a.full, &format!("/api/v1/users/{admin}/reset-link")).0, 403);

    let (status, first) = post(&server, &a.full, &path);
    assert_eq!(status, 201, "{first}");
    assert_eq!((first["email"].as_str(), first["emailed"].as_bool()), (Some("member@alpha.example"), Some(false)));
    let first = reset_secret(first["url"].as_str().unwrap());
    // A newer link (here a coordinator's) retires the older one.
    let (status, second) = post(&server, &coord, &path);
    assert_eq!(status, 201, "{second}");
    let second = reset_secret(second["url"].as_str().unwrap());
    assert_eq!(fetch(&server, "GET", &format!("/reset/{first}"), "", None).status, 404, "retired");
    let form = fetch(&server, "GET", &format!("/reset/{second}"), "", None);
    assert_eq!(form.status, 200);
    assert!(form.body.contains("member@alpha.example"), "{}", form.body);

    let set = |secret: &str, new: &str, repeat: &str| {
        fetch(&server, "POST", &format!("/reset/{secret}"), "", Some(&[("new", new), ("repeat", repeat)]))
    };
    assert_eq!(set(&second, "a new passphrase here", "a different one here").status, 400);
    assert_eq!(set(&second, "short", "short").status, 400, "too short; the link stays usable");
    let done = set(&second, "a new passphrase here", "a new passphrase here");
    assert_eq!((done.status, done.location.as_deref()), (303, Some("/login")), "{}", done.body);
    assert_ne!(fetch(&server, "GET", "/", &cookie, None).status, 200, "the sessions ended");
    assert_eq!(login(&server, "member@alpha.example", PASSWORD).status, 401);
    assert_eq!(login(&server, "member@alpha.example", "a new passphrase here").status, 303);
    assert_eq!(set(&second, "another passphrase!", "another passphrase!").status, 404, "used once");
    assert_eq!(fetch(&server, "GET", "/reset/qr_guessed", "", None).status, 404);

    // Expiry (LIFETIME here), and a disabled account's link is dead too.
    let (_, third) = post(&server, &a.full, &path);
    let third = reset_secret(third["url"].as_str().unwrap());
    std::thread::sleep(std::time::Duration::from_secs(LIFETIME + 1));
    assert_eq!(set(&third, "expired passphrase", "expired passphrase").status, 404, "expired");
    let (_, fourth) = post(&server, &a.full, &path);
    let fourth = reset_secret(fourth["url"].as_str().unwrap());
    assert_eq!(post(&server, &a.full, &format!("/api/v1/users/{member}/disable")).0, 200);
    assert_eq!(set(&fourth, "disabled passphrase", "disabled passphrase").status, 404, "disabled account");

    let (_, log) = get(&server, &a.full, "/api/v1/audit");
    let actions: Vec<&str> = log.as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions.iter().filter(|a| **a == "password_reset_issued").count(), 4, "{actions:?}");
    assert_eq!(actions.iter().filter(|a| **a == "password_reset").count(), 1, "{actions:?}");
    assert!(!log.to_string().contains(&second), "the secret is never logged");
}

#[test]
fn accounts_pages_manage_users_passwords_and_the_audit_log() {
    let server = start(Limits::default());
    let a = org(&server, "alpha");
    let b = org(&server, "bravo");
    let member = member_id(&server, &a.full, "member@alpha.example");
    let admin_cookie = session(&server, &a.admin_email);
    let member_cookie = session(&server, "member@alpha.example");

    let users = fetch(&server, "GET", "/users", &admin_cookie, None);
    assert_eq!(users.status, 200);
    assert!(users.body.contains("member@alpha.example") && !users.body.contains("bravo"), "{}", users.body);
    assert_eq!(fetch(&server, "GET", "/users", &member_cookie, None).status, 403);
    assert_eq!(fetch(&server, "GET", "/audit", &member_cookie, None).status, 403);
    let token = csrf(&users.body);

    // Forms need the session's token; another organisation's account is not found.
    let disable = format!("/users/{member}/disable");
    assert_eq!(fetch(&server, "POST", &disable, &admin_cookie, Some(&[("csrf", "forged")])).status, 403);
    let bravo_admin = member_id(&server, &b.full, &b.admin_email);
    let other = format!("/users/{bravo_admin}/disable");
    assert_eq!(fetch(&server, "POST", &other, &admin_cookie, Some(&[("csrf", &token)])).status, 404);
    let done = fetch(&server, "POST", &disable, &admin_cookie, Some(&[("csrf", &token)]));
    assert_eq!(done.status, 303, "{}", done.body);
    assert_ne!(fetch(&server, "GET", "/", &member_cookie, None).status, 200, "the member's session ended");
    let enable = format!("/users/{member}/enable");
    assert_eq!(fetch(&server, "POST", &enable, &admin_cookie, Some(&[("csrf", &token)])).status, 303);

    // A reset link through the page: shown once, then usable by the member.
    let reset =
        fetch(&server, "POST", &format!("/users/{member}/reset-link"), &admin_cookie, Some(&[("csrf", &token)]));
    assert_eq!(reset.status, 200, "{}", reset.body);
    let at = reset.body.find("/reset/qr_").expect("the link is shown");
    let secret: String =
        reset.body[at + "/reset/".len()..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
    let form = &[("new", "set through a link"), ("repeat", "set through a link")];
    assert_eq!(fetch(&server, "POST", &format!("/reset/{secret}"), "", Some(form)).status, 303);
    assert_eq!(login(&server, "member@alpha.example", "set through a link").status, 303);

    // One's own password through the page.
    let page = fetch(&server, "GET", "/account/password", &admin_cookie, None);
    assert_eq!(page.status, 200);
    let wrong = [
        ("csrf", token.as_str()),
        ("current", "not my password"),
        ("new", "my new passphrase"),
        ("repeat", "my new passphrase"),
    ];
    assert_eq!(fetch(&server, "POST", "/account/password", &admin_cookie, Some(&wrong)).status, 403);
    let right = [
        ("csrf", token.as_str()),
        ("current", PASSWORD),
        ("new", "my new passphrase"),
        ("repeat", "my new passphrase"),
    ];
    let changed = fetch(&server, "POST", "/account/password", &admin_cookie, Some(&right));
    assert_eq!((changed.status, changed.location.as_deref()), (303, Some("/login")));
    let admin_cookie = {
        let page = login(&server, &a.admin_email, "my new passphrase");
        page.cookies.into_iter().find(|c| c.starts_with("quell_session=")).unwrap()
    };

    // The audit page and its exports, for the admin's organisation.
    let audit = fetch(&server, "GET", "/audit?action=account_disabled", &admin_cookie, None);
    assert_eq!(audit.status, 200);
    let table = &audit.body[audit.body.find("<table id=\"audit\"").unwrap()..];
    assert!(table.contains("member@alpha.example") && table.contains(">account disabled<"), "{}", audit.body);
    assert!(!table.contains(">account enabled<"), "only the action asked for: {}", audit.body);
    let csv = fetch(&server, "GET", "/audit/export.csv", &admin_cookie, None);
    assert_eq!(csv.status, 200);
    let mut lines = csv.body.lines();
    assert_eq!(lines.next(), Some("id,at,actor,action,org_id,target,detail"));
    let rows: Vec<&str> = lines.collect();
    for action in ["account_disabled", "account_enabled", "password_reset_issued", "password_reset", "password_changed"]
    {
        assert!(rows.iter().any(|r| r.contains(&format!(",{action},"))), "{action} in the CSV export:\n{}", csv.body);
    }
    assert!(!csv.body.contains("bravo"), "only alpha's events");
    let jsonl = fetch(&server, "GET", "/audit/export.jsonl", &admin_cookie, None);
    assert_eq!(jsonl.body.lines().count(), rows.len(), "the same events as JSON lines");
    for line in jsonl.body.lines() {
        let event: Value = serde_json::from_str(line).unwrap();
        assert_eq!(event["org_id"], a.id);
    }
}

#[test]
fn inventory_reads_and_exports_are_audited_for_the_organisation() {
    let server = start(Limits::default());
    let coord = coordinator(&server);
    let a = org(&server, "alpha");
    let b = org(&server, "bravo");
    assert_eq!(upload(&server, &a.upload, &report("web-01", &days_ago(0), 1, 0, "a")).0, 201);
    assert_eq!(
        send(
            &server,
            "PUT",
            &a.full,
            "/api/v1/sharing",
            br#"{"shares_details":true}"#,
            &[("Content-Type", "application/json")]
        )
        .0,
        200
    );
    let (_, hosts) = get(&server, &a.full, "/api/v1/hosts");
    let host = hosts.as_array().unwrap()[0]["id"].as_i64().unwrap();
    assert_eq!(get(&server, &a.member_full, "/api/v1/inventory").0, 200);
    assert_eq!(get(&server, &a.member_full, &format!("/api/v1/hosts/{host}")).0, 200);
    assert_eq!(get(&server, &coord, &format!("/api/v1/orgs/{}/inventory", a.id)).0, 200);
    assert_eq!(get(&server, &coord, &format!("/api/v1/orgs/{}/hosts", a.id)).0, 200);
    let page = fetch(&server, "GET", &format!("/hosts/{host}"), &session(&server, &a.admin_email), None);
    assert_eq!(page.status, 200);

    let (_, log) = get(&server, &a.full, "/api/v1/audit");
    let seen = |actor: &str, action: &str, what: &str, detail: &str| {
        log.as_array().unwrap().iter().any(|e| {
            e["actor"] == actor
                && e["action"] == action
                && e["detail"] == detail
                && e["target"].as_str().unwrap().contains(what)
        })
    };
    assert!(seen("member@alpha.example", "inventory_exported", "GET /api/v1/inventory", "api"), "{log}");
    assert!(seen("member@alpha.example", "inventory_read", &format!("host:{host}"), "api"), "{log}");
    assert!(seen("cert@ncsc.example", "inventory_exported", &format!("/orgs/{}/inventory", a.id), "api"), "{log}");
    assert!(seen("cert@ncsc.example", "inventory_exported", &format!("/orgs/{}/hosts", a.id), "api"), "{log}");
    assert!(seen(&a.admin_email, "inventory_read", &format!("host:{host}"), "page"), "{log}");
    let (_, theirs) = get(&server, &b.full, "/api/v1/audit");
    assert!(!theirs.to_string().contains("inventory"), "bravo does not see alpha's: {theirs}");
    // The API's export formats; an unknown one is refused.
    assert_eq!(get(&server, &a.full, "/api/v1/audit?format=xml").0, 400);
}
