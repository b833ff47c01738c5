//! Inventories on the server: `quell scan --inventory` reports stored per host (latest plus
//! history, idempotent), the ask (`GET /api/v1/components`) with its isolation rules, findings
//! of the packs askable by purl, and advisories that name components matched on publication and
//! on later uploads. Runs on SQLite, and on PostgreSQL under `scripts/test`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;

use common::*;
use quell_server::Limits;
use serde_json::{Value, json};

const TEXT: &str = "pkg:maven/org.apache.commons/commons-text";
/// Text4Shell's affected versions.
const TEXT4SHELL: &str = "vers:maven/>=1.5|<1.10.0";

/// A `quell scan --inventory --format json` report: one component record per (group, artifact,
/// version, path), plus optional extra lines (findings), and the summary.
fn inventory_report(
    host: &str,
    finished_at: &str,
    components: &[(&str, &str, &str, &str)],
    findings: &[String],
) -> String {
    let mut out = String::new();
    for (i, (group, artifact, version, path)) in components.iter().enumerate() {
        let record = json!({
            "kind": "component",
            "path": [path],
            "purl": format!("pkg:maven/{group}/{artifact}@{version}"),
            "name": artifact,
            "version": version,
            "hashes": {"sha1": format!("{i:040x}"), "sha256": format!("{i:064x}")},
            "confidence": "declared",
            "evidence": [format!("pom.properties:META-INF/maven/{group}/{artifact}/pom.properties")]
        });
        out.push_str(&record.to_string());
        out.push('\n');
    }
    for f in findings {
        out.push_str(f);
        out.push('\n');
    }
    let summary = json!({
        "kind": "summary", "files": 10, "archives": components.len(), "bytes": 1000,
        "findings": findings.len(), "affected": 0, "errors": 0, "elapsed_ms": 5,
        "host": host, "tool_version": "quell 0.1.0", "components": components.len(), "finished_at": finished_at
    });
    out.push_str(&summary.to_string());
    out.push('\n');
    out
}

fn ask(server: &Server, token: &str, purl: &str, range: &str) -> (u16, Value) {
    get(server, token, &format!("/api/v1/components?purl={}&range={}", encode(purl), encode(range)))
}

fn post(server: &Server, token: &str, path: &str, body: &Value) -> (u16, Value) {
    send(server, "POST", token, path, body.to_string().as_bytes(), &[("Content-Type", "application/json")])
}

fn share(server: &Server, org: &Org) {
    let (status, body) = send(
        server,
        "PUT",
        &org.full,
        "/api/v1/sharing",
        json!({"shares_details": true}).to_string().as_bytes(),
        &[("Content-Type", "application/json")],
    );
    assert_eq!(status, 200, "{body}");
}

