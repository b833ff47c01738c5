//! The scale benchmark behind `scripts/bench/inventories`: fills a database with ORGS
//! organisations, HOSTS hosts and about COMPONENTS component rows (a realistic spread: a few
//! hundred common artifacts in a handful of versions each, Zipf-like popularity, log4j-core and
//! commons-text on a share of hosts), then measures
//! - ingest: components/s when storing the hosts' inventories (one transaction per host, as an
//!   upload does);
//! - the ask (`quell_server::inventories::ask`, what `GET /api/v1/components` runs) as a
//!   coordinator and as one organisation: p50/p95 over repeated questions;
//! - matching a new advisory against everything stored (the recipients of a publication).
//!
//!   cargo run --release -p quell-server --example bench_inventories -- [ORGS] [HOSTS] [COMPONENTS]
//!
//! SQLite file under `target/` (or `QUELL_BENCH_DIR`), or the PostgreSQL of `QUELL_TEST_POSTGRES`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use quell_server::auth;
use quell_server::inventories::{self, Ask};
use quell_server::{Db, DbLocation};
use quell_store::components::{NewComponent, NewSource, SourceKind, store_source_in};
use quell_store::sqlx;

/// A small deterministic generator (xorshift), so every run stores the same rows.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// (group, artifact, versions) of the catalogue: the two crisis libraries and ARTIFACTS more.
fn catalogue() -> Vec<(String, String, Vec<String>)> {
    let mut out = vec![
        (
            "org.apache.logging.log4j".to_string(),
            "log4j-core".to_string(),
            ["2.14.1", "2.17.1", "2.12.4", "2.19.0", "2.20.0", "2.0-beta9"].map(String::from).to_vec(),
        ),
        (
            "org.apache.commons".to_string(),
            "commons-text".to_string(),
            ["1.8", "1.9", "1.10.0", "1.11.0", "1.6"].map(String::from).to_vec(),
        ),
    ];
    const ARTIFACTS: usize = 600;
    for i in 0..ARTIFACTS {
        let versions = (0..(3 + i % 6)).map(|v| format!("{}.{}.{}", 1 + i % 4, v, i % 3)).collect();
        out.push((format!("com.example.group{}", i % 50), format!("artifact-{i}"), versions));
    }
    out
}

