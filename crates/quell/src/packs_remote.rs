//! `quell scan --rules-from URL --rules-key KEY`: fetching the current detection packs from a
//! `quell serve` (`GET /api/v1/packs`) and verifying every one against the pinned minisign key
//! before the scan (`quell_packs::signed`); and reading a public key given as text or a file
//! (also `quell serve --pack-public-key`).
//!
//! Invariants: all or nothing — when any pack of the bundle is unsigned, tampered, signed by
//! another key or expired, or the bundle cannot be fetched or read, the scan does not run (exit
//! 2) and the error names the pack and the reason. The bundle is read with a timeout
//! ([`FETCH_TIMEOUT`]) and a size cap ([`MAX_BUNDLE_BYTES`]).

use std::path::Path;
use std::time::Duration;

use clap::Args;
use quell_packs::Pack;
use quell_packs::signed::{MAX_PUBLIC_KEY_BYTES, PinnedKey, verify};

/// Time allowed for fetching the bundle of packs, answer included.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(60);
/// Attempts at fetching the bundle (connection errors, 5xx and 429 are retried).
pub const FETCH_ATTEMPTS: u32 = 3;
/// Pause before the first retry; doubled for each further one.
pub const FETCH_RETRY_PAUSE: Duration = Duration::from_millis(500);
/// Largest bundle read (bytes of JSON): sixteen packs of the largest size a pack may have.
pub const MAX_BUNDLE_BYTES: u64 = 16 * quell_packs::format::MAX_PACK_BYTES as u64;
/// Most packs taken from one bundle.
pub const MAX_BUNDLE_PACKS: usize = 256;

/// Flags of `quell scan` for packs handed out by a server.
#[derive(Debug, Clone, Args)]
pub struct RemotePackArgs {
    /// Fetch the current signed detection packs from a quell server before scanning: its base
    /// URL or the full `/api/v1/packs` URL (authenticates with --token / --token-file). Every
    /// pack must be signed with --rules-key and unexpired, or the scan does not run.
    #[arg(long, env = "QUELL_RULES_FROM", value_name = "URL", requires = "rules_key")]
    pub rules_from: Option<String>,

    /// The minisign public key the packs of --rules-from must be signed with: the base64 line
    /// (`RWS...`) or the path of the `.pub` file `minisign -G` wrote. Repeatable: during a key
    /// rotation pin the old and the new key, and a pack signed by either is accepted.
    #[arg(long, env = "QUELL_RULES_KEY", value_name = "KEY|FILE")]
    pub rules_key: Vec<String>,
}

/// A public key from a flag: the path of a `.pub` file when one exists there, else the key text.
pub fn read_key(arg: &str) -> Result<PinnedKey, String> {
    let path = Path::new(arg);
    let (text, shown) = if !arg.starts_with("RW") && path.is_file() {
        let text = crate::config::read_capped(path, MAX_PUBLIC_KEY_BYTES as u64)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        (text, path.display().to_string())
    } else {
        (arg.to_string(), "the key given".to_string())
    };
    PinnedKey::parse(&text).map_err(|e| format!("{shown}: {e}"))
}

impl RemotePackArgs {
    /// The packs of the bundle at `--rules-from`, each verified against `--rules-key` now; no
    /// packs when `--rules-from` is not given. The token authenticates the request.
    pub fn fetch(
        &self,
        token: impl FnOnce() -> Result<String, String>,
        quiet: bool,
    ) -> Result<Vec<(Pack, String)>, String> {
        let Some(url) = &self.rules_from else { return Ok(Vec::new()) };
        if self.rules_key.is_empty() {
            return Err("--rules-from needs --rules-key (the minisign public key the packs are signed with)".into());
        }
        let keys: Vec<PinnedKey> = self
            .rules_key
            .iter()
            .map(|k| read_key(k).map_err(|e| format!("--rules-key {e}")))
            .collect::<Result<_, _>>()?;
        let token = token()?;
        let url = crate::upload::endpoint_for(url, "/api/v1/packs");
        let bundle = get(&url, &token)?;
        let packs = verify_bundle(&url, &bundle, &keys, quell_model::time::now())?;
        if !quiet {
            let names: Vec<&str> = packs.iter().map(|(p, _)| p.name.get_ref().as_str()).collect();
            eprintln!(
                "quell scan: {} signed pack(s) from {url}, key {}: {}",
                packs.len(),
                keys.iter().map(PinnedKey::id).collect::<Vec<_>>().join(", "),
                if names.is_empty() { "none".to_string() } else { names.join(", ") }
            );
        }
        Ok(packs)
    }
}