#[test]
fn inventories_are_stored_per_host_latest_and_history_idempotent() {
    let server = start(Limits::default());
    let org = org(&server, "water");
    let first = inventory_report(
        "app1",
        &days_ago(3),
        &[
            ("org.apache.commons", "commons-text", "1.9", "/srv/app/lib/commons-text-1.9.jar"),
            ("org.springframework", "spring-beans", "5.3.17", "/srv/app/lib/spring-beans-5.3.17.jar"),
            ("com.google.guava", "guava", "31.1-jre", "/srv/app/lib/guava-31.1-jre.jar"),
        ],
        &[],
    );
    let (status, stored) = upload(&server, &org.upload, &first);
    assert_eq!(status, 201, "{stored}");
    let (status, again) = upload(&server, &org.upload, &first);
    assert_eq!((status, again["duplicate"].as_bool()), (200, Some(true)), "a retry stores nothing: {again}");

    let (_, lists) = get(&server, &org.full, "/api/v1/inventories");
    let lists = lists.as_array().unwrap();
    assert_eq!(lists.len(), 1, "{lists:?}");
    assert_eq!(
        (lists[0]["system"].as_str(), lists[0]["kind"].as_str(), lists[0]["components"].as_i64()),
        (Some("app1"), Some("scan"), Some(3))
    );

    let (_, answer) = ask(&server, &org.full, TEXT, TEXT4SHELL);
    assert_eq!(answer["systems"], 1, "{answer}");
    assert_eq!(answer["locations"][0]["path"], "/srv/app/lib/commons-text-1.9.jar");

    // The host updates commons-text: the newer list is current, the old one history.
    let newer = inventory_report(
        "app1",
        &days_ago(1),
        &[("org.apache.commons", "commons-text", "1.10.0", "/srv/app/lib/commons-text-1.10.0.jar")],
        &[],
    );
    assert_eq!(upload(&server, &org.upload, &newer).0, 201);
    let (_, answer) = ask(&server, &org.full, TEXT, TEXT4SHELL);
    assert_eq!(answer["systems"], 0, "the fixed version is current: {answer}");
    // A late upload of an older scan does not replace the newer list.
    let older = inventory_report(
        "app1",
        &days_ago(2),
        &[("org.apache.commons", "commons-text", "1.8", "/srv/app/lib/commons-text-1.8.jar")],
        &[],
    );
    assert_eq!(upload(&server, &org.upload, &older).0, 201);
    let (_, answer) = ask(&server, &org.full, TEXT, TEXT4SHELL);
    assert_eq!(answer["systems"], 0, "an older scan stays history: {answer}");
    let (_, answer) = ask(&server, &org.full, TEXT, "*");
    assert_eq!(answer["by_version"][0]["version"], "1.10.0", "{answer}");

    // The summary must count the component records it carries.
    let lying = first.replace("\"components\":3", "\"components\":2");
    let (status, error) = upload(&server, &org.upload, &lying);
    assert_eq!(status, 400, "{error}");
    assert!(error["message"].as_str().unwrap().contains("components"), "{error}");
}

#[test]
fn the_ask_follows_the_isolation_rules() {
    let server = start(Limits::default());
    let coord = coordinator(&server);
    let a = org(&server, "sharing-city");
    let b = org(&server, "private-board");
    share(&server, &a);
    let lib = |v: &str| ("org.apache.commons", "commons-text", v.to_string());
    let report = |host: &str, v: &str| {
        let (g, n, v) = lib(v);
        inventory_report(host, &days_ago(1), &[(g, n, &v, &format!("/opt/{host}/commons-text-{v}.jar"))], &[])
    };
    assert_eq!(upload(&server, &a.upload, &report("a1", "1.9")).0, 201);
    assert_eq!(upload(&server, &b.upload, &report("b1", "1.8")).0, 201);
    assert_eq!(upload(&server, &b.upload, &report("b2", "1.10.0")).0, 201);

    let (status, answer) = ask(&server, &coord, TEXT, TEXT4SHELL);
    assert_eq!(status, 200, "{answer}");
    assert_eq!((answer["organisations"].as_i64(), answer["systems"].as_i64()), (Some(2), Some(2)), "{answer}");
    let versions: BTreeMap<String, i64> = answer["by_version"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| (v["version"].as_str().unwrap().to_string(), v["systems"].as_i64().unwrap()))
        .collect();
    assert_eq!(versions, BTreeMap::from([("1.8".into(), 1), ("1.9".into(), 1)]));
    let per_org = answer["by_organisation"].as_array().unwrap();
    assert_eq!(per_org.len(), 2);
    let located: Vec<&str> =
        answer["locations"].as_array().unwrap().iter().map(|l| l["system"].as_str().unwrap()).collect();
    assert_eq!(located, ["a1"], "names and paths only of the organisation that shares details");
    assert!(!answer.to_string().contains("b1"), "a private organisation's host name leaked: {answer}");

    let (_, own) = ask(&server, &b.full, TEXT, TEXT4SHELL);
    assert_eq!(own["systems"], 1, "{own}");
    assert!(own.get("by_organisation").is_none(), "an organisation sees no other organisation: {own}");
    assert_eq!(own["locations"][0]["system"], "b1");
    assert!(!own.to_string().contains("a1") && !own.to_string().contains("sharing-city"), "{own}");
    let (_, member) = ask(&server, &b.member_full, TEXT, "*");
    assert_eq!(member["systems"], 2, "every version: {member}");

    // A version in the purl asks for that version.
    let (_, exact) = get(&server, &a.full, &format!("/api/v1/components?purl={}", encode(&format!("{TEXT}@1.8"))));
    assert_eq!(exact["systems"], 0, "a's copy is 1.9: {exact}");
    // Maven ranges and pack ranges are accepted.
    let (_, maven) = ask(&server, &coord, TEXT, "[1.5,1.10.0)");
    assert_eq!(maven["systems"], 2, "{maven}");

    assert_eq!(ask(&server, &a.upload, TEXT, "*").0, 403, "an upload-only token may not ask");
    for (purl, range) in [("commons-text", "*"), (TEXT, "vers:maven/>=1|>=2"), (TEXT, "[2,1]"), ("pkg:maven/only", "*")]
    {
        let (status, error) = ask(&server, &coord, purl, range);
        assert_eq!(status, 400, "{purl} {range}: {error}");
        assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()), "{error}");
    }
    let (status, _) = send(&server, "GET", "nope", "/api/v1/components?purl=pkg:maven/a/b", b"", &[]);
    assert_eq!(status, 401);
}

