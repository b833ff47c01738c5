//! The upload benchmark behind `scripts/bench/serve`: N concurrent uploaders on loopback, each
//! sending reports of 50 findings to an in-process `quell serve`, bounded in count and time;
//! prints reports/s, findings/s and p50/p99 latency, then, as the floor, the rate of storing the
//! same reports straight into the database (no HTTP, no parsing): one transaction per report,
//! and as many per transaction as a group commit takes.
//!
//!   cargo run --release -p quell-server --example bench_serve -- [UPLOADERS] [SECONDS] [MAX_REPORTS]
//!
//! The database is a SQLite file in a temporary directory under `target/` (or `QUELL_BENCH_DIR`), or the PostgreSQL of
//! `QUELL_TEST_POSTGRES` (a fresh database is created there).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use quell_store::sqlx;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use quell_server::auth::{self, Role, Scope};
use quell_server::{Db, DbLocation, Limits, ServeConfig};

const FINDINGS_PER_REPORT: usize = 50;

fn report(uploader: usize, n: usize) -> String {
    let mut body = String::with_capacity(FINDINGS_PER_REPORT * 400);
    for i in 0..FINDINGS_PER_REPORT {
        let (version, status) = if i % 3 == 0 { ("2.14.1", "affected") } else { ("2.17.1", "not_affected") };
        body.push_str(&format!(
            r#"{{"kind":"finding","path":["/srv/app{n}/lib{i}.war","WEB-INF/lib/log4j-core-{version}.jar"],"component":"log4j-core","version":"{version}","version_range":null,"confidence":"confirmed","evidence":["class:org/apache/logging/log4j/core/net/JndiManager.class","pom.properties:{version}"],"mitigations":[],"cves":[{{"id":"CVE-2021-44228","status":"{status}"}},{{"id":"CVE-2021-45046","status":"{status}"}},{{"id":"CVE-2021-45105","status":"{status}"}},{{"id":"CVE-2021-44832","status":"{status}"}}]}}"#
        ));
        body.push('\n');
    }
    let affected = (0..FINDINGS_PER_REPORT).filter(|i| i % 3 == 0).count();
    body.push_str(&format!(
        r#"{{"kind":"summary","files":1000,"archives":60,"bytes":123456789,"findings":{FINDINGS_PER_REPORT},"affected":{affected},"errors":0,"elapsed_ms":1200,"host":"host-{uploader}-{}","tool_version":"quell 0.1.0","finished_at":"2026-01-01T00:00:00Z"}}"#,
        n % 100
    ));
    body.push('\n');
    body
}

fn location(dir: &std::path::Path, tag: &str) -> DbLocation {
    match std::env::var("QUELL_TEST_POSTGRES") {
        Ok(admin) if !admin.is_empty() => {
            let name = format!("quell_bench_{tag}_{}", std::process::id());
            quell_server::block_on(async {
                use sqlx::{Connection, Executor};
                sqlx::any::install_default_drivers();
                let mut conn = sqlx::AnyConnection::connect(&admin).await.unwrap();
                conn.execute(format!("CREATE DATABASE {name}").as_str()).await.unwrap();
            })
            .unwrap();
            DbLocation::Postgres(format!("{}/{name}", admin.rsplit_once('/').unwrap().0))
        }
        _ => DbLocation::SqliteFile(dir.join(format!("{tag}.db"))),
    }
}

