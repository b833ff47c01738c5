//! Test harness: a server on a loopback port over a fresh database, and a small HTTP client.
//!
//! The database is a SQLite file in a temporary directory, or, when `QUELL_TEST_POSTGRES` holds
//! a PostgreSQL URL (as `scripts/test` sets it), a fresh database created on that server.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

mod tools;
#[allow(unused_imports)]
pub use tools::*;

use quell_store::sqlx;
use std::net::SocketAddr;
use std::sync::mpsc;

use quell_server::auth::{self, Role, Scope};
use quell_server::{Db, DbLocation, Limits, ServeConfig};

pub struct Server {
    pub base: String,
    pub location: DbLocation,
    _dir: tempfile::TempDir,
}

/// A fresh database location for one test.
pub fn fresh_location(dir: &std::path::Path) -> DbLocation {
    match std::env::var("QUELL_TEST_POSTGRES") {
        Ok(admin_url) if !admin_url.is_empty() => {
            let name = format!("quell_test_{}", quell_server::auth::new_secret("").unwrap().get(..16).unwrap());
            quell_server::block_on(async {
                use sqlx::Executor;
                sqlx::any::install_default_drivers();
                let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&admin_url).await.expect("postgres");
                conn.execute(format!("CREATE DATABASE {name}").as_str()).await.expect("create database");
            })
            .unwrap();
            let (base, _) = admin_url.rsplit_once('/').expect("URL with a database");
            DbLocation::Postgres(format!("{base}/{name}"))
        }
        _ => DbLocation::SqliteFile(dir.join("quell.db")),
    }
}

pub fn start(limits: Limits) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let location = fresh_location(dir.path());
    start_at(location, limits, dir)
}

/// A server over an existing database (a second process sharing it).
pub fn start_at(location: DbLocation, limits: Limits, dir: tempfile::TempDir) -> Server {
    start_with(location, limits, quell_server::advisories::Config::default(), dir)
}

/// The configuration every test server starts from: loopback on a free port, the database at
/// `db`, 4 connections, default limits and advisory settings, English, no proxies, metrics, packs
/// keys or single sign-on. Tests change what they test with `ServeConfig { .., ..test_config(db) }`.
pub fn test_config(db: DbLocation) -> ServeConfig {
    ServeConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        db,
        db_connections: 4,
        limits: Limits::default(),
        secure_cookies: false,
        advisories: quell_server::advisories::Config::default(),
        trusted_proxies: Vec::new(),
        metrics_listen: None,
        pack_keys: Vec::new(),
        default_language: quell_server::i18n::Lang::En,
        sso: None,
    }
}

/// A server with the given advisory settings (SMTP relay, retries, …).
pub fn start_with(
    location: DbLocation,
    limits: Limits,
    advisories: quell_server::advisories::Config,
    dir: tempfile::TempDir,
) -> Server {
    let config = ServeConfig { limits, advisories, ..test_config(location) };
    start_config(config, dir)
}

/// A server behind reverse proxies on these networks (`--trusted-proxy`).
pub fn start_behind_proxy(limits: Limits, proxies: &[&str]) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let location = fresh_location(dir.path());
    let config = ServeConfig {
        limits,
        trusted_proxies: proxies.iter().map(|p| p.parse().unwrap()).collect(),
        ..test_config(location)
    };
    start_config(config, dir)
}

/// A server with exactly this configuration.
pub fn start_config(config: ServeConfig, dir: tempfile::TempDir) -> Server {
    let (tx, rx) = mpsc::channel::<SocketAddr>();
    let location = config.db.clone();
    std::thread::spawn(move || {
        quell_server::block_on(quell_server::serve(config, move |addr| tx.send(addr).unwrap())).unwrap().unwrap();
    });
    let addr = rx.recv_timeout(std::time::Duration::from_secs(60)).expect("server started");
    Server { base: format!("http://{addr}"), location, _dir: dir }
}

/// Opens the server's database inside the runtime that will use it (a pool must not outlive
/// the runtime it was opened on).
pub async fn open(location: DbLocation) -> Db {
    Db::open(&location, 1).await.unwrap()
}

/// An organisation with an admin, a member, a full token and an upload token.
pub struct Org {
    pub id: i64,
    pub name: String,
    pub admin_email: String,
    pub full: String,
    pub full_id: i64,
    pub upload: String,
    pub upload_id: i64,
    pub member_full: String,
}

pub const PASSWORD: &str = "correct horse battery staple";

