//! Two-factor login (issue 18): TOTP enrolment with a QR code and a first code, recovery codes,
//! the code step of the login (a code works once, wrong codes end the attempt and count towards
//! the login limits), the coordinators' policy (coordinators must enrol before anything else;
//! under `sensitive`, AMBER+STRICT and RED only for credentials with a second factor), removal
//! by an administrator, and the audit trail. The test computes its codes with its own RFC 6238
//! implementation (HMAC-SHA-1 from the `hmac` and `sha1` crates), not with the server's.
//! SQLite, and PostgreSQL under `scripts/test`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use hmac::{KeyInit, Mac};
use quell_server::Limits;
use serde_json::json;

/// RFC 4648 base32 (upper case, no padding), as authenticator apps read the key.
fn base32_decode(text: &str) -> Vec<u8> {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut bits: u64 = 0;
    let mut count = 0;
    let mut out = Vec::new();
    for c in text.trim_end_matches('=').bytes() {
        let value = ALPHABET.iter().position(|&a| a == c).expect("base32") as u64;
        bits = (bits << 5) | value;
        count += 5;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
            bits &= (1 << count) - 1;
        }
    }
    out
}

/// RFC 6238 with HMAC-SHA-1, 30-second steps, 6 digits: the code of `step`.
fn totp_code(secret_base32: &str, step: u64) -> String {
    let mut mac = hmac::Hmac::<sha1::Sha1>::new_from_slice(&base32_decode(secret_base32)).unwrap();
    mac.update(&step.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = (digest[19] & 0x0f) as usize;
    let number =
        u32::from_be_bytes([digest[offset] & 0x7f, digest[offset + 1], digest[offset + 2], digest[offset + 3]]);
    format!("{:06}", number % 1_000_000)
}

fn step_now() -> u64 {
    quell_server::now() as u64 / 30
}

fn secret_of(page: &str) -> String {
    let at = page.find("<code id=\"secret\">").expect("the key is shown") + "<code id=\"secret\">".len();
    page[at..].split('<').next().unwrap().to_string()
}

fn recovery_codes(page: &str) -> Vec<String> {
    let list = &page[page.find("id=\"recovery-codes\"").expect("recovery codes")..];
    let list = &list[..list.find("</ul>").unwrap()];
    list.split("<code>").skip(1).map(|c| c.split('<').next().unwrap().to_string()).collect()
}

fn cookie_named(page: &Page, name: &str) -> String {
    page.cookies.iter().find(|c| c.starts_with(&format!("{name}="))).cloned().unwrap_or_default()
}

/// Enrols the account of session `cookie`: returns the TOTP key, the step used to confirm and
/// the recovery codes.
fn enrol(server: &Server, cookie: &str) -> (String, u64, Vec<String>) {
    let page = fetch(server, "GET", "/account/two-factor", cookie, None);
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("<svg"), "a QR code: {}", page.body);
    let secret = secret_of(&page.body);
    let token = csrf(&page.body);
    // A wrong first code is refused, and the page shows a new key: enrol with that one.
    let wrong_code = if totp_code(&secret, step_now()) == "000000" { "111111" } else { "000000" };
    let wrong = fetch(server, "POST", "/account/two-factor", cookie, Some(&[("csrf", &token), ("code", wrong_code)]));
    assert_eq!(wrong.status, 400, "{}", wrong.body);
    let (secret, token) = (secret_of(&wrong.body), csrf(&wrong.body));
    let step = step_now();
    let code = totp_code(&secret, step);
    let done = fetch(server, "POST", "/account/two-factor", cookie, Some(&[("csrf", &token), ("code", &code)]));
    assert_eq!(done.status, 200, "{}", done.body);
    let codes = recovery_codes(&done.body);
    assert_eq!(codes.len(), 10, "{}", done.body);
    (secret, step, codes)
}

/// Logs in with a password; with a second factor that is the code page and its pending cookie.
fn password_step(server: &Server, email: &str) -> Page {
    login(server, email, PASSWORD)
}

fn code_step(server: &Server, pending: &Page, code: &str) -> Page {
    fetch(server, "POST", "/login/code", &cookie_named(pending, "quell_pending"), Some(&[("code", code)]))
}

fn audit_actions(server: &Server, coordinator: &str) -> Vec<(String, String)> {
    let (status, events) = get(server, coordinator, "/api/v1/audit?limit=1000");
    assert_eq!(status, 200, "{events}");
    events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["action"].as_str().unwrap().to_string(), e["detail"].as_str().unwrap_or("").to_string()))
        .collect()
}