#[test]
fn copies_the_packs_found_are_askable_by_purl_shaded_and_ranged_ones_too() {
    let server = start(Limits::default());
    let org = org(&server, "hospital");
    let shaded = r#"{"kind":"finding","path":["/srv/vendor-app.jar"],"component":"log4j-core","version":"2.14.1","version_range":null,"confidence":"confirmed","evidence":["class:com/vendor/shaded/org/apache/logging/log4j/core/lookup/JndiLookup.class"],"mitigations":[],"cves":[{"id":"CVE-2021-44228","status":"affected"}]}"#;
    let ranged = r#"{"kind":"finding","path":["/srv/old.war","WEB-INF/lib/x.jar"],"component":"log4j-core","version":null,"version_range":"2.0-beta9..2.10.0","confidence":"confirmed","evidence":[],"mitigations":[],"cves":[{"id":"CVE-2021-44228","status":"affected"}]}"#;
    let report = inventory_report("legacy", &days_ago(1), &[], &[shaded.to_string(), ranged.to_string()]);
    let (status, body) = upload(&server, &org.upload, &report);
    assert_eq!(status, 201, "{body}");
    let log4j = "pkg:maven/org.apache.logging.log4j/log4j-core";
    let (_, answer) = ask(&server, &org.full, log4j, "vers:maven/>=2.0-beta9|<2.15.0");
    let paths: Vec<&str> =
        answer["locations"].as_array().unwrap().iter().map(|l| l["path"].as_str().unwrap()).collect();
    assert_eq!(paths, ["/srv/old.war!/WEB-INF/lib/x.jar", "/srv/vendor-app.jar"], "{answer}");
    let (_, fixed_only) = ask(&server, &org.full, log4j, "vers:maven/>=2.17.1");
    assert_eq!(fixed_only["systems"], 0, "{fixed_only}");
}

fn text4shell_advisory(tlp: &str) -> Value {
    json!({
        "content": {
            "title": "Text4Shell in Apache Commons Text",
            "summary": "StringSubstitutor's default lookups run scripts.",
            "cves": ["CVE-2022-42889"],
            "components": [{"purl": TEXT, "range": TEXT4SHELL}],
            "solution": "Update to 1.10.0.",
            "rating": {
                "chance": {
                    "default_configuration": "no", "exploit_code": "working_exploit", "details_public": "full",
                    "access": "internet", "credentials": "none", "complexity": "easy", "user_interaction": "none",
                    "actively_exploited": "limited", "exploitation_expected": "yes", "solution": "less_than_two_months"
                },
                "damage": {
                    "denial_of_service": "none", "code_execution": "user", "remote_access": "none",
                    "privilege_escalation": "no", "information_leak": "data"
                }
            },
            "tlp": tlp
        },
        "recipients": {"orgs": [], "match_inventory": true, "match_products": false}
    })
}