pub fn org(server: &Server, name: &str) -> Org {
    let location = server.location.clone();
    let name = name.to_string();
    quell_server::block_on(async move {
        let db = open(location).await;
        let id = auth::create_org(&db, &name).await.unwrap();
        let admin_email = format!("admin@{name}.example");
        let admin = auth::create_user(&db, &admin_email, PASSWORD, Role::Admin, Some(id)).await.unwrap();
        let member =
            auth::create_user(&db, &format!("member@{name}.example"), PASSWORD, Role::Member, Some(id)).await.unwrap();
        let full = auth::create_token(&db, admin, "admin", Scope::Full).await.unwrap();
        let upload = auth::create_token(&db, admin, "agent", Scope::Upload).await.unwrap();
        let member_full = auth::create_token(&db, member, "member", Scope::Full).await.unwrap();
        Org {
            id,
            name,
            admin_email,
            full: full.token,
            full_id: full.id,
            upload: upload.token,
            upload_id: upload.id,
            member_full: member_full.token,
        }
    })
    .unwrap()
}

pub fn coordinator(server: &Server) -> String {
    let location = server.location.clone();
    quell_server::block_on(async move {
        let db = open(location).await;
        let user = auth::create_user(&db, "cert@ncsc.example", PASSWORD, Role::Coordinator, None).await.unwrap();
        auth::create_token(&db, user, "coordinator", Scope::Full).await.unwrap().token
    })
    .unwrap()
}

pub fn agent() -> ureq::Agent {
    ureq::Agent::new_with_config(ureq::config::Config::builder().http_status_as_error(false).build())
}

/// (status, JSON body or Null).
pub fn get(server: &Server, token: &str, path: &str) -> (u16, serde_json::Value) {
    let mut response = agent()
        .get(&format!("{}{path}", server.base))
        .header("Authorization", &format!("Bearer {token}"))
        .call()
        .unwrap();
    let status = response.status().as_u16();
    let text = response.body_mut().read_to_string().unwrap();
    (status, serde_json::from_str(&text).unwrap_or(serde_json::Value::Null))
}

pub fn send(
    server: &Server,
    method: &str,
    token: &str,
    path: &str,
    body: &[u8],
    headers: &[(&str, &str)],
) -> (u16, serde_json::Value) {
    let url = format!("{}{path}", server.base);
    let mut request =
        ureq::http::Request::builder().method(method).uri(&url).header("Authorization", format!("Bearer {token}"));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let mut response = agent().run(request.body(body.to_vec()).unwrap()).unwrap();
    let status = response.status().as_u16();
    let text = response.body_mut().read_to_string().unwrap();
    (status, serde_json::from_str(&text).unwrap_or(serde_json::Value::Null))
}

pub fn upload(server: &Server, token: &str, body: &str) -> (u16, serde_json::Value) {
    send(server, "POST", token, "/api/v1/reports", body.as_bytes(), &[("Content-Type", "application/x-ndjson")])
}

