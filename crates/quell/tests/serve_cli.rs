//! `quell serve`, `quell admin` and `quell scan --upload` as a user runs them, and the durability
//! test: `kill -9` of the server during a burst of uploads loses no acknowledged report.
#![cfg(feature = "server")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
#[allow(unused_imports)]
use common::*;

use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const CORPUS: &str = "../../../shared/corpus/jars";

/// An organisation with an admin and a full-scope token.
fn setup(data_dir: &Path) -> String {
    assert_eq!(admin(data_dir, &["create-org", "--name", "alpha"], "").0, 0);
    let (code, _) = admin(
        data_dir,
        &["create-user", "--org", "alpha", "--email", "it@alpha.example", "--role", "admin"],
        &format!("{PASSWORD}\n"),
    );
    assert_eq!(code, 0);
    assert_eq!(
        admin(data_dir, &["create-user", "--org", "alpha", "--email", "x@a.example", "--role", "admin"], "short\n").0,
        2
    );
    let (code, token) =
        admin(data_dir, &["create-token", "--email", "it@alpha.example", "--name", "all", "--scope", "full"], "");
    assert_eq!(code, 0);
    assert!(token.starts_with("qt_"), "{token}");
    token
}

#[test]
fn scan_uploads_to_serve_and_the_host_appears() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let token = setup(&data);
    let (mut server, base) = serve(&data, &[]);

    let scanned = corpus_tree(dir.path(), "tree", &["log4j-core-2.14.1.jar", "log4j-core-2.17.1.jar"]);
    let out = quell()
        .args(["scan", "--quiet", "--format", "json", "--host-name", "web-7", "--upload", &base, "--token", &token])
        .arg(&scanned)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let summary: serde_json::Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    assert_eq!(summary["host"], "web-7");
    assert!(summary["tool_version"].as_str().unwrap().starts_with("quell "));
    assert!(String::from_utf8_lossy(&out.stderr).contains("uploaded"));

    let (status, hosts) = get(&base, &token, "/api/v1/hosts");
    assert_eq!(status, 200);
    assert_eq!(hosts[0]["name"], "web-7");
    assert_eq!((hosts[0]["copies"].as_i64(), hosts[0]["affected"].as_i64()), (Some(2), Some(1)));

    // A wrong token: the scan still prints its report, and exits 2 for the failed upload.
    let out =
        quell().args(["scan", "--quiet", "--upload", &base, "--token", "qt_wrong"]).arg(&scanned).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("HTTP 401"));
    server.kill().unwrap();
    server.wait().unwrap();
}

fn burst_report(uploader: usize, n: usize) -> String {
    let mut body = String::new();
    for i in 0..5 {
        body.push_str(&format!(
            r#"{{"kind":"finding","path":["/srv/u{uploader}/r{n}/app{i}.jar"],"component":"log4j-core","version":"2.14.1","version_range":null,"confidence":"confirmed","evidence":[],"mitigations":[],"cves":[{{"id":"CVE-2021-44228","status":"affected"}}]}}"#
        ));
        body.push('\n');
    }
    body.push_str(&format!(
        r#"{{"kind":"summary","files":1,"archives":1,"bytes":1,"findings":5,"affected":5,"errors":0,"elapsed_ms":1,"host":"host-{uploader}","finished_at":"2026-01-01T00:00:{:02}Z"}}"#,
        n % 60
    ));
    body.push('\n');
    body
}