fn recipients(server: &Server, coord: &str, id: i64) -> BTreeMap<String, String> {
    let (_, list) = get(server, coord, &format!("/api/v1/advisories/{id}/recipients"));
    list.as_array()
        .unwrap()
        .iter()
        .map(|r| (r["org"].as_str().unwrap().to_string(), r["via"].as_str().unwrap().to_string()))
        .collect()
}

#[test]
fn advisories_naming_components_reach_the_organisations_that_run_them_now_and_later() {
    let server = start(Limits::default());
    let coord = coordinator(&server);
    let early = org(&server, "early");
    let late = org(&server, "late");
    let fixed = org(&server, "fixed");
    let text = |host: &str, v: &str| {
        inventory_report(
            host,
            &days_ago(1),
            &[("org.apache.commons", "commons-text", v, &format!("/opt/{host}/lib/commons-text-{v}.jar"))],
            &[],
        )
    };
    assert_eq!(upload(&server, &early.upload, &text("e1", "1.9")).0, 201);
    assert_eq!(upload(&server, &fixed.upload, &text("f1", "1.10.0")).0, 201);

    let (status, bad) = post(&server, &coord, "/api/v1/advisories", &{
        let mut d = text4shell_advisory("AMBER");
        d["content"]["components"] = json!([{"purl": "commons-text", "range": "*"}]);
        d
    });
    assert_eq!(status, 400, "a component that is not a purl is refused: {bad}");

    let (status, created) = post(&server, &coord, "/api/v1/advisories", &text4shell_advisory("AMBER"));
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_i64().unwrap();
    let (status, published) = post(&server, &coord, &format!("/api/v1/advisories/{id}/publish"), &json!({}));
    assert_eq!(status, 200, "publishing with components and no products: {published}");
    assert_eq!(recipients(&server, &coord, id), BTreeMap::from([("early".into(), format!("components:{TEXT}"))]));

    let (_, systems) = get(&server, &early.full, &format!("/api/v1/advisories/{id}/systems"));
    let listed = systems["systems"].as_array().unwrap();
    assert_eq!(listed.len(), 1, "{systems}");
    assert_eq!((listed[0]["name"].as_str(), listed[0]["state"].as_str()), (Some("e1"), Some("open")), "{systems}");
    assert_eq!(get(&server, &late.full, &format!("/api/v1/advisories/{id}")).0, 404, "AMBER: not a recipient yet");

    // A later upload that holds an affected version makes its organisation a recipient.
    assert_eq!(upload(&server, &late.upload, &text("l1", "1.6")).0, 201);
    let now = recipients(&server, &coord, id);
    assert_eq!(
        now.get("late").map(String::as_str),
        Some(format!("components:{TEXT} (later upload)").as_str()),
        "{now:?}"
    );
    assert!(!now.contains_key("fixed"), "1.10.0 is not affected: {now:?}");
    assert_eq!(get(&server, &late.full, &format!("/api/v1/advisories/{id}")).0, 200);
    let (_, systems) = get(&server, &late.full, &format!("/api/v1/advisories/{id}/systems"));
    assert_eq!(systems["systems"][0]["name"], "l1", "{systems}");
    assert_eq!(get(&server, &fixed.full, &format!("/api/v1/advisories/{id}")).0, 404);

    // The early organisation updates: its system is resolved by the new list.
    assert_eq!(
        upload(
            &server,
            &early.upload,
            &inventory_report(
                "e1",
                &quell_server::time::format_rfc3339(quell_server::now()),
                &[("org.apache.commons", "commons-text", "1.10.0", "/opt/e1/lib/commons-text-1.10.0.jar")],
                &[],
            )
        )
        .0,
        201
    );
    let (_, systems) = get(&server, &early.full, &format!("/api/v1/advisories/{id}/systems"));
    assert_eq!(systems["systems"][0]["state"], "resolved", "{systems}");
    let (_, progress) = get(&server, &coord, &format!("/api/v1/advisories/{id}/progress"));
    assert_eq!(progress["counts"], json!({"affected": 2, "open": 1, "overdue": 0, "resolved": 1}), "{progress}");
}

