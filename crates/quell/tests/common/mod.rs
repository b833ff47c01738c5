//! The shared harness of the binary's end-to-end tests: running `quell`, starting `quell serve`
//! on a free loopback port, `quell admin`, JSON requests, and headless Chromium over the
//! DevTools protocol. Each test binary uses part of it.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// The real Apache jars of the shared corpus, relative to the crate.
pub const CORPUS_JARS: &str = "../../../shared/corpus/jars";
/// The password of every account the tests create.
pub const PASSWORD: &str = "correct horse battery staple";

/// The binary under test.
pub fn quell() -> Command {
    Command::new(env!("CARGO_BIN_EXE_quell"))
}

/// A jar of the corpus.
pub fn corpus_jar(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(CORPUS_JARS).join(name)
}

/// A new folder `parent/name` holding copies of the corpus jars `jars`: a host's tree to scan.
pub fn corpus_tree(parent: &Path, name: &str, jars: &[&str]) -> PathBuf {
    let tree = parent.join(name);
    std::fs::create_dir(&tree).unwrap();
    for jar in jars {
        std::fs::copy(corpus_jar(jar), tree.join(jar)).unwrap();
    }
    tree
}

/// Starts `quell serve` on a free loopback port with `extra` flags; returns the child and its
/// base URL. Its log goes to a pipe, as to a log file: it must carry no colour escapes.
pub fn serve(data_dir: &Path, extra: &[&str]) -> (Child, String) {
    let (child, base, _log) = serve_logged(data_dir, extra);
    (child, base)
}

/// As [`serve`], and the server's log lines (stderr), collected as they come.
pub fn serve_logged(data_dir: &Path, extra: &[&str]) -> (Child, String, Arc<Mutex<Vec<String>>>) {
    let mut child = quell()
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data_dir)
        .args(extra)
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("quell serve");
    let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
    let log = Arc::new(Mutex::new(Vec::new()));
    let base = loop {
        let line = lines.next().expect("quell serve exited before listening").expect("stderr line");
        assert!(!line.contains('\u{1b}'), "ANSI escape in a log written to a pipe: {line:?}");
        log.lock().unwrap().push(line.clone());
        if let Some(rest) = line.split("listening on ").nth(1) {
            break rest.split_whitespace().next().expect("url").to_string();
        }
    };
    // Keep draining stderr so the server never blocks on a full pipe.
    let sink = Arc::clone(&log);
    std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            sink.lock().unwrap().push(line);
        }
    });
    (child, base, log)
}

/// `quell admin --data-dir DIR ARGS` with `stdin` (a password); its exit code and trimmed stdout.
pub fn admin(data_dir: &Path, args: &[&str], stdin: &str) -> (i32, String) {
    let mut child = quell()
        .arg("admin")
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("quell admin");
    child.stdin.take().expect("stdin").write_all(stdin.as_bytes()).expect("password");
    let out = child.wait_with_output().expect("admin");
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// As [`admin`], and it must succeed: its stdout.
pub fn admin_ok(data_dir: &Path, args: &[&str], stdin: &str) -> String {
    let (code, out) = admin(data_dir, args, stdin);
    assert_eq!(code, 0, "admin {args:?}: {out}");
    out
}

/// The national CERT's coordinator, `cert@ncsc.example`, with [`PASSWORD`].
pub const COORDINATOR: &str = "cert@ncsc.example";

/// Creates the coordinator [`COORDINATOR`].
pub fn create_coordinator(data_dir: &Path) {
    admin_ok(data_dir, &["create-coordinator", "--email", COORDINATOR], &format!("{PASSWORD}\n"));
}

/// Creates the organisation `org` and its admin `it@ORG.example` (with [`PASSWORD`]); the admin's
/// address.
pub fn create_org_admin(data_dir: &Path, org: &str) -> String {
    let email = format!("it@{org}.example");
    admin_ok(data_dir, &["create-org", "--name", org], "");
    admin_ok(data_dir, &["create-user", "--org", org, "--email", &email, "--role", "admin"], &format!("{PASSWORD}\n"));
    email
}

/// A new API token of the account `email`, named `name`, of `scope` (`upload` or `full`).
pub fn create_token(data_dir: &Path, email: &str, name: &str, scope: &str) -> String {
    admin_ok(data_dir, &["create-token", "--email", email, "--name", name, "--scope", scope], "")
}

/// An HTTP client that reports every status instead of failing on 4xx/5xx.
pub fn agent() -> ureq::Agent {
    ureq::Agent::new_with_config(
        ureq::config::Config::builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(30)))
            .build(),
    )
}

/// `GET base+path` with a bearer token: status and JSON body (null when not JSON).
pub fn get(base: &str, token: &str, path: &str) -> (u16, Value) {
    let mut response =
        agent().get(&format!("{base}{path}")).header("Authorization", &format!("Bearer {token}")).call().expect("GET");
    let status = response.status().as_u16();
    let text = response.body_mut().read_to_string().unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// The Chromium on PATH; `None` (the test is skipped) only when `QUELL_REQUIRE_BROWSER` is not
/// set — `scripts/test` sets it, so there a missing browser fails.
pub fn chromium() -> Option<&'static str> {
    let found = ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|name| Command::new(name).arg("--version").output().is_ok_and(|o| o.status.success()));
    if found.is_none() {
        assert!(std::env::var_os("QUELL_REQUIRE_BROWSER").is_none(), "QUELL_REQUIRE_BROWSER is set but no Chromium");
        eprintln!("skipped: no chromium on PATH");
    }
    found
}

