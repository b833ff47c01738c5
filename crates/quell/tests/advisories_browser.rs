//! Advisories in a real browser (headless Chromium over the DevTools protocol): a coordinator
//! writes and publishes an advisory through the form; an organisation user sees it, records a
//! decision on an affected host, and the overdue list and the progress chart change.
//! Screenshots go to `target/tmp/browser/advisory-*.png`. Skipped when Chromium is missing,
//! unless `QUELL_REQUIRE_BROWSER` is set (scripts/test sets it).
#![cfg(feature = "server")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

const CORPUS: &str = "../../../shared/corpus/jars";
const PASSWORD: &str = "correct horse battery staple";

fn quell() -> Command {
    Command::new(env!("CARGO_BIN_EXE_quell"))
}

fn serve(data_dir: &Path, extra: &[&str]) -> (Child, String) {
    let mut child = quell()
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data_dir)
        .args(extra)
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("quell serve");
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let base = loop {
        let line = lines.next().expect("quell serve exited before listening").unwrap();
        if let Some(rest) = line.split("listening on ").nth(1) {
            break rest.split_whitespace().next().unwrap().to_string();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    (child, base)
}

fn admin(data_dir: &Path, args: &[&str], stdin: &str) -> String {
    let mut child = quell()
        .arg("admin")
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "admin {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// A minimal Chrome DevTools Protocol client over the browser's WebSocket.
struct Cdp {
    socket: tungstenite::WebSocket<std::net::TcpStream>,
    next_id: u64,
    session: Option<String>,
}

impl Cdp {
    fn connect(url: &str) -> Cdp {
        let address = url.trim_start_matches("ws://").split('/').next().unwrap().to_string();
        let stream = std::net::TcpStream::connect(&address).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let (socket, _) = tungstenite::client(url, stream).unwrap();
        Cdp { socket, next_id: 0, session: None }
    }

    fn call(&mut self, method: &str, params: serde_json::Value) -> serde_json::Value {
        self.next_id += 1;
        let mut message = json!({ "id": self.next_id, "method": method, "params": params });
        if let Some(session) = &self.session {
            message["sessionId"] = json!(session);
        }
        self.socket.send(tungstenite::Message::text(message.to_string())).unwrap();
        loop {
            let reply = self.socket.read().unwrap();
            let Ok(text) = reply.to_text() else { continue };
            let value: serde_json::Value = serde_json::from_str(text).unwrap_or_default();
            if value["id"].as_u64() == Some(self.next_id) {
                assert!(value.get("error").is_none(), "{method}: {value}");
                return value["result"].clone();
            }
        }
    }

    fn eval(&mut self, expression: &str) -> serde_json::Value {
        self.call("Runtime.evaluate", json!({ "expression": expression, "returnByValue": true }))["result"]["value"]
            .clone()
    }

    fn text(&mut self) -> String {
        self.eval("document.readyState === 'complete' ? document.body.innerText : ''")
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// Waits until the loaded page's text contains `needle`; returns the text.
    fn wait_text(&mut self, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let text = self.text();
            if text.contains(needle) {
                return text;
            }
            assert!(Instant::now() < deadline, "no {needle:?} on the page:\n{text}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn open(&mut self, url: &str, needle: &str) -> String {
        self.call("Page.navigate", json!({ "url": url }));
        self.wait_text(needle)
    }

    fn screenshot(&mut self, path: &Path) {
        use base64::Engine;
        let shot = self.call("Page.captureScreenshot", json!({ "format": "png", "captureBeyondViewport": true }));
        let png = base64::engine::general_purpose::STANDARD.decode(shot["data"].as_str().unwrap()).unwrap();
        std::fs::write(path, png).unwrap();
    }

    fn login(&mut self, base: &str, email: &str) {
        self.call("Network.clearBrowserCookies", json!({}));
        self.open(&format!("{base}/login"), "Log in");
        self.eval(&format!(
            "document.querySelector('#email').value = {}; document.querySelector('#password').value = {}; \
             document.querySelector('form.login button').click(); true",
            json!(email),
            json!(PASSWORD)
        ));
        self.wait_text(email);
    }
}

#[test]
fn coordinator_publishes_and_an_organisation_decides() {
    let chromium = ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|name| Command::new(name).arg("--version").output().is_ok_and(|o| o.status.success()));
    let Some(chromium) = chromium else {
        assert!(std::env::var_os("QUELL_REQUIRE_BROWSER").is_none(), "QUELL_REQUIRE_BROWSER is set but no Chromium");
        eprintln!("skipped: no chromium on PATH");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    admin(&data, &["create-coordinator", "--email", "cert@ncsc.example"], &format!("{PASSWORD}\n"));
    admin(&data, &["create-org", "--name", "alpha"], "");
    admin(
        &data,
        &["create-user", "--org", "alpha", "--email", "it@alpha.example", "--role", "admin"],
        &format!("{PASSWORD}\n"),
    );
    let token =
        admin(&data, &["create-token", "--email", "it@alpha.example", "--name", "agent", "--scope", "upload"], "");
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

    let tree = dir.path().join("tree");
    std::fs::create_dir(&tree).unwrap();
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join(CORPUS);
    std::fs::copy(corpus.join("log4j-core-2.14.1.jar"), tree.join("log4j-core-2.14.1.jar")).unwrap();
    let out = quell()
        .args(["scan", "--quiet", "--host-name", "web-01", "--upload", &base, "--token", &token])
        .arg(&tree)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));

    let profile = dir.path().join("chromium");
    let mut browser = Command::new(chromium)
        .args(["--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--remote-debugging-port=0"])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("about:blank")
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(browser.stderr.take().unwrap()).lines();
    let ws = loop {
        let line = lines.next().expect("chromium exited").unwrap();
        if let Some(url) = line.split("DevTools listening on ").nth(1) {
            break url.trim().to_string();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    let mut cdp = Cdp::connect(&ws);
    let target = cdp.call("Target.createTarget", json!({ "url": "about:blank" }));
    let attached = cdp.call("Target.attachToTarget", json!({ "targetId": target["targetId"], "flatten": true }));
    cdp.session = attached["sessionId"].as_str().map(str::to_string);
    cdp.call(
        "Emulation.setDeviceMetricsOverride",
        json!({ "width": 1280, "height": 900, "deviceScaleFactor": 1, "mobile": false }),
    );
    let artifacts = Path::new(env!("CARGO_TARGET_TMPDIR")).join("browser");
    std::fs::create_dir_all(&artifacts).unwrap();

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