#[test]
fn an_advisory_may_name_a_detection_pack_instead_of_purls() {
    let server = start(Limits::default());
    let coord = coordinator(&server);
    let runs = org(&server, "runs-old-text");
    let report = inventory_report(
        "t1",
        &days_ago(1),
        &[("org.apache.commons", "commons-text", "1.9", "/opt/t1/commons-text-1.9.jar")],
        &[],
    );
    assert_eq!(upload(&server, &runs.upload, &report).0, 201);
    let mut d = text4shell_advisory("GREEN");
    d["content"]["components"] = json!([{"pack": "commons-text"}]);
    let (status, created) = post(&server, &coord, "/api/v1/advisories", &d);
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_i64().unwrap();
    let (_, shown) = get(&server, &coord, &format!("/api/v1/advisories/{id}"));
    let text = shown.to_string();
    assert!(
        text.contains(TEXT) && text.contains("vers:maven/>=1.5|<1.10.0"),
        "the pack expanded to its range: {shown}"
    );
    assert_eq!(post(&server, &coord, &format!("/api/v1/advisories/{id}/publish"), &json!({})).0, 200);
    assert_eq!(
        recipients(&server, &coord, id),
        BTreeMap::from([("runs-old-text".into(), format!("components:{TEXT}"))])
    );

    let mut unknown = text4shell_advisory("GREEN");
    unknown["content"]["components"] = json!([{"pack": "no-such-pack"}]);
    let (status, error) = post(&server, &coord, "/api/v1/advisories", &unknown);
    assert_eq!(status, 400, "{error}");
    assert!(error["message"].as_str().unwrap().contains("no detection pack named"), "{error}");
}

#[test]
fn a_registry_entry_with_a_purl_notifies_the_organisations_that_run_it() {
    let server = start(Limits::default());
    let coord = coordinator(&server);
    let runs = org(&server, "runs-widget");
    let other = org(&server, "runs-nothing");
    let list = "| Supplier | Product | Version (see Status) | Status CVE-2021-4104 | Status CVE-2021-44228 \
                | Status CVE-2021-45046 | Status CVE-2021-45105 | Notes | Links |\n\
                |---|---|---|---|---|---|---|---|---|\n\
                |Acme|Widget| | |Vulnerable| | ||[source](https://acme.example/psirt)|\n";
    let (status, report) =
        send(&server, "POST", &coord, "/api/v1/registry/import?format=ncsc-md&name=list.md", list.as_bytes(), &[]);
    assert_eq!(status, 200, "{report}");
    let (_, page) = get(&server, &coord, "/api/v1/registry/entries?q=widget");
    let id = page["entries"][0]["id"].as_i64().unwrap();
    let revision = page["entries"][0]["revision"].as_i64().unwrap_or(1);
    let report = inventory_report(
        "w1",
        &days_ago(1),
        &[("com.acme", "widget-server", "2.0", "/opt/acme/widget-server-2.0.jar")],
        &[],
    );
    assert_eq!(upload(&server, &runs.upload, &report).0, 201);

    let edit = json!({
        "supplier": "Acme", "product": "Widget", "purl": "pkg:maven/com.acme/widget-server",
        "statuses": {"CVE-2021-44228": {"status": "fix", "fixed_versions": ["2.1"], "affected_versions": ["< 2.1"]}},
        "links": ["https://acme.example/psirt/2"], "base_revision": revision
    });
    let (status, body) = send(
        &server,
        "PUT",
        &coord,
        &format!("/api/v1/registry/entries/{id}"),
        edit.to_string().as_bytes(),
        &[("Content-Type", "application/json")],
    );
    assert_eq!(status, 200, "{body}");
    let (_, notes) = get(&server, &runs.full, "/api/v1/registry/notifications");
    let notes = notes.as_array().unwrap();
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(
        notes[0]["message"].as_str().unwrap().contains("your inventory runs pkg:maven/com.acme/widget-server"),
        "{notes:?}"
    );
    let (_, none) = get(&server, &other.full, "/api/v1/registry/notifications");
    assert!(none.as_array().unwrap().is_empty(), "{none}");
}

