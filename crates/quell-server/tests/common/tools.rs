//! The outside programs the server's tests check against: GnuPG (signing keys, encryption,
//! verification) and the BSI CSAF validator (`scripts/check-csaf`, given as `QUELL_CSAF_CHECK`).
//! A program `scripts/test` requires (`QUELL_REQUIRE_GPG=1`, `QUELL_REQUIRE_CSAF=1`) and cannot
//! find fails the test; elsewhere the check is skipped with a line on stderr.

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

/// GnuPG in its own temporary home directory.
pub struct Gpg {
    pub home: tempfile::TempDir,
}

impl Gpg {
    /// A fresh home, or `None` when gpg is missing (a failure under `QUELL_REQUIRE_GPG=1`).
    pub fn new() -> Option<Gpg> {
        if Command::new("gpg").arg("--version").output().is_err() {
            assert_ne!(std::env::var("QUELL_REQUIRE_GPG").as_deref(), Ok("1"), "gpg is required");
            eprintln!("skipped: gpg is missing");
            return None;
        }
        Some(Gpg { home: tempfile::tempdir().unwrap() })
    }

    /// `gpg ARGS` in batch mode with an empty passphrase.
    pub fn run(&self, args: &[&str]) -> std::process::Output {
        Command::new("gpg")
            .env("GNUPGHOME", self.home.path())
            .args(["--batch", "--no-tty", "--pinentry-mode", "loopback", "--passphrase", ""])
            .args(args)
            .output()
            .unwrap()
    }

    /// A new ed25519 signing key: (armored secret key, fingerprint).
    pub fn new_key(&self, uid: &str) -> (String, String) {
        let made = self.run(&["--quick-gen-key", uid, "ed25519", "sign", "never"]);
        assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
        let secret = self.run(&["--armor", "--export-secret-keys", uid]);
        assert!(secret.status.success());
        let listed = self.run(&["--with-colons", "--list-keys", uid]);
        let text = String::from_utf8(listed.stdout).unwrap();
        let fingerprint = text.lines().find(|l| l.starts_with("fpr:")).unwrap().split(':').nth(9).unwrap().to_string();
        (String::from_utf8(secret.stdout).unwrap(), fingerprint)
    }

    /// A key pair for `uid` (`future-default`: ed25519 + a cv25519 encryption subkey, or a
    /// signing-only key with `usage` "sign"); the armored public key.
    pub fn key(&self, uid: &str, usage: &str) -> String {
        let made = self.run(&["--quick-gen-key", uid, "future-default", usage, "never"]);
        assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
        String::from_utf8(self.run(&["--armor", "--export", uid]).stdout).unwrap()
    }

    /// `gpg --import` of an armored key.
    pub fn import(&self, armored: &[u8]) -> std::process::Output {
        let path = self.home.path().join("import.asc");
        std::fs::write(&path, armored).unwrap();
        self.run(&["--import", path.to_str().unwrap()])
    }

    /// `gpg --verify`: the fingerprint of the primary key of a good signature, or gpg's status.
    pub fn verify(&self, data: &[u8], signature: &[u8]) -> Result<String, String> {
        let dir = tempfile::tempdir().unwrap();
        let (d, s) = (dir.path().join("doc.json"), dir.path().join("doc.json.asc"));
        std::fs::write(&d, data).unwrap();
        std::fs::write(&s, signature).unwrap();
        let out = self.run(&["--status-fd", "1", "--verify", s.to_str().unwrap(), d.to_str().unwrap()]);
        let status = String::from_utf8_lossy(&out.stdout).to_string();
        // VALIDSIG <signing key fpr> <date> <time> <expire> <ver> <reserved> <pk algo> <hash> <class> <primary fpr>
        match status.lines().find(|l| l.starts_with("[GNUPG:] VALIDSIG ")) {
            Some(line) if out.status.success() => Ok(line.split(' ').next_back().unwrap_or_default().to_string()),
            _ => Err(format!("{status}{}", String::from_utf8_lossy(&out.stderr))),
        }
    }
}

/// The BSI validator (schema and mandatory tests) over CSAF files, when `QUELL_CSAF_CHECK`
/// names it; a failure when it does not and `QUELL_REQUIRE_CSAF=1`.
pub fn check_csaf_files(files: &[PathBuf]) {
    match std::env::var("QUELL_CSAF_CHECK") {
        Ok(check) if !check.is_empty() => {
            let out = Command::new(&check).args(files).output().expect("run the CSAF checker");
            assert!(
                out.status.success(),
                "CSAF check failed:\n{}\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        _ => assert_ne!(std::env::var("QUELL_REQUIRE_CSAF").as_deref(), Ok("1"), "QUELL_CSAF_CHECK is required"),
    }
}

/// As [`check_csaf_files`], over documents in memory, each written as `NAME` (pretty JSON).
pub fn check_csaf(documents: &[(&str, &Value)]) {
    let dir = tempfile::tempdir().unwrap();
    let files: Vec<PathBuf> = documents
        .iter()
        .map(|(name, document)| {
            let path = dir.path().join(name);
            std::fs::write(&path, serde_json::to_vec_pretty(document).unwrap()).unwrap();
            path
        })
        .collect();
    check_csaf_files(&files);
}
