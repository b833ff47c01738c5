//! The web pages: login with a CSRF-bound form, failed-login rate limit, sessions, CSRF on every
//! form, organisation isolation of every page, the coordinator's counts-only dashboard.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use quell_server::Limits;

#[test]
fn login_logout_and_pages() {
    let server = start(Limits::default());
    let a = org(&server, "alpha");
    upload(&server, &a.upload, &report("alpha-web", &days_ago(1), 2, 1, "alpha-path"));
    upload(&server, &a.upload, &report("alpha-web", &days_ago(0), 1, 2, "alpha-path"));

    // Pages need a session.
    let page = fetch(&server, "GET", "/", "", None);
    assert_eq!((page.status, page.location.as_deref()), (303, Some("/login")));

    let cookie = session(&server, &a.admin_email);
    let dashboard = fetch(&server, "GET", "/", &cookie, None);
    assert_eq!(dashboard.status, 200);
    assert!(dashboard.body.contains("<svg") && dashboard.body.contains("polyline"), "trend chart");
    assert!(dashboard.body.contains("2.14.1") && dashboard.body.contains("CVE-2021-44228"));

    let hosts = fetch(&server, "GET", "/hosts", &cookie, None);
    assert!(hosts.body.contains("alpha-web"));
    let href = hosts.body.split("href=\"/hosts/").nth(1).unwrap().split('"').next().unwrap().to_string();
    let detail = fetch(&server, "GET", &format!("/hosts/{href}"), &cookie, None);
    assert_eq!(detail.status, 200);
    assert!(detail.body.contains("AFFECTED") && detail.body.contains("/srv/alpha-path/app0.war"));
    assert!(detail.body.contains("corrupt zip archive"));

    let search = fetch(&server, "GET", "/search?component=log4j-core&version=2.17.1", &cookie, None);
    assert!(search.body.contains("2 copies"), "{}", search.body);

    // Markup in data is escaped.
    upload(&server, &a.upload, &report("<script>x</script>", &days_ago(0), 1, 0, "esc"));
    let hosts = fetch(&server, "GET", "/hosts", &cookie, None);
    assert!(!hosts.body.contains("<script>x") && hosts.body.contains("&lt;script&gt;"));

    // Log out needs the form token; afterwards the session is gone.
    let page = fetch(&server, "POST", "/logout", &cookie, Some(&[("csrf", "wrong")]));
    assert_eq!(page.status, 403);
    let token = csrf(&dashboard.body);
    let page = fetch(&server, "POST", "/logout", &cookie, Some(&[("csrf", &token)]));
    assert_eq!(page.status, 303);
    assert_eq!(fetch(&server, "GET", "/", &cookie, None).status, 303);
}

#[test]
fn login_is_csrf_bound_and_rate_limited() {
    let server = start(Limits::default());
    let a = org(&server, "alpha");
    // Without the cookie that goes with the form's token: refused.
    let form = fetch(&server, "GET", "/login", "", None);
    let token = csrf(&form.body);
    let page = fetch(
        &server,
        "POST",
        "/login",
        "",
        Some(&[("email", &a.admin_email), ("password", PASSWORD), ("csrf", &token)]),
    );
    assert_eq!(page.status, 403);

    for _ in 0..5 {
        assert_eq!(login(&server, &a.admin_email, "wrong password!").status, 401);
    }
    // The sixth attempt is refused before the password is checked, even the right one.
    let page = login(&server, &a.admin_email, PASSWORD);
    assert_eq!(page.status, 429, "{}", page.body);
    // Another account is not locked out by it.
    assert_eq!(login(&server, &format!("member@{}.example", a.name), PASSWORD).status, 303);
}

#[test]
fn forms_need_the_session_csrf_token() {
    let server = start(Limits::default());
    let a = org(&server, "alpha");
    let cookie = session(&server, &a.admin_email);
    let page = fetch(&server, "POST", "/tokens", &cookie, Some(&[("name", "x"), ("scope", "full"), ("csrf", "")]));
    assert_eq!(page.status, 403);
    let tokens = fetch(&server, "GET", "/tokens", &cookie, None);
    let token = csrf(&tokens.body);
    let page =
        fetch(&server, "POST", "/tokens", &cookie, Some(&[("name", "agents"), ("scope", "upload"), ("csrf", &token)]));
    assert_eq!(page.status, 200);
    let secret = page.body.split("id=\"new-token\">").nth(1).unwrap().split('<').next().unwrap().to_string();
    assert!(secret.starts_with("qt_"));
    assert_eq!(upload(&server, &secret, &report("h", &days_ago(0), 0, 1, "f")).0, 201);
    let id = page.body.split("action=\"/tokens/").last().unwrap().split('/').next().unwrap().to_string();
    assert_eq!(fetch(&server, "POST", &format!("/tokens/{id}/revoke"), &cookie, Some(&[("csrf", "nope")])).status, 403);
    assert_eq!(fetch(&server, "POST", &format!("/tokens/{id}/revoke"), &cookie, Some(&[("csrf", &token)])).status, 303);
    assert_eq!(upload(&server, &secret, &report("h", &days_ago(0), 0, 2, "f")).0, 401);
}

