//! Indicators (`POST /api/v1/indicators`, the pool, the feed, the `/indicators` page): uploads from
//! several organisations, pooling counts, the minimum-organisations threshold, isolation, TLP in
//! every export, idempotent re-upload, bad payloads refused with nothing stored.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use quell_store::sqlx;
use std::io::Write;

use common::*;
use quell_server::Limits;
use serde_json::{Value, json};

/// One indicator: (kind, value, count, first_seen, last_seen, techniques).
type Ind<'a> = (&'a str, &'a str, u64, &'a str, &'a str, &'a [&'a str]);

fn body(host: &str, tlp: &str, indicators: &[Ind]) -> String {
    let list: Vec<Value> = indicators
        .iter()
        .map(|(kind, value, count, first, last, techniques)| {
            json!({
                "kind": kind, "value": value, "count": count, "first_seen": first, "last_seen": last,
                "time_source": "log", "techniques": techniques, "days": { &first[..10]: count },
            })
        })
        .collect();
    json!({
        "format": "quell-indicators/1", "host": host, "tool_version": "quell test", "tlp": tlp,
        "generated_at": generated_at(), "indicators": list,
    })
    .to_string()
}

/// An hour ago: upload times may not lie in the future.
fn generated_at() -> String {
    quell_server::time::format_rfc3339(quell_server::now() - 3600)
}

fn post(server: &Server, token: &str, body: &str) -> (u16, Value) {
    send(server, "POST", token, "/api/v1/indicators", body.as_bytes(), &[("Content-Type", "application/json")])
}

/// (status, X-Quell-TLP header, body text).
fn raw(server: &Server, token: &str, path: &str) -> (u16, String, String) {
    let mut response = agent()
        .get(&format!("{}{path}", server.base))
        .header("Authorization", &format!("Bearer {token}"))
        .call()
        .unwrap();
    let tlp = response.headers().get("x-quell-tlp").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
    (response.status().as_u16(), tlp, response.body_mut().read_to_string().unwrap())
}

fn find<'a>(list: &'a Value, value: &str) -> Option<&'a Value> {
    list.as_array().unwrap().iter().find(|i| i["value"] == value)
}

const T1: &str = "2021-12-10T08:00:00Z";
const T2: &str = "2021-12-11T10:00:00Z";
const T3: &str = "2021-12-12T11:00:00Z";

