//! Advisories in a real browser (headless Chromium over the DevTools protocol): a coordinator
//! writes and publishes an advisory through the form; an organisation user sees it, records a
//! decision on an affected host, and the overdue list and the progress chart change.
//! Screenshots go to `target/tmp/browser/advisory-*.png`. Skipped when Chromium is missing,
//! unless `QUELL_REQUIRE_BROWSER` is set (scripts/test sets it).
#![cfg(feature = "server")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
#[allow(unused_imports)]
use common::*;

use std::time::Duration;

use serde_json::json;

#[test]
fn coordinator_publishes_and_an_organisation_decides() {
    let Some(chromium) = chromium() else { return };
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    create_coordinator(&data);
    let alpha = create_org_admin(&data, "alpha");
    let token = create_token(&data, &alpha, "agent", "upload");
    // Deadlines of zero days: the affected host is overdue as soon as the advisory is out.
    let (mut server, base) = serve(
        &data,
        &[
            "--advisory-prefix",
            "NCSC",
            "--deadline-high-days",
            "0",
            "--deadline-medium-days",
            "0",
            "--deadline-low-days",
            "0",
        ],
    );

    let tree = corpus_tree(dir.path(), "tree", &["log4j-core-2.14.1.jar"]);
    let out = quell()
        .args(["scan", "--quiet", "--host-name", "web-01", "--upload", &base, "--token", &token])
        .arg(&tree)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));

    let profile = dir.path().join("chromium");
    let (mut browser, mut cdp) = browser(chromium, &profile);
    cdp.viewport(1280, 900, false);
    let artifacts = artifacts();

    // The coordinator writes the advisory in the form and publishes it.
    cdp.login(&base, "cert@ncsc.example");
    cdp.open(&format!("{base}/advisories/new"), "Rating");
    cdp.eval(
        "const f = document.querySelector('#advisory-form'); \
         f.title.value = 'Log4j remote code execution'; \
         f.summary.value = 'JNDI lookups in log messages run attacker code.'; \
         f.cves.value = 'CVE-2021-44228'; \
         f.products.value = 'Apache | Log4j | 2.0-beta9 to 2.14.1'; \
         f.solution.value = 'Update to 2.17.1 as soon as your vendor ships it.'; \
         f.fix_available.checked = false; \
         f.tlp.value = 'AMBER'; \
         f.q_remote_access.value = 'none'; f.q_code_execution.value = 'user'; f.q_denial_of_service.value = 'none'; \
         f.q_information_leak.value = 'none'; f.q_privilege_escalation.value = 'no'; \
         f.submit(); true",
    );
    let draft = cdp.wait_text("Publish version 1.00");
    assert!(draft.contains("HIGH/MEDIUM") && draft.contains("draft"), "{draft}");
    let identifier = draft.split_whitespace().find(|w| w.starts_with("NCSC-")).unwrap().to_string();
    cdp.screenshot(&artifacts.join("advisory-draft.png"));
    cdp.eval("document.querySelector('#publish').click(); true");
    let published = cdp.wait_text("published,");
    assert!(published.contains("Progress"), "{published}");
    cdp.screenshot(&artifacts.join("advisory-coordinator.png"));

    // The organisation sees it, with its host overdue and the advice to switch it off. A
    // zero-day deadline is the publication second itself, and "overdue" means past it: let that
    // second pass (on a fast machine the page otherwise loads within it and nothing is overdue).
    std::thread::sleep(Duration::from_millis(1100));
    cdp.login(&base, "it@alpha.example");
    let list = cdp.open(&format!("{base}/advisories"), &identifier);
    assert!(list.contains("Overdue") && list.contains("web-01"), "{list}");
    assert!(list.contains("consider switching it off"), "{list}");
    cdp.screenshot(&artifacts.join("advisory-list-before.png"));
    cdp.eval("document.querySelector('#advisories a[href^=\"/advisories/\"]').click(); true");
    let before = cdp.wait_text("Your affected systems");
    assert!(before.contains("web-01") && before.contains("open (overdue)"), "{before}");
    assert!(before.contains("Affected 1, resolved 0"), "{before}");
    let polyline = "Array.from(document.querySelectorAll('#progress-chart polyline')).map(p => p.getAttribute('points')).join('|')";
    let chart_before = cdp.eval(polyline);
    cdp.screenshot(&artifacts.join("advisory-org-before.png"));

    // A decision: mitigated, with the measure.
    cdp.eval(
        "const f = document.querySelector('#systems form'); f.decision.value = 'mitigated'; \
         f.measure.value = 'JndiLookup.class removed (quell fix)'; f.submit(); true",
    );
    let after = cdp.wait_text("Affected 1, resolved 1");
    assert!(after.contains("mitigated by it@alpha.example") && after.contains("JndiLookup.class removed"), "{after}");
    assert!(!after.contains("open (overdue)"), "{after}");
    let chart_after = cdp.eval(polyline);
    assert_ne!(chart_before, chart_after, "the resolved line moved");
    assert!(
        chart_after.as_str().unwrap().contains("resolved")
            || cdp.eval("document.querySelector('#progress-chart').textContent.includes('resolved 1')") == json!(true)
    );
    cdp.screenshot(&artifacts.join("advisory-org-after.png"));
    let list = cdp.open(&format!("{base}/advisories"), "Nothing overdue.");
    assert!(!list.contains("web-01"), "{list}");

    browser.kill().unwrap();
    browser.wait().unwrap();
    server.kill().unwrap();
    server.wait().unwrap();
}