/// Verifies every pack of a bundle (`{"packs":[{"name","pack","signature",...}]}`); all of them
/// or an error that names each refused pack and why.
pub fn verify_bundle(url: &str, bundle: &str, keys: &[PinnedKey], now: i64) -> Result<Vec<(Pack, String)>, String> {
    let value: serde_json::Value =
        serde_json::from_str(bundle).map_err(|e| format!("{url}: not a bundle of packs: {e}"))?;
    let items = value
        .get("packs")
        .and_then(|p| p.as_array())
        .ok_or_else(|| format!("{url}: not a bundle of packs: no \"packs\" list"))?;
    if items.len() > MAX_BUNDLE_PACKS {
        return Err(format!("{url}: {} packs, more than the {MAX_BUNDLE_PACKS} a bundle may have", items.len()));
    }
    let mut packs = Vec::new();
    let mut problems = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let name = item.get("name").and_then(|n| n.as_str()).map_or_else(|| format!("#{}", i + 1), str::to_string);
        let shown = format!("{url}#{name}");
        let Some(text) = item.get("pack").and_then(|p| p.as_str()) else {
            problems.push(format!("pack {name:?}: no pack text in the bundle"));
            continue;
        };
        let signature = item.get("signature").and_then(|s| s.as_str());
        match verify(keys, &shown, text, signature, now) {
            Ok(verified) => packs.push((verified.pack, shown)),
            Err(e) => problems.push(format!("pack {name:?}: {e}")),
        }
    }
    if problems.is_empty() {
        Ok(packs)
    } else {
        Err(format!("{url}: refused, the scan did not run:\n  {}", problems.join("\n  ")))
    }
}

/// GETs the bundle with a bearer token, retrying connection errors, 5xx and 429.
fn get(url: &str, token: &str) -> Result<String, String> {
    let agent = ureq::Agent::new_with_config(
        ureq::config::Config::builder().http_status_as_error(false).timeout_global(Some(FETCH_TIMEOUT)).build(),
    );
    let mut pause = FETCH_RETRY_PAUSE;
    let mut last_error = String::new();
    for attempt in 1..=FETCH_ATTEMPTS {
        if attempt > 1 {
            std::thread::sleep(pause);
            pause *= 2;
        }
        match agent.get(url).header("Authorization", &format!("Bearer {token}")).call() {
            Ok(mut response) => {
                let status = response.status().as_u16();
                let body = response.body_mut().with_config().limit(MAX_BUNDLE_BYTES).read_to_string();
                match (status, body) {
                    (200, Ok(text)) => return Ok(text),
                    (200, Err(e)) => return Err(format!("{url}: {e} (at most {MAX_BUNDLE_BYTES} bytes are read)")),
                    (429 | 500..=599, text) => {
                        last_error = format!("{url}: HTTP {status}: {}", text.unwrap_or_default().trim())
                    }
                    (_, text) => return Err(format!("{url}: HTTP {status}: {}", text.unwrap_or_default().trim())),
                }
            }
            Err(e) => last_error = format!("{url}: {e}"),
        }
    }
    Err(format!("{last_error} (after {FETCH_ATTEMPTS} attempts)"))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_bundle_that_is_not_one_is_refused() {
        let key = PinnedKey::parse("RWSKTtlpoOwZ21JttFjaj9mvu6cwb5wPVudqtQJ/zjJRUhg/o7KMqlQd").expect("key");
        assert!(verify_bundle("u", "[]", std::slice::from_ref(&key), 0).unwrap_err().contains("no \"packs\""));
        assert!(verify_bundle("u", "{", std::slice::from_ref(&key), 0).unwrap_err().contains("not a bundle"));
        assert_eq!(verify_bundle("u", r#"{"packs":[]}"#, std::slice::from_ref(&key), 0).map(|p| p.len()), Ok(0));
        let unsigned =
            verify_bundle("u", r#"{"packs":[{"name":"acme","pack":"schema = 1"}]}"#, std::slice::from_ref(&key), 0)
                .unwrap_err();
        assert!(unsigned.contains("pack \"acme\": unsigned"), "{unsigned}");
    }
}