/// A report of `affected` affected and `fixed` not-affected log4j-core copies on `host`,
/// scanned at `finished_at`.
pub fn report(host: &str, finished_at: &str, affected: usize, fixed: usize, tag: &str) -> String {
    let mut out = String::new();
    for i in 0..affected {
        out.push_str(&format!(
            r#"{{"kind":"finding","path":["/srv/{tag}/app{i}.war","WEB-INF/lib/log4j-core-2.14.1.jar"],"component":"log4j-core","version":"2.14.1","version_range":null,"confidence":"confirmed","evidence":["pom.properties:2.14.1"],"mitigations":[],"cves":[{{"id":"CVE-2021-44228","status":"affected"}},{{"id":"CVE-2021-45046","status":"affected"}}]}}"#
        ));
        out.push('\n');
    }
    for i in 0..fixed {
        out.push_str(&format!(
            r#"{{"kind":"finding","path":["/opt/{tag}/lib{i}/log4j-core-2.17.1.jar"],"component":"log4j-core","version":"2.17.1","version_range":null,"confidence":"confirmed","evidence":[],"mitigations":[],"cves":[{{"id":"CVE-2021-44228","status":"not_affected"}},{{"id":"CVE-2021-45046","status":"not_affected"}}]}}"#
        ));
        out.push('\n');
    }
    out.push_str(&format!(r#"{{"kind":"error","path":["/srv/{tag}/broken.jar"],"message":"corrupt zip archive"}}"#));
    out.push('\n');
    out.push_str(&format!(
        r#"{{"kind":"summary","files":10,"archives":3,"bytes":1000,"findings":{},"affected":{affected},"errors":1,"elapsed_ms":5,"inflated_bytes":0,"host":"{host}","tool_version":"quell 0.1.0","finished_at":"{finished_at}"}}"#,
        affected + fixed
    ));
    out.push('\n');
    out
}

/// `finished_at` for `days_ago` days before now.
pub fn days_ago(days: i64) -> String {
    quell_server::time::format_rfc3339(quell_server::now() - days * 86_400)
}

// ---- pages, as a browser without JavaScript sees them ----

/// An HTTP client that neither follows redirects nor fails on error statuses.
pub fn browser() -> ureq::Agent {
    ureq::Agent::new_with_config(ureq::config::Config::builder().http_status_as_error(false).max_redirects(0).build())
}

/// A page as fetched: status, body, the cookies it sets, and where it redirects.
pub struct Page {
    pub status: u16,
    pub body: String,
    pub cookies: Vec<String>,
    pub location: Option<String>,
}

/// Fetches a page with a cookie, posting `form` (URL-encoded) when given.
pub fn fetch(server: &Server, method: &str, path: &str, cookie: &str, form: Option<&[(&str, &str)]>) -> Page {
    let url = format!("{}{path}", server.base);
    let mut request = ureq::http::Request::builder().method(method).uri(&url);
    if !cookie.is_empty() {
        request = request.header("Cookie", cookie);
    }
    let body = match form {
        Some(fields) => {
            request = request.header("Content-Type", "application/x-www-form-urlencoded");
            fields.iter().map(|(k, v)| format!("{k}={}", encode(v))).collect::<Vec<_>>().join("&")
        }
        None => String::new(),
    };
    let mut response = browser().run(request.body(body.into_bytes()).unwrap()).unwrap();
    let cookies = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_string())
        .collect();
    let location = response.headers().get("location").map(|v| v.to_str().unwrap().to_string());
    Page { status: response.status().as_u16(), body: response.body_mut().read_to_string().unwrap(), cookies, location }
}

/// Percent-encoding of a form value.
pub fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The value of `name="NAME" value="..."` in a page.
pub fn field(body: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let at = body.find(&marker).unwrap_or_else(|| panic!("field {name}")) + marker.len();
    body[at..].split('"').next().unwrap().to_string()
}

/// The form token of a page.
pub fn csrf(body: &str) -> String {
    field(body, "csrf")
}

/// Logs in through the form; the answer to the POST.
pub fn login(server: &Server, email: &str, password: &str) -> Page {
    let form = fetch(server, "GET", "/login", "", None);
    assert_eq!(form.status, 200);
    let token = csrf(&form.body);
    fetch(
        server,
        "POST",
        "/login",
        &form.cookies.join("; "),
        Some(&[("email", email), ("password", password), ("csrf", &token)]),
    )
}

/// Logs in; returns the session cookie.
pub fn session(server: &Server, email: &str) -> String {
    let page = login(server, email, PASSWORD);
    assert_eq!((page.status, page.location.as_deref()), (303, Some("/")), "{}", page.body);
    page.cookies.into_iter().find(|c| c.starts_with("quell_session=")).expect("session cookie")
}

/// A Log4Shell advisory draft as the advisory API takes it: `title`, `tlp`, rated HIGH/HIGH, sent
/// to the organisations `orgs` and the users `users`, and to every organisation whose inventory
/// holds an affected copy when `match_inventory`.
pub fn log4shell_draft(
    title: &str,
    tlp: &str,
    orgs: &[i64],
    users: &[i64],
    match_inventory: bool,
) -> serde_json::Value {
    serde_json::json!({
        "content": {
            "title": title,
            "summary": "Remote code execution through JNDI lookups in log messages.",
            "cves": ["CVE-2021-44228"],
            "products": [{"supplier": "Apache", "product": "Log4j", "versions": "2.0-beta9 to 2.14.1"}],
            "consequences": "An attacker can run code on the server.",
            "solution": "Update to 2.17.1.",
            "references": ["https://logging.apache.org/log4j/2.x/security.html"],
            "rating": log4shell_rating(),
            "tlp": tlp
        },
        "recipients": {"orgs": orgs, "users": users, "match_inventory": match_inventory}
    })
}

/// The rating answers of Log4Shell (HIGH/HIGH), as the advisory API takes them.
pub fn log4shell_rating() -> serde_json::Value {
    serde_json::json!({
        "chance": {
            "default_configuration": "yes", "exploit_code": "working_exploit", "details_public": "full",
            "access": "internet", "credentials": "none", "complexity": "easy", "user_interaction": "none",
            "actively_exploited": "large_scale", "exploitation_expected": "yes", "solution": "less_than_two_months"
        },
        "damage": {
            "denial_of_service": "infrastructure", "code_execution": "root", "remote_access": "root_shell",
            "privilege_escalation": "yes", "information_leak": "data"
        }
    })
}
