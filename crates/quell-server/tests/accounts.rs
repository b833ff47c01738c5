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