#[test]
fn kill_9_during_an_upload_burst_loses_no_acknowledged_report() {
    const UPLOADERS: usize = 4;
    const BURST: Duration = Duration::from_secs(2);
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let token = setup(&data);
    let (mut server, base) = serve(&data, &[]);

    let acknowledged: Arc<Mutex<Vec<(i64, String)>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let threads: Vec<_> = (0..UPLOADERS)
        .map(|u| {
            let (base, token, acknowledged, stop) = (base.clone(), token.clone(), acknowledged.clone(), stop.clone());
            std::thread::spawn(move || {
                let deadline = Instant::now() + BURST * 5;
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) && Instant::now() < deadline {
                    let body = burst_report(u, n);
                    n += 1;
                    let result = agent()
                        .post(&format!("{base}/api/v1/reports"))
                        .header("Authorization", &format!("Bearer {token}"))
                        .send(body.as_bytes());
                    let Ok(mut response) = result else { break };
                    if response.status().as_u16() == 201 {
                        let answer: serde_json::Value =
                            serde_json::from_str(&response.body_mut().read_to_string().unwrap()).unwrap();
                        acknowledged.lock().unwrap().push((answer["id"].as_i64().unwrap(), body));
                    }
                }
            })
        })
        .collect();
    std::thread::sleep(BURST);
    server.kill().unwrap(); // SIGKILL: no shutdown, no flush
    server.wait().unwrap();
    stop.store(true, Ordering::Relaxed);
    for thread in threads {
        thread.join().unwrap();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(acknowledged.len() >= 10, "the burst stored only {} reports", acknowledged.len());

    let (mut server, base) = serve(&data, &[]);
    for (id, body) in &acknowledged {
        let (status, report) = get(&base, &token, &format!("/api/v1/reports/{id}"));
        assert_eq!(status, 200, "acknowledged report {id} lost");
        assert_eq!(report["findings"].as_array().unwrap().len(), 5);
        // The same body again is recognised as already stored, under the same id.
        let mut response = agent()
            .post(&format!("{base}/api/v1/reports"))
            .header("Authorization", &format!("Bearer {token}"))
            .send(body.as_bytes())
            .unwrap();
        assert_eq!(response.status().as_u16(), 200);
        let answer: serde_json::Value = serde_json::from_str(&response.body_mut().read_to_string().unwrap()).unwrap();
        assert_eq!(answer["id"].as_i64(), Some(*id));
    }
    server.kill().unwrap();
    server.wait().unwrap();
}

#[test]
fn serve_and_admin_exit_codes_and_help() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("not-a-dir");
    std::fs::write(&file, b"x").unwrap();
    let out = quell().args(["serve", "--data-dir"]).arg(file.join("sub")).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let (code, _) = admin(&dir.path().join("d"), &["create-token", "--email", "nobody@x.example", "--name", "n"], "");
    assert_eq!(code, 2);
    for sub in ["serve", "admin"] {
        let out = quell().args([sub, "--help"]).output().unwrap();
        let help = String::from_utf8_lossy(&out.stdout);
        assert!(help.contains("Examples:") && help.contains("Exit codes"), "{help}");
        let after = help.split("Examples:").nth(1).unwrap_or_default();
        assert!(after.lines().all(|l| l.chars().count() <= 80), "{sub} examples wider than 80 columns:\n{after}");
    }
}

