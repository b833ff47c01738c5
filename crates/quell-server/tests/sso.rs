//! Single sign-on (issue 18) against a real OpenID Connect provider started on loopback by the
//! test: panva's `oidc-provider` from npm (pinned in scripts/oidc-provider, installed by
//! `scripts/test` into target/oidc-node; `QUELL_OIDC_PROVIDER` names its script). The browser is
//! played by following redirects with a cookie jar. Covers: the authorisation code flow with
//! PKCE, accounts created and found from the claims (organisation, role), refusals (unknown
//! organisation, unverified e-mail, a replayed or made-up state), a provider-side second factor
//! (`amr`) honoured by the two-factor policy, and the audit trail. SQLite, and PostgreSQL under
//! `scripts/test`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};

use common::*;
use quell_server::ServeConfig;
use serde_json::json;

struct Provider {
    child: Child,
    issuer: String,
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// The provider script, or `None` (then the test is skipped unless `QUELL_REQUIRE_OIDC` is set).
fn provider_script() -> Option<String> {
    match std::env::var("QUELL_OIDC_PROVIDER") {
        Ok(path) if std::path::Path::new(&path).exists() => Some(path),
        _ => {
            assert!(
                std::env::var_os("QUELL_REQUIRE_OIDC").is_none(),
                "QUELL_OIDC_PROVIDER must name scripts/oidc-provider/provider.mjs installed with its node_modules"
            );
            eprintln!("skipped: no OpenID provider (set QUELL_OIDC_PROVIDER; scripts/test does)");
            None
        }
    }
}

fn start_provider(script: &str, port: u16, redirect: &str) -> Provider {
    let accounts = json!({
        "ann": {"email": "ann@alpha.example", "email_verified": true, "quell_org": "alpha", "quell_role": ["member", "admin"]},
        "bob": {"email": "bob@nowhere.example", "email_verified": true, "quell_org": "nowhere", "quell_role": "member"},
        "carl": {"email": "carl@alpha.example", "email_verified": false, "quell_org": "alpha"},
        "dora": {"email": "dora@ncsc.example", "email_verified": true, "quell_role": "coordinator", "amr": ["pwd", "otp"]},
        "eve": {"email": "eve@ncsc.example", "email_verified": true, "quell_role": "coordinator"}
    });
    let mut child = Command::new("node")
        .arg(script)
        .arg(port.to_string())
        .arg(redirect)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("node runs");
    child.stdin.take().unwrap().write_all(accounts.to_string().as_bytes()).unwrap();
    let mut line = String::new();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    stdout.read_line(&mut line).unwrap();
    // Keep reading what it prints later: a closed pipe would end it with EPIPE.
    std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
    assert!(line.starts_with("listening "), "the provider started: {line:?}");
    Provider { child, issuer: line.trim_start_matches("listening ").trim().to_string() }
}

fn start_quell(issuer: &str) -> Server {
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let dir = tempfile::tempdir().unwrap();
    let config = ServeConfig {
        listen: format!("127.0.0.1:{port}").parse().unwrap(),
        sso: Some(quell_server::sso::Config {
            issuer: issuer.to_string(),
            client_id: "quell".into(),
            client_secret: "quell-test-client-secret".into(),
            redirect_url: format!("{base}/login/oidc/callback"),
            org_claim: quell_server::sso::Config::DEFAULT_ORG_CLAIM.into(),
            role_claim: quell_server::sso::Config::DEFAULT_ROLE_CLAIM.into(),
            scopes: vec!["email".into(), "profile".into(), "quell".into()],
        }),
        ..test_config(fresh_location(dir.path()))
    };
    start_config(config, dir)
}

/// The end of a walk through the provider: the last answer (from quell), the callback URL that
/// led to it, and quell's cookies.
struct Walk {
    last: Page,
    callback: String,
}

/// Plays the browser: starts at quell's `/login/oidc?login_hint=`, follows every redirect
/// (carrying each origin's cookies) until quell answers something that is not a redirect to
/// the provider.
fn walk(server: &Server, provider: &Provider, who: &str) -> Walk {
    let mut jar: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    let mut url = format!("{}/login/oidc?login_hint={who}", server.base);
    let mut callback = String::new();
    for _ in 0..20 {
        let origin = url.split('/').take(3).collect::<Vec<_>>().join("/");
        let cookies = jar.entry(origin.clone()).or_default();
        let cookie = cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ");
        let request = ureq::http::Request::builder().method("GET").uri(&url);
        let request = if cookie.is_empty() { request } else { request.header("Cookie", &cookie) };
        let mut response = browser().run(request.body(Vec::new()).unwrap()).unwrap();
        for value in response.headers().get_all("set-cookie") {
            let pair = value.to_str().unwrap().split(';').next().unwrap();
            if let Some((name, value)) = pair.split_once('=') {
                cookies.insert(name.to_string(), value.to_string());
            }
        }
        let status = response.status().as_u16();
        let location = response.headers().get("location").map(|v| v.to_str().unwrap().to_string());
        let set: Vec<String> = response
            .headers()
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_string())
            .collect();
        let body = response.body_mut().read_to_string().unwrap_or_default();
        let from_quell = origin == server.base;
        match location {
            Some(next) if (300..400).contains(&status) && (!from_quell || next.starts_with(&provider.issuer)) => {
                url = if next.starts_with("http") { next } else { format!("{origin}{next}") };
                if url.starts_with(&format!("{}/login/oidc/callback", server.base)) {
                    callback = url.clone();
                }
            }
            location => return Walk { last: Page { status, body, cookies: set, location }, callback },
        }
    }
    panic!("too many redirects");
}

