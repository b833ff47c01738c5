//! The product status registry through the API: import of the full Dutch and US lists (counts per
//! status, problems, merge on named examples), search and its speed, exports and caching, history,
//! concurrent edits, the proposal review flow, merging duplicates, organisations' products with
//! notifications (isolation included) and supplier confirmation. SQLite, and PostgreSQL when
//! `QUELL_TEST_POSTGRES` is set.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use quell_store::sqlx;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

use common::*;
use quell_server::Limits;
use serde_json::{Value, json};

fn corpus() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/registry")
}

fn list_files(dir: &str, prefix: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(corpus().join(dir))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_str().unwrap().starts_with(prefix))
        .collect();
    files.sort();
    files
}

/// (status, body text, headers) of a request without a token.
fn public(server: &Server, path: &str, headers: &[(&str, &str)]) -> (u16, String, ureq::http::HeaderMap) {
    let mut request = ureq::http::Request::builder().method("GET").uri(format!("{}{path}", server.base));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let mut response = agent().run(request.body(Vec::new()).unwrap()).unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, response.body_mut().read_to_string().unwrap(), headers)
}

fn public_json(server: &Server, path: &str) -> Value {
    let (status, text, _) = public(server, path, &[]);
    assert_eq!(status, 200, "{path}: {text}");
    serde_json::from_str(&text).unwrap()
}

fn import(server: &Server, token: &str, format: &str, name: &str, body: &[u8]) -> (u16, Value) {
    send(server, "POST", token, &format!("/api/v1/registry/import?format={format}&name={name}"), body, &[])
}

fn put_json(server: &Server, token: &str, path: &str, body: &Value, headers: &[(&str, &str)]) -> (u16, Value) {
    let mut all = vec![("Content-Type", "application/json")];
    all.extend_from_slice(headers);
    send(server, "PUT", token, path, body.to_string().as_bytes(), &all)
}

fn post_json(server: &Server, token: &str, path: &str, body: &Value) -> (u16, Value) {
    send(server, "POST", token, path, body.to_string().as_bytes(), &[("Content-Type", "application/json")])
}

const HEADER: &str = "| Supplier | Product | Version (see Status) | Status CVE-2021-4104 | Status CVE-2021-44228 \
                      | Status CVE-2021-45046 | Status CVE-2021-45105 | Notes | Links |\n\
                      |---|---|---|---|---|---|---|---|---|\n";

/// A small Dutch-format list: Acme Widget (fix in 2.1), Acme Gadget (vulnerable), Beta Tool (not vulnerable).
fn small_list() -> String {
    format!(
        "{HEADER}|Acme|Widget|2.1| |Fix| | ||[source](https://acme.example/psirt)|\n\
         |Acme|Gadget| | |Vulnerable| | ||[source](https://acme.example/psirt)|\n\
         |Beta Corp.|Tool| | |Not vuln| | ||[source](https://beta.example/log4j)|\n"
    )
}

/// Imports the small list and answers the ids of (Acme Widget, Acme Gadget, Beta Tool).
fn seed(server: &Server, coordinator: &str) -> (i64, i64, i64) {
    let (status, report) = import(server, coordinator, "ncsc-md", "small.md", small_list().as_bytes());
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["created"], 3);
    let id = |q: &str| {
        let page = public_json(server, &format!("/api/v1/registry/entries?q={q}"));
        assert_eq!(page["total"], 1, "{q}: {page}");
        page["entries"][0]["id"].as_i64().unwrap()
    };
    (id("acme%20widget"), id("gadget"), id("beta"))
}

fn counts_by_status(server: &Server) -> BTreeMap<String, BTreeMap<String, i64>> {
    let mut out = BTreeMap::new();
    for cve in ["CVE-2021-4104", "CVE-2021-44228", "CVE-2021-45046", "CVE-2021-45105"] {
        let mut per = BTreeMap::new();
        for status in ["vulnerable", "fix", "workaround", "not_vulnerable", "under_investigation"] {
            let page = public_json(server, &format!("/api/v1/registry/entries?cve={cve}&status={status}&per_page=1"));
            per.insert(status.to_string(), page["total"].as_i64().unwrap());
        }
        out.insert(cve.to_string(), per);
    }
    out
}

/// Every entry has exactly one history row per revision (1..=revision): nothing was changed
/// without its history row.
fn assert_history_complete(server: &Server) {
    let location = server.location.clone();
    let broken: i64 = quell_server::block_on(async move {
        use sqlx::Row;
        let db = open(location).await;
        sqlx::query(
            "SELECT COUNT(*) AS broken FROM registry_entries e WHERE e.revision <> (SELECT COUNT(*) FROM registry_history h \
             WHERE h.entry_id = e.id) OR e.revision <> (SELECT MAX(h.revision) FROM registry_history h \
             WHERE h.entry_id = e.id)",
        )
        .fetch_one(&db.pool)
        .await
        .unwrap()
        .get("broken")
    })
    .unwrap();
    assert_eq!(broken, 0, "entries whose revisions lack history rows");
}