/// The real pages in headless Chromium: log in, the host uploaded by `quell scan --upload`
/// appears with its findings; screenshots go to `target/tmp/browser/` as artifacts.
/// Skipped when Chromium is missing, unless `QUELL_REQUIRE_BROWSER` is set (scripts/test sets it).
#[test]
fn browser_logs_in_and_sees_the_uploaded_host() {
    let Some(chromium) = chromium() else { return };
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let token = setup(&data);
    let (mut server, base) = serve(&data, &[]);

    let scanned = corpus_tree(dir.path(), "tree", &["log4j-core-2.14.1.jar"]);
    let out = quell()
        .args(["scan", "--quiet", "--host-name", "browser-host", "--upload", &base, "--token", &token])
        .arg(&scanned)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));

    let profile = dir.path().join("chromium");
    let (mut browser, mut cdp) = browser(chromium, &profile);
    let artifacts = artifacts();
    cdp.viewport(1280, 900, false);

    cdp.call("Page.navigate", serde_json::json!({ "url": format!("{base}/") }));
    cdp.wait_for("/login");
    cdp.eval(&format!(
        "document.querySelector('#email').value = 'it@alpha.example'; \
         document.querySelector('#password').value = {}; \
         document.querySelector('form.login button').click(); true",
        serde_json::json!(PASSWORD)
    ));
    cdp.wait_for("/");
    let deadline = Instant::now() + Duration::from_secs(20);
    while !cdp.text().contains("Dashboard") {
        assert!(Instant::now() < deadline, "no dashboard after login: {}", cdp.text());
        std::thread::sleep(Duration::from_millis(100));
    }
    let dashboard = cdp.text();
    assert!(dashboard.contains("affected copies") && dashboard.contains("2.14.1"), "{dashboard}");
    assert_eq!(cdp.eval("document.querySelectorAll('svg polyline').length"), serde_json::json!(2));
    cdp.screenshot(&artifacts.join("dashboard.png"));

    cdp.call("Page.navigate", serde_json::json!({ "url": format!("{base}/hosts") }));
    cdp.wait_for("/hosts");
    cdp.eval("document.querySelector('a[href^=\"/hosts/\"]').click(); true");
    let deadline = Instant::now() + Duration::from_secs(20);
    while cdp.eval("location.pathname.length > '/hosts/'.length && document.readyState === 'complete'")
        != serde_json::json!(true)
    {
        assert!(Instant::now() < deadline, "host page did not open");
        std::thread::sleep(Duration::from_millis(100));
    }
    let host = cdp.text();
    assert!(host.contains("browser-host") && host.contains("AFFECTED"), "{host}");
    assert!(host.contains("log4j-core-2.14.1.jar") && host.contains("CVE-2021-44228"), "{host}");
    cdp.screenshot(&artifacts.join("host.png"));
    cdp.viewport(390, 844, true);
    cdp.screenshot(&artifacts.join("host-phone.png"));

    browser.kill().unwrap();
    browser.wait().unwrap();
    server.kill().unwrap();
    server.wait().unwrap();
}

#[cfg(unix)]
#[test]
fn sigterm_stops_the_server_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let (mut server, base) = serve(&dir.path().join("data"), &[]);
    assert_eq!(get(&base, "", "/healthz").0, 200);
    let status = Command::new("kill").arg("-TERM").arg(server.id().to_string()).status().unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(20);
    let code = loop {
        if let Some(status) = server.try_wait().unwrap() {
            break status.code();
        }
        assert!(Instant::now() < deadline, "quell serve did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(code, Some(0));
}

/// Peak resident memory of a process (`VmHWM`), in KiB.
fn peak_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).expect("VmHWM");
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// Sixteen compressed bombs at once to each upload route (reports, indicators; each about 300 KB
/// on the wire, 300 MB of zeros inflated): every one is refused, and the server's peak memory grows by a few lines' worth, not by the
/// inflated sizes (before the streaming decoder: hundreds of megabytes per bomb).
#[test]
fn sixteen_concurrent_gzip_bombs_cost_little_memory() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let token = setup(&data);
    let (mut server, base) = serve(&data, &[]);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..300 {
        gz.write_all(&zeros).unwrap();
    }
    let bomb = Arc::new(gz.finish().unwrap());
    assert!(bomb.len() < 400_000, "{} bytes", bomb.len());
    let before = peak_kib(server.id());
    let uploads: Vec<_> = (0..32)
        .map(|i| {
            let (bomb, base, token) = (Arc::clone(&bomb), base.clone(), token.clone());
            // Half to the report upload, half to the indicator upload.
            let path = if i % 2 == 0 { "/api/v1/reports" } else { "/api/v1/indicators" };
            std::thread::spawn(move || {
                agent()
                    .post(&format!("{base}{path}"))
                    .header("Authorization", &format!("Bearer {token}"))
                    .header("Content-Encoding", "gzip")
                    .send(&bomb[..])
                    .unwrap()
                    .status()
                    .as_u16()
            })
        })
        .collect();
    let statuses: Vec<u16> = uploads.into_iter().map(|t| t.join().unwrap()).collect();
    let after = peak_kib(server.id());
    eprintln!("32 concurrent bombs: peak RSS {before} KiB before, {after} KiB after");
    assert!(statuses.iter().all(|s| *s == 400 || *s == 413), "{statuses:?}");
    assert!(after < before + 64 * 1024, "peak memory grew by {} KiB", after - before);
    server.kill().unwrap();
    server.wait().unwrap();
}