fn location(dir: &std::path::Path) -> DbLocation {
    match std::env::var("QUELL_TEST_POSTGRES") {
        Ok(admin) if !admin.is_empty() => {
            let name = format!("quell_bench_inv_{}", std::process::id());
            quell_server::block_on(async {
                use sqlx::{Connection, Executor};
                sqlx::any::install_default_drivers();
                let mut conn = sqlx::AnyConnection::connect(&admin).await.unwrap();
                conn.execute(format!("CREATE DATABASE {name}").as_str()).await.unwrap();
            })
            .unwrap();
            DbLocation::Postgres(format!("{}/{name}", admin.rsplit_once('/').unwrap().0))
        }
        _ => DbLocation::SqliteFile(dir.join("inventories.db")),
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmHWM:")).map(str::to_string))
        .and_then(|l| l.split_whitespace().nth(1).and_then(|kb| kb.parse::<f64>().ok()))
        .map_or(0.0, |kb| kb / 1024.0)
}

fn main() {
    let args: Vec<usize> = std::env::args().skip(1).map(|a| a.parse().expect("a number")).collect();
    let orgs = args.first().copied().unwrap_or(500);
    let hosts = args.get(1).copied().unwrap_or(20_000);
    let components = args.get(2).copied().unwrap_or(5_000_000);
    let per_host = (components / hosts).max(1);
    let parent = std::env::var("QUELL_BENCH_DIR").unwrap_or_else(|_| "target".into());
    std::fs::create_dir_all(&parent).unwrap();
    let dir = tempfile::tempdir_in(parent).unwrap();
    let location = location(dir.path());
    let backend = if matches!(location, DbLocation::Postgres(_)) { "postgres" } else { "sqlite" };
    let catalogue = catalogue();

    quell_server::block_on(async move {
        let db = Db::open(&location, 4).await.unwrap();
        let mut org_ids = Vec::with_capacity(orgs);
        for i in 0..orgs {
            org_ids.push(auth::create_org(&db, &format!("org-{i}")).await.unwrap());
        }
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let started = Instant::now();
        let mut stored = 0usize;
        for h in 0..hosts {
            let org = org_ids[h % orgs];
            let mut list = Vec::with_capacity(per_host);
            for c in 0..per_host {
                // Zipf-like: low indexes much more often; the crisis libraries on ~1 host in 5.
                let pick = if c < 2 && rng.below(5) == 0 {
                    c
                } else {
                    let r = rng.below(1 << 20) as f64 / f64::from(1 << 20);
                    2 + ((r * r * r) * (catalogue.len() - 2) as f64) as usize
                };
                let (group, artifact, versions) = &catalogue[pick.min(catalogue.len() - 1)];
                let version = &versions[rng.below(versions.len() as u64) as usize];
                list.push(NewComponent {
                    purl_key: Some(format!("pkg:maven/{group}/{artifact}")),
                    purl: Some(format!("pkg:maven/{group}/{artifact}@{version}")),
                    name: artifact.clone(),
                    version: Some(version.clone()),
                    sha1: Some(format!("{:040x}", rng.next())),
                    sha256: Some(format!("{:064x}", rng.next())),
                    path: format!("/srv/app{}/lib/{artifact}-{version}.jar", c % 7),
                    confidence: "declared".into(),
                });
            }
            let source = NewSource {
                kind: SourceKind::Scan,
                body_sha256: format!("{h:064x}"),
                taken_at: 1_790_000_000 + h as i64,
                tool: Some("quell bench".into()),
                spec_version: None,
                components: list,
            };
            let mut tx = db.pool.begin().await.unwrap();
            let host_id: i64 = sqlx::query_scalar(
                "INSERT INTO hosts (org_id, name, first_seen, last_seen) VALUES ($1, $2, 0, 0) RETURNING id",
            )
            .bind(org)
            .bind(format!("host-{h}"))
            .fetch_one(&mut *tx)
            .await
            .unwrap();
            store_source_in(&mut tx, org, host_id, None, &source).await.unwrap();
            tx.commit().await.unwrap();
            stored += per_host;
            if h % 2000 == 1999 {
                eprintln!("  {} hosts, {stored} components, {:.0} components/s", h + 1, stored as f64 / started.elapsed().as_secs_f64());
            }
        }
        let ingest = started.elapsed();
        println!(
            "{backend}: {orgs} organisations, {hosts} hosts, {stored} components stored in {:.1} s: {:.0} components/s (one transaction per host)",
            ingest.as_secs_f64(),
            stored as f64 / ingest.as_secs_f64()
        );
        if backend == "postgres" {
            sqlx::query("ANALYZE").execute(&db.pool).await.unwrap();
        }

        let questions = [
            ("pkg:maven/org.apache.logging.log4j/log4j-core", "vers:maven/>=2.0-beta9|<2.3.1|>=2.4|<2.12.2|>=2.13.0|<2.15.0"),
            ("pkg:maven/org.apache.commons/commons-text", "vers:maven/>=1.5|<1.10.0"),
            ("pkg:maven/com.example.group0/artifact-0", "*"),
            ("pkg:maven/com.example.group7/artifact-307", "[1.0,3.0)"),
        ];
        // The baseline: what the database alone costs for the same rows — an indexed COUNT of the
        // asked package's current components, no version comparison, no grouping in Rust.
        let mut times = Vec::new();
        for _ in 0..25 {
            for (purl, _) in questions {
                let t = Instant::now();
                let _: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM components WHERE purl_key = $1 AND current = 1")
                    .bind(purl)
                    .fetch_one(&db.pool)
                    .await
                    .unwrap();
                times.push(t.elapsed());
            }
        }
        times.sort();
        println!(
            "{backend}: baseline, an indexed COUNT(*) of the package's rows: p50 {:.1} ms, p95 {:.1} ms",
            percentile(&times, 0.5).as_secs_f64() * 1000.0,
            percentile(&times, 0.95).as_secs_f64() * 1000.0
        );
        for (who, org) in [("coordinator", None), ("one organisation", Some(org_ids[0]))] {
            let mut times = Vec::new();
            let mut systems = 0;
            for round in 0..25 {
                for (purl, range) in questions {
                    let ask = Ask::parse(purl, Some(range)).unwrap();
                    let t = Instant::now();
                    let answer = inventories::ask(&db, &ask, org).await.unwrap();
                    times.push(t.elapsed());
                    if round == 0 && purl.contains("log4j") {
                        systems = answer.systems;
                    }
                }
            }
            times.sort();
            println!(
                "{backend}: ask as {who}: p50 {:.1} ms, p95 {:.1} ms over {} questions (log4j-core affected: {systems} systems)",
                percentile(&times, 0.5).as_secs_f64() * 1000.0,
                percentile(&times, 0.95).as_secs_f64() * 1000.0,
                times.len()
            );
        }

        let advisory = [
            quell_advisory::AffectedComponent {
                purl: "pkg:maven/org.apache.logging.log4j/log4j-core".into(),
                range: "vers:maven/>=2.0-beta9|<2.15.0".into(),
                pack: None,
            },
            quell_advisory::AffectedComponent {
                purl: "pkg:maven/org.apache.commons/commons-text".into(),
                range: "vers:maven/>=1.5|<1.10.0".into(),
                pack: None,
            },
        ];
        let t = Instant::now();
        let matched = quell_store::advisories::groups::orgs_with_components(&db, &advisory).await.unwrap();
        println!(
            "{backend}: matching a new advisory (2 components) against everything stored: {:.0} ms, {} organisations",
            t.elapsed().as_secs_f64() * 1000.0,
            matched.len()
        );
        println!("{backend}: peak RSS of the benchmark process: {:.0} MB", peak_rss_mb());
    })
    .unwrap();
}