#[test]
fn pooling_threshold_and_isolation() {
    let server = start(Limits::default());
    let orgs: Vec<Org> = ["alpha", "bravo", "charlie", "delta"].iter().map(|n| org(&server, n)).collect();
    let coordinator = coordinator(&server);
    // Seen by alpha and bravo only (2 organisations).
    let two = ("callback_host", "two.evil.example", 2, T1, T2, &["lower"][..]);
    // Seen by alpha, bravo, charlie (3): shown.
    let three_a = ("callback_host", "three.evil.example", 5, T2, T2, &["lower"][..]);
    let three_b = ("callback_host", "three.evil.example", 7, T1, T3, &["upper", "encoding:url"][..]);
    let only_alpha = ("payload_url", "ldap://alpha-only.example:1389/a", 1, T1, T1, &[][..]);
    let scanner = ("callback_host", "x1.c6x.interact.sh", 1, T1, T1, &[][..]);

    let (status, stored) =
        post(&server, &orgs[0].upload, &body("a-web", "AMBER", &[two, three_a, only_alpha, scanner]));
    assert_eq!(status, 201, "{stored}");
    assert_eq!((stored["indicators"].as_i64(), stored["duplicate"].as_bool()), (Some(4), Some(false)));
    assert_eq!(post(&server, &orgs[1].upload, &body("b-web", "GREEN", &[two, three_b, scanner])).0, 201);

    // Two organisations: hidden from everyone's pool, coordinators included.
    for token in [&orgs[0].full, &orgs[3].full, &coordinator] {
        let (status, pool) = get(&server, token, "/api/v1/indicators/pool");
        assert_eq!(status, 200);
        assert!(pool.as_array().unwrap().is_empty(), "{pool}");
    }
    // Each sees its own in full.
    let (_, mine) = get(&server, &orgs[0].full, "/api/v1/indicators");
    let own = find(&mine, "two.evil.example").expect("own sighting");
    assert_eq!((own["count"].as_i64(), own["hosts"][0].as_str()), (Some(2), Some("a-web")));
    assert!(find(&mine, "ldap://alpha-only.example:1389/a").is_some());

    // The third organisation: shown, with counts pooled.
    assert_eq!(post(&server, &orgs[2].upload, &body("c-web", "CLEAR", &[three_a, scanner])).0, 201);
    let (_, pool) = get(&server, &orgs[3].full, "/api/v1/indicators/pool");
    let list = pool.as_array().unwrap();
    assert_eq!(list.len(), 2, "{pool}");
    let three = find(&pool, "three.evil.example").unwrap();
    assert_eq!(three["organisations"], 3);
    assert_eq!(three["count"], 5 + 7 + 5);
    assert_eq!((three["first_seen"].as_str(), three["last_seen"].as_str()), (Some(T1), Some(T3)));
    assert_eq!(three["techniques"], json!(["encoding:url", "lower", "upper"]));
    assert_eq!(three["tlp"], "AMBER", "the most restrictive of AMBER, GREEN, CLEAR");
    assert_eq!(three["known_scanner"], false);
    assert_eq!(find(&pool, "x1.c6x.interact.sh").unwrap()["known_scanner"], true);
    assert!(find(&pool, "two.evil.example").is_none());

    // Isolation: delta (who saw nothing) and bravo never learn which organisations, nor alpha's own.
    for token in [&orgs[3].full, &orgs[1].full] {
        let (_, text) = (0, raw(&server, token, "/api/v1/indicators/pool").2);
        for name in ["alpha", "bravo", "charlie", "a-web", "b-web", "c-web"] {
            assert!(!text.contains(name), "{name} leaked: {text}");
        }
        assert!(!text.contains("shared_by"));
    }
    let (_, bravo_own) = get(&server, &orgs[1].full, "/api/v1/indicators");
    assert!(find(&bravo_own, "ldap://alpha-only.example:1389/a").is_none());
    assert!(find(&bravo_own, "three.evil.example").unwrap()["count"] == 7, "bravo's own count only");
    let (_, delta_own) = get(&server, &orgs[3].full, "/api/v1/indicators");
    assert!(delta_own.as_array().unwrap().is_empty());
    for token in [&orgs[3].full, &orgs[1].full] {
        for format in ["stix", "misp", "csv"] {
            let (status, _, text) = raw(&server, token, &format!("/api/v1/indicators/feed?format={format}"));
            assert_eq!(status, 200);
            assert!(!text.contains("alpha") && !text.contains("a-web") && !text.contains("two.evil"), "{text}");
        }
    }

    // Coordinators: the pool, with the names of organisations that share details only.
    let (_, pool) = get(&server, &coordinator, "/api/v1/indicators/pool");
    assert_eq!(find(&pool, "three.evil.example").unwrap()["shared_by"], json!([]));
    let (status, _) = send(
        &server,
        "PUT",
        &orgs[2].full,
        "/api/v1/sharing",
        br#"{"shares_details":true}"#,
        &[("Content-Type", "application/json")],
    );
    assert_eq!(status, 200);
    let (_, pool) = get(&server, &coordinator, "/api/v1/indicators/pool");
    assert_eq!(find(&pool, "three.evil.example").unwrap()["shared_by"], json!(["charlie"]));
    // ... but no own sightings, and no uploads.
    assert_eq!(get(&server, &coordinator, "/api/v1/indicators").0, 403);
    assert_eq!(post(&server, &coordinator, &body("x", "AMBER", &[scanner])).0, 403);

    // Upload-only tokens upload, and read nothing.
    assert_eq!(get(&server, &orgs[0].upload, "/api/v1/indicators").0, 403);
    assert_eq!(get(&server, &orgs[0].upload, "/api/v1/indicators/pool").0, 403);
    assert_eq!(get(&server, &orgs[0].upload, "/api/v1/indicators/feed").0, 403);

    // Filters.
    let (_, only) = get(&server, &orgs[3].full, "/api/v1/indicators/pool?known_scanner=true");
    assert_eq!(only.as_array().unwrap().len(), 1);
    let (_, only) = get(&server, &orgs[3].full, "/api/v1/indicators/pool?technique=upper");
    assert_eq!(only.as_array().unwrap().len(), 1);
    let (_, only) = get(&server, &orgs[3].full, "/api/v1/indicators/pool?q=THREE.EVIL&kind=callback_host");
    assert_eq!(only.as_array().unwrap().len(), 1);
    let (_, none) = get(&server, &orgs[3].full, "/api/v1/indicators/pool?kind=payload_url");
    assert!(none.as_array().unwrap().is_empty());
    let (_, mine) = get(&server, &orgs[0].full, "/api/v1/indicators?q=%25");
    assert!(mine.as_array().unwrap().is_empty(), "% is literal: {mine}");
    assert_eq!(get(&server, &orgs[3].full, "/api/v1/indicators/pool?kind=bogus").0, 400);
    let (_, later) = get(&server, &orgs[3].full, "/api/v1/indicators/pool?since=2999-01-01T00:00:00Z");
    assert!(later.as_array().unwrap().is_empty());
    // Paging, on every list (numbers in the query string).
    let (status, page) = get(&server, &orgs[3].full, "/api/v1/indicators/pool?limit=1&offset=1");
    assert_eq!((status, page.as_array().unwrap().len()), (200, 1));
    let (status, _, text) = raw(&server, &orgs[3].full, "/api/v1/indicators/feed?format=csv&limit=1&offset=0");
    assert_eq!((status, text.lines().count()), (200, 2), "{text}");
    let (status, days) = get(&server, &orgs[0].full, "/api/v1/indicators/days?scope=own&limit=5");
    assert_eq!(status, 200, "{days}");
    let (_, days) = get(&server, &orgs[3].full, "/api/v1/indicators/days");
    let total: i64 = days.as_array().unwrap().iter().map(|d| d["count"].as_i64().unwrap()).sum();
    assert_eq!(total, 17 + 3, "three.evil.example and the scanner, by day: {days}");
    let (_, days) = get(&server, &orgs[0].full, "/api/v1/indicators/days?scope=own");
    let total: i64 = days.as_array().unwrap().iter().map(|d| d["count"].as_i64().unwrap()).sum();
    assert_eq!(total, 2 + 5 + 1 + 1);
    assert_eq!(get(&server, &coordinator, "/api/v1/indicators/days?scope=own").0, 403);
}