/// A login with a newline in the e-mail address cannot forge a line in the server's log: every
/// logged value has its control characters escaped.
#[test]
fn a_newline_in_a_logged_value_cannot_forge_a_log_line() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    setup(&data);
    let (mut server, base, log) = serve_logged(&data, &[]);
    let mut form = agent().get(&format!("{base}/login")).call().unwrap();
    let cookie = form.headers().get("set-cookie").unwrap().to_str().unwrap().split(';').next().unwrap().to_string();
    let page = form.body_mut().read_to_string().unwrap();
    let csrf = page.split("name=\"csrf\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
    let forged = "x@evil.example\n2026-12-02T00:00:00.000000Z  INFO quell_server: FORGED admin logged in";
    let body = format!(
        "email={}&password=wrong&csrf={csrf}",
        forged.replace('\n', "%0A").replace(' ', "+").replace(':', "%3A")
    );
    let status = agent()
        .post(&format!("{base}/login"))
        .header("Cookie", &cookie)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .send(body.as_bytes())
        .unwrap()
        .status()
        .as_u16();
    assert_eq!(status, 401);
    std::thread::sleep(Duration::from_millis(300));
    server.kill().unwrap();
    server.wait().unwrap();
    let lines = log.lock().unwrap().clone();
    let failed: Vec<&String> = lines.iter().filter(|l| l.contains("failed login")).collect();
    assert_eq!(failed.len(), 1, "{lines:#?}");
    assert!(failed[0].contains("\\n2026-12-02"), "the newline is escaped: {}", failed[0]);
    assert!(!lines.iter().any(|l| l.starts_with("2026-12-02T00:00:00.000000Z")), "a forged line: {lines:#?}");
}

/// The data directory is created 0700 and the database and its WAL 0600; a data directory that
/// every local user can read is refused unless `--allow-readable-data-dir` is given.
#[test]
fn data_files_are_private_and_a_readable_data_dir_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let token = setup(&data);
    let (mut server, base) = serve(&data, &[]);
    let (status, _) = agent()
        .post(&format!("{base}/api/v1/reports"))
        .header("Authorization", &format!("Bearer {token}"))
        .send(burst_report(0, 0).as_bytes())
        .map(|r| (r.status().as_u16(), ()))
        .unwrap();
    assert_eq!(status, 201);
    assert_eq!(mode(&data), 0o700);
    assert_eq!(mode(&data.join("quell.db")), 0o600);
    assert_eq!(mode(&data.join("quell.db-wal")), 0o600);
    server.kill().unwrap();
    server.wait().unwrap();

    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = quell().args(["serve", "--listen", "127.0.0.1:0", "--data-dir"]).arg(&data).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("readable by every local user") && stderr.contains("--allow-readable-data-dir"),
        "{stderr}"
    );
    let (mut server, _) = serve(&data, &["--allow-readable-data-dir"]);
    server.kill().unwrap();
    server.wait().unwrap();
}

/// A war holding the given files (name, bytes) under WEB-INF/lib.
fn war_of(path: &Path, jars: &[(&str, Vec<u8>)]) {
    let mut zip = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    let stored = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (name, bytes) in jars {
        zip.start_file(format!("WEB-INF/lib/{name}"), stored).unwrap();
        std::io::Write::write_all(&mut zip, bytes).unwrap();
    }
    zip.finish().unwrap();
}

