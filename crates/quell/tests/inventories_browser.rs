//! "Where does it run?" in a real browser (headless Chromium over the DevTools protocol): a host
//! uploads its inventory (`quell scan --inventory --upload`, real jars); a coordinator asks on
//! `/components` where log4j-api 2.14.1 runs, then publishes an advisory naming that component
//! (no CVE the scanner knows, so only the inventory can match it); the organisation's user sees
//! the matched host on the advisory's page. Screenshots go to `target/tmp/browser/components-*.png`.
//! Skipped when Chromium is missing, unless `QUELL_REQUIRE_BROWSER` is set (scripts/test sets it).
#![cfg(feature = "server")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
#[allow(unused_imports)]
use common::*;

#[test]
fn a_coordinator_asks_where_a_component_runs_and_the_advisory_reaches_the_host() {
    let Some(chromium) = chromium() else { return };
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    create_coordinator(&data);
    let alpha = create_org_admin(&data, "alpha");
    let token = create_token(&data, &alpha, "agent", "upload");
    let (mut server, base) = serve(&data, &["--advisory-prefix", "NCSC"]);

    let tree = corpus_tree(dir.path(), "tree", &["log4j-api-2.14.1.jar"]);
    let out = quell()
        .args(["scan", "--quiet", "--inventory", "--host-name", "app-07", "--upload", &base, "--token", &token])
        .arg(&tree)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));

    let profile = dir.path().join("chromium");
    let (mut browser, mut cdp) = browser(chromium, &profile);
    cdp.viewport(1280, 900, false);
    let artifacts = artifacts();

    // The coordinator asks.
    cdp.login(&base, "cert@ncsc.example");
    cdp.open(&format!("{base}/components"), "no rescan needed");
    cdp.eval(
        "const f = document.querySelector('form[action=\"/components\"]'); \
         f.purl.value = 'pkg:maven/org.apache.logging.log4j/log4j-api'; f.range.value = 'vers:maven/>=2.0|<2.15.0'; \
         f.submit(); true",
    );
    let answer = cdp.wait_text("system in");
    assert!(answer.contains("1 system in 1 organisation."), "{answer}");
    assert!(answer.contains("alpha") && answer.contains("2.14.1") && answer.contains("counts only"), "{answer}");
    assert!(!answer.contains("app-07"), "alpha does not share details: {answer}");
    cdp.screenshot(&artifacts.join("components-coordinator.png"));

    // ... and publishes an advisory naming the component.
    cdp.open(&format!("{base}/advisories/new"), "Rating");
    cdp.eval(
        "const f = document.querySelector('#advisory-form'); \
         f.title.value = 'Log4j API flaw'; \
         f.summary.value = 'A flaw in log4j-api before 2.15.0.'; \
         f.components.value = 'pkg:maven/org.apache.logging.log4j/log4j-api vers:maven/>=2.0|<2.15.0'; \
         f.solution.value = 'Update to 2.17.1.'; \
         f.tlp.value = 'AMBER'; \
         f.q_remote_access.value = 'none'; f.q_code_execution.value = 'user'; f.q_denial_of_service.value = 'none'; \
         f.q_information_leak.value = 'none'; f.q_privilege_escalation.value = 'no'; \
         f.submit(); true",
    );
    let draft = cdp.wait_text("Publish version 1.00");
    let identifier = draft.split_whitespace().find(|w| w.starts_with("NCSC-")).unwrap().to_string();
    cdp.eval("document.querySelector('#publish').click(); true");
    let published = cdp.wait_text("published,");
    assert!(published.contains("Progress"), "{published}");
    cdp.screenshot(&artifacts.join("components-advisory-coordinator.png"));

    // The organisation's user sees the matched host on the advisory's page.
    cdp.login(&base, "it@alpha.example");
    cdp.open(&format!("{base}/advisories"), &identifier);
    cdp.eval("document.querySelector('#advisories a[href^=\"/advisories/\"]').click(); true");
    let page = cdp.wait_text("Your affected systems");
    assert!(page.contains("app-07"), "{page}");
    assert!(page.contains("Affected components") && page.contains("where does it run?"), "{page}");
    cdp.screenshot(&artifacts.join("components-advisory-org.png"));
    // The organisation's own answer names the host and the path.
    let own = cdp.open(
        &format!("{base}/components?purl=pkg%3Amaven%2Forg.apache.logging.log4j%2Flog4j-api&range=2.14.1"),
        "system in",
    );
    assert!(own.contains("app-07") && own.contains("log4j-api-2.14.1.jar"), "{own}");
    cdp.screenshot(&artifacts.join("components-org.png"));

    browser.kill().unwrap();
    browser.wait().unwrap();
    server.kill().unwrap();
    server.wait().unwrap();
}