// ---- SBOMs ----

/// The SBOMs of real generators (`scripts/make-sboms`, run by `scripts/test`); `None` (skip)
/// only when they were not made and `QUELL_REQUIRE_SBOM` is not `1`.
fn sbom_fixtures() -> Option<std::path::PathBuf> {
    match std::env::var_os("QUELL_SBOM_FIXTURES") {
        Some(dir) => Some(std::path::PathBuf::from(dir)),
        None => {
            assert!(
                std::env::var_os("QUELL_REQUIRE_SBOM").is_none_or(|v| v != "1"),
                "QUELL_REQUIRE_SBOM=1 but QUELL_SBOM_FIXTURES is not set: run scripts/make-sboms (scripts/test does)"
            );
            eprintln!("skipped: set QUELL_SBOM_FIXTURES (scripts/make-sboms DIR; scripts/test does)");
            None
        }
    }
}

fn post_sbom(server: &Server, token: &str, query: &str, body: &[u8]) -> (u16, Value) {
    send(server, "POST", token, &format!("/api/v1/sboms{query}"), body, &[("Content-Type", "application/json")])
}

#[test]
fn sboms_of_real_generators_are_stored_and_answer_where_components_run() {
    let Some(dir) = sbom_fixtures() else { return };
    let server = start(Limits::default());
    let coord = coordinator(&server);
    let org = org(&server, "builds");
    for (file, system, format, spec, commons_text) in [
        ("cdxgen-jars-1.6.cdx.json", "shop-backend", "cyclonedx", "1.6", "1.9"),
        ("cdxgen-jars-1.7.cdx.json", "shop-frontend", "cyclonedx", "1.7", "1.9"),
        ("python-lib-1.4.cdx.json", "fixture-app", "cyclonedx", "1.4", "1.10.0"),
        ("spdx-tools-2.3.spdx.json", "fixture-app-spdx", "spdx", "SPDX-2.3", "1.10.0"),
    ] {
        let body = std::fs::read(dir.join(file)).unwrap();
        // An upload-only token (a build pipeline's) may send SBOMs.
        let (status, stored) = post_sbom(&server, &org.upload, &format!("?system={system}"), &body);
        assert_eq!(status, 201, "{file}: {stored}");
        assert_eq!(
            (stored["format"].as_str(), stored["spec_version"].as_str()),
            (Some(format), Some(spec)),
            "{stored}"
        );
        assert_eq!(stored["kind"], "application");
        assert!(stored["components"].as_u64().unwrap() >= 4, "{file}: {stored}");
        let (status, again) = post_sbom(&server, &org.upload, &format!("?system={system}"), &body);
        assert_eq!((status, again["duplicate"].as_bool()), (200, Some(true)), "{again}");
        let (_, answer) =
            get(&server, &org.full, &format!("/api/v1/components?purl={}", encode(&format!("{TEXT}@{commons_text}"))));
        let systems: Vec<&str> =
            answer["locations"].as_array().unwrap().iter().map(|l| l["system"].as_str().unwrap()).collect();
        assert!(systems.contains(&system), "{file}: commons-text {commons_text} in {system}: {answer}");
        let located = answer["locations"].as_array().unwrap().iter().find(|l| l["system"] == system).unwrap();
        assert_eq!((located["system_kind"].as_str(), located["source"].as_str()), (Some("application"), Some(format)));
    }
    // Text4Shell: every application lists the pinned jars, commons-text 1.6 and 1.9 among them.
    let (_, answer) = ask(&server, &coord, TEXT, TEXT4SHELL);
    assert_eq!((answer["organisations"].as_i64(), answer["systems"].as_i64()), (Some(1), Some(4)), "{answer}");
    let versions: Vec<&str> =
        answer["by_version"].as_array().unwrap().iter().map(|v| v["version"].as_str().unwrap()).collect();
    assert_eq!(versions, ["1.6", "1.9"], "1.10.0 is not affected: {answer}");
    // A host's SBOM: `kind=host`, the SBOM's subject as the name when none is given.
    let body = std::fs::read(dir.join("python-lib-1.4.cdx.json")).unwrap();
    let mut doc: Value = serde_json::from_slice(&body).unwrap();
    doc["serialNumber"] = json!("urn:uuid:00000000-0000-4000-8000-000000000001");
    let (status, stored) = post_sbom(&server, &org.upload, "?kind=host", doc.to_string().as_bytes());
    assert_eq!(
        (status, stored["system"].as_str(), stored["kind"].as_str()),
        (201, Some("quell-fixture-app"), Some("host")),
        "{stored}"
    );
    let (_, lists) = get(&server, &org.full, "/api/v1/inventories");
    assert_eq!(lists.as_array().unwrap().len(), 5, "{lists}");
}