#[test]
fn the_threshold_is_configurable() {
    let server = start(Limits { indicator_min_orgs: 2, ..Limits::default() });
    let a = org(&server, "alpha");
    let b = org(&server, "bravo");
    let x = ("source_address", "203.0.113.9", 1, T1, T1, &[][..]);
    post(&server, &a.upload, &body("a", "GREEN", &[x]));
    assert!(get(&server, &b.full, "/api/v1/indicators/pool").1.as_array().unwrap().is_empty());
    post(&server, &b.upload, &body("b", "GREEN", &[x]));
    assert_eq!(get(&server, &b.full, "/api/v1/indicators/pool").1.as_array().unwrap().len(), 1);
}

#[test]
fn a_feed_of_thousands_of_indicators() {
    let server = start(Limits::default());
    let o: Vec<Org> = ["alpha", "bravo", "charlie"].iter().map(|n| org(&server, n)).collect();
    let values: Vec<String> = (0..2500).map(|i| format!("h{i}.evil.example")).collect();
    let list: Vec<Ind> = values.iter().map(|v| ("callback_host", v.as_str(), 1, T1, T1, &["lower"][..])).collect();
    for org in &o {
        assert_eq!(post(&server, &org.upload, &body("web", "GREEN", &list)).0, 201);
    }
    let (status, _, text) = raw(&server, &o[0].full, "/api/v1/indicators/feed?format=csv");
    assert_eq!(status, 200);
    let rows: Vec<csv::StringRecord> =
        csv::Reader::from_reader(text.as_bytes()).records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 2500);
    assert!(rows.iter().all(|r| &r[3] == "3" && &r[8] == "lower"), "techniques of every row, in chunks");
}

#[test]
fn tlp_is_honoured_in_the_pool_and_every_export() {
    let server = start(Limits::default());
    let o: Vec<Org> = ["alpha", "bravo", "charlie", "delta"].iter().map(|n| org(&server, n)).collect();
    // amber.example: GREEN + AMBER + CLEAR → pooled AMBER; at most GREEN it has 2 organisations.
    let amber = |n| ("callback_host", "amber.example", n, T1, T2, &["lower"][..]);
    // green.example: GREEN ×3 (+ delta RED, which counts for nothing).
    let green = |n| ("payload_url", "ldap://green.example:1389/o'k", n, T1, T2, &[][..]);
    // strict.example: only AMBER+STRICT and RED sightings, from 3 organisations: never pooled.
    let strict = |n| ("command_host", "192.0.2.77:4444", n, T1, T3, &["base64"][..]);
    assert_eq!(post(&server, &o[0].upload, &body("a", "GREEN", &[amber(1), green(1)])).0, 201);
    assert_eq!(post(&server, &o[1].upload, &body("b", "AMBER", &[amber(1)])).0, 201);
    assert_eq!(post(&server, &o[1].upload, &body("b2", "GREEN", &[green(1)])).0, 201);
    assert_eq!(post(&server, &o[2].upload, &body("c", "CLEAR", &[amber(1)])).0, 201);
    assert_eq!(post(&server, &o[2].upload, &body("c2", "GREEN", &[green(1)])).0, 201);
    assert_eq!(post(&server, &o[3].upload, &body("d", "RED", &[green(100), strict(1)])).0, 201);
    assert_eq!(post(&server, &o[0].upload, &body("a2", "AMBER+STRICT", &[strict(1)])).0, 201);
    assert_eq!(post(&server, &o[1].upload, &body("b3", "RED", &[strict(1)])).0, 201);

    let (_, pool) = get(&server, &o[3].full, "/api/v1/indicators/pool");
    assert_eq!(pool.as_array().unwrap().len(), 2, "{pool}");
    assert_eq!(find(&pool, "amber.example").unwrap()["tlp"], "AMBER");
    let g = find(&pool, "ldap://green.example:1389/o'k").unwrap();
    assert_eq!(
        (g["tlp"].as_str(), g["organisations"].as_i64(), g["count"].as_i64()),
        (Some("GREEN"), Some(3), Some(3))
    );
    assert!(find(&pool, "192.0.2.77:4444").is_none());
    // Delta's own list keeps its RED sightings, marked RED.
    let (_, mine) = get(&server, &o[3].full, "/api/v1/indicators");
    assert_eq!(find(&mine, "192.0.2.77:4444").unwrap()["tlp"], "RED");
    assert_eq!(find(&mine, "ldap://green.example:1389/o'k").unwrap()["count"], 100);

    let amber_id = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421";
    let green_id = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb";
    let red_id = "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1";

    // STIX: each indicator marked with its own TLP; the markings used are in the bundle.
    let (status, tlp, text) = raw(&server, &o[0].full, "/api/v1/indicators/feed?format=stix");
    assert_eq!((status, tlp.as_str()), (200, "AMBER"));
    let bundle: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(bundle["type"], "bundle");
    let objects = bundle["objects"].as_array().unwrap();
    let indicators: Vec<&Value> = objects.iter().filter(|o| o["type"] == "indicator").collect();
    assert_eq!(indicators.len(), 2);
    let marking_of = |pattern_part: &str| {
        indicators.iter().find(|i| i["pattern"].as_str().unwrap().contains(pattern_part)).unwrap()["object_marking_refs"]
            .clone()
    };
    assert_eq!(marking_of("amber.example"), json!([amber_id]));
    assert_eq!(marking_of("green.example"), json!([green_id]));
    assert!(indicators.iter().any(|i| i["pattern"] == "[url:value = 'ldap://green.example:1389/o\\'k']"));
    let markings: Vec<&str> =
        objects.iter().filter(|o| o["type"] == "marking-definition").map(|o| o["id"].as_str().unwrap()).collect();
    assert_eq!(markings.len(), 2);
    assert!(markings.contains(&amber_id) && markings.contains(&green_id));
    assert!(!text.contains("192.0.2.77") && !text.contains(red_id));

    // MISP: the event tagged with the most restrictive marking, each attribute with its own.
    let (_, tlp, text) = raw(&server, &o[0].full, "/api/v1/indicators/feed?format=misp");
    assert_eq!(tlp, "AMBER");
    let event: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(event["Event"]["Tag"], json!([{ "name": "tlp:amber" }]));
    let attributes = event["Event"]["Attribute"].as_array().unwrap();
    let tag_of = |v: &str| attributes.iter().find(|a| a["value"] == v).unwrap()["Tag"].clone();
    assert_eq!(tag_of("amber.example"), json!([{ "name": "tlp:amber" }]));
    assert_eq!(tag_of("ldap://green.example:1389/o'k"), json!([{ "name": "tlp:green" }]));
    assert!(!text.contains("192.0.2.77"));

    // CSV: a tlp column.
    let (_, tlp, text) = raw(&server, &o[0].full, "/api/v1/indicators/feed?format=csv");
    assert_eq!(tlp, "AMBER");
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let headers = reader.headers().unwrap().clone();
    let tlp_col = headers.iter().position(|h| h == "tlp").unwrap();
    let value_col = headers.iter().position(|h| h == "value").unwrap();
    let row = |v: &str| rows.iter().find(|r| &r[value_col] == v).unwrap()[tlp_col].to_string();
    assert_eq!((row("amber.example"), row("ldap://green.example:1389/o'k")), ("AMBER".into(), "GREEN".into()));
    assert!(!text.contains("192.0.2.77"));

    // At most GREEN: computed from GREEN and CLEAR sightings only, so amber.example (2
    // organisations at GREEN or below) is not in it, and the document is GREEN.
    for format in ["stix", "misp", "csv"] {
        let (status, tlp, text) =
            raw(&server, &o[0].full, &format!("/api/v1/indicators/feed?format={format}&max_tlp=green"));
        assert_eq!((status, tlp.as_str()), (200, "GREEN"), "{format}");
        assert!(text.contains("green.example") && !text.contains("amber.example"), "{format}: {text}");
        assert!(!text.contains(amber_id) && !text.contains("tlp:amber"), "{format}");
    }
    let (_, tlp, text) = raw(&server, &o[0].full, "/api/v1/indicators/feed?format=misp&max_tlp=clear");
    assert_eq!(tlp, "CLEAR");
    assert!(serde_json::from_str::<Value>(&text).unwrap()["Event"]["Attribute"].as_array().unwrap().is_empty());

    // An organisation's own export carries its own markings, RED included.
    let (_, tlp, text) = raw(&server, &o[3].full, "/api/v1/indicators/feed?format=stix&scope=own");
    assert_eq!(tlp, "RED");
    assert!(text.contains(red_id) && text.contains("192.0.2.77"));
    let (_, tlp, _) = raw(&server, &o[3].full, "/api/v1/indicators/feed?format=csv&scope=own&max_tlp=amber");
    assert_eq!(tlp, "CLEAR", "nothing of delta's is AMBER or less");
    assert_eq!(raw(&server, &o[3].full, "/api/v1/indicators/feed?format=xml").0, 400);
    assert_eq!(raw(&server, &o[3].full, "/api/v1/indicators/feed?max_tlp=purple").0, 400);
}

