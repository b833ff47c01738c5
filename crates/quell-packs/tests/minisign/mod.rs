//! The real `minisign` for the signed-pack tests, shared by `quell-packs/tests/signed.rs` and
//! `quell/tests/packs_remote.rs` (which includes this file by path): key pairs and signatures
//! made by the tool operators use, never by quell's own code.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// Whether the tests can run; panics when they must (`QUELL_REQUIRE_MINISIGN=1`, as
/// `scripts/test` sets it) and cannot.
pub fn minisign_available() -> bool {
    let found = Command::new("minisign").arg("-v").output().is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var_os("QUELL_REQUIRE_MINISIGN").is_none_or(|v| v != "1"),
            "QUELL_REQUIRE_MINISIGN=1 but `minisign` is not installed (apt-get install minisign)"
        );
        eprintln!("skipped: `minisign` is not installed (apt-get install minisign; scripts/test does)");
    }
    found
}

/// A key pair made by `minisign -G` (no password): (public key file, secret key file).
pub fn key_pair(dir: &Path, name: &str) -> (PathBuf, PathBuf) {
    let (public, secret) = (dir.join(format!("{name}.pub")), dir.join(format!("{name}.key")));
    let out = Command::new("minisign").args(["-G", "-W", "-p"]).arg(&public).arg("-s").arg(&secret).output().unwrap();
    assert!(out.status.success(), "minisign -G: {}", String::from_utf8_lossy(&out.stderr));
    (public, secret)
}

/// `minisign -S` of `text` with `comment` as the trusted comment; the signature's text.
pub fn sign(dir: &Path, secret: &Path, text: &str, comment: &str) -> String {
    let file = dir.join("pack.toml");
    std::fs::write(&file, text).unwrap();
    let sig = dir.join("pack.toml.minisig");
    let out = Command::new("minisign")
        .args(["-S", "-s"])
        .arg(secret)
        .arg("-m")
        .arg(&file)
        .arg("-x")
        .arg(&sig)
        .args(["-t", comment])
        .output()
        .unwrap();
    assert!(out.status.success(), "minisign -S: {}", String::from_utf8_lossy(&out.stderr));
    std::fs::read_to_string(sig).unwrap()
}