#[test]
fn malformed_oversized_and_hostile_sboms_get_a_precise_4xx_and_store_nothing() {
    let server = start(Limits::default());
    let coord = coordinator(&server);
    let org = org(&server, "careful");
    let good = json!({
        "bomFormat": "CycloneDX", "specVersion": "1.5", "metadata": {"component": {"name": "app", "type": "application"}},
        "components": [{"type": "library", "name": "commons-text", "group": "org.apache.commons", "version": "1.9",
                        "purl": "pkg:maven/org.apache.commons/commons-text@1.9"}]
    });
    let many: String = {
        let one = r#"{"type":"library","name":"x","version":"1"},"#;
        let mut s = String::from(r#"{"bomFormat":"CycloneDX","specVersion":"1.6","components":["#);
        for _ in 0..250_000 {
            s.push_str(one);
        }
        s.pop();
        s.push_str("]}");
        s
    };
    let deep = format!(
        r#"{{"bomFormat":"CycloneDX","specVersion":"1.6","components":[{}{}]}}"#,
        r#"{"type":"library","name":"n","components":["#.repeat(200),
        "]}".repeat(200)
    );
    let nested_json = format!(
        r#"{{"bomFormat":"CycloneDX","specVersion":"1.6","x":{}{}}}"#,
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let mut bomb = Vec::new();
    {
        use std::io::Write;
        let mut gz = flate2::write::GzEncoder::new(&mut bomb, flate2::Compression::best());
        let zeros = vec![b' '; 1 << 20];
        for _ in 0..300 {
            gz.write_all(&zeros).unwrap();
        }
        gz.finish().unwrap();
    }
    /// (what, body, extra headers, status, part of the message)
    type Case<'a> = (&'a str, Vec<u8>, &'a [(&'a str, &'a str)], u16, &'a str);
    let cases: Vec<Case> = vec![
        ("not JSON", b"{\"bomFormat\": \"CycloneDX\",".to_vec(), &[], 400, "line 1"),
        ("not an SBOM", br#"{"hello": "world"}"#.to_vec(), &[], 400, "not a CycloneDX"),
        ("CycloneDX 1.2", br#"{"bomFormat":"CycloneDX","specVersion":"1.2","components":[]}"#.to_vec(), &[], 400, "unsupported CycloneDX version"),
        ("SPDX 3", br#"{"spdxVersion":"SPDX-3.0","packages":[]}"#.to_vec(), &[], 400, "unsupported SPDX version"),
        (
            "a wrong type",
            br#"{"bomFormat":"CycloneDX","specVersion":"1.6","components":[{"type":"library","name":"a","version":7}]}"#.to_vec(),
            &[],
            400,
            "/components/0/version",
        ),
        ("a bad hash", br#"{"bomFormat":"CycloneDX","specVersion":"1.6","components":[{"type":"library","name":"a","hashes":[{"alg":"SHA-256","content":"zz"}]}]}"#.to_vec(), &[], 400, "/components/0/hashes/0"),
        ("250,000 components", many.into_bytes(), &[], 413, "components"),
        ("components nested 200 deep", deep.into_bytes(), &[], 413, "nest"),
        ("JSON nested 100,000 deep", nested_json.into_bytes(), &[], 413, "levels of nested JSON"),
        ("a gzip bomb", bomb, &[("Content-Encoding", "gzip")], 413, "inflates"),
        ("no name anywhere", br#"{"bomFormat":"CycloneDX","specVersion":"1.6","components":[]}"#.to_vec(), &[], 400, "?system="),
    ];
    for (what, body, headers, expected, needle) in cases {
        let mut all = vec![("Content-Type", "application/json")];
        all.extend_from_slice(headers);
        let (status, error) = send(&server, "POST", &org.upload, "/api/v1/sboms", &body, &all);
        assert_eq!(status, expected, "{what}: {error}");
        let message = error["message"].as_str().unwrap_or_default();
        assert!(message.contains(needle), "{what}: {needle:?} not in {message:?}");
    }
    let (status, error) = post_sbom(&server, &org.upload, "?system=x&kind=printer", good.to_string().as_bytes());
    assert_eq!(status, 400, "{error}");
    assert_eq!(
        post_sbom(&server, &coord, "?system=x", good.to_string().as_bytes()).0,
        403,
        "a coordinator has no systems"
    );
    let (_, lists) = get(&server, &org.full, "/api/v1/inventories");
    assert_eq!(lists, json!([]), "nothing stored");
    assert_eq!(post_sbom(&server, &org.upload, "", good.to_string().as_bytes()).0, 201, "the subject names it");
}

#[test]
fn an_sbom_uploaded_later_joins_the_open_advisory_and_stays_in_its_organisation() {
    let server = start(Limits::default());
    let coord = coordinator(&server);
    let a = org(&server, "sbom-a");
    let b = org(&server, "sbom-b");
    let (_, created) = post(&server, &coord, "/api/v1/advisories", &text4shell_advisory("AMBER"));
    let id = created["id"].as_i64().unwrap();
    assert_eq!(post(&server, &coord, &format!("/api/v1/advisories/{id}/publish"), &json!({})).0, 200);
    assert!(recipients(&server, &coord, id).is_empty());
    let sbom = json!({
        "bomFormat": "CycloneDX", "specVersion": "1.6",
        "components": [{"type": "library", "name": "commons-text", "group": "org.apache.commons", "version": "1.9",
                        "purl": "pkg:maven/org.apache.commons/commons-text@1.9"}]
    });
    assert_eq!(post_sbom(&server, &a.upload, "?system=payroll", sbom.to_string().as_bytes()).0, 201);
    assert_eq!(
        recipients(&server, &coord, id).get("sbom-a").map(String::as_str),
        Some(format!("components:{TEXT} (later upload)").as_str())
    );
    let (_, systems) = get(&server, &a.full, &format!("/api/v1/advisories/{id}/systems"));
    assert_eq!(systems["systems"][0]["name"], "payroll", "{systems}");
    // b sees nothing of a's application.
    let (_, theirs) = ask(&server, &b.full, TEXT, "*");
    assert_eq!(theirs["systems"], 0, "{theirs}");
    assert_eq!(get(&server, &b.full, "/api/v1/inventories").1, json!([]));
    assert_eq!(get(&server, &b.full, &format!("/api/v1/advisories/{id}")).0, 404);
    assert_eq!(get(&server, &a.upload, "/api/v1/inventories").0, 403, "an upload-only token reads nothing");
}