#[test]
fn re_upload_is_idempotent_and_gzip_is_accepted() {
    let server = start(Limits::default());
    let a = org(&server, "alpha");
    let text = body("a", "AMBER", &[("callback_host", "evil.example", 3, T1, T2, &[][..])]);
    let (status, first) = post(&server, &a.upload, &text);
    assert_eq!(status, 201);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(text.as_bytes()).unwrap();
    let (status, again) =
        send(&server, "POST", &a.upload, "/api/v1/indicators", &gz.finish().unwrap(), &[("Content-Encoding", "gzip")]);
    assert_eq!(status, 200, "{again}");
    assert_eq!((again["id"].clone(), again["duplicate"].as_bool()), (first["id"].clone(), Some(true)));
    // The same indicators made at another time: the same hunt re-run, stored once.
    let mut later: Value = serde_json::from_str(&text).unwrap();
    later["generated_at"] = json!(quell_server::time::format_rfc3339(quell_server::now() - 60));
    let later = later.to_string();
    assert_ne!(later, text);
    let (status, again) = post(&server, &a.upload, &later);
    assert_eq!((status, again["id"].clone()), (200, first["id"].clone()));
    let (_, mine) = get(&server, &a.full, "/api/v1/indicators");
    assert_eq!(find(&mine, "evil.example").unwrap()["count"], 3);
    assert_eq!(find(&mine, "evil.example").unwrap()["uploads"], 1);
    // Other counts are a new upload.
    let more = text.replace("\"count\":3", "\"count\":4").replace(":3}", ":4}");
    let (status, _) = post(&server, &a.upload, &more);
    assert_eq!(status, 201, "{more}");
    let (_, mine) = get(&server, &a.full, "/api/v1/indicators");
    assert_eq!(find(&mine, "evil.example").unwrap()["count"], 7);
    assert_eq!(find(&mine, "evil.example").unwrap()["uploads"], 2);
}

