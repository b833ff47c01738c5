//! Every `pos` and `edge` vector alerts, no `neg` vector alerts, scanner vectors are labelled.

mod common;

use common::vectors;
use quell_hunt::{HuntConfig, Hunter};
use quell_model::hunt::{Attempt, CallbackClass, HuntRecord};

fn attempts(hunter: &Hunter, input: &[u8]) -> Vec<Attempt> {
    common::attempts(hunter, "vectors.jsonl", &[input])
}

#[test]
fn vectors_alert_as_they_should() {
    let hunter = Hunter::new(HuntConfig::new());
    let mut problems = Vec::new();
    for v in vectors() {
        let found = attempts(&hunter, &v.input);
        let names: Vec<String> = found.iter().flat_map(|a| a.jndi.iter().cloned()).collect();
        match v.kind.as_str() {
            "pos" | "edge" => {
                if found.is_empty() {
                    problems.push(format!("{} ({}) did not alert", v.id, v.kind));
                }
                for e in &v.expected_jndi {
                    if !names.contains(e) {
                        problems.push(format!("{}: expected name {e:?} not in {names:?}", v.id));
                    }
                }
            }
            "neg" => {
                if !found.is_empty() {
                    problems.push(format!("{} (neg) alerted: {names:?}", v.id));
                }
            }
            "neg-or-scanner" => {
                if found.iter().any(|a| a.callback_class != CallbackClass::Scanner) {
                    problems.push(format!("{} alerted without the scanner label", v.id));
                }
            }
            other => problems.push(format!("{}: unknown kind {other}", v.id)),
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

fn by_id(id: &str) -> Vec<u8> {
    vectors().into_iter().find(|v| v.id == id).map(|v| v.input).unwrap_or_else(|| panic!("vector {id}"))
}

#[test]
fn access_log_line_reports_every_field() {
    let hunter = Hunter::new(HuntConfig::new());
    let found = attempts(&hunter, &by_id("T19"));
    let fields: Vec<_> = found.iter().map(|a| a.field.clone().unwrap_or_default()).collect();
    assert_eq!(fields, ["uri", "referer", "user_agent"]);
    for a in &found {
        assert_eq!(a.source_ip.as_deref(), Some("45.83.67.63"));
        assert_eq!(a.time.as_deref(), Some("2021-12-13T03:27:46Z"));
        assert_eq!(a.targets[0].port, Some(53));
    }
    assert_eq!(found[0].decode_chain, ["url"]);
}

#[test]
fn rescan_recursion_and_nonfunctional_are_marked() {
    let hunter = Hunter::new(HuntConfig::new());
    let e07 = attempts(&hunter, &by_id("E07"));
    assert!(e07.iter().all(|a| a.rescan_only), "{e07:?}");
    let e09 = attempts(&hunter, &by_id("E09"));
    assert!(e09.iter().all(|a| !a.functional) && e09[0].techniques.iter().any(|t| t == "base64_lookup"));
    let e03 = attempts(&hunter, &by_id("E03"));
    assert!(e03.iter().all(|a| !a.functional));
    // ${${::-${::-$${::-j}}}} (CVE-2021-45105), hex-encoded.
    let dos = common::hex("247b247b3a3a2d247b3a3a2d24247b3a3a2d6a7d7d7d7d");
    let found = attempts(&hunter, &dos);
    assert!(found.len() == 1 && found[0].dos, "{found:?}");
}

#[test]
fn indicators_are_extracted() {
    let hunter = Hunter::new(HuntConfig::new());
    let t21 = attempts(&hunter, &by_id("T21"));
    assert_eq!(t21[0].commands[0].hosts, ["195.54.160.149:5874", "46.101.87.151:443"]);
    let l11 = attempts(&hunter, &by_id("L11"));
    assert_eq!(l11[0].targets[0].host, "127.0.0.1");
    assert_eq!(l11[0].targets[0].alt_host.as_deref(), Some("somesitehackerofhell.com"));
    let l45 = attempts(&hunter, &by_id("L45"));
    assert_eq!(l45[0].exfiltration.len(), 2);
    assert_eq!(l45[0].callback_class, CallbackClass::Oast);
    let e01 = attempts(&hunter, &by_id("E01"));
    assert_eq!(e01[0].tail_host.as_deref(), Some("c6tsifp2pij91e3kaft0cg7h1xayyyyyn.explorelocalpaths.com"));
    let l39 = attempts(&hunter, &by_id("L39"));
    assert_eq!(l39[0].exfiltration, ["${hostName}"]);
}

#[test]
fn traces_of_successful_lookups_are_reported() {
    let hunter = Hunter::new(HuntConfig::new());
    let lines: [&[u8]; 3] = [
        b"2021-12-11 10:00:01 WARN  o.a.l.c.n.JndiManager - Error looking up JNDI resource [ldap://198.51.100.7:1389/a].",
        b"\tat org.apache.logging.log4j.core.net.JndiManager.lookup(JndiManager.java:172)",
        b"2021-12-11 10:00:02 DEBUG c.e.App - value=javax.el.ELProcessor@5c29bfd",
    ];
    for (i, line) in lines.iter().enumerate() {
        let mut records: Vec<HuntRecord> = Vec::new();
        hunter.analyze_line("app.log", i as u64 + 1, 0, line, None, &mut records);
        let traces: Vec<_> = records
            .iter()
            .filter_map(|r| match r {
                HuntRecord::Trace(t) => Some(t),
                _ => None,
            })
            .collect();
        assert_eq!(traces.len(), 1, "line {i}: {records:?}");
        if i == 0 {
            assert_eq!(traces[0].jndi, ["ldap://198.51.100.7:1389/a"]);
        }
    }
    let mut records: Vec<HuntRecord> = Vec::new();
    hunter.analyze_line("app.log", 9, 0, b"jndi.datasource = java:comp/env/jdbc/app", None, &mut records);
    assert!(records.is_empty(), "{records:?}");
}