fn main() {
    let args: Vec<usize> = std::env::args().skip(1).map(|a| a.parse().expect("a number")).collect();
    let uploaders = args.first().copied().unwrap_or(8);
    let seconds = args.get(1).copied().unwrap_or(10);
    let max_reports = args.get(2).copied().unwrap_or(5_000);
    // On the disk under target/ (not a tmpfs /tmp), so that fsync costs what it costs.
    let parent = std::env::var("QUELL_BENCH_DIR").unwrap_or_else(|_| "target".into());
    std::fs::create_dir_all(&parent).unwrap();
    let dir = tempfile::tempdir_in(parent).unwrap();
    let served = location(dir.path(), "served");
    let backend = if matches!(served, DbLocation::Postgres(_)) { "postgres" } else { "sqlite" };

    let setup = served.clone();
    let token = quell_server::block_on(async move {
        let db = Db::open(&setup, 1).await.unwrap();
        let org = auth::create_org(&db, "bench").await.unwrap();
        let user =
            auth::create_user(&db, "a@bench.example", "bench password 123", Role::Admin, Some(org)).await.unwrap();
        auth::create_token(&db, user, "bench", Scope::Upload).await.unwrap().token
    })
    .unwrap();

    let (tx, rx) = mpsc::channel();
    let config = ServeConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        db: served,
        db_connections: quell_server::limits::DEFAULT_DB_CONNECTIONS,
        limits: Limits::default(),
        secure_cookies: false,
        advisories: Default::default(),
        trusted_proxies: Vec::new(),
        metrics_listen: None,
        pack_keys: Vec::new(),
        default_language: quell_server::i18n::Lang::En,
        sso: None,
    };
    std::thread::spawn(move || {
        quell_server::block_on(quell_server::serve(config, move |a| tx.send(a).unwrap())).unwrap().unwrap();
    });
    let address = rx.recv().unwrap();
    let url = format!("http://{address}/api/v1/reports");

    let sent = Arc::new(AtomicUsize::new(0));
    let latencies = Arc::new(Mutex::new(Vec::new()));
    let deadline = Instant::now() + Duration::from_secs(seconds as u64);
    let start = Instant::now();
    let threads: Vec<_> = (0..uploaders)
        .map(|u| {
            let (url, token, sent, latencies) = (url.clone(), token.clone(), sent.clone(), latencies.clone());
            std::thread::spawn(move || {
                let agent =
                    ureq::Agent::new_with_config(ureq::config::Config::builder().http_status_as_error(false).build());
                let mut mine = Vec::new();
                loop {
                    let n = sent.fetch_add(1, Ordering::Relaxed);
                    if n >= max_reports || Instant::now() >= deadline {
                        break;
                    }
                    let body = report(u, n);
                    let t = Instant::now();
                    let status = agent
                        .post(&url)
                        .header("Authorization", &format!("Bearer {token}"))
                        .send(body.as_bytes())
                        .unwrap()
                        .status()
                        .as_u16();
                    assert_eq!(status, 201);
                    mine.push(t.elapsed());
                }
                latencies.lock().unwrap().extend(mine);
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let elapsed = start.elapsed().as_secs_f64();
    let mut latencies = latencies.lock().unwrap().clone();
    latencies.sort();
    let reports = latencies.len();
    let pct = |p: f64| {
        latencies.get(((reports as f64 * p) as usize).min(reports.saturating_sub(1))).copied().unwrap_or_default()
    };
    println!(
        "{backend:8} HTTP  {uploaders:2} uploaders  {reports:6} reports in {elapsed:5.1} s  {:8.0} reports/s  {:9.0} findings/s  p50 {:6.1} ms  p99 {:6.1} ms",
        reports as f64 / elapsed,
        (reports * FINDINGS_PER_REPORT) as f64 / elapsed,
        pct(0.50).as_secs_f64() * 1000.0,
        pct(0.99).as_secs_f64() * 1000.0,
    );

    // The floor: the same reports stored straight into a fresh database, one after another.
    let direct = location(dir.path(), "direct");
    quell_server::block_on(async move {
        let db = Db::open(&direct, 1).await.unwrap();
        let org = auth::create_org(&db, "bench").await.unwrap();
        let parsed: Vec<_> = (0..reports)
            .map(|n| quell_server::ingest::parse_report(report(n % uploaders, n).as_bytes(), None, &Limits::default()).unwrap())
            .collect();
        let start = Instant::now();
        for report in &parsed {
            quell_server::ingest::store(&db, org, 1, report).await.unwrap();
        }
        let elapsed = start.elapsed().as_secs_f64();
        println!(
            "{backend:8} store()  1/tx     {reports:6} reports in {elapsed:5.1} s  {:8.0} reports/s  {:9.0} findings/s",
            reports as f64 / elapsed,
            (reports * FINDINGS_PER_REPORT) as f64 / elapsed,
        );
        let reparsed: Vec<_> = (0..reports)
            .map(|n| {
                let body = report(n % uploaders, n) + "\n";
                quell_server::ingest::parse_report(body.as_bytes(), None, &Limits::default()).unwrap()
            })
            .collect();
        let start = Instant::now();
        for chunk in reparsed.chunks(quell_server::limits::GROUP_COMMIT_MAX_REPORTS) {
            quell_server::ingest::store_many(&db, org, 1, chunk).await.unwrap();
        }
        let elapsed = start.elapsed().as_secs_f64();
        println!(
            "{backend:8} store_many() {:3}/tx  {reports:6} reports in {elapsed:5.1} s  {:8.0} reports/s  {:9.0} findings/s",
            quell_server::limits::GROUP_COMMIT_MAX_REPORTS,
            reports as f64 / elapsed,
            (reports * FINDINGS_PER_REPORT) as f64 / elapsed,
        );
    })
    .unwrap();
}