#[test]
fn bad_uploads_are_refused_and_nothing_is_stored() {
    let server = start(Limits::default());
    let a = org(&server, "alpha");
    let good = ("callback_host", "evil.example", 3, T1, T2, &[][..]);
    let ok = body("a", "AMBER", &[good]);
    let edit = |f: &dyn Fn(&mut Value)| {
        let mut v: Value = serde_json::from_str(&ok).unwrap();
        f(&mut v);
        v.to_string()
    };
    let cases: Vec<(String, &str)> = vec![
        ("{not json".into(), "not an indicator upload"),
        (edit(&|v| v["format"] = json!("quell-indicators/9")), "format"),
        (edit(&|v| v["tlp"] = json!("PURPLE")), "not an indicator upload"),
        (edit(&|v| v["indicators"][0]["kind"] = json!("mutex")), "not an indicator upload"),
        (edit(&|v| v["indicators"][0]["count"] = json!(0)), "count"),
        (edit(&|v| v["indicators"][0]["first_seen"] = json!("2022-01-01T00:00:00Z")), "after"),
        (edit(&|v| v["indicators"][0]["last_seen"] = json!("yesterday")), "RFC 3339"),
        (edit(&|v| v["indicators"][0]["value"] = json!("a\nb")), "control"),
        (edit(&|v| v["indicators"][0]["value"] = json!("")), "value"),
        (edit(&|v| v["indicators"][0]["days"] = json!({ "2021-12-10": 1 })), "add up"),
        (edit(&|v| v["indicators"][0]["days"] = json!({ "2021-13-10": 3 })), "YYYY-MM-DD"),
        (edit(&|v| v["host"] = json!("")), "host"),
        (edit(&|v| v["indicators"][0]["first_seen"] = json!("1970-01-01T00:00:00Z")), "before 2000"),
        (edit(&|v| v["indicators"][0]["last_seen"] = json!("2999-01-01T00:00:00Z")), "future"),
        (edit(&|v| v["generated_at"] = json!("2999-01-01T00:00:00Z")), "future"),
        (edit(&|v| v["indicators"][0]["days"] = json!({ "2021-11-01": 3 })), "outside"),
        (
            edit(&|v| {
                let first = v["indicators"][0].clone();
                v["indicators"].as_array_mut().unwrap().push(first);
            }),
            "twice",
        ),
        (edit(&|v| v["indicators"][0]["value"] = json!("x".repeat(5000))), "value"),
    ];
    for (text, expected) in &cases {
        let (status, answer) = post(&server, &a.upload, text);
        assert_eq!(status, 400, "{text}: {answer}");
        assert_eq!(answer["error"], "invalid");
        assert!(answer["message"].as_str().unwrap().contains(expected), "{expected}: {answer}");
    }
    let (status, _) =
        send(&server, "POST", &a.upload, "/api/v1/indicators", b"\x1f\x8bnot gzip", &[("Content-Encoding", "gzip")]);
    assert_eq!(status, 400);
    let (status, _) =
        send(&server, "POST", &a.upload, "/api/v1/indicators", ok.as_bytes(), &[("Content-Encoding", "br")]);
    assert_eq!(status, 400);
    assert_eq!(post(&server, "qt_wrong", &ok).0, 401);
    // Nothing of any of them was stored.
    let (_, mine) = get(&server, &a.full, "/api/v1/indicators");
    assert!(mine.as_array().unwrap().is_empty(), "{mine}");
    let location = server.location.clone();
    let counts = quell_server::block_on(async move {
        let db = open(location).await;
        let mut counts = Vec::new();
        for table in ["indicator_uploads", "indicator_sightings", "indicator_values", "indicator_days"] {
            let row: (i64,) =
                sqlx::query_as(&format!("SELECT COUNT(*) FROM {table}")).fetch_one(&db.pool).await.unwrap();
            counts.push(row.0);
        }
        counts
    })
    .unwrap();
    assert_eq!(counts, [0, 0, 0, 0]);
    // And the good one is.
    assert_eq!(post(&server, &a.upload, &ok).0, 201);

    // Size limits: the body as sent, and inflated (a gzip bomb).
    let small = start(Limits { max_report_bytes: 4096, max_report_inflated_bytes: 8192, ..Limits::default() });
    let s = org(&small, "small");
    let many: Vec<Ind> = vec![("callback_host", "evil.example", 1, T1, T1, &[][..]); 1];
    let big = body(&"h".repeat(200), "AMBER", &many).replace("evil.example", &"e".repeat(4000));
    assert_eq!(post(&small, &s.upload, &big).0, 413);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(&vec![b' '; 1 << 20]).unwrap();
    let bomb = gz.finish().unwrap();
    assert!(bomb.len() < 4096);
    let (status, answer) =
        send(&small, "POST", &s.upload, "/api/v1/indicators", &bomb, &[("Content-Encoding", "gzip")]);
    assert_eq!(status, 413, "{answer}");
    assert!(get(&small, &s.full, "/api/v1/indicators").1.as_array().unwrap().is_empty());
}

// ---- the page ----

fn page(server: &Server, cookie: &str, path: &str) -> (u16, String) {
    let page = fetch(server, "GET", path, cookie, None);
    (page.status, page.body)
}