#[test]
fn totp_enrolment_login_recovery_codes_and_replays() {
    let server = start(Limits::default());
    let alpha = org(&server, "alpha");
    let coord = coordinator(&server);
    let admin_cookie = session(&server, &alpha.admin_email);

    let (secret, enrolled_at, codes) = enrol(&server, &admin_cookie);
    let state = fetch(&server, "GET", "/account/two-factor", &admin_cookie, None);
    assert!(
        state.body.contains("id=\"enrolled\"") && state.body.contains("10 unused recovery codes"),
        "{}",
        state.body
    );

    // The password alone no longer logs in: it opens the code step.
    let pending = password_step(&server, &alpha.admin_email);
    assert_eq!(pending.status, 200, "{}", pending.body);
    assert!(cookie_named(&pending, "quell_session").is_empty(), "no session before the code");
    assert!(pending.body.contains("action=\"/login/code\""), "{}", pending.body);
    // The code that confirmed the enrolment was spent: replaying it fails.
    let replay = code_step(&server, &pending, &totp_code(&secret, enrolled_at));
    assert_eq!(replay.status, 401, "{}", replay.body);
    // The next step's code (one step of clock drift is accepted) logs in, once.
    let next = totp_code(&secret, enrolled_at + 1);
    let ok = code_step(&server, &pending, &next);
    assert_eq!((ok.status, ok.location.as_deref()), (303, Some("/")), "{}", ok.body);
    let cookie = cookie_named(&ok, "quell_session");
    assert_eq!(fetch(&server, "GET", "/", &cookie, None).status, 200);
    let again = password_step(&server, &alpha.admin_email);
    assert_eq!(code_step(&server, &again, &next).status, 401, "a code works once");

    // A recovery code (typed loosely) logs in once.
    let pending = password_step(&server, &alpha.admin_email);
    let loose = codes[0].to_uppercase().replace('-', " ");
    assert_eq!(code_step(&server, &pending, &loose).status, 303);
    let pending = password_step(&server, &alpha.admin_email);
    assert_eq!(code_step(&server, &pending, &codes[0]).status, 401, "a recovery code works once");

    // Wrong codes end the attempt after five: the sixth, even right, needs the password again.
    let pending = password_step(&server, &alpha.admin_email);
    for _ in 0..5 {
        assert_eq!(code_step(&server, &pending, "123456").status, 401);
    }
    let late = code_step(&server, &pending, &codes[1]);
    assert_eq!(late.status, 401);
    assert!(late.body.contains("Log in again"), "{}", late.body);
    // Without the pending cookie there is nothing to complete.
    let bare = fetch(&server, "POST", "/login/code", "", Some(&[("code", &codes[1])]));
    assert_eq!((bare.status, bare.location.as_deref()), (303, Some("/login")));

    // The account list shows who has a second factor; the admin removes a member's lost one.
    let member_cookie = session(&server, "member@alpha.example");
    let _ = enrol(&server, &member_cookie);
    let (_, users) = get(&server, &alpha.full, "/api/v1/users");
    let member = users.as_array().unwrap().iter().find(|u| u["email"] == "member@alpha.example").unwrap().clone();
    assert_eq!(member["two_factor"], true, "{users}");
    let member_id = member["id"].as_i64().unwrap();
    let (status, _) =
        send(&server, "DELETE", &alpha.member_full, &format!("/api/v1/users/{member_id}/two-factor"), b"", &[]);
    assert_eq!(status, 403, "not even their own, without a code");
    let (status, body) =
        send(&server, "DELETE", &alpha.full, &format!("/api/v1/users/{member_id}/two-factor"), b"", &[]);
    assert_eq!(status, 204, "{body}");
    assert_eq!(login(&server, "member@alpha.example", PASSWORD).status, 303, "password alone again");

    let actions = audit_actions(&server, &coord);
    for wanted in ["two_factor_enabled", "two_factor_removed"] {
        assert!(actions.iter().any(|(a, _)| a == wanted), "{wanted} in {actions:?}");
    }
    assert!(actions.iter().any(|(a, d)| a == "login" && d.ends_with("two-factor")), "{actions:?}");
    assert!(actions.iter().any(|(a, d)| a == "login_failed" && d.ends_with("second factor")), "{actions:?}");
}