#[test]
fn scan_inventory_uploads_the_full_component_list_and_the_server_answers_where_it_runs() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let token = setup(&data);
    let (mut server, base) = serve(&data, &[]);
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join(CORPUS);
    let scanned = dir.path().join("tree");
    std::fs::create_dir(&scanned).unwrap();
    // Real release jars: one on disk, two nested inside a war.
    std::fs::copy(corpus.join("log4j-1.2.17.jar"), scanned.join("log4j-1.2.17.jar")).unwrap();
    war_of(
        &scanned.join("shop.war"),
        &[
            ("log4j-core-2.14.1.jar", std::fs::read(corpus.join("log4j-core-2.14.1.jar")).unwrap()),
            ("log4j-api-2.14.1.jar", std::fs::read(corpus.join("log4j-api-2.14.1.jar")).unwrap()),
        ],
    );
    let out = quell()
        .args(["scan", "--quiet", "--inventory", "--format", "json", "--host-name", "shop-1"])
        .args(["--upload", &base, "--token", &token])
        .arg(&scanned)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let components = stdout.lines().filter(|l| l.contains(r#""kind":"component""#)).count();
    assert!(components >= 4, "log4j 1.2.17, the war, log4j-core and log4j-api: {stdout}");

    let (status, lists) = get(&base, &token, "/api/v1/inventories");
    assert_eq!(status, 200, "{lists}");
    assert_eq!(lists[0]["system"], "shop-1", "{lists}");
    assert_eq!(lists[0]["components"].as_u64(), Some(components as u64), "every record stored: {lists}");

    let ask = |purl: &str, range: &str| {
        get(
            &base,
            &token,
            &format!(
                "/api/v1/components?purl={purl}&range={}",
                range.replace('|', "%7C").replace('>', "%3E").replace('<', "%3C").replace('=', "%3D")
            ),
        )
    };
    let (_, core) = ask("pkg:maven/org.apache.logging.log4j/log4j-core", "vers:maven/>=2.0-beta9|<2.15.0");
    assert_eq!(core["systems"], 1, "{core}");
    let paths: Vec<&str> = core["locations"].as_array().unwrap().iter().map(|l| l["path"].as_str().unwrap()).collect();
    assert!(paths.iter().all(|p| p.ends_with("shop.war!/WEB-INF/lib/log4j-core-2.14.1.jar")), "{core}");
    assert!(core["locations"][0]["sha256"].as_str().is_some_and(|h| h.len() == 64), "hashes travel: {core}");
    let (_, api) = ask("pkg:maven/org.apache.logging.log4j/log4j-api", "2.14.1");
    assert_eq!(api["systems"], 1, "a jar no pack knows is askable too: {api}");
    let (_, one) = ask("pkg:maven/log4j/log4j", "vers:maven/<2");
    assert_eq!(one["systems"], 1, "log4j 1.x by its own pom.properties: {one}");
    let (_, fixed) = ask("pkg:maven/org.apache.logging.log4j/log4j-core", "vers:maven/>=2.17.1");
    assert_eq!(fixed["systems"], 0, "{fixed}");

    // quell's own CycloneDX BOM is an SBOM the server takes too.
    let bom = quell().args(["scan", "--quiet", "--inventory", "--format", "cyclonedx"]).arg(&scanned).output().unwrap();
    assert_eq!(bom.status.code(), Some(1));
    let mut response = agent()
        .post(&format!("{base}/api/v1/sboms?system=shop-1-bom"))
        .header("Authorization", &format!("Bearer {token}"))
        .header("Content-Type", "application/json")
        .send(&bom.stdout[..])
        .unwrap();
    let text = response.body_mut().read_to_string().unwrap();
    assert_eq!(response.status().as_u16(), 201, "{text}");
    let stored: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        (stored["format"].as_str(), stored["spec_version"].as_str()),
        (Some("cyclonedx"), Some("1.6")),
        "{stored}"
    );
    let (_, core) = ask("pkg:maven/org.apache.logging.log4j/log4j-core", "2.14.1");
    assert_eq!(core["systems"], 2, "the host's scan and its BOM as an application: {core}");
    server.kill().unwrap();
    server.wait().unwrap();
}
