//! The walking policy: symlinks, loops, and what is read of archives that hold nothing of interest.

mod common;

use common::*;
use quell_scan::ScanOptions;

fn follow() -> ScanOptions {
    let mut options = ScanOptions::default();
    options.walk.follow_symlinks = true;
    options
}

#[test]
fn symlinks_are_not_followed_by_default() {
    let root = tempfile::tempdir().expect("tempdir");
    let elsewhere = tempfile::tempdir().expect("tempdir");
    std::fs::write(elsewhere.path().join("log4j-core-2.14.1.jar"), core_jar("2.14.1")).expect("write");
    std::os::unix::fs::symlink(elsewhere.path(), root.path().join("linked-dir")).expect("symlink");
    std::os::unix::fs::symlink(elsewhere.path().join("log4j-core-2.14.1.jar"), root.path().join("linked.jar"))
        .expect("symlink");

    let outcome = scan_one(root.path());
    assert!(outcome.findings.is_empty(), "{:#?}", outcome.findings);
    assert_eq!(outcome.summary.files, 0);
    assert!(outcome.errors.is_empty(), "{:?}", outcome.errors);

    let followed = scan_paths(&[root.path().to_path_buf()], &follow());
    // Two links lead to the same file: it is scanned once.
    assert_eq!(followed.findings.len(), 1, "{:#?}", followed.findings);
    assert_eq!(followed.summary.files, 1);
}

#[test]
fn follow_symlinks_reports_loops_and_finishes() {
    let root = tempfile::tempdir().expect("tempdir");
    let app = root.path().join("app");
    std::fs::create_dir(&app).expect("mkdir");
    std::fs::write(app.join("log4j-core-2.16.0.jar"), core_jar("2.16.0")).expect("write");
    std::os::unix::fs::symlink(root.path(), app.join("back-to-root")).expect("symlink");

    let outcome = scan_paths(&[root.path().to_path_buf()], &follow());
    assert_eq!(outcome.findings.len(), 1, "{:#?}", outcome.findings);
    assert!(
        outcome.errors.iter().any(|(path, message)| path.iter().any(|p| p.ends_with("back-to-root"))
            && message.to_lowercase().contains("loop")),
        "the loop is reported: {:?}",
        outcome.errors
    );
}

#[test]
fn unrelated_entries_are_never_inflated() {
    // 64 MiB of compressible data in an entry that cannot matter, beside a real log4j-core copy,
    // and a deflated nested jar that must be inflated to be opened.
    let filler: Vec<u8> = (0..64u32 * 1024 * 1024).map(|i| (i % 251) as u8).collect();
    let inner = core_jar("2.14.1");
    let inner_len = inner.len() as u64;
    let app = zip_of(vec![
        entry("assets/huge-video.bin", filler.clone()),
        entry("com/example/Big.class", filler),
        entry("lib/log4j-core-2.14.1.jar", inner),
    ]);
    let (_dir, outcome) = scan_bytes("app.jar", &app);
    assert_eq!(only_core(&outcome).version.as_deref(), Some("2.14.1"));
    let inflated = outcome.summary.inflated_bytes;
    assert!(inflated >= inner_len, "the nested jar is inflated to be opened: {inflated} < {inner_len}");
    assert!(inflated < inner_len + 1024 * 1024, "unrelated entries were inflated: {inflated} bytes");
}
