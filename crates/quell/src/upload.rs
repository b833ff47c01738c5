//! `quell scan --upload URL --token T`: stamping the summary with where and when the scan ran,
//! collecting the JSON lines, and sending them gzip-compressed to a `quell serve`.
//!
//! The uploaded body is exactly the `--format json` output (one report format). Uploads are
//! idempotent on the server, so a failed attempt is retried ([`UPLOAD_ATTEMPTS`]) without risk of
//! storing a report twice.

use std::io::Write;
use std::sync::Mutex;
use std::time::Duration;

use clap::Args;
use quell_model::ScanRecord;

/// Attempts per upload (connection errors, 5xx and 429 are retried).
pub const UPLOAD_ATTEMPTS: u32 = 4;
/// Pause before the first retry; doubled for each further one.
pub const UPLOAD_RETRY_PAUSE: Duration = Duration::from_millis(500);
/// Time allowed for one upload request, sending and answer included.
pub const UPLOAD_TIMEOUT: Duration = Duration::from_secs(300);

/// Flags of `quell scan` for sending the report to a server.
#[derive(Debug, Clone, Args)]
pub struct UploadArgs {
    /// Send the report (JSON lines, gzip) to a quell server: its base URL
    /// (`https://quell.example.org`) or the full `/api/v1/reports` URL.
    #[arg(long, value_name = "URL")]
    pub upload: Option<String>,

    /// The API token for --upload (an upload-only token is enough).
    #[arg(long, env = "QUELL_TOKEN", value_name = "TOKEN", hide_env_values = true, conflicts_with = "token_file")]
    pub token: Option<String>,

    /// Read the token from this file instead (first line; e.g. a systemd credential,
    /// `--token-file ${CREDENTIALS_DIRECTORY}/token`): it never appears in a command line.
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<std::path::PathBuf>,

    /// The host name the report's summary names (default: this machine's host name).
    #[arg(long, value_name = "NAME")]
    pub host_name: Option<String>,
}

/// This machine's host name.
pub fn host_name() -> Option<String> {
    #[cfg(unix)]
    {
        let name = rustix::system::uname().nodename().to_string_lossy().into_owned();
        Some(name).filter(|n| !n.is_empty())
    }
    #[cfg(not(unix))]
    {
        std::env::var("COMPUTERNAME").ok().filter(|n| !n.is_empty())
    }
}

/// Fills the summary's `host`, `tool_version` and `finished_at` (unless already set).
pub fn stamp(record: &mut ScanRecord, host_override: Option<&str>) {
    if let ScanRecord::Summary(summary) = record {
        if summary.host.is_none() {
            summary.host = host_override.map(str::to_string).or_else(host_name);
        }
        if summary.tool_version.is_none() {
            summary.tool_version = Some(format!("quell {}", crate::LONG_VERSION));
        }
        if summary.finished_at.is_none() {
            summary.finished_at = Some(quell_model::time::now_rfc3339());
        }
    }
}

/// The report's JSON lines, collected while the scan runs.
#[derive(Debug, Default)]
pub struct Collector {
    body: Mutex<Vec<u8>>,
}

impl Collector {
    pub fn push(&self, record: &ScanRecord) {
        if let Ok(line) = serde_json::to_vec(record) {
            let mut body = self.body.lock().unwrap_or_else(|p| p.into_inner());
            body.extend_from_slice(&line);
            body.push(b'\n');
        }
    }