#[test]
fn pages_are_isolated_per_organisation() {
    let server = start(Limits::default());
    let a = org(&server, "alpha");
    let b = org(&server, "bravo");
    let (_, b_report) = upload(&server, &b.upload, &report("bravo-db", &days_ago(0), 5, 0, "bravo-secret"));
    upload(&server, &a.upload, &report("alpha-web", &days_ago(0), 1, 0, "alpha-path"));
    let b_host = b_report["host_id"].as_i64().unwrap();

    let cookie = session(&server, &a.admin_email);
    for path in ["/", "/hosts", "/search?q=bravo", "/search?component=log4j-core", "/tokens"] {
        let page = fetch(&server, "GET", path, &cookie, None);
        assert_eq!(page.status, 200, "{path}");
        for secret in ["bravo-db", "bravo-secret", "@bravo.example"] {
            assert!(!page.body.contains(secret), "{path} shows bravo's {secret}");
        }
    }
    assert_eq!(fetch(&server, "GET", &format!("/hosts/{b_host}"), &cookie, None).status, 404);
    let tokens = fetch(&server, "GET", "/tokens", &cookie, None);
    let token = csrf(&tokens.body);
    let page = fetch(&server, "POST", &format!("/tokens/{}/revoke", b.upload_id), &cookie, Some(&[("csrf", &token)]));
    assert_eq!(page.status, 404);
    assert_eq!(upload(&server, &b.upload, &report("bravo-2", &days_ago(0), 0, 1, "b")).0, 201);

    // The coordinator's dashboard: counts per organisation, never host names or paths.
    let coordinator_token = coordinator(&server);
    assert!(coordinator_token.starts_with("qt_"));
    let cookie = session(&server, "cert@ncsc.example");
    let page = fetch(&server, "GET", "/", &cookie, None);
    assert!(page.body.contains("alpha") && page.body.contains("bravo"));
    for secret in ["alpha-web", "bravo-db", "bravo-secret", "/srv"] {
        assert!(!page.body.contains(secret), "{secret}");
    }
    assert_eq!(fetch(&server, "GET", "/hosts", &cookie, None).status, 403);
    assert_eq!(fetch(&server, "GET", &format!("/hosts/{b_host}"), &cookie, None).status, 403);
}

/// Hosts whose latest report came from an agent older than `--oldest-agent-version` are shown as
/// outdated: on the dashboard, in the host list, on the host's page and in the API.
#[test]
fn outdated_agents_are_shown() {
    let limits = Limits { oldest_agent_version: quell_model::maven::MavenVersion::new("0.2.0"), ..Limits::default() };
    let server = start(limits);
    let a = org(&server, "alpha");
    let old = report("old-agent", &days_ago(0), 1, 0, "o")
        .replace("\"quell 0.1.0\"", "\"quell 0.1.0 (commit 1a2b, built 2026-12-01)\"");
    let new = report("new-agent", &days_ago(0), 1, 0, "n").replace("\"quell 0.1.0\"", "\"quell 0.2.1\"");
    assert_eq!(upload(&server, &a.upload, &old).0, 201);
    assert_eq!(upload(&server, &a.upload, &new).0, 201);

    let (status, hosts) = get(&server, &a.full, "/api/v1/hosts");
    assert_eq!(status, 200);
    let outdated: Vec<(&str, bool)> = hosts
        .as_array()
        .unwrap()
        .iter()
        .map(|h| (h["name"].as_str().unwrap(), h["agent_outdated"].as_bool().unwrap()))
        .collect();
    assert_eq!(outdated, [("new-agent", false), ("old-agent", true)]);
    let (_, inventory) = get(&server, &a.full, "/api/v1/inventory");
    let agents = inventory["agents"].as_array().unwrap();
    assert_eq!(agents.len(), 2, "{inventory}");
    assert!(agents.iter().any(|x| x["tool_version"] == "quell 0.2.1" && x["outdated"] == false && x["hosts"] == 1));
    assert!(agents.iter().any(|x| x["outdated"] == true && x["hosts"] == 1));

    let cookie = session(&server, &a.admin_email);
    let dashboard = fetch(&server, "GET", "/", &cookie, None);
    assert!(
        dashboard.body.contains("<div class=\"card\" id=\"outdated-agents\"><b class=\"warn\">1</b>"),
        "{}",
        dashboard.body
    );
    assert!(dashboard.body.contains("outdated: update the agent"));
    let list = fetch(&server, "GET", "/hosts", &cookie, None);
    assert!(list.body.contains("quell 0.1.0 (commit 1a2b, built 2026-12-01) (outdated)"), "{}", list.body);
    assert!(!list.body.contains("quell 0.2.1 (outdated)"));
}