#[test]
fn importing_both_full_lists_merges_them_and_reports_every_problem() {
    let server = start(Limits::default());
    let coordinator = coordinator(&server);
    let started = Instant::now();
    let mut library_entries = Vec::new();
    let mut problems: Vec<Value> = Vec::new();
    let mut created = 0;
    let mut updated = 0;
    for (dir, prefix, format, lib_format) in [
        ("ncsc-nl", "software_list_", "ncsc-md", quell_registry::Format::NcscMarkdown),
        ("cisa", "cisagov_", "cisa-yaml", quell_registry::Format::CisaYaml),
    ] {
        for path in list_files(dir, prefix) {
            let name = path.file_name().unwrap().to_str().unwrap().to_string();
            let bytes = std::fs::read(&path).unwrap();
            library_entries.extend(quell_registry::import(lib_format, &name, &bytes).entries);
            let (status, report) = import(&server, &coordinator, format, &name, &bytes);
            assert_eq!(status, 200, "{name}: {report}");
            assert_eq!(report["file"], name.as_str());
            created += report["created"].as_i64().unwrap();
            updated += report["updated"].as_i64().unwrap();
            problems.extend(report["problems"].as_array().unwrap().iter().cloned());
        }
    }
    let import_seconds = started.elapsed().as_secs_f64();
    eprintln!("registry: imported 54 files in {import_seconds:.1}s ({created} created, {updated} updated)");

    // Every problem with its file and line: the Dutch list's 920 and the US list's 1,958.
    assert_eq!(problems.len(), 920 + 1958);
    assert!(problems.iter().all(|p| p["line"].as_u64().unwrap() > 0 && !p["file"].as_str().unwrap().is_empty()));
    let mut kinds: BTreeMap<String, usize> = BTreeMap::new();
    for p in &problems {
        *kinds.entry(p["kind"].as_str().unwrap().to_string()).or_default() += 1;
    }
    assert_eq!(kinds["no_status"], 403 + 1236);
    assert_eq!(kinds["fix_without_version"], 301 + 265);
    assert_eq!(kinds["missing_link"], 146 + 56);
    assert!(problems.iter().any(|p| p["file"] == "software_list_b.md"
        && p["line"] == 174
        && p["kind"] == "non_standard_status"
        && p["message"].as_str().unwrap().contains("\"Not Vuln\"")));

    // The two lists merged: 6,564 entries, the same registry the library's merge builds.
    let page = public_json(&server, "/api/v1/registry/entries?per_page=1");
    assert_eq!(page["total"], 6564);
    assert_eq!(created, 6564);
    let merged = quell_registry::merge(library_entries);
    assert_eq!(merged.len(), 6564);
    let mut want: BTreeMap<String, BTreeMap<String, i64>> = BTreeMap::new();
    for (cve, per) in quell_registry::count_statuses(&merged) {
        let row = want.entry(cve).or_default();
        for status in ["vulnerable", "fix", "workaround", "not_vulnerable", "under_investigation"] {
            row.insert(status.to_string(), 0);
        }
        for (status, n) in per {
            row.insert(status.as_str().to_string(), n as i64);
        }
    }
    let got = counts_by_status(&server);
    assert_eq!(got, want);
    // Pinned (the library's per-list counts are checked independently by its own tests):
    //                    vulnerable, fix, workaround, not_vulnerable, under_investigation
    let pinned: [(&str, [i64; 5]); 4] = [
        ("CVE-2021-4104", [10, 6, 6, 3717, 11]),
        ("CVE-2021-44228", [527, 701, 488, 3992, 127]),
        ("CVE-2021-45046", [47, 200, 124, 3071, 10]),
        ("CVE-2021-45105", [103, 47, 31, 3012, 38]),
    ];
    for (cve, n) in pinned {
        let row = &got[cve];
        assert_eq!(
            [row["vulnerable"], row["fix"], row["workaround"], row["not_vulnerable"], row["under_investigation"]],
            n,
            "{cve}"
        );
    }
    eprintln!("registry: entries per status per CVE after both imports: {got:?}");

    // Named examples of the merge.
    let find = |q: &str| -> Value {
        let page = public_json(&server, &format!("/api/v1/registry/entries?supplier=apache&product={q}"));
        page["entries"].as_array().unwrap().iter().find(|e| e["product"] == q).cloned().expect(q)
    };
    let flink = find("Flink");
    let lists: Vec<&str> = flink["sources"].as_array().unwrap().iter().map(|s| s["list"].as_str().unwrap()).collect();
    assert_eq!(lists, ["ncsc-nl", "cisa"]);
    assert_eq!(flink["statuses"]["CVE-2021-44228"]["status"], "fix");
    assert_eq!(flink["revision"], 2, "created by the Dutch import, updated by the US import");
    let history = public_json(&server, &format!("/api/v1/registry/entries/{}/history", flink["id"]));
    let kinds: Vec<&str> = history.as_array().unwrap().iter().map(|h| h["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["import", "import"]);
    assert_eq!(history[0]["source"], "import cisa-yaml cisagov_A.yml");
    assert_eq!(history[1]["snapshot"]["sources"].as_array().unwrap().len(), 1, "revision 1 is as it was");
    let nifi = find("NiFi");
    assert_eq!(nifi["statuses"]["CVE-2021-44228"]["status"], "fix");
    assert_eq!(nifi["conflicts"][0]["other"]["status"], "not_vulnerable");
    let horizon = public_json(&server, "/api/v1/registry/entries?supplier=vmware&product=horizon");
    let horizon = horizon["entries"].as_array().unwrap().iter().find(|e| e["product"] == "Horizon").unwrap().clone();
    assert!(horizon["sources"].as_array().unwrap().iter().any(|s| s["list"] == "cisa"));

    // Importing a file again changes nothing.
    let path = corpus().join("cisa/cisagov_A.yml");
    let (_, again) = import(&server, &coordinator, "cisa-yaml", "cisagov_A.yml", &std::fs::read(path).unwrap());
    assert_eq!((again["created"].as_i64(), again["updated"].as_i64()), (Some(0), Some(0)), "{}", again["updated"]);
    assert_eq!(again["unchanged"], again["entries"]);

    // Grow the registry past 10,000 entries (a synthetic list of 4,000 products), then measure search.
    let mut synthetic = String::from(HEADER);
    let statuses = ["Vulnerable", "Fix", "Workaround", "Not vuln", "Investigation"];
    for i in 0..4000 {
        let status = statuses[i % statuses.len()];
        let version = if status == "Fix" { "3.1" } else { "" };
        synthetic.push_str(&format!(
            "|Synthetic Supplier {}|Product {i}|{version}| |{status}| | ||[source](https://s{}.example/advisory)|\n",
            i / 10,
            i / 10
        ));
    }
    let (status, report) = import(&server, &coordinator, "ncsc-md", "synthetic.md", synthetic.as_bytes());
    assert_eq!((status, report["created"].as_i64()), (200, Some(4000)), "{}", report["problems"]);
    let total = public_json(&server, "/api/v1/registry/entries?per_page=1")["total"].as_i64().unwrap();
    assert_eq!(total, 10_564);
    let synthetic_fix = public_json(&server, "/api/v1/registry/entries?supplier=synthetic&status=fix&per_page=1");
    assert_eq!(synthetic_fix["total"], 800);

    // Search speed on the 10,564 entries: recorded, and bounded generously.
    let queries = [
        "/api/v1/registry/entries?q=cisco",
        "/api/v1/registry/entries?supplier=apache",
        "/api/v1/registry/entries?status=vulnerable&cve=CVE-2021-44228",
        "/api/v1/registry/entries?q=pkg%3Amaven",
        "/api/v1/registry/entries?product=server&status=fix&page=2",
        "/api/v1/registry/entries?page=100",
    ];
    let rounds = 5;
    let started = Instant::now();
    for q in queries {
        let one = Instant::now();
        for _ in 0..rounds {
            public_json(&server, q);
        }
        eprintln!("registry: {q}: {:.1} ms", one.elapsed().as_secs_f64() * 1000.0 / rounds as f64);
    }
    let per_query_ms = started.elapsed().as_secs_f64() * 1000.0 / (rounds * queries.len()) as f64;
    eprintln!("registry: search over {total} entries: {per_query_ms:.1} ms per query (HTTP round trip included)");
    // Printed, not asserted: speed is measured by the benchmarks (docs/performance.md), and a
    // debug build on a loaded CI machine is no measure of it.
    let cisco = public_json(&server, "/api/v1/registry/entries?q=cisco&per_page=500");
    assert_eq!(cisco["per_page"], 200, "capped at the maximum page size");
    assert!(cisco["total"].as_i64().unwrap() > 100);

    // Exports, with caching headers; a second request with the ETag is answered 304.
    let (status, md, headers) = public(&server, "/api/v1/registry/export.md", &[]);
    assert_eq!(status, 200);
    assert!(md.contains("|Apache|Flink|"));
    let etag = headers.get("etag").unwrap().to_str().unwrap().to_string();
    assert!(headers.get("last-modified").unwrap().to_str().unwrap().ends_with(" GMT"));
    let (status, _, _) = public(&server, "/api/v1/registry/export.md", &[("If-None-Match", &etag)]);
    assert_eq!(status, 304);
    // Round trip: the 9-column export imported into an empty registry exports the same again.
    let second = start(Limits::default());
    let second_coordinator = common::coordinator(&second);
    let (status, report) = import(&second, &second_coordinator, "ncsc-md", "registry.md", md.as_bytes());
    assert_eq!((status, report["created"].as_i64()), (200, Some(total)), "{}", report["problems"]);
    let (_, md_again, _) = public(&second, "/api/v1/registry/export.md", &[]);
    assert!(md_again == md, "the Markdown export round-trips");
    let (status, csv, _) = public(&server, "/api/v1/registry/export.csv", &[]);
    assert_eq!(status, 200);
    assert!(csv.lines().count() > 10_564);
    let json_export = public_json(&server, "/api/v1/registry/export.json");
    assert!(json_export.to_string().contains("NiFi"));
    let full = public_json(&server, "/api/v1/registry/export/full.json");
    assert_eq!(full["count"], total);
    assert!(full["entries"][0]["id"].as_i64().is_some() && full["entries"][0]["revision"].as_i64().is_some());
    let csaf = public_json(&server, "/api/v1/registry/suppliers/Apache/csaf.json");
    assert_eq!(csaf["document"]["category"], "csaf_vex");
    assert!(csaf["vulnerabilities"].as_array().unwrap().len() >= 4);
    assert_history_complete(&server);
    let (status, _, _) = public(&server, "/api/v1/registry/suppliers/No%20Such%20Supplier/csaf.json", &[]);
    assert_eq!(status, 404);
}

#[test]
fn imports_are_for_coordinators_and_reads_are_public() {
    let server = start(Limits::default());
    let coordinator = coordinator(&server);
    let a = org(&server, "alpha");
    let (status, body) = import(&server, &a.full, "ncsc-md", "x.md", small_list().as_bytes());
    assert_eq!(status, 403, "{body}");
    let (status, body) = import(&server, &coordinator, "excel", "x.xls", b"x");
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid")));
    let (status, body) = send(&server, "POST", &coordinator, "/api/v1/registry/import", b"x", &[]);
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid")), "a missing format is a JSON error too");
    let (status, _) = import(&server, "not-a-token", "ncsc-md", "x.md", small_list().as_bytes());
    assert_eq!(status, 401);
    // A malformed row is reported with its line, the good rows are imported.
    let list = format!("{}|Gamma||\n", small_list());
    let (status, report) = import(&server, &coordinator, "ncsc-md", "bad.md", list.as_bytes());
    assert_eq!(status, 200);
    assert_eq!(report["created"], 4, "the malformed row is kept, never dropped silently");
    let kinds: Vec<&str> = report["problems"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["line"] == 6 && p["file"] == "bad.md")
        .map(|p| p["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["malformed_row", "missing_product", "no_status", "missing_link"], "{report}");
    let (status, body, _) = public(&server, "/api/v1/registry/entries?status=broken", &[]);
    assert_eq!(status, 400, "{body}");
    let (status, _, _) = public(&server, "/api/v1/registry/entries/999999", &[]);
    assert_eq!(status, 404);
    let too_big = vec![b'|'; quell_server::registry::limits::MAX_IMPORT_BYTES + 1];
    let (status, _) = import(&server, &coordinator, "ncsc-md", "big.md", &too_big);
    assert_eq!(status, 413);
}

fn widget_edit(revision: Option<i64>, status: &str, fixed: &[&str], links: &[&str]) -> Value {
    let mut body = json!({
        "supplier": "Acme",
        "product": "Widget",
        "statuses": { "CVE-2021-44228": { "status": status, "fixed_versions": fixed, "affected_versions": ["< 2.1"] } },
        "notes": "edited",
        "links": links,
    });
    if let Some(revision) = revision {
        body["base_revision"] = json!(revision);
    }
    body
}

#[test]
fn history_keeps_every_revision_and_concurrent_edits_are_detected() {
    let server = start(Limits::default());
    let coordinator = coordinator(&server);
    let (widget, _, _) = seed(&server, &coordinator);
    let path = format!("/api/v1/registry/entries/{widget}");
    let link = ["https://acme.example/psirt/2"];

    // Validation: unknown status, fix without a fixed version, no link, no base revision.
    let (status, body) = put_json(&server, &coordinator, &path, &widget_edit(Some(1), "broken", &["2.2"], &link), &[]);
    assert_eq!(status, 400, "{body}");
    let (status, body) = put_json(&server, &coordinator, &path, &widget_edit(Some(1), "fix", &[], &link), &[]);
    assert_eq!(status, 400);
    assert!(body["message"].as_str().unwrap().contains("fixed version"), "{body}");
    let (status, body) = put_json(&server, &coordinator, &path, &widget_edit(Some(1), "fix", &["2.2"], &[]), &[]);
    assert_eq!(status, 400);
    assert!(body["message"].as_str().unwrap().contains("source link"), "{body}");
    let (status, body) = put_json(&server, &coordinator, &path, &widget_edit(None, "fix", &["2.2"], &link), &[]);
    assert_eq!(status, 400);
    assert!(body["message"].as_str().unwrap().contains("base revision"), "{body}");
    let a = org(&server, "alpha");
    let (status, _) = put_json(&server, &a.full, &path, &widget_edit(Some(1), "fix", &["2.2"], &link), &[]);
    assert_eq!(status, 403, "organisations propose, coordinators edit");

    let (_, _, before) = public(&server, "/api/v1/registry/export.json", &[]);
    let etag_before = before.get("etag").unwrap().to_str().unwrap().to_string();

    // Two editors both start from revision 1: the first wins, the second gets 409 and the current entry.
    let (status, first) =
        put_json(&server, &coordinator, &path, &widget_edit(None, "fix", &["2.2"], &link), &[("If-Match", "\"1\"")]);
    assert_eq!(status, 200, "{first}");
    assert_eq!(first["revision"], 2);
    let (status, second) = put_json(&server, &coordinator, &path, &widget_edit(Some(1), "workaround", &[], &link), &[]);
    assert_eq!(status, 409, "{second}");
    assert_eq!(second["current"]["revision"], 2);
    assert_eq!(second["current"]["statuses"]["CVE-2021-44228"]["fixed_versions"], json!(["2.2"]));
    let (status, _, after) = public(&server, "/api/v1/registry/export.json", &[("If-None-Match", &etag_before)]);
    assert_eq!(status, 200, "an edit changes the export's ETag");
    assert_ne!(after.get("etag").unwrap().to_str().unwrap(), etag_before);

    // At the same moment, from two threads: exactly one wins.
    let outcomes: Vec<u16> = std::thread::scope(|scope| {
        let handles: Vec<_> = ["2.3", "2.4"]
            .into_iter()
            .map(|version| {
                let (server, coordinator, path) = (&server, &coordinator, &path);
                scope.spawn(move || {
                    put_json(server, coordinator, path, &widget_edit(Some(2), "fix", &[version], &link), &[]).0
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut sorted = outcomes.clone();
    sorted.sort();
    assert_eq!(sorted, [200, 409], "{outcomes:?}");

    // Nothing was overwritten: one history row per revision, each with its snapshot as it was.
    let history = public_json(&server, &format!("{path}/history"));
    let rows = history.as_array().unwrap();
    let revisions: Vec<i64> = rows.iter().map(|h| h["revision"].as_i64().unwrap()).collect();
    assert_eq!(revisions, [3, 2, 1]);
    assert_eq!(rows[2]["kind"], "import");
    assert_eq!(rows[2]["snapshot"]["statuses"]["CVE-2021-44228"]["fixed_versions"], json!(["2.1"]));
    assert_eq!(rows[1]["kind"], "edit");
    // People are for coordinators (issue 18): the public history names no one's e-mail.
    assert_eq!(rows[1]["user"], Value::Null);
    let (_, for_coordinator) = get(&server, &coordinator, &format!("{path}/history"));
    assert_eq!(for_coordinator[1]["user"], "cert@ncsc.example");
    assert_eq!(rows[1]["source"], "https://acme.example/psirt/2");
    assert_eq!(rows[1]["snapshot"]["statuses"]["CVE-2021-44228"]["fixed_versions"], json!(["2.2"]));
    let current = public_json(&server, &path);
    assert_eq!(current["revision"], 3);
    assert_eq!(current["sources"][0]["file"], "small.md", "an edit keeps the import sources");
    // The history table is append-only in the database too: one row per revision, never updated.
    let location = server.location.clone();
    let rows_in_db = quell_server::block_on(async move {
        let db = open(location).await;
        let row =
            sqlx::query("SELECT COUNT(*) AS n, MAX(revision) AS latest FROM registry_history WHERE entry_id = $1")
                .bind(widget)
                .fetch_one(&db.pool)
                .await
                .unwrap();
        use sqlx::Row;
        (row.get::<i64, _>("n"), row.get::<i64, _>("latest"))
    })
    .unwrap();
    assert_eq!(rows_in_db, (3, 3));
    assert_history_complete(&server);
}

#[test]
fn proposals_are_reviewed_by_a_coordinator() {
    let server = start(Limits::default());
    let coordinator = coordinator(&server);
    let (widget, gadget, _) = seed(&server, &coordinator);
    let a = org(&server, "alpha");
    let b = org(&server, "beta");
    let link = ["https://acme.example/psirt/3"];

    // Alpha proposes a change (based on revision 1) and an addition.
    let change =
        json!({ "entry_id": widget, "entry": widget_edit(None, "fix", &["2.5"], &link), "comment": "new fix" });
    let (status, p1) = post_json(&server, &a.member_full, "/api/v1/registry/proposals", &change);
    assert_eq!(status, 201, "{p1}");
    assert_eq!((p1["base_revision"].as_i64(), p1["state"].as_str()), (Some(1), Some("open")));
    let addition = json!({ "entry": {
        "supplier": "Delta", "product": "Desk",
        "statuses": { "CVE-2021-44228": { "status": "under_investigation" } },
        "links": ["https://delta.example/log4j"] } });
    let (status, p2) = post_json(&server, &a.full, "/api/v1/registry/proposals", &addition);
    assert_eq!(status, 201, "{p2}");
    let invalid = json!({ "entry": { "supplier": "Delta", "product": "Desk", "links": [] } });
    let (status, _) = post_json(&server, &a.full, "/api/v1/registry/proposals", &invalid);
    assert_eq!(status, 400);

    // Beta proposes a change on the same revision.
    let other = json!({ "entry_id": widget, "base_revision": 1, "entry": widget_edit(None, "vulnerable", &[], &link) });
    let (status, p3) = post_json(&server, &b.full, "/api/v1/registry/proposals", &other);
    assert_eq!(status, 201);

    // Each organisation sees its own; the other's id answers 404.
    let (_, mine) = get(&server, &a.full, "/api/v1/registry/proposals");
    assert_eq!(mine.as_array().unwrap().len(), 2);
    let (status, _) = get(&server, &b.full, &format!("/api/v1/registry/proposals/{}", p1["id"]));
    assert_eq!(status, 404);
    let (status, _) =
        post_json(&server, &a.full, &format!("/api/v1/registry/proposals/{}/accept", p1["id"]), &json!({}));
    assert_eq!(status, 403);

    // The coordinator sees all open ones and accepts the change: a new revision with history.
    let (_, open) = get(&server, &coordinator, "/api/v1/registry/proposals?state=open");
    assert_eq!(open.as_array().unwrap().len(), 3);
    let (status, accepted) =
        post_json(&server, &coordinator, &format!("/api/v1/registry/proposals/{}/accept", p1["id"]), &json!({}));
    assert_eq!(status, 200, "{accepted}");
    assert_eq!((accepted["state"].as_str(), accepted["result_revision"].as_i64()), (Some("accepted"), Some(2)));
    let entry = public_json(&server, &format!("/api/v1/registry/entries/{widget}"));
    assert_eq!(entry["statuses"]["CVE-2021-44228"]["fixed_versions"], json!(["2.5"]));
    let history = public_json(&server, &format!("/api/v1/registry/entries/{widget}/history"));
    assert_eq!(history[0]["kind"], "accepted_proposal");
    assert!(history[0]["source"].as_str().unwrap().contains("alpha"), "{}", history[0]);

    // Beta's proposal was based on revision 1: accepting it now is a conflict, with the current entry.
    let (status, conflict) =
        post_json(&server, &coordinator, &format!("/api/v1/registry/proposals/{}/accept", p3["id"]), &json!({}));
    assert_eq!(status, 409, "{conflict}");
    assert_eq!(conflict["current"]["revision"], 2);
    let (status, _) = post_json(
        &server,
        &coordinator,
        &format!("/api/v1/registry/proposals/{}/reject", p3["id"]),
        &json!({ "reason": " " }),
    );
    assert_eq!(status, 400, "a reason is required");
    let (status, rejected) = post_json(
        &server,
        &coordinator,
        &format!("/api/v1/registry/proposals/{}/reject", p3["id"]),
        &json!({ "reason": "superseded by the vendor's fix" }),
    );
    assert_eq!(status, 200);
    assert_eq!(
        (rejected["state"].as_str(), rejected["reason"].as_str()),
        (Some("rejected"), Some("superseded by the vendor's fix"))
    );
    let (_, theirs) = get(&server, &b.full, &format!("/api/v1/registry/proposals/{}", p3["id"]));
    assert_eq!(theirs["state"], "rejected");

    // The addition becomes a new entry.
    let (status, added) =
        post_json(&server, &coordinator, &format!("/api/v1/registry/proposals/{}/accept", p2["id"]), &json!({}));
    assert_eq!(status, 200, "{added}");
    let desk = public_json(&server, &format!("/api/v1/registry/entries/{}", added["result_entry_id"]));
    assert_eq!((desk["product"].as_str(), desk["revision"].as_i64()), (Some("Desk"), Some(1)));
    let (status, _) =
        post_json(&server, &coordinator, &format!("/api/v1/registry/proposals/{}/accept", p2["id"]), &json!({}));
    assert_eq!(status, 409, "decided once");
    assert_history_complete(&server);
    let _ = gadget;
}

#[test]
fn duplicates_are_merged_with_their_history() {
    let server = start(Limits::default());
    let coordinator = coordinator(&server);
    let list = format!(
        "{HEADER}|Apache Software Foundation|Solr|8.11.1| |Fix| | ||[source](https://solr.apache.org/security.html)|\n\
         |Apache|Solr| |Not vuln| |Vulnerable| ||[source](https://apache.example/solr)|\n"
    );
    let (_, report) = import(&server, &coordinator, "ncsc-md", "dup.md", list.as_bytes());
    assert_eq!(report["created"], 2);
    let page = public_json(&server, "/api/v1/registry/entries?product=solr");
    let id_of = |supplier: &str| {
        page["entries"].as_array().unwrap().iter().find(|e| e["supplier"] == supplier).unwrap()["id"].as_i64().unwrap()
    };
    let (a, b) = (id_of("Apache Software Foundation"), id_of("Apache"));
    let org_a = org(&server, "alpha");
    let (status, _) = post_json(
        &server,
        &org_a.full,
        "/api/v1/registry/my-products",
        &json!({ "supplier": "apache", "product": "solr" }),
    );
    assert_eq!(status, 201);

    let (status, _) =
        post_json(&server, &org_a.full, &format!("/api/v1/registry/entries/{a}/merge"), &json!({ "from": b }));
    assert_eq!(status, 403);
    let (status, merged) =
        post_json(&server, &coordinator, &format!("/api/v1/registry/entries/{a}/merge"), &json!({ "from": b }));
    assert_eq!(status, 200, "{merged}");
    assert_eq!(merged["supplier"], "Apache Software Foundation", "the surviving entry's names");
    assert_eq!(merged["statuses"]["CVE-2021-44228"]["status"], "fix");
    assert_eq!(merged["statuses"]["CVE-2021-4104"]["status"], "not_vulnerable", "a status only B had is kept");
    assert_eq!(merged["statuses"]["CVE-2021-45046"]["status"], "vulnerable");
    assert_eq!(merged["links"].as_array().unwrap().len(), 2);
    assert_eq!(merged["revision"], 2);

    // B points at A; its history is kept and listed with A's.
    let old = public_json(&server, &format!("/api/v1/registry/entries/{b}"));
    assert_eq!(old["merged_into"], a);
    let history = public_json(&server, &format!("/api/v1/registry/entries/{a}/history"));
    let rows: Vec<(i64, i64, &str)> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|h| (h["entry_id"].as_i64().unwrap(), h["revision"].as_i64().unwrap(), h["kind"].as_str().unwrap()))
        .collect();
    assert!(
        rows.contains(&(b, 1, "import")) && rows.contains(&(b, 2, "merge")) && rows.contains(&(a, 2, "merge")),
        "{rows:?}"
    );
    assert_eq!(public_json(&server, "/api/v1/registry/entries?product=solr")["total"], 1);
    let (status, _) =
        post_json(&server, &coordinator, &format!("/api/v1/registry/entries/{a}/merge"), &json!({ "from": b }));
    assert_eq!(status, 409, "already merged");

    // A product registered under B's name now matches A; an import of B's name lands on A.
    let (_, status_page) = get(&server, &org_a.full, "/api/v1/registry/my-products/status");
    assert_eq!(status_page["products"][0]["entry_id"], a);
    let again = format!("{HEADER}|Apache|Solr| | | | |Vulnerable||[source](https://apache.example/solr2)|\n");
    let (_, report) = import(&server, &coordinator, "ncsc-md", "dup2.md", again.as_bytes());
    assert_eq!((report["created"].as_i64(), report["updated"].as_i64()), (Some(0), Some(1)));
    assert_eq!(
        public_json(&server, &format!("/api/v1/registry/entries/{a}"))["statuses"]["CVE-2021-45105"]["status"],
        "vulnerable"
    );
    let (_, notes) = get(&server, &org_a.full, "/api/v1/registry/notifications");
    assert_eq!(notes.as_array().unwrap().len(), 2, "the merge and the import: {notes}");
    assert_history_complete(&server);
}

#[test]
fn organisations_see_the_status_of_their_products_and_are_notified() {
    let server = start(Limits::default());
    let coordinator = coordinator(&server);
    let (widget, gadget, _) = seed(&server, &coordinator);
    let a = org(&server, "alpha");
    let b = org(&server, "beta");

    let add = |token: &str, body: Value| post_json(&server, token, "/api/v1/registry/my-products", &body);
    let (status, p_widget) = add(&a.full, json!({ "supplier": "ACME", "product": "widget", "version": "2.0" }));
    assert_eq!(status, 201, "{p_widget}");
    let (status, p_gadget) = add(&a.member_full, json!({ "entry_id": gadget }));
    assert_eq!(status, 201);
    assert_eq!(p_gadget["product"], "Gadget");
    add(&a.full, json!({ "supplier": "Nobody", "product": "Nothing" }));
    let (status, _) = add(&a.full, json!({ "supplier": "", "product": "x" }));
    assert_eq!(status, 400);
    let (status, _) = add(&a.full, json!({ "entry_id": 999999 }));
    assert_eq!(status, 404);
    let (status, _) = add(&a.upload, json!({ "supplier": "x", "product": "y" }));
    assert_eq!(status, 403);
    let (status, _) = add(&coordinator, json!({ "supplier": "x", "product": "y" }));
    assert_eq!(status, 403);
    add(&b.full, json!({ "supplier": "Beta", "product": "Tool" }));

    let (_, status_page) = get(&server, &a.full, "/api/v1/registry/my-products/status");
    let products = status_page["products"].as_array().unwrap();
    let by_product = |name: &str| products.iter().find(|p| p["product"] == name).unwrap().clone();
    assert_eq!(by_product("widget")["state"], "fix");
    assert_eq!(by_product("widget")["fixed_from"], json!(["2.1"]));
    assert_eq!(by_product("widget")["entry_id"], widget);
    assert_eq!(by_product("Gadget")["state"], "vulnerable");
    assert_eq!(by_product("Nothing")["state"], "not_in_registry");
    assert_eq!(status_page["counts"]["vulnerable"], 1);

    // Isolation: beta sees only its product and cannot read, change or delete alpha's.
    let (_, theirs) = get(&server, &b.full, "/api/v1/registry/my-products");
    assert_eq!(theirs.as_array().unwrap().len(), 1);
    let alpha_product = format!("/api/v1/registry/my-products/{}", p_widget["id"]);
    let (status, _) = put_json(&server, &b.full, &alpha_product, &json!({ "supplier": "x", "product": "y" }), &[]);
    assert_eq!(status, 404);
    let (status, _) = send(&server, "DELETE", &b.full, &alpha_product, b"", &[]);
    assert_eq!(status, 404);
    let (status, updated) = put_json(
        &server,
        &a.full,
        &alpha_product,
        &json!({ "supplier": "Acme", "product": "Widget", "version": "2.1" }),
        &[],
    );
    assert_eq!((status, updated["version"].as_str()), (200, Some("2.1")));

    // An edit of an entry alpha runs notifies alpha, not beta.
    let edit = widget_edit(Some(1), "fix", &["2.2"], &["https://acme.example/psirt/9"]);
    let (status, _) = put_json(&server, &coordinator, &format!("/api/v1/registry/entries/{widget}"), &edit, &[]);
    assert_eq!(status, 200);
    let (_, notes) = get(&server, &a.full, "/api/v1/registry/notifications?unread=true");
    let notes = notes.as_array().unwrap().clone();
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert_eq!((notes[0]["entry_id"].as_i64(), notes[0]["kind"].as_str()), (Some(widget), Some("edit")));
    let (_, beta_notes) = get(&server, &b.full, "/api/v1/registry/notifications");
    assert!(beta_notes.as_array().unwrap().is_empty());
    let read = format!("/api/v1/registry/notifications/{}/read", notes[0]["id"]);
    let (status, _) = send(&server, "POST", &b.full, &read, b"", &[]);
    assert_eq!(status, 404);
    let (status, _) = send(&server, "POST", &a.full, &read, b"", &[]);
    assert_eq!(status, 204);
    let (_, unread) = get(&server, &a.full, "/api/v1/registry/notifications?unread=true");
    assert!(unread.as_array().unwrap().is_empty());
    let (_, status_page) = get(&server, &a.full, "/api/v1/registry/my-products/status");
    let widget_status =
        status_page["products"].as_array().unwrap().iter().find(|p| p["product"] == "Widget").unwrap().clone();
    assert_eq!(widget_status["fixed_from"], json!(["2.2"]));

    let (status, _) = send(&server, "DELETE", &a.full, &alpha_product, b"", &[]);
    assert_eq!(status, 204);
}

#[test]
fn a_supplier_confirms_through_the_platform() {
    let server = start(Limits::default());
    let coordinator = coordinator(&server);
    let (_, gadget, _) = seed(&server, &coordinator);
    let a = org(&server, "alpha");
    let acme = org(&server, "acme-psirt");
    let other = org(&server, "gamma");

    // Nobody speaks for Acme yet.
    let (status, _) = post_json(&server, &a.full, "/api/v1/registry/confirmations", &json!({ "entry_id": gadget }));
    assert_eq!(status, 404);
    let (status, _) = put_json(
        &server,
        &a.full,
        &format!("/api/v1/registry/supplier-orgs/{}", acme.id),
        &json!({ "supplier": "Acme" }),
        &[],
    );
    assert_eq!(status, 403);
    let (status, _) = put_json(
        &server,
        &coordinator,
        &format!("/api/v1/registry/supplier-orgs/{}", acme.id),
        &json!({ "supplier": "Acme Inc." }),
        &[],
    );
    assert_eq!(status, 200);

    let (status, request) = post_json(
        &server,
        &a.full,
        "/api/v1/registry/confirmations",
        &json!({ "entry_id": gadget, "message": "is Gadget 3.0 fixed?" }),
    );
    assert_eq!(status, 201, "{request}");
    assert_eq!(request["supplier_org"], "acme-psirt");
    let (_, listed) = get(&server, &acme.full, "/api/v1/registry/confirmations");
    assert_eq!(listed["received"].as_array().unwrap().len(), 1);
    let (_, listed) = get(&server, &other.full, "/api/v1/registry/confirmations");
    assert!(listed["received"].as_array().unwrap().is_empty() && listed["sent"].as_array().unwrap().is_empty());

    let answer_path = format!("/api/v1/registry/confirmations/{}/answer", request["id"]);
    let answer = json!({
        "statuses": { "CVE-2021-44228": { "status": "fix", "fixed_versions": ["3.0"], "affected_versions": ["< 3.0"] } },
        "source": "https://acme.example/psirt/gadget-3.0",
    });
    let (status, _) = post_json(&server, &other.full, &answer_path, &answer);
    assert_eq!(status, 404, "only the supplier answers");
    let (status, _) = post_json(&server, &a.full, &answer_path, &answer);
    assert_eq!(status, 404, "the requester does not answer its own request");
    let bad = json!({ "statuses": { "CVE-2021-44228": { "status": "fix" } }, "source": "https://acme.example/x" });
    let (status, _) = post_json(&server, &acme.full, &answer_path, &bad);
    assert_eq!(status, 400, "fix needs a fixed version");
    let (status, answered) = post_json(&server, &acme.member_full, &answer_path, &answer);
    assert_eq!(status, 200, "{answered}");
    assert_eq!((answered["state"].as_str(), answered["revision"].as_i64()), (Some("answered"), Some(2)));
    let (status, _) = post_json(&server, &acme.full, &answer_path, &answer);
    assert_eq!(status, 409);

    let entry = public_json(&server, &format!("/api/v1/registry/entries/{gadget}"));
    assert_eq!(entry["statuses"]["CVE-2021-44228"]["status"], "fix");
    assert!(entry["links"].as_array().unwrap().contains(&json!("https://acme.example/psirt/gadget-3.0")));
    let history = public_json(&server, &format!("/api/v1/registry/entries/{gadget}/history"));
    assert_eq!(history[0]["kind"], "supplier_confirmation");
    assert_eq!(history[0]["source"], "https://acme.example/psirt/gadget-3.0");
    assert_eq!(history[0]["org"], "acme-psirt");
    let (_, notes) = get(&server, &a.full, "/api/v1/registry/notifications");
    assert!(notes.as_array().unwrap().iter().any(|n| n["kind"] == "confirmation_answered"), "{notes}");
    assert_history_complete(&server);
}

// ---- pages ----

#[test]
fn pages_search_show_history_and_edit_with_conflict_detection() {
    let server = start(Limits::default());
    let coordinator = coordinator(&server);
    let (widget, _, _) = seed(&server, &coordinator);
    let a = org(&server, "alpha");

    // Public pages, no login.
    let search = fetch(&server, "GET", "/registry", "", None);
    assert_eq!(search.status, 200);
    assert!(search.body.contains("Widget") && search.body.contains("Tool") && search.body.contains("3 entries"));
    let search = fetch(&server, "GET", "/registry?q=beta", "", None);
    assert!(search.body.contains("Tool") && !search.body.contains("Widget"));
    let search = fetch(&server, "GET", "/registry?status=fix&cve=CVE-2021-44228", "", None);
    assert!(search.body.contains("Widget") && search.body.contains("1 entries"), "{}", search.body);
    assert_eq!(fetch(&server, "GET", "/registry?status=broken", "", None).status, 400);
    let entry = fetch(&server, "GET", &format!("/registry/entries/{widget}"), "", None);
    assert_eq!(entry.status, 200);
    assert!(entry.body.contains("History") && entry.body.contains("import ncsc-md small.md"));
    assert!(!entry.body.contains("/edit\""), "no edit link for visitors");
    let esc = fetch(&server, "GET", "/registry?q=%3Cscript%3E", "", None);
    assert!(!esc.body.contains("<script>"), "escaped");

    // The edit form: coordinators only, CSRF, base revision, conflict message.
    let member = session(&server, &a.admin_email);
    assert_eq!(fetch(&server, "GET", &format!("/registry/entries/{widget}/edit"), &member, None).status, 403);
    let cookie = session(&server, "cert@ncsc.example");
    let form = fetch(&server, "GET", &format!("/registry/entries/{widget}/edit"), &cookie, None);
    assert_eq!(form.status, 200, "{}", form.body);
    let csrf = field(&form.body, "csrf");
    assert_eq!(field(&form.body, "base_revision"), "1");
    let edit = |csrf: &str, base: &str, fixed: &str| {
        fetch(
            &server,
            "POST",
            &format!("/registry/entries/{widget}/edit"),
            &cookie,
            Some(&[
                ("csrf", csrf),
                ("base_revision", base),
                ("supplier", "Acme"),
                ("product", "Widget"),
                ("purl", ""),
                ("cpe", ""),
                ("cve_0", "CVE-2021-44228"),
                ("status_0", "fix"),
                ("affected_0", ""),
                ("fixed_0", fixed),
                ("cve_1", ""),
                ("status_1", ""),
                ("affected_1", ""),
                ("fixed_1", ""),
                ("notes", "from the form"),
                ("links", "https://acme.example/psirt\r\nhttps://acme.example/psirt/form"),
                ("source", ""),
            ]),
        )
    };
    assert_eq!(edit("wrong", "1", "2.6").status, 403);
    let bad = edit(&csrf, "1", "");
    assert_eq!(bad.status, 400, "fix without a fixed version");
    assert!(bad.body.contains("fixed version"));
    // The registry's rule (quell-registry) in the page's language.
    let dutch = fetch(
        &server,
        "POST",
        &format!("/registry/entries/{widget}/edit?lang=nl"),
        &cookie,
        Some(&[
            ("csrf", &csrf),
            ("base_revision", "1"),
            ("supplier", "Acme"),
            ("product", "Widget"),
            ("cve_0", "CVE-2021-44228"),
            ("status_0", "fix"),
            ("fixed_0", ""),
            ("links", ""),
        ]),
    );
    assert_eq!(dutch.status, 400);
    assert!(dutch.body.contains("Niet opgeslagen:"), "{}", dutch.body);
    assert!(dutch.body.contains("minstens één bronlink"), "{}", dutch.body);
    assert!(dutch.body.contains("vraagt om een uitgebrachte versie met de oplossing"), "{}", dutch.body);
    assert!(!dutch.body.contains("fixed version"), "{}", dutch.body);
    let saved = edit(&csrf, "1", "2.6; 2.5.9");
    assert_eq!((saved.status, saved.location.as_deref()), (303, Some(format!("/registry/entries/{widget}").as_str())));
    let stale = edit(&csrf, "1", "2.7");
    assert_eq!(stale.status, 409);
    assert!(stale.body.contains("changed while you edited it"), "{}", stale.body);
    assert_eq!(field(&stale.body, "base_revision"), "2", "the form now carries the current revision");
    let current = public_json(&server, &format!("/api/v1/registry/entries/{widget}"));
    assert_eq!(current["statuses"]["CVE-2021-44228"]["fixed_versions"], json!(["2.6", "2.5.9"]));
    assert_eq!(current["links"].as_array().unwrap().len(), 2);

    // An organisation's products page.
    let page = fetch(&server, "GET", "/registry/my-products", &member, None);
    assert_eq!(page.status, 200);
    let token = field(&page.body, "csrf");
    let added = fetch(
        &server,
        "POST",
        "/registry/my-products",
        &member,
        Some(&[("csrf", &token), ("supplier", "acme"), ("product", "widget"), ("version", "2.0")]),
    );
    assert_eq!(added.status, 303);
    let page = fetch(&server, "GET", "/registry/my-products", &member, None);
    assert!(page.body.contains("2.6, 2.5.9") && page.body.contains(">fix<"), "{}", page.body);
    assert_eq!(fetch(&server, "GET", "/registry/my-products", &cookie, None).status, 403);

    // An organisation proposes through the form; the coordinator accepts one and refuses a stale one.
    let entry = fetch(&server, "GET", &format!("/registry/entries/{widget}"), &member, None);
    assert!(entry.body.contains(&format!("/registry/entries/{widget}/propose")));
    let form = fetch(&server, "GET", &format!("/registry/entries/{widget}/propose"), &member, None);
    assert_eq!(form.status, 200);
    assert_eq!(field(&form.body, "base_revision"), "2");
    assert_eq!(fetch(&server, "GET", &format!("/registry/entries/{widget}/propose"), &cookie, None).status, 403);
    let propose = |fixed: &str, comment: &str| {
        fetch(
            &server,
            "POST",
            &format!("/registry/entries/{widget}/propose"),
            &member,
            Some(&[
                ("csrf", &token),
                ("base_revision", "2"),
                ("supplier", "Acme"),
                ("product", "Widget"),
                ("cve_0", "CVE-2021-44228"),
                ("status_0", "fix"),
                ("fixed_0", fixed),
                ("links", "https://acme.example/psirt"),
                ("comment", comment),
            ]),
        )
    };
    let sent = propose("2.8", "vendor released 2.8");
    assert_eq!((sent.status, sent.location.as_deref()), (303, Some("/registry/proposals")));
    assert_eq!(propose("2.9", "also this").status, 303);
    assert_eq!(propose("", "no version").status, 400);
    let mine = fetch(&server, "GET", "/registry/proposals", &member, None);
    assert!(mine.body.contains("vendor released 2.8") && !mine.body.contains("/accept"), "{}", mine.body);
    let review = fetch(&server, "GET", "/registry/proposals", &cookie, None);
    assert!(review.body.contains("vendor released 2.8") && review.body.contains("also this"));
    let (_, open) = get(&server, &coordinator, "/api/v1/registry/proposals?state=open");
    let id_of =
        |comment: &str| open.as_array().unwrap().iter().find(|p| p["comment"] == comment).unwrap()["id"].clone();
    let (first, second) = (id_of("vendor released 2.8"), id_of("also this"));
    let csrf = field(&review.body, "csrf");
    let accepted =
        fetch(&server, "POST", &format!("/registry/proposals/{first}/accept"), &cookie, Some(&[("csrf", &csrf)]));
    assert_eq!(accepted.status, 303);
    let stale =
        fetch(&server, "POST", &format!("/registry/proposals/{second}/accept"), &cookie, Some(&[("csrf", &csrf)]));
    assert_eq!(stale.status, 409);
    assert!(stale.body.contains("Not accepted"), "{}", stale.body);
    let no_reason = fetch(
        &server,
        "POST",
        &format!("/registry/proposals/{second}/reject"),
        &cookie,
        Some(&[("csrf", &csrf), ("reason", "")]),
    );
    assert_eq!(no_reason.status, 400);
    let rejected = fetch(
        &server,
        "POST",
        &format!("/registry/proposals/{second}/reject"),
        &cookie,
        Some(&[("csrf", &csrf), ("reason", "superseded")]),
    );
    assert_eq!(rejected.status, 303);
    let forged =
        fetch(&server, "POST", &format!("/registry/proposals/{second}/accept"), &member, Some(&[("csrf", &token)]));
    assert_eq!(forged.status, 403, "organisations do not decide");
    let current = public_json(&server, &format!("/api/v1/registry/entries/{widget}"));
    assert_eq!(current["revision"], 3);
    assert_eq!(current["statuses"]["CVE-2021-44228"]["fixed_versions"], json!(["2.8"]));
    let mine = fetch(&server, "GET", "/registry/proposals", &member, None);
    assert!(mine.body.contains("accepted") && mine.body.contains("rejected: superseded"), "{}", mine.body);
    assert_history_complete(&server);
}

#[test]
fn supplier_confirmation_through_the_pages() {
    let server = start(Limits::default());
    let coordinator = coordinator(&server);
    let (_, gadget, _) = seed(&server, &coordinator);
    let a = org(&server, "alpha");
    let acme = org(&server, "acme-psirt");
    let path = format!("/api/v1/registry/supplier-orgs/{}", acme.id);
    assert_eq!(put_json(&server, &coordinator, &path, &json!({ "supplier": "Acme" }), &[]).0, 200);

    let asker = session(&server, &a.admin_email);
    let entry = fetch(&server, "GET", &format!("/registry/entries/{gadget}"), &asker, None);
    let token = field(&entry.body, "csrf");
    let ask = format!("/registry/entries/{gadget}/confirm");
    assert_eq!(fetch(&server, "POST", &ask, &asker, Some(&[("csrf", "wrong"), ("message", "x")])).status, 403);
    let sent = fetch(&server, "POST", &ask, &asker, Some(&[("csrf", &token), ("message", "is 3.0 fixed?")]));
    assert_eq!((sent.status, sent.location.as_deref()), (303, Some("/registry/confirmations")));
    let mine = fetch(&server, "GET", "/registry/confirmations", &asker, None);
    assert!(mine.body.contains("is 3.0 fixed?") && mine.body.contains("acme-psirt"));

    let supplier = session(&server, &acme.admin_email);
    let inbox = fetch(&server, "GET", "/registry/confirmations", &supplier, None);
    assert!(inbox.body.contains("is 3.0 fixed?"), "{}", inbox.body);
    let action = inbox.body.split("action=\"/registry/confirmations/").nth(1).unwrap().split('"').next().unwrap();
    let answer_path = format!("/registry/confirmations/{action}");
    let csrf = field(&inbox.body, "csrf");
    let answer = |source: &str| {
        fetch(
            &server,
            "POST",
            &answer_path,
            &supplier,
            Some(&[
                ("csrf", &csrf),
                ("cve", "CVE-2021-44228"),
                ("status", "fix"),
                ("fixed", "3.0"),
                ("source", source),
            ]),
        )
    };
    assert_eq!(
        fetch(
            &server,
            "POST",
            &answer_path,
            &asker,
            Some(&[
                ("csrf", &token),
                ("cve", "CVE-2021-44228"),
                ("status", "fix"),
                ("fixed", "3.0"),
                ("source", "https://x.example")
            ])
        )
        .status,
        404
    );
    assert_eq!(answer("not a url").status, 400);
    let done = answer("https://acme.example/psirt/gadget-3.0");
    assert_eq!(done.status, 303);
    assert_eq!(answer("https://acme.example/psirt/gadget-3.0").status, 409);
    let entry = public_json(&server, &format!("/api/v1/registry/entries/{gadget}"));
    assert_eq!(entry["statuses"]["CVE-2021-44228"]["fixed_versions"], json!(["3.0"]));
    let history = public_json(&server, &format!("/api/v1/registry/entries/{gadget}/history"));
    assert_eq!(
        (history[0]["kind"].as_str(), history[0]["org"].as_str()),
        (Some("supplier_confirmation"), Some("acme-psirt"))
    );
    let mine = fetch(&server, "GET", "/registry/confirmations", &asker, None);
    assert!(mine.body.contains("answered"), "{}", mine.body);
    assert_history_complete(&server);
}

/// Staff e-mail addresses stay with coordinators: public entries, searches, histories, the full
/// export and the entry page name organisations, never people (issue 18).
#[test]
fn staff_e_mail_addresses_are_not_public() {
    let server = start(Limits::default());
    let coordinator = coordinator(&server);
    let (widget, _, _) = seed(&server, &coordinator);
    let path = format!("/api/v1/registry/entries/{widget}");
    let revision = public_json(&server, &path)["revision"].as_i64().unwrap();
    let edit = widget_edit(Some(revision), "fix", &["2.2"], &["https://acme.example/psirt/9"]);
    assert_eq!(put_json(&server, &coordinator, &path, &edit, &[]).0, 200);
    for public_path in [
        path.clone(),
        format!("{path}/history"),
        "/api/v1/registry/entries?q=widget".to_string(),
        "/api/v1/registry/export/full.json".to_string(),
    ] {
        let (status, text, _) = public(&server, &public_path, &[]);
        assert_eq!(status, 200, "{public_path}");
        assert!(!text.contains("ncsc.example"), "{public_path} shows an e-mail address: {text}");
    }
    let page = fetch(&server, "GET", &format!("/registry/entries/{widget}"), "", None);
    assert!(!page.body.contains("ncsc.example"), "{}", page.body);
    // Coordinators still see who did what.
    let (_, entry) = get(&server, &coordinator, &path);
    assert!(entry["updated_by"].as_str().unwrap().contains("cert@ncsc.example"), "{entry}");
}

/// Importing a file again changes nothing, also when a product appears twice in it with notes
/// of several lines (issue 18: every import appended the notes again, added a revision, changed
/// the ETag and notified organisations).
#[test]
fn reimporting_a_file_with_a_product_twice_changes_nothing() {
    let server = start(Limits::default());
    let coordinator = coordinator(&server);
    let list = format!(
        "{HEADER}|Acme|Widget|2.1| |Fix| | |Fixed in 2.1.<br>Older lines: upgrade.|[source](https://acme.example/psirt)|\n\
         |Acme|Widget|2.0| |Vulnerable| | |Also shipped in bundles.<br>See the vendor.|[other](https://acme.example/other)|\n\
         |Beta Corp.|Tool| | |Not vuln| | ||[source](https://beta.example/log4j)|\n"
    );
    let (status, first) = import(&server, &coordinator, "ncsc-md", "dup.md", list.as_bytes());
    assert_eq!(status, 200, "{first}");
    let (_, before, headers) = public(&server, "/api/v1/registry/export/full.json", &[]);
    let etag = headers.get("etag").map(|v| v.to_str().unwrap().to_string());
    for round in 0..3 {
        let (status, again) = import(&server, &coordinator, "ncsc-md", "dup.md", list.as_bytes());
        assert_eq!(status, 200, "{again}");
        assert_eq!(
            (again["created"].as_i64(), again["updated"].as_i64()),
            (Some(0), Some(0)),
            "round {round}: {again}"
        );
    }
    let (_, after, headers) = public(&server, "/api/v1/registry/export/full.json", &[]);
    assert_eq!(headers.get("etag").map(|v| v.to_str().unwrap().to_string()), etag);
    assert_eq!(after, before);
}