#[test]
fn the_page_shows_own_sightings_and_the_pool_escaped() {
    let server = start(Limits::default());
    let o: Vec<Org> = ["alpha", "bravo", "charlie", "delta"].iter().map(|n| org(&server, n)).collect();
    coordinator(&server);
    let shared = ("callback_host", "<b>shared</b>.example", 2, T1, T2, &["lower"][..]);
    let mine = ("source_address", "203.0.113.250", 1, T1, T1, &[][..]);
    post(&server, &o[0].upload, &body("a", "AMBER", &[shared, mine]));
    post(&server, &o[1].upload, &body("b", "AMBER", &[shared]));
    post(&server, &o[2].upload, &body("c", "AMBER", &[shared]));

    assert_eq!(page(&server, "", "/indicators").0, 303, "a session is needed");
    let alpha = session(&server, &o[0].admin_email);
    let (status, text) = page(&server, &alpha, "/indicators");
    assert_eq!(status, 200);
    assert!(text.contains("&lt;b&gt;shared&lt;/b&gt;.example") && !text.contains("<b>shared"), "escaped");
    assert!(text.contains("203.0.113.250"), "own sighting");
    assert!(text.contains("<svg") && text.contains("class=\"own\"") && text.contains("class=\"pool\""), "chart");
    let (_, filtered) = page(&server, &alpha, "/indicators?kind=source_address");
    assert!(filtered.contains("203.0.113.250") && !filtered.contains("shared&lt;"));
    assert_eq!(page(&server, &alpha, "/indicators?kind=nope").0, 400);

    let delta = session(&server, &o[3].admin_email);
    let (_, text) = page(&server, &delta, "/indicators");
    assert!(text.contains("&lt;b&gt;shared&lt;/b&gt;.example"), "pooled for delta");
    assert!(!text.contains("203.0.113.250") && !text.contains("alpha"), "nothing of alpha's own");

    let cert = session(&server, "cert@ncsc.example");
    let (status, text) = page(&server, &cert, "/indicators");
    assert_eq!(status, 200);
    assert!(text.contains("&lt;b&gt;shared&lt;/b&gt;.example") && text.contains("Shared by"));
    assert!(!text.contains("203.0.113.250") && !text.contains("alpha"));
}

// ---- the official tools ----

/// The Python with the checker's packages: `$QUELL_PYTHON`; `None` (skip) only when it is unset
/// and `QUELL_REQUIRE_PY` is not `1` (`scripts/test` sets both).
fn python() -> Option<std::path::PathBuf> {
    match std::env::var_os("QUELL_PYTHON").filter(|p| !p.is_empty()) {
        Some(p) => Some(p.into()),
        None if std::env::var("QUELL_REQUIRE_PY").as_deref() == Ok("1") => {
            panic!("QUELL_REQUIRE_PY=1 but QUELL_PYTHON is not set")
        }
        None => None,
    }
}

#[test]
fn stix_validates_against_the_stix_2_1_schema_and_misp_loads_in_pymisp() {
    let Some(python) = python() else {
        eprintln!(
            "\n!!! SKIPPED: STIX 2.1 validator and pymisp checks of the indicator exports.\n\
             !!! Run scripts/test (it installs them into target/report-venv), or set QUELL_PYTHON.\n"
        );
        return;
    };
    let server = start(Limits::default());
    let o: Vec<Org> = ["alpha", "bravo", "charlie", "delta"].iter().map(|n| org(&server, n)).collect();
    // Every kind and shape of value: domain, IPv4, IPv6, host:port, [v6]:port, a URL with a quote
    // and a backslash, a known scanner.
    let all: Vec<Ind> = vec![
        ("callback_host", "evil.example", 3, T1, T2, &["lower", "encoding:url"][..]),
        ("callback_host", "198.51.100.7", 2, T1, T3, &[][..]),
        ("callback_host", "2001:db8::7", 1, T2, T2, &[][..]),
        ("callback_host", "x1.c6x.interact.sh", 9, T1, T3, &[][..]),
        ("payload_url", "ldap://198.51.100.7:1389/Basic/Command/Base64/d2dldA==", 2, T1, T2, &["upper"][..]),
        ("payload_url", "rmi://evil.example/o'k\\x", 1, T2, T2, &[][..]),
        ("command_host", "192.0.2.5:4444", 1, T1, T1, &["base64"][..]),
        ("command_host", "[2001:db8::9]:8080", 1, T1, T1, &[][..]),
        ("command_host", "dl.evil.example:80", 1, T1, T1, &[][..]),
        ("command_host", "dl.evil.example", 1, T1, T1, &[][..]),
        ("source_address", "203.0.113.9", 4, T1, T3, &[][..]),
        ("source_address", "2001:db8::1", 1, T3, T3, &[][..]),
    ];
    let tlps = ["CLEAR", "GREEN", "GREEN", "AMBER"];
    for (org, tlp) in o.iter().zip(tlps) {
        assert_eq!(post(&server, &org.upload, &body(&format!("{}-web", org.name), tlp, &all)).0, 201);
    }
    // Alpha's own sightings under every marking.
    for (i, tlp) in ["AMBER+STRICT", "RED"].iter().enumerate() {
        let one = [("callback_host", ["strict.example", "red.example"][i], 1, T1, T1, &[][..])];
        assert_eq!(post(&server, &o[0].upload, &body("alpha-2", tlp, &one)).0, 201);
    }
    let dir = tempfile::tempdir().unwrap();
    let exports = [
        ("pool", "/api/v1/indicators/feed?format={}"),
        ("pool-green", "/api/v1/indicators/feed?format={}&max_tlp=green"),
        ("own", "/api/v1/indicators/feed?format={}&scope=own"),
        ("empty", "/api/v1/indicators/feed?format={}&q=nothing-matches"),
    ];
    for (name, path) in exports {
        for (format, ext) in [("stix", "stix.json"), ("misp", "misp.json")] {
            let (status, _, text) = raw(&server, &o[0].full, &path.replace("{}", format));
            assert_eq!(status, 200);
            std::fs::write(dir.path().join(format!("{name}.{ext}")), text).unwrap();
        }
    }
    let own: Value = serde_json::from_str(&std::fs::read_to_string(dir.path().join("own.stix.json")).unwrap()).unwrap();
    let markings = own["objects"].as_array().unwrap().iter().filter(|o| o["type"] == "marking-definition").count();
    assert_eq!(markings, 3, "AMBER (the pooled uploads' own), AMBER+STRICT and RED");
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/check-indicators.py");
    let output = std::process::Command::new(&python).arg(&script).arg(dir.path()).output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    eprintln!("{stdout}{}", String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "check-indicators.py failed:\n{stdout}");
    assert_eq!(stdout.matches(": STIX 2.1 bundle").count(), 4);
    assert_eq!(stdout.matches(": MISP event").count(), 4);
    assert!(stdout.contains("pool.stix.json: STIX 2.1 bundle, 12 indicators"), "{stdout}");
    assert!(stdout.contains("pool-green.misp.json: MISP event, 12 attributes"), "{stdout}");
    assert!(stdout.contains("own.misp.json: MISP event, 14 attributes"), "{stdout}");
}