fn session_of(walk: &Walk) -> String {
    assert_eq!((walk.last.status, walk.last.location.as_deref()), (303, Some("/")), "{}", walk.last.body);
    walk.last.cookies.iter().find(|c| c.starts_with("quell_session=")).cloned().expect("a session")
}

#[test]
fn single_sign_on_with_a_real_openid_provider() {
    let Some(script) = provider_script() else { return };
    // quell reads the provider's discovery document at the first login, so it starts first (its
    // callback URL is registered at the provider).
    let provider_port = free_port();
    let issuer = format!("http://127.0.0.1:{provider_port}");
    let server = start_quell(&issuer);
    let provider = start_provider(&script, provider_port, &format!("{}/login/oidc/callback", server.base));
    assert_eq!(provider.issuer, issuer);
    let alpha = org(&server, "alpha");
    let coord = coordinator(&server);

    // The login page offers single sign-on.
    let login = fetch(&server, "GET", "/login", "", None);
    assert!(login.body.contains("href=\"/login/oidc\""), "{}", login.body);

    // Ann: the provider says admin of alpha; the account is created on her first login.
    let first = walk(&server, &provider, "ann");
    let cookie = session_of(&first);
    assert_eq!(fetch(&server, "GET", "/", &cookie, None).status, 200);
    let (_, users) = get(&server, &alpha.full, "/api/v1/users");
    let ann = users.as_array().unwrap().iter().find(|u| u["email"] == "ann@alpha.example").cloned().expect("created");
    assert_eq!(ann["role"], "admin", "{users}");
    // Her second login finds the same account.
    let _ = session_of(&walk(&server, &provider, "ann"));
    let (_, users) = get(&server, &alpha.full, "/api/v1/users");
    assert_eq!(users.as_array().unwrap().iter().filter(|u| u["email"] == "ann@alpha.example").count(), 1);
    // The callback of a finished login cannot be replayed, nor a state made up.
    let replay = fetch(&server, "GET", first.callback.trim_start_matches(&server.base), "", None);
    assert_eq!(replay.status, 403, "{}", replay.body);
    assert!(replay.body.contains("start again"), "{}", replay.body);
    let forged = fetch(&server, "GET", "/login/oidc/callback?code=x&state=made-up", "", None);
    assert_eq!(forged.status, 403);

    // Refusals: an organisation quell does not have, an unverified address.
    let bob = walk(&server, &provider, "bob");
    assert_eq!(bob.last.status, 403);
    assert!(bob.last.body.contains("does not exist here"), "{}", bob.last.body);
    let carl = walk(&server, &provider, "carl");
    assert_eq!(carl.last.status, 403);
    assert!(carl.last.body.contains("not verified"), "{}", carl.last.body);

    // Under the coordinators' policy: Dora's provider checked a second factor (amr otp), so her
    // session needs no enrolment here; Eve's did not, so she is sent to enrol.
    let json_header = [("Content-Type", "application/json")];
    let (status, body) =
        send(&server, "PUT", &coord, "/api/v1/two-factor/policy", br#"{"policy":"coordinators"}"#, &json_header);
    assert_eq!(status, 200, "{body}");
    let dora = session_of(&walk(&server, &provider, "dora"));
    assert_eq!(fetch(&server, "GET", "/", &dora, None).status, 200, "the provider's second factor counts");
    let eve = session_of(&walk(&server, &provider, "eve"));
    let home = fetch(&server, "GET", "/", &eve, None);
    assert_eq!((home.status, home.location.as_deref()), (303, Some("/account/two-factor")));

    // The audit log: created by single sign-on, logged in through it.
    let page = fetch(&server, "GET", "/audit/export.jsonl", &dora, None);
    assert_eq!(page.status, 200);
    let events: Vec<serde_json::Value> = page.body.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(
        events
            .iter()
            .any(|e| e["action"] == "account_created" && e["target"].as_str().unwrap().contains("ann@alpha.example")),
        "{}",
        page.body
    );
    assert!(
        events.iter().any(|e| e["action"] == "login" && e["detail"].as_str().unwrap().ends_with("sso two-factor")),
        "{}",
        page.body
    );
}
