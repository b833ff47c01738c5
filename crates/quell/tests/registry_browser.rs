//! The registry's pages in headless Chromium: a visitor searches the public registry and opens an
//! entry; a coordinator logs in, edits the entry through the form (base revision, CSRF) and sees
//! the new revision in its history. Screenshots go to `target/tmp/browser/registry-*.png`.
//! Skipped when Chromium is missing, unless `QUELL_REQUIRE_BROWSER` is set (scripts/test sets it).
#![cfg(feature = "server")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const PASSWORD: &str = "correct horse battery staple";

fn quell() -> Command {
    Command::new(env!("CARGO_BIN_EXE_quell"))
}

/// Starts `quell serve` on a free loopback port; returns the child and its base URL.
fn serve(data_dir: &Path) -> (Child, String) {
    let mut child = quell()
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data_dir)
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("quell serve");
    let stderr = child.stderr.take().expect("stderr");
    let mut lines = BufReader::new(stderr).lines();
    let base = loop {
        let line = lines.next().expect("quell serve exited before listening").expect("stderr line");
        if let Some(rest) = line.split("listening on ").nth(1) {
            break rest.split_whitespace().next().expect("url").to_string();
        }
    };
    // Keep draining stderr so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    (child, base)
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
        let mut message = serde_json::json!({ "id": self.next_id, "method": method, "params": params });
        if let Some(session) = &self.session {
            message["sessionId"] = serde_json::json!(session);
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
        self.call("Runtime.evaluate", serde_json::json!({ "expression": expression, "returnByValue": true }))["result"]
            ["value"]
            .clone()
    }

    /// Waits until the page at `path_prefix` has loaded.
    fn wait_for(&mut self, path_prefix: &str) {
        let deadline = Instant::now() + Duration::from_secs(20);
        let check = format!(
            "document.readyState === 'complete' && location.pathname.startsWith({})",
            serde_json::json!(path_prefix)
        );
        while self.eval(&check) != serde_json::json!(true) {
            assert!(Instant::now() < deadline, "page {path_prefix} did not load");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn text(&mut self) -> String {
        self.eval("document.body.innerText").as_str().unwrap_or_default().to_string()
    }

    fn screenshot(&mut self, path: &Path) {
        use base64::Engine;
        let shot =
            self.call("Page.captureScreenshot", serde_json::json!({ "format": "png", "captureBeyondViewport": true }));
        let png = base64::engine::general_purpose::STANDARD.decode(shot["data"].as_str().unwrap()).unwrap();
        std::fs::write(path, png).unwrap();
    }
}

/// Polls until `expression` is true in the page.
fn wait_until(cdp: &mut Cdp, expression: &str, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while cdp.eval(expression) != serde_json::json!(true) {
        assert!(Instant::now() < deadline, "{what}: {}", cdp.text());
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn browser_searches_the_registry_and_a_coordinator_edits_an_entry() {
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
    let admin = |args: &[&str], stdin: &str| {
        let mut child = quell()
            .arg("admin")
            .arg("--data-dir")
            .arg(&data)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    admin(&["create-coordinator", "--email", "cert@ncsc.example"], &format!("{PASSWORD}\n"));
    let token = admin(&["create-token", "--email", "cert@ncsc.example", "--name", "import", "--scope", "full"], "");
    let (mut server, base) = serve(&data);

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
    let target = cdp.call("Target.createTarget", serde_json::json!({ "url": "about:blank" }));
    let attached =
        cdp.call("Target.attachToTarget", serde_json::json!({ "targetId": target["targetId"], "flatten": true }));
    cdp.session = attached["sessionId"].as_str().map(str::to_string);
    let artifacts = Path::new(env!("CARGO_TARGET_TMPDIR")).join("browser");
    std::fs::create_dir_all(&artifacts).unwrap();
    cdp.call(
        "Emulation.setDeviceMetricsOverride",
        serde_json::json!({ "width": 1280, "height": 900, "deviceScaleFactor": 1, "mobile": false }),
    );

    // A visitor searches, without logging in.
    cdp.call("Page.navigate", serde_json::json!({ "url": format!("{base}/registry") }));
    cdp.wait_for("/registry");
    assert!(cdp.text().contains("Product registry"), "{}", cdp.text());
    cdp.eval(
        "document.querySelector('#registry-search input[name=q]').value = 'apache flink'; \
         document.querySelector('#registry-search button').click(); true",
    );
    wait_until(&mut cdp, "location.search.includes('q=apache') && document.readyState === 'complete'", "search");
    let results = cdp.text();
    assert!(results.contains("Flink") && results.contains("1 entries"), "{results}");
    cdp.screenshot(&artifacts.join("registry-search.png"));
    cdp.eval("document.querySelector('#results a').click(); true");
    wait_until(
        &mut cdp,
        "location.pathname.startsWith('/registry/entries/') && document.readyState === 'complete'",
        "entry",
    );
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
    wait_until(&mut cdp, "location.pathname === '/' && document.readyState === 'complete'", "login");
    cdp.call("Page.navigate", serde_json::json!({ "url": format!("{base}{entry_path}") }));
    cdp.wait_for(&entry_path);
    cdp.eval("document.querySelector('#edit').click(); true");
    wait_until(&mut cdp, "location.pathname.endsWith('/edit') && document.readyState === 'complete'", "edit form");
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
    wait_until(
        &mut cdp,
        &format!("location.pathname === {} && document.readyState === 'complete'", serde_json::json!(entry_path)),
        "saved",
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