/// Spring4Shell's dropped files (`dropped_file`) pool like every kind and export as a STIX
/// `file:name` pattern and a MISP `filename` attribute, both accepted by the official checkers.
#[test]
fn dropped_files_export_as_stix_file_names_and_misp_filenames() {
    let Some(python) = python() else {
        eprintln!("\n!!! SKIPPED: the STIX/MISP checks of dropped files (run scripts/test, or set QUELL_PYTHON).\n");
        return;
    };
    let server = start(Limits::default());
    let o: Vec<Org> = ["alpha", "bravo", "charlie"].iter().map(|n| org(&server, n)).collect();
    let one: [Ind; 2] = [
        ("dropped_file", "webapps/ROOT/tomcatwar.jsp", 2, T1, T2, &[][..]),
        ("source_address", "203.0.113.3", 2, T1, T2, &[][..]),
    ];
    for org in &o {
        assert_eq!(post(&server, &org.upload, &body(&format!("{}-web", org.name), "GREEN", &one)).0, 201);
    }
    let dir = tempfile::tempdir().unwrap();
    for (format, ext) in [("stix", "stix.json"), ("misp", "misp.json")] {
        let (status, _, text) = raw(&server, &o[0].full, &format!("/api/v1/indicators/feed?format={format}"));
        assert_eq!(status, 200);
        std::fs::write(dir.path().join(format!("pool.{ext}")), &text).unwrap();
        let wanted = if format == "stix" { "[file:name = 'tomcatwar.jsp']" } else { "\"type\": \"filename\"" };
        assert!(text.contains(wanted) || text.contains(&wanted.replace(": ", ":")), "{format}: {text}");
    }
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/check-indicators.py");
    let output = std::process::Command::new(&python).arg(&script).arg(dir.path()).output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "check-indicators.py failed:\n{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("pool.stix.json: STIX 2.1 bundle, 2 indicators"), "{stdout}");
    assert!(stdout.contains("pool.misp.json: MISP event, 2 attributes"), "{stdout}");
}

