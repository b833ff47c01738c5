//! The registry's pages in headless Chromium: a visitor searches the public registry and opens an
//! entry; a coordinator logs in, edits the entry through the form (base revision, CSRF) and sees
//! the new revision in its history. Screenshots go to `target/tmp/browser/registry-*.png`.
//! Skipped when Chromium is missing, unless `QUELL_REQUIRE_BROWSER` is set (scripts/test sets it).
#![cfg(feature = "server")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
#[allow(unused_imports)]
use common::*;

use std::path::Path;

#[test]
fn browser_searches_the_registry_and_a_coordinator_edits_an_entry() {
    let Some(chromium) = chromium() else { return };
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    create_coordinator(&data);
    let token = create_token(&data, COORDINATOR, "import", "full");
    let (mut server, base) = serve(&data, &[]);

    // The Dutch list's "A" file, through the API.
    let list = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/registry/ncsc-nl/software_list_a.md");
    let agent = ureq::Agent::new_with_config(ureq::config::Config::builder().http_status_as_error(false).build());
    let mut response = agent
        .post(&format!("{base}/api/v1/registry/import?format=ncsc-md&name=software_list_a.md"))
        .header("Authorization", &format!("Bearer {token}"))
        .send(std::fs::read(list).unwrap())
        .unwrap();
    assert_eq!(response.status().as_u16(), 200, "{}", response.body_mut().read_to_string().unwrap());

    let profile = dir.path().join("chromium");
    let (mut browser, mut cdp) = browser(chromium, &profile);
    let artifacts = artifacts();
    cdp.viewport(1280, 900, false);

    // A visitor searches, without logging in.
    cdp.call("Page.navigate", serde_json::json!({ "url": format!("{base}/registry") }));
    cdp.wait_for("/registry");
    assert!(cdp.text().contains("Product registry"), "{}", cdp.text());
    cdp.eval(
        "document.querySelector('#registry-search input[name=q]').value = 'apache flink'; \
         document.querySelector('#registry-search button').click(); true",
    );
    cdp.wait_until("search", "location.search.includes('q=apache') && document.readyState === 'complete'");
    let results = cdp.text();
    assert!(results.contains("Flink") && results.contains("1 entries"), "{results}");
    cdp.screenshot(&artifacts.join("registry-search.png"));
    cdp.eval("document.querySelector('#results a').click(); true");
    cdp.wait_until("entry", "location.pathname.startsWith('/registry/entries/') && document.readyState === 'complete'");
    let entry_path = cdp.eval("location.pathname").as_str().unwrap().to_string();
    let entry = cdp.text();
    assert!(entry.contains("Apache / Flink") && entry.contains("History") && entry.contains("import"), "{entry}");
    assert_eq!(cdp.eval("document.querySelector('#edit') === null"), serde_json::json!(true));

    // A coordinator logs in and edits the entry.
    cdp.call("Page.navigate", serde_json::json!({ "url": format!("{base}/login") }));
    cdp.wait_for("/login");
    cdp.eval(&format!(
        "document.querySelector('#email').value = 'cert@ncsc.example'; \
         document.querySelector('#password').value = {}; \
         document.querySelector('form.login button').click(); true",
        serde_json::json!(PASSWORD)
    ));
    cdp.wait_until("login", "location.pathname === '/' && document.readyState === 'complete'");
    cdp.call("Page.navigate", serde_json::json!({ "url": format!("{base}{entry_path}") }));
    cdp.wait_for(&entry_path);
    cdp.eval("document.querySelector('#edit').click(); true");
    cdp.wait_until("edit form", "location.pathname.endsWith('/edit') && document.readyState === 'complete'");
    assert_eq!(cdp.eval("document.querySelector('input[name=base_revision]').value"), serde_json::json!("1"));
    cdp.eval(
        "const row = [...document.querySelectorAll('#edit input')].find(i => i.value === 'CVE-2021-44228'); \
         const i = row.name.split('_')[1]; \
         document.querySelector(`select[name=status_${i}]`).value = 'fix'; \
         document.querySelector(`input[name=fixed_${i}]`).value = '1.15.0; 1.14.3'; \
         document.querySelector('textarea[name=notes]').value = 'Edited in the browser test'; true",
    );
    cdp.screenshot(&artifacts.join("registry-edit.png"));
    cdp.eval("document.querySelector('#edit button[type=submit]').click(); true");
    cdp.wait_until(
        "saved",
        &format!("location.pathname === {} && document.readyState === 'complete'", serde_json::json!(entry_path)),
    );
    let saved = cdp.text();
    assert!(saved.contains("1.15.0, 1.14.3") && saved.contains("Edited in the browser test"), "{saved}");
    assert_eq!(cdp.eval("document.querySelector('#revision').innerText"), serde_json::json!("2"));
    assert!(saved.contains("edit") && saved.contains("cert@ncsc.example"), "{saved}");
    cdp.screenshot(&artifacts.join("registry-entry.png"));

    browser.kill().unwrap();
    browser.wait().unwrap();
    server.kill().unwrap();
    server.wait().unwrap();
}
