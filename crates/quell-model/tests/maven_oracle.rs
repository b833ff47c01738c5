//! `MavenVersion` orders versions exactly as Maven does: checked against Maven's own
//! `ComparableVersion` (maven-artifact, Debian's `maven` package) running in a JVM, over the
//! versions of the built-in packs and thousands of generated ones (qualifiers, `-beta9`,
//! `.Final`, `-SNAPSHOT`, separators, leading zeros, long numbers, mixed letters and digits).
//!
//! The oracle is required: without `java` or the Maven jar the test fails with what to install
//! (`scripts/test` installs both).

use std::io::Write;
use std::process::{Command, Stdio};

use quell_model::MavenVersion;

const MAVEN_ARTIFACT_JAR: &str = "/usr/share/maven/lib/maven-artifact-3.x.jar";

const ORACLE: &str = r#"
import org.apache.maven.artifact.versioning.ComparableVersion;
import java.io.*;

public class MavenOrder {
    public static void main(String[] args) throws IOException {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, "UTF-8"));
        PrintWriter out = new PrintWriter(new BufferedWriter(new OutputStreamWriter(System.out, "UTF-8")));
        String line;
        while ((line = in.readLine()) != null) {
            int tab = line.indexOf('\t');
            int c = new ComparableVersion(line.substring(0, tab)).compareTo(new ComparableVersion(line.substring(tab + 1)));
            out.println(Integer.signum(c));
        }
        out.flush();
    }
}
"#;

/// A deterministic generator (xorshift), so a failure reproduces.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }
}

fn generated(count: usize) -> Vec<String> {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let numbers = ["0", "1", "2", "3", "9", "10", "17", "00", "01", "2147483648", "99999999999999999999"];
    let qualifiers = [
        "alpha",
        "a",
        "beta",
        "b",
        "milestone",
        "m",
        "rc",
        "cr",
        "RC",
        "snapshot",
        "SNAPSHOT",
        "ga",
        "final",
        "Final",
        "FINAL",
        "release",
        "RELEASE",
        "sp",
        "SP",
        "foo",
        "jre",
        "android",
        "",
    ];
    let separators = [".", "-", ""];
    (0..count)
        .map(|_| {
            let mut v = String::new();
            let parts = 1 + rng.next() % 4;
            for i in 0..parts {
                if i > 0 {
                    v.push_str(rng.pick(&[".", ".", "-"]));
                }
                v.push_str(rng.pick(&numbers));
            }
            if rng.next().is_multiple_of(2) {
                let q = rng.pick(&qualifiers);
                if !q.is_empty() {
                    v.push_str(rng.pick(&separators));
                    v.push_str(q);
                    if rng.next().is_multiple_of(2) {
                        v.push_str(rng.pick(&["", ".", "-"]));
                        v.push_str(rng.pick(&numbers));
                    }
                }
            }
            if rng.next().is_multiple_of(5) {
                v.push_str(rng.pick(&["-SNAPSHOT", ".RELEASE", ".Final", "-1", ".0", "-0"]));
            }
            v
        })
        .collect()
}

#[test]
fn maven_order_matches_maven() {
    assert!(
        std::path::Path::new(MAVEN_ARTIFACT_JAR).is_file(),
        "{MAVEN_ARTIFACT_JAR} is missing: install Debian's `maven` package (scripts/test does)"
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let source = dir.path().join("MavenOrder.java");
    std::fs::write(&source, ORACLE).expect("write oracle");
    let mut versions: Vec<String> = [
        "2.0-beta9",
        "2.0-rc1",
        "2.0",
        "2.0.1",
        "2.1",
        "2.1.0",
        "2.12.2",
        "2.17.1",
        "1.2.17",
        "1.2.18.0",
        "1.2.25",
        "5.3.17",
        "5.3.18",
        "5.3.18.RELEASE",
        "5.2.20.RELEASE",
        "4.3.30.RELEASE",
        "1.10.0",
        "1.9",
        "3.2.2",
        "4.0",
        "4.1",
        "1.0-alpha-1",
        "1.0-SNAPSHOT",
        "1.0.Final",
        "1.0-sp1",
        "1-cr1",
        "1a1",
        "1.0RC1",
        "1.0.0.0.0",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    versions.extend(generated(400));
    // Every pair of the 429 versions: ~92,000 comparisons.
    let mut pairs = Vec::new();
    for a in &versions {
        for b in &versions {
            pairs.push((a.clone(), b.clone()));
        }
    }
    let mut child = Command::new("java")
        .arg("-cp")
        .arg(MAVEN_ARTIFACT_JAR)
        .arg(&source)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("java (JDK 11 or later) on PATH: scripts/test installs default-jdk-headless");
    let mut input = String::new();
    for (a, b) in &pairs {
        input.push_str(&format!("{a}\t{b}\n"));
    }
    let mut stdin = child.stdin.take().expect("stdin");
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()).expect("feed the oracle"));
    let output = child.wait_with_output().expect("oracle output");
    writer.join().expect("writer");
    assert!(output.status.success(), "the JVM oracle failed");
    let answers: Vec<i32> =
        String::from_utf8_lossy(&output.stdout).lines().map(|l| l.trim().parse().expect("a sign")).collect();
    assert_eq!(answers.len(), pairs.len());
    let mut disagreements = Vec::new();
    for ((a, b), maven) in pairs.iter().zip(answers) {
        let ours = MavenVersion::new(a).cmp(&MavenVersion::new(b)) as i32;
        if ours != maven {
            disagreements.push(format!("{a} vs {b}: Maven {maven}, quell {ours}"));
        }
    }
    assert!(
        disagreements.is_empty(),
        "{} of {} comparisons disagree with Maven, e.g.:\n{}",
        disagreements.len(),
        pairs.len(),
        disagreements.iter().take(20).cloned().collect::<Vec<_>>().join("\n")
    );
}