/// Measures the pool on many sightings (docs/performance.md):
/// `cargo test -p quell-server --release --test indicators -- --ignored --nocapture pool_timing`;
/// `QUELL_BENCH_SIGHTINGS` sets the number (default 100,000: 50 organisations × 2,000 indicators
/// drawn from 20,000 values, so that most values are seen by several organisations).
#[test]
#[ignore = "a measurement, not a test: run explicitly"]
fn pool_timing() {
    use std::time::Instant;
    let total: usize = std::env::var("QUELL_BENCH_SIGHTINGS").ok().and_then(|v| v.parse().ok()).unwrap_or(100_000);
    let orgs = 50;
    let per_org = total / orgs;
    let values = 20_000;
    let server = start(Limits::default());
    let techniques = ["lower", "upper", "encoding:url", "nested", "base64"];
    let mut upload = std::time::Duration::ZERO;
    let mut tokens = Vec::new();
    for n in 0..orgs {
        let o = org(&server, &format!("org{n}"));
        let list: Vec<Value> = (0..per_org)
            .map(|i| {
                // A deterministic spread: org n sees values n*397+i*7 mod `values`.
                let v = (n * 397 + i * 7) % values;
                let kind = ["callback_host", "payload_url", "command_host", "source_address"][v % 4];
                let value = match kind {
                    "payload_url" => format!("ldap://h{v}.evil.example:1389/a"),
                    "source_address" => format!("198.{}.{}.{}", v / 65536 % 256, v / 256 % 256, v % 256),
                    _ => format!("h{v}.evil.example"),
                };
                let day = 10 + (v % 20);
                json!({
                    "kind": kind, "value": value, "count": 2,
                    "first_seen": format!("2021-12-{day:02}T08:00:00Z"), "last_seen": format!("2021-12-{day:02}T09:00:00Z"),
                    "time_source": "log", "techniques": [techniques[v % 5]], "days": { format!("2021-12-{day:02}"): 2 },
                })
            })
            .collect();
        let tlps = ["CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED"];
        let body = json!({
            "format": "quell-indicators/1", "host": format!("web-{n}"), "tool_version": "bench",
            "tlp": tlps[n % 5],
            "generated_at": generated_at(), "indicators": list,
        });
        let text = body.to_string();
        if n == 0 {
            let started = Instant::now();
            quell_server::indicators::parse_upload(text.as_bytes()).unwrap();
            eprintln!("parse of {per_org} indicators: {:.2?}", started.elapsed());
        }
        let started = Instant::now();
        let (status, answer) = post(&server, &o.upload, &text);
        upload += started.elapsed();
        assert_eq!(status, 201, "{answer}");
        tokens.push(o.full);
    }
    let time = |path: &str| {
        let started = Instant::now();
        let (status, _, text) = raw(&server, &tokens[0], path);
        assert_eq!(status, 200, "{text}");
        let rows = match serde_json::from_str::<Value>(&text) {
            Ok(Value::Array(list)) => list.len(),
            Ok(bundle) => bundle["objects"].as_array().map_or(0, Vec::len),
            Err(_) => 0,
        };
        (started.elapsed(), rows)
    };
    // Warm the cache once, then measure.
    time("/api/v1/indicators/pool");
    let backend = if std::env::var("QUELL_TEST_POSTGRES").is_ok_and(|v| !v.is_empty()) { "postgres" } else { "sqlite" };
    eprintln!(
        "{backend}: {} sightings from {orgs} organisations uploaded in {:.2?} ({:.0} sightings/s)",
        per_org * orgs,
        upload,
        (per_org * orgs) as f64 / upload.as_secs_f64()
    );
    for path in [
        "/api/v1/indicators/pool",
        "/api/v1/indicators/pool?technique=lower",
        "/api/v1/indicators/pool?q=h1234",
        "/api/v1/indicators/days",
        "/api/v1/indicators",
        "/api/v1/indicators/feed?format=stix&limit=1000",
    ] {
        let (took, rows) = time(path);
        eprintln!("{backend}: GET {path}: {took:.2?} ({rows} rows)");
    }
}

/// The vulnerabilities an upload names per indicator are stored and come back in the own list,
/// the pool and every export (CSV column, STIX external references and names, MISP comments);
/// an indicator of older uploads without them stays Log4Shell; a bad id is refused.
#[test]
fn vulnerabilities_of_indicators_are_stored_and_exported() {
    let server = start(Limits::default());
    let o: Vec<Org> = ["alpha", "bravo", "charlie"].iter().map(|n| org(&server, n)).collect();
    let upload = |org: &Org, vulns: Value| {
        let mut b: Value = serde_json::from_str(&body(
            &format!("{}-web", org.name),
            "GREEN",
            &[
                ("callback_host", "text4shell.example", 2, T1, T2, &[][..]),
                ("callback_host", "old-style.example", 1, T1, T2, &[][..]),
            ],
        ))
        .unwrap();
        b["indicators"][0]["vulnerabilities"] = vulns;
        post(&server, &org.upload, &b.to_string())
    };
    for org in &o {
        let (status, stored) = upload(org, json!(["CVE-2022-42889", "CVE-2021-44228"]));
        assert_eq!(status, 201, "{stored}");
    }
    let (_, own) = get(&server, &o[0].full, "/api/v1/indicators");
    let text4shell = find(&own, "text4shell.example").unwrap();
    assert_eq!(text4shell["vulnerabilities"], json!(["CVE-2021-44228", "CVE-2022-42889"]), "{own}");
    assert_eq!(find(&own, "old-style.example").unwrap()["vulnerabilities"], json!([]));
    let (_, pool) = get(&server, &o[0].full, "/api/v1/indicators/pool");
    assert_eq!(
        find(&pool, "text4shell.example").unwrap()["vulnerabilities"],
        json!(["CVE-2021-44228", "CVE-2022-42889"])
    );

    let (_, _, csv) = raw(&server, &o[0].full, "/api/v1/indicators/feed?format=csv");
    assert!(csv.lines().next().unwrap().ends_with(",vulnerabilities"), "{csv}");
    assert!(
        csv.lines().any(|l| l.contains("text4shell.example") && l.ends_with("CVE-2021-44228;CVE-2022-42889")),
        "{csv}"
    );
    assert!(csv.lines().any(|l| l.contains("old-style.example") && l.ends_with("CVE-2021-44228")), "{csv}");
    let (_, _, stix) = raw(&server, &o[0].full, "/api/v1/indicators/feed?format=stix");
    let bundle: Value = serde_json::from_str(&stix).unwrap();
    let indicator = bundle["objects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["pattern"].as_str().is_some_and(|p| p.contains("text4shell.example")))
        .unwrap();
    let refs: Vec<&str> = indicator["external_references"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["external_id"].as_str().unwrap())
        .collect();
    assert_eq!(refs, ["CVE-2021-44228", "CVE-2022-42889"]);
    assert!(indicator["name"].as_str().unwrap().starts_with("Log4Shell and Text4Shell callback host"), "{indicator}");
    let (_, _, misp) = raw(&server, &o[0].full, "/api/v1/indicators/feed?format=misp");
    assert!(misp.contains("Text4Shell (CVE-2022-42889)"), "{misp}");

    let (status, refused) = upload(&o[0], json!(["log4shell"]));
    assert_eq!(status, 400, "{refused}");
    assert!(refused["message"].as_str().unwrap().contains("not a CVE id"), "{refused}");
}