/// Starts headless Chromium with a fresh profile in `profile` and attaches to a new blank tab:
/// the browser process (kill it at the end) and the DevTools client.
pub fn browser(chromium: &str, profile: &Path) -> (Child, Cdp) {
    let mut child = Command::new(chromium)
        .args(["--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--remote-debugging-port=0"])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("about:blank")
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("chromium");
    let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
    let ws = loop {
        let line = lines.next().expect("chromium exited").expect("stderr line");
        if let Some(url) = line.split("DevTools listening on ").nth(1) {
            break url.trim().to_string();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    let mut cdp = Cdp::connect(&ws);
    let target = cdp.call("Target.createTarget", json!({ "url": "about:blank" }));
    let attached = cdp.call("Target.attachToTarget", json!({ "targetId": target["targetId"], "flatten": true }));
    cdp.session = attached["sessionId"].as_str().map(str::to_string);
    (child, cdp)
}

/// Where browser tests leave their screenshots (`target/tmp/browser/`).
pub fn artifacts() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("browser");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A minimal Chrome DevTools Protocol client over the browser's WebSocket.
pub struct Cdp {
    socket: tungstenite::WebSocket<std::net::TcpStream>,
    next_id: u64,
    pub session: Option<String>,
}

impl Cdp {
    pub fn connect(url: &str) -> Cdp {
        let address = url.trim_start_matches("ws://").split('/').next().unwrap().to_string();
        let stream = std::net::TcpStream::connect(&address).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let (socket, _) = tungstenite::client(url, stream).unwrap();
        Cdp { socket, next_id: 0, session: None }
    }

    /// Calls a method; a protocol error fails the test.
    pub fn call(&mut self, method: &str, params: Value) -> Value {
        let reply = self.try_call(method, params);
        assert!(reply.get("error").is_none(), "{method}: {reply}");
        reply["result"].clone()
    }

    /// The whole reply, errors included (an evaluation can race a navigation).
    pub fn try_call(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let mut message = json!({ "id": self.next_id, "method": method, "params": params });
        if let Some(session) = &self.session {
            message["sessionId"] = json!(session);
        }
        self.socket.send(tungstenite::Message::text(message.to_string())).unwrap();
        loop {
            let reply = self.socket.read().unwrap();
            let Ok(text) = reply.to_text() else { continue };
            let value: Value = serde_json::from_str(text).unwrap_or_default();
            if value["id"].as_u64() == Some(self.next_id) {
                return value;
            }
        }
    }

    /// Sets the page's size (`mobile` for a phone's layout), as a device would.
    pub fn viewport(&mut self, width: u32, height: u32, mobile: bool) {
        self.call(
            "Emulation.setDeviceMetricsOverride",
            json!({ "width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile }),
        );
    }

    /// The value of `expression`; null when the page navigated away meanwhile.
    pub fn eval(&mut self, expression: &str) -> Value {
        let reply = self.try_call("Runtime.evaluate", json!({ "expression": expression, "returnByValue": true }));
        reply["result"]["result"]["value"].clone()
    }

    /// The loaded page's text ("" while it loads).
    pub fn text(&mut self) -> String {
        self.eval("document.readyState === 'complete' && document.body ? document.body.innerText : ''")
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// Waits (20 s at most) until `expression` is true.
    pub fn wait_until(&mut self, what: &str, expression: &str) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while self.eval(expression) != json!(true) {
            assert!(Instant::now() < deadline, "{what}: {}", self.text());
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Waits until the page at `path_prefix` has loaded.
    pub fn wait_for(&mut self, path_prefix: &str) {
        let check =
            format!("document.readyState === 'complete' && location.pathname.startsWith({})", json!(path_prefix));
        self.wait_until(&format!("page {path_prefix} did not load"), &check);
    }

    /// Waits until the loaded page's text contains `needle`; returns the text.
    pub fn wait_text(&mut self, needle: &str) -> String {
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

    /// Opens `url` and waits for `needle` in its text.
    pub fn open(&mut self, url: &str, needle: &str) -> String {
        self.call("Page.navigate", json!({ "url": url }));
        self.wait_text(needle)
    }

    /// Logs in through the form (cookies cleared first) and waits for the dashboard.
    pub fn login(&mut self, base: &str, email: &str) {
        self.call("Network.clearBrowserCookies", json!({}));
        self.call("Page.navigate", json!({ "url": format!("{base}/login") }));
        self.wait_until("login page", "document.readyState === 'complete' && !!document.querySelector('#email')");
        self.eval(&format!(
            "document.querySelector('#email').value = {}; document.querySelector('#password').value = {}; \
             document.querySelector('form.login button').click(); true",
            json!(email),
            json!(PASSWORD)
        ));
        self.wait_until("dashboard after login", "location.pathname === '/' && document.readyState === 'complete'");
    }

    /// A PNG of the whole page.
    pub fn screenshot(&mut self, path: &Path) {
        use base64::Engine;
        let shot = self.call("Page.captureScreenshot", json!({ "format": "png", "captureBeyondViewport": true }));
        let png = base64::engine::general_purpose::STANDARD.decode(shot["data"].as_str().unwrap()).unwrap();
        std::fs::write(path, png).unwrap();
    }
}
