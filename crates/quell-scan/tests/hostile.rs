//! Hostile archives end in a reported error or a bounded result: never a hang, a panic or an OOM.

mod common;

use std::io::Write;
use std::time::{Duration, Instant};

use common::*;
use proptest::prelude::*;
use quell_scan::{Limits, scan_bytes};

fn scan_mem(name: &str, bytes: &[u8], limits: &Limits) -> (Vec<String>, quell_model::ScanSummary) {
    let sink = Collect::default();
    let summary = scan_bytes(name, bytes, limits, &sink);
    let errors = sink
        .0
        .into_inner()
        .expect("lock")
        .into_iter()
        .filter_map(|r| match r {
            quell_model::ScanRecord::Error(e) => Some(e.message),
            _ => None,
        })
        .collect();
    (errors, summary)
}

fn raw_deflate(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(data).expect("deflate");
    encoder.finish().expect("deflate")
}

/// An overlapping-entry bomb in the style of Fifield's zbsm: one local header and deflated kernel,
/// referenced by `copies` central directory entries named like nested jars.
fn overlapping_bomb(kernel: &[u8], copies: u16) -> Vec<u8> {
    let compressed = raw_deflate(kernel);
    let crc = {
        let mut hasher = flate2::Crc::new();
        hasher.update(kernel);
        hasher.sum()
    };
    let name = b"k.jar";
    let mut out = Vec::new();
    let local = |out: &mut Vec<u8>| {
        out.extend_from_slice(b"PK\x03\x04");
        out.extend_from_slice(&20u16.to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out.extend_from_slice(&8u16.to_le_bytes());
        out.extend_from_slice(&[0, 0, 0x21, 0]);
        out.extend_from_slice(&crc.to_le_bytes());
        out.extend_from_slice(&(compressed.len() as u32).to_le_bytes());
        out.extend_from_slice(&(kernel.len() as u32).to_le_bytes());
        out.extend_from_slice(&(name.len() as u16).to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out.extend_from_slice(name);
    };
    local(&mut out);
    out.extend_from_slice(&compressed);
    let cd_start = out.len() as u32;
    for i in 0..copies {
        let entry_name = format!("bomb{i}.jar");
        out.extend_from_slice(b"PK\x01\x02");
        out.extend_from_slice(&20u16.to_le_bytes());
        out.extend_from_slice(&20u16.to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out.extend_from_slice(&8u16.to_le_bytes());
        out.extend_from_slice(&[0, 0, 0x21, 0]);
        out.extend_from_slice(&crc.to_le_bytes());
        out.extend_from_slice(&(compressed.len() as u32).to_le_bytes());
        out.extend_from_slice(&(kernel.len() as u32).to_le_bytes());
        out.extend_from_slice(&(entry_name.len() as u16).to_le_bytes());
        out.extend_from_slice(&[0; 8]);
        out.extend_from_slice(&[0; 4]);
        out.extend_from_slice(&0u32.to_le_bytes());
        out.extend_from_slice(entry_name.as_bytes());
    }
    let cd_len = out.len() as u32 - cd_start;
    out.extend_from_slice(b"PK\x05\x06");
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(&copies.to_le_bytes());
    out.extend_from_slice(&copies.to_le_bytes());
    out.extend_from_slice(&cd_len.to_le_bytes());
    out.extend_from_slice(&cd_start.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out
}

#[test]
fn overlapping_entry_bomb_is_refused_from_the_central_directory() {
    let mut kernel = b"PK\x03\x04".to_vec();
    kernel.resize(8 * 1024 * 1024, 0);
    let bomb = overlapping_bomb(&kernel, 2000);
    let started = Instant::now();
    let (errors, _) = scan_mem("overlap.zip", &bomb, &Limits::default());
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(errors.iter().any(|e| e.contains("overlapping-entry zip bomb")), "{errors:?}");
}

#[test]
fn an_entry_inflating_past_the_budget_is_stopped() {
    // One nested "jar" that inflates to 64 MiB: a zip signature, then zeros.
    let mut big = b"PK\x03\x04".to_vec();
    big.resize(64 * 1024 * 1024, 0);
    let outer = zip_of(vec![entry("lib/huge.jar", big)]);
    assert!(outer.len() < 1024 * 1024, "the fixture itself is small");
    let limits =
        Limits { max_inflated_bytes: 16 * 1024 * 1024, in_memory_archive_bytes: 4 * 1024 * 1024, ..Limits::default() };
    let (errors, _) = scan_mem("outer.zip", &outer, &limits);
    assert!(errors.iter().any(|e| e.contains("--max-inflated-bytes")), "{errors:?}");
    // Within the budget, the large nested archive is spilled to disk and reported as corrupt.
    let limits = Limits { in_memory_archive_bytes: 4 * 1024 * 1024, ..Limits::default() };
    let (errors, _) = scan_mem("outer.zip", &outer, &limits);
    assert!(errors.iter().any(|e| e.contains("corrupt zip archive")), "{errors:?}");
}

#[test]
fn large_nested_archives_spill_and_still_classify() {
    let inner = zip_of(vec![
        stored("filler.bin", (0..40 * 1024 * 1024u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8).collect()),
        stored("lib/log4j-core-2.14.1.jar", core_jar("2.14.1")),
    ]);
    let outer = zip_of(vec![stored("app.war", inner)]);
    let limits =
        Limits { in_memory_archive_bytes: 1024 * 1024, max_memory_bytes: 2 * 1024 * 1024, ..Limits::default() };
    let sink = Collect::default();
    let summary = scan_bytes("app.ear", &outer, &limits, &sink);
    assert_eq!(summary.findings, 1);
    assert_eq!(summary.errors, 0);
}

#[test]
fn absurd_entry_counts_are_refused_before_parsing() {
    let many = zip_of((0..300).map(|i| entry(&format!("f{i}.txt"), vec![b'x'])).collect());
    let limits = Limits { max_entries: 100, ..Limits::default() };
    let (errors, _) = scan_mem("many.zip", &many, &limits);
    assert!(errors.iter().any(|e| e.contains("300 entries") && e.contains("--max-entries")), "{errors:?}");
}

#[test]
fn self_nesting_ends_at_the_depth_limit() {
    // The shape of a zip quine: the same archive inside itself, over and over.
    let mut archive = zip_of(vec![entry("r/r.txt", b"r".to_vec())]);
    for _ in 0..60 {
        archive = zip_of(vec![stored("r.zip", archive)]);
    }
    let (errors, summary) = scan_mem("r.zip", &archive, &Limits::default());
    assert!(errors.iter().any(|e| e.contains("--max-depth")), "{errors:?}");
    assert_eq!(summary.archives as usize, quell_scan::limits::DEFAULT_MAX_DEPTH + 1);
}

#[test]
fn time_limit_per_file_is_enforced() {
    let war = zip_of(vec![stored("a.jar", core_jar("2.14.1")), stored("b.jar", core_jar("2.14.1"))]);
    let limits = Limits { max_time_per_file: Duration::ZERO, ..Limits::default() };
    let (errors, _) = scan_mem("slow.war", &war, &limits);
    assert!(errors.iter().any(|e| e.contains("--max-time-per-file")), "{errors:?}");
}

#[test]
fn lying_sizes_in_headers_do_not_crash() {
    let mut jar = core_jar("2.14.1");
    // Claim every central-directory entry is 4 GiB uncompressed and 1 byte compressed.
    let mut i = 0;
    while let Some(pos) = jar[i..].windows(4).position(|w| w == b"PK\x01\x02") {
        let at = i + pos;
        if at + 28 <= jar.len() {
            jar[at + 20..at + 24].copy_from_slice(&1u32.to_le_bytes());
            jar[at + 24..at + 28].copy_from_slice(&u32::MAX.to_le_bytes());
        }
        i = at + 4;
    }
    let (_errors, summary) = scan_mem("liar.jar", &jar, &Limits::default());
    assert_eq!(summary.files, 1);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, .. ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..4096), name in "[a-z]{1,8}(\\.(jar|zip|tgz|gz|war))?") {
        let (_errors, summary) = scan_mem(&name, &bytes, &Limits::default());
        prop_assert_eq!(summary.files, 1);
    }

    #[test]
    fn mutated_jars_never_panic(flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..64), cut in any::<prop::sample::Index>()) {
        static JAR: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
        let original = JAR.get_or_init(|| zip_of(vec![
            stored("WEB-INF/lib/log4j-core-2.14.1.jar", core_jar("2.14.1")),
            entry("x.tgz", tgz_of(&[("a.jar", &zip_of(vec![entry("org/apache/log4j/Category.class", vec![0xca,0xfe,0xba,0xbe])]))])),
        ]));
        let mut bytes = original.clone();
        for (index, value) in flips {
            let at = index.index(bytes.len());
            bytes[at] = value;
        }
        let keep = cut.index(bytes.len() + 1).max(bytes.len() / 2);
        bytes.truncate(keep);
        let (_errors, summary) = scan_mem("mutant.war", &bytes, &Limits::default());
        prop_assert_eq!(summary.files, 1);
    }
}

#[test]
fn random_bytes_after_a_gzip_magic_are_data_not_a_corrupt_gzip() {
    // `1f 8b` followed by bytes that are no gzip member header: one file in 65,536 of random data
    // starts like that. It is an unknown file, not an error.
    let mut data = vec![0x1f, 0x8b, 0x41, 0xff];
    data.extend((0..4096u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8));
    let (_dir, outcome) = common::scan_bytes("blob.bin", &data);
    assert!(outcome.errors.is_empty(), "{:?}", outcome.errors);
    assert_eq!(outcome.summary.archives, 0);
    // A real gzip member whose deflate stream is broken is still reported.
    let mut broken = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3];
    broken.extend_from_slice(&[0xff; 64]);
    let (_dir, outcome) = common::scan_bytes("broken.gz", &broken);
    assert_eq!(outcome.errors.len(), 1, "{:?}", outcome.errors);
}