#[test]
fn the_policy_sends_coordinators_to_enrol_and_keeps_strict_markings_from_single_factor_credentials() {
    let server = start(Limits::default());
    let alpha = org(&server, "alpha");
    let coord = coordinator(&server);
    let (status, body) = get(&server, &alpha.full, "/api/v1/two-factor/policy");
    assert_eq!((status, body["policy"].as_str()), (200, Some("off")));
    let put = |token: &str, policy: &str| {
        send(
            &server,
            "PUT",
            token,
            "/api/v1/two-factor/policy",
            json!({ "policy": policy }).to_string().as_bytes(),
            &[("Content-Type", "application/json")],
        )
    };
    assert_eq!(put(&alpha.full, "coordinators").0, 403, "only coordinators set it");
    assert_eq!(put(&coord, "everyone").0, 400);

    // An AMBER+STRICT advisory for alpha, published while the policy is off.
    let draft = json!({
        "content": {
            "title": "Strictly for alpha", "summary": "s", "cves": ["CVE-2021-44228"],
            "products": [{"supplier": "Apache", "product": "Log4j", "versions": "2.14.1"}],
            "consequences": "c", "solution": "Update.", "references": [],
            "rating": log4shell_rating(),
            "tlp": "AMBER+STRICT"
        },
        "recipients": {"orgs": [alpha.id], "users": [], "match_inventory": false}
    });
    let json_header = [("Content-Type", "application/json")];
    let (status, created) =
        send(&server, "POST", &coord, "/api/v1/advisories", draft.to_string().as_bytes(), &json_header);
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_i64().unwrap();
    let (status, body) =
        send(&server, "POST", &coord, &format!("/api/v1/advisories/{id}/publish"), b"{}", &json_header);
    assert_eq!(status, 200, "{body}");
    let advisory = format!("/api/v1/advisories/{id}");
    assert_eq!(get(&server, &alpha.member_full, &advisory).0, 200);

    // `coordinators`: a coordinator without a second factor is sent to enrol, and its tokens
    // are refused until it has; organisation users are not affected.
    let (status, body) = put(&coord, "coordinators");
    assert_eq!((status, body["policy"].as_str()), (200, Some("coordinators")), "{body}");
    let (status, body) = get(&server, &coord, "/api/v1/orgs");
    assert_eq!(status, 403, "{body}");
    assert!(body["message"].as_str().unwrap_or("").contains("two-factor"), "{body}");
    assert_eq!(get(&server, &alpha.member_full, &advisory).0, 200);
    let coord_cookie = session(&server, "cert@ncsc.example");
    let home = fetch(&server, "GET", "/", &coord_cookie, None);
    assert_eq!((home.status, home.location.as_deref()), (303, Some("/account/two-factor")));
    let enrol_page = fetch(&server, "GET", "/account/two-factor", &coord_cookie, None);
    assert!(enrol_page.body.contains("id=\"must-enrol\""), "{}", enrol_page.body);
    let (secret, step, _) = enrol(&server, &coord_cookie);
    assert_eq!(fetch(&server, "GET", "/", &coord_cookie, None).status, 200, "this session proved the factor");
    assert_eq!(get(&server, &coord, "/api/v1/orgs").0, 200, "the account has a second factor now");
    // A coordinator cannot turn off what the policy requires.
    let page = fetch(&server, "GET", "/account/two-factor", &coord_cookie, None);
    let code = totp_code(&secret, step + 1);
    let off = fetch(
        &server,
        "POST",
        "/account/two-factor/remove",
        &coord_cookie,
        Some(&[("csrf", &csrf(&page.body)), ("code", &code)]),
    );
    assert_eq!(off.status, 403, "{}", off.body);

    // `sensitive`: AMBER+STRICT and RED only for credentials with a second factor.
    assert_eq!(put(&coord, "sensitive").0, 200);
    assert_eq!(get(&server, &alpha.member_full, &advisory).0, 404, "the member has no second factor");
    let member_cookie = session(&server, "member@alpha.example");
    let list = fetch(&server, "GET", "/advisories", &member_cookie, None);
    assert!(!list.body.contains("Strictly for alpha"), "{}", list.body);
    let _ = enrol(&server, &member_cookie);
    assert_eq!(get(&server, &alpha.member_full, &advisory).0, 200, "a token of an account with a second factor");
    let list = fetch(&server, "GET", "/advisories", &member_cookie, None);
    assert!(list.body.contains("Strictly for alpha"), "the session that enrolled: {}", list.body);

    // The policy form on the accounts page.
    let users = fetch(&server, "GET", "/users", &coord_cookie, None);
    assert!(users.body.contains("id=\"two-factor-policy\""), "{}", users.body);
    let set = fetch(
        &server,
        "POST",
        "/users/two-factor-policy",
        &coord_cookie,
        Some(&[("csrf", &csrf(&users.body)), ("policy", "off")]),
    );
    assert_eq!(set.status, 303, "{}", set.body);
    let (_, body) = get(&server, &alpha.full, "/api/v1/two-factor/policy");
    assert_eq!(body["policy"], "off");
    let actions = audit_actions(&server, &coord);
    let policies: Vec<&str> =
        actions.iter().filter(|(a, _)| a == "two_factor_policy").map(|(_, d)| d.as_str()).collect::<Vec<_>>();
    assert_eq!(policies, ["off", "sensitive", "coordinators"], "newest first: {actions:?}");
}