    fn take(&self) -> Vec<u8> {
        std::mem::take(&mut *self.body.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

/// The reports endpoint for what the user gave: a base URL gets `/api/v1/reports`.
pub fn endpoint(url: &str) -> String {
    endpoint_for(url, "/api/v1/reports")
}

/// `route` under the server the user named: a base URL gets `route` appended; a URL that already
/// ends with it is kept.
pub fn endpoint_for(url: &str, route: &str) -> String {
    let url = url.trim_end_matches('/');
    if url.ends_with(route) { url.to_string() } else { format!("{url}{route}") }
}

/// Sends the collected report; returns the server's answer (`{"id":..,...}`) or why it failed.
pub fn send(args: &UploadArgs, collector: &Collector) -> Result<String, String> {
    let Some(url) = &args.upload else {
        return Err("nothing to upload to: no --upload URL".into());
    };
    let token = args.token()?;
    post_gzip(&endpoint(url), &token, "application/x-ndjson", &collector.take())
}

impl UploadArgs {
    /// The token: `--token`/`QUELL_TOKEN`, else the first line of `--token-file`.
    pub fn token(&self) -> Result<String, String> {
        self.token_for("--upload")
    }

    /// As [`UploadArgs::token`], for another flag that talks to the server (`--rules-from`).
    pub fn token_for(&self, flag: &str) -> Result<String, String> {
        if let Some(token) = &self.token {
            return Ok(token.clone());
        }
        let Some(file) = &self.token_file else {
            return Err(format!("{flag} needs --token, QUELL_TOKEN or --token-file"));
        };
        let text = std::fs::read_to_string(file).map_err(|e| format!("--token-file {}: {e}", file.display()))?;
        text.lines()
            .next()
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_string)
            .ok_or_else(|| format!("--token-file {}: empty", file.display()))
    }
}

/// POSTs `body` gzip-compressed with a bearer token, retrying connection errors, 5xx and 429
/// ([`UPLOAD_ATTEMPTS`]; the server's uploads are idempotent); returns the answer's body.
pub fn post_gzip(url: &str, token: &str, content_type: &str, body: &[u8]) -> Result<String, String> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(body).map_err(|e| e.to_string())?;
    let body = gz.finish().map_err(|e| e.to_string())?;
    post(url, token, content_type, Some("gzip"), &body)
}

/// POSTs `body` with a bearer token, retrying connection errors, 5xx and 429 ([`UPLOAD_ATTEMPTS`];
/// only for idempotent routes). Returns the answer's body on 200/201, or why it failed.
pub fn post(url: &str, token: &str, content_type: &str, encoding: Option<&str>, body: &[u8]) -> Result<String, String> {
    let agent = ureq::Agent::new_with_config(
        ureq::config::Config::builder().http_status_as_error(false).timeout_global(Some(UPLOAD_TIMEOUT)).build(),
    );
    let mut pause = UPLOAD_RETRY_PAUSE;
    let mut last_error = String::new();
    for attempt in 1..=UPLOAD_ATTEMPTS {
        if attempt > 1 {
            std::thread::sleep(pause);
            pause *= 2;
        }
        let mut request =
            agent.post(url).header("Authorization", &format!("Bearer {token}")).header("Content-Type", content_type);
        if let Some(encoding) = encoding {
            request = request.header("Content-Encoding", encoding);
        }
        match request.send(body) {
            Ok(mut response) => {
                let status = response.status().as_u16();
                let text = response.body_mut().read_to_string().unwrap_or_default();
                match status {
                    200 | 201 => return Ok(text.trim().to_string()),
                    429 | 500..=599 => last_error = format!("{url}: HTTP {status}: {}", text.trim()),
                    _ => return Err(format!("{url}: HTTP {status}: {}", text.trim())),
                }
            }
            Err(e) => last_error = format!("{url}: {e}"),
        }
    }
    Err(format!("{last_error} (after {UPLOAD_ATTEMPTS} attempts)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints() {
        assert_eq!(endpoint("http://h:8080"), "http://h:8080/api/v1/reports");
        assert_eq!(endpoint("http://h:8080/"), "http://h:8080/api/v1/reports");
        assert_eq!(endpoint("http://h/api/v1/reports"), "http://h/api/v1/reports");
        assert_eq!(endpoint_for("http://h/", "/api/v1/indicators"), "http://h/api/v1/indicators");
    }

    #[test]
    fn the_summary_is_stamped() {
        let mut record = ScanRecord::Summary(quell_model::ScanSummary::default());
        stamp(&mut record, Some("web-1"));
        let ScanRecord::Summary(s) = record else { panic!("summary") };
        assert_eq!(s.host.as_deref(), Some("web-1"));
        assert!(s.tool_version.as_deref().is_some_and(|v| v.starts_with("quell ")));
        let t = s.finished_at.unwrap_or_default();
        assert_eq!((t.len(), &t[10..11], &t[19..]), (20, "T", "Z"), "{t}");
    }
}