/// Behind a trusted reverse proxy, login limits count per real client (`X-Forwarded-For`): one
/// attacker's failures neither block other clients nor lock the account's owner out for longer
/// than the back-off; headers from untrusted peers are ignored; `quell admin unlock` forgets the
/// failures at once.
#[test]
fn login_limits_count_per_client_behind_a_trusted_proxy() {
    let server = start_behind_proxy(Limits::default(), &["127.0.0.1/32"]);
    let a = org(&server, "alpha");
    let login_from = |client: &str, email: &str, password: &str| -> u16 {
        let form = fetch(&server, "GET", "/login", "", None);
        let token = csrf(&form.body);
        let url = format!("{}/login", server.base);
        let body = format!("email={}&password={}&csrf={token}", encode(email), encode(password));
        let response = browser()
            .post(&url)
            .header("Cookie", &form.cookies.join("; "))
            .header("X-Forwarded-For", &format!("{client}, 127.0.0.1"))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .send(body.as_bytes())
            .unwrap();
        response.status().as_u16()
    };
    // An attacker at 203.0.113.7 tries five wrong passwords: that address is refused for the account.
    for _ in 0..5 {
        assert_eq!(login_from("203.0.113.7", &a.admin_email, "wrong password!"), 401);
    }
    assert_eq!(login_from("203.0.113.7", &a.admin_email, PASSWORD), 429);
    // The owner, elsewhere, waits out a short back-off at most, then logs in.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    assert_eq!(login_from("198.51.100.9", &a.admin_email, PASSWORD), 303);
    // Fifty failures from one address (over many accounts) block that address only.
    for i in 0..50 {
        assert_eq!(login_from("203.0.113.8", &format!("nobody{i}@x.example"), "wrong password!"), 401);
    }
    assert_eq!(login_from("203.0.113.8", &format!("member@{}.example", a.name), PASSWORD), 429);
    assert_eq!(login_from("198.51.100.10", &format!("member@{}.example", a.name), PASSWORD), 303);
    // `quell admin unlock` forgets the account's failures: the attacker's address may try again.
    let outcome = quell_server::block_on(quell_server::admin::run(
        &server.location,
        quell_server::admin::AdminAction::Unlock { email: a.admin_email.clone() },
    ))
    .unwrap()
    .unwrap();
    assert!(matches!(outcome, quell_server::admin::AdminOutcome::Unlocked(n) if n >= 5), "{outcome:?}");
    assert_eq!(login_from("203.0.113.7", &a.admin_email, PASSWORD), 303);
}

/// Without trusted proxies a forwarding header is the client's own claim and is ignored: the
/// limit counts the peer.
#[test]
fn forwarding_headers_of_untrusted_peers_are_ignored() {
    let server = start(Limits::default());
    let a = org(&server, "alpha");
    for i in 0..5 {
        let form = fetch(&server, "GET", "/login", "", None);
        let token = csrf(&form.body);
        let body = format!("email={}&password=wrong+password&csrf={token}", encode(&a.admin_email));
        let status = browser()
            .post(&format!("{}/login", server.base))
            .header("Cookie", &form.cookies.join("; "))
            .header("X-Forwarded-For", &format!("192.0.2.{i}"))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .send(body.as_bytes())
            .unwrap()
            .status()
            .as_u16();
        assert_eq!(status, 401);
    }
    assert_eq!(login(&server, &a.admin_email, PASSWORD).status, 429);
}
