//! Every limit of the server: a named constant (the default) and a field of [`Limits`] that
//! `quell serve` sets from a flag.

/// The limits the store enforces itself (names, passwords, page sizes, SQLite lock waits, batch sizes).
pub use quell_store::indicators::{IDS_PER_QUERY, SIGHTINGS_PER_INSERT};
pub use quell_store::limits::{
    FINDINGS_PER_INSERT, MAX_NAME_BYTES, MAX_PAGE_ROWS, MAX_TREND_DAYS, MIN_PASSWORD_CHARS, SQLITE_BUSY_TIMEOUT,
};

use std::time::Duration;

/// Largest request body accepted by `POST /api/v1/reports`, as sent (compressed or not).
/// Beyond it the server answers 413. Flag: `--max-report-bytes`.
pub const DEFAULT_MAX_REPORT_BYTES: usize = 32 * 1024 * 1024;

/// Largest report after gzip decoding (bomb guard). Beyond it the server answers 413.
/// Flag: `--max-report-inflated-bytes`.
pub const DEFAULT_MAX_REPORT_INFLATED_BYTES: u64 = 256 * 1024 * 1024;

/// Largest single JSON line of a report. Beyond it the line is rejected with 400.
pub const DEFAULT_MAX_LINE_BYTES: usize = 1024 * 1024;

/// Most finding and error records in one report. Flag: `--max-report-records`.
pub const DEFAULT_MAX_REPORT_RECORDS: usize = 1_000_000;

/// Longest host name accepted (the DNS limit).
pub const MAX_HOST_NAME_BYTES: usize = 253;

/// Most reports stored by one group commit (one transaction, one fsync).
pub const GROUP_COMMIT_MAX_REPORTS: usize = 64;

/// A group commit takes no further report once it holds this many findings.
pub const GROUP_COMMIT_MAX_FINDINGS: usize = 20_000;

/// Uploads waiting for the writer before further uploads wait to be queued (back-pressure).
pub const WRITE_QUEUE_REPORTS: usize = 256;

/// Database connections per server process. Flag: `--db-connections`.
pub const DEFAULT_DB_CONNECTIONS: u32 = 8;

/// The oldest `quell` release whose agents are still supported: hosts whose latest report came
/// from an older one are shown as running an outdated agent. Flag: `--oldest-agent-version`.
pub const DEFAULT_OLDEST_AGENT_VERSION: &str = "0.1.0";

/// Uploads (reports, indicators) decoded and validated at once per server process; more wait
/// their turn. Together with the per-line bound of the streaming decoder this caps the memory
/// that compressed bombs can take: about this many times `--max-line-bytes`.
pub const MAX_CONCURRENT_DECODES: usize = 4;

/// Limits of one server process.
#[derive(Debug, Clone)]
pub struct Limits {
    pub max_report_bytes: usize,
    pub max_report_inflated_bytes: u64,
    pub max_line_bytes: usize,
    pub max_report_records: usize,
    /// See [`DEFAULT_INDICATOR_MIN_ORGS`].
    pub indicator_min_orgs: i64,
    /// See [`DEFAULT_OLDEST_AGENT_VERSION`].
    pub oldest_agent_version: quell_model::maven::MavenVersion,
    /// How long a password-reset link stays usable; see
    /// [`quell_store::limits::PASSWORD_RESET_LIFETIME`]. Flag: `--reset-link-hours`.
    pub password_reset_lifetime: Duration,
    /// How the aggregator reads other providers (see [`PeerLimits`]).
    pub peers: PeerLimits,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_report_bytes: DEFAULT_MAX_REPORT_BYTES,
            max_report_inflated_bytes: DEFAULT_MAX_REPORT_INFLATED_BYTES,
            max_line_bytes: DEFAULT_MAX_LINE_BYTES,
            max_report_records: DEFAULT_MAX_REPORT_RECORDS,
            indicator_min_orgs: DEFAULT_INDICATOR_MIN_ORGS,
            oldest_agent_version: quell_model::maven::MavenVersion::new(DEFAULT_OLDEST_AGENT_VERSION),
            password_reset_lifetime: quell_store::limits::PASSWORD_RESET_LIFETIME,
            peers: PeerLimits::default(),
        }
    }
}

/// How long a browser session lasts after login.
pub const SESSION_LIFETIME: Duration = Duration::from_secs(12 * 3600);

/// The window over which failed logins are counted.
pub const LOGIN_WINDOW: Duration = Duration::from_secs(15 * 60);

/// Failed logins for one e-mail address within [`LOGIN_WINDOW`] before further attempts are
/// refused (429) without checking the password.
pub const MAX_LOGIN_FAILURES_PER_EMAIL: i64 = 5;

/// The longest an account's further logins are delayed after more than
/// [`MAX_LOGIN_FAILURES_PER_EMAIL`] failures from anywhere (the delay doubles from 1 s). An
/// attacker can slow an account's owner down by this much, never lock them out.
pub const LOGIN_BACKOFF_MAX: Duration = Duration::from_secs(60);

/// Failed logins from one client address within [`LOGIN_WINDOW`] before it is refused (429).
pub const MAX_LOGIN_FAILURES_PER_ADDRESS: i64 = 50;

/// Days the dashboard's trend chart covers.
pub const DASHBOARD_TREND_DAYS: i64 = 30;

/// Rows shown per page in the host list and search results of the web pages.
pub const PAGE_ROWS: i64 = 200;

// ---- detection packs (api::packs) ----

/// Largest body of `POST /api/v1/packs` (413 beyond): a pack of the largest size a pack may have
/// (`quell_packs::format::MAX_PACK_BYTES`) with every byte JSON-escaped to two, plus its
/// signature (`quell_packs::signed::MAX_SIGNATURE_BYTES`) and the JSON around them.
pub const MAX_PACK_UPLOAD_BYTES: usize =
    2 * quell_packs::format::MAX_PACK_BYTES + 2 * quell_packs::signed::MAX_SIGNATURE_BYTES + 1024;

// ---- indicators (crate::indicators) ----

/// Organisations that must have seen an indicator (with a marking that may leave them) before
/// it is shown in the pool, to anyone, coordinators included; below it, each organisation sees
/// it only among its own sightings. Flag: `--indicator-min-orgs`.
pub const DEFAULT_INDICATOR_MIN_ORGS: i64 = 3;

/// Most indicators in one upload of `quell hunt --upload` (400 beyond).
pub const MAX_INDICATORS_PER_UPLOAD: usize = 100_000;

/// Longest indicator value (a payload URL can be long; beyond it the upload is refused).
pub const MAX_INDICATOR_VALUE_BYTES: usize = 2048;

/// Most techniques of one indicator in an upload, and longest technique name.
pub const MAX_TECHNIQUES_PER_INDICATOR: usize = 64;

/// Most vulnerabilities (CVE ids) of one indicator in an upload.
pub const MAX_VULNERABILITIES_PER_INDICATOR: usize = 16;
pub const MAX_TECHNIQUE_BYTES: usize = 100;

/// Most days of one indicator in an upload (ten years of daily counts).
pub const MAX_DAYS_PER_INDICATOR: usize = 3660;

/// Earliest time an upload may name (2000-01-01T00:00:00Z): anything before is a broken clock
/// or a broken parser, not a Log4Shell attempt.
pub const EARLIEST_INDICATOR_TIME: i64 = 946_684_800;

/// How far past the server's clock an upload's times may be (the hunting host's clock may be off).
pub const MAX_INDICATOR_CLOCK_SKEW_SECS: i64 = 86_400;

/// Most raw lines in one upload (`quell hunt --upload-lines`), and longest line kept.
pub const MAX_LINES_PER_UPLOAD: usize = 10_000;
pub const MAX_RAW_LINE_BYTES: usize = 16 * 1024;

/// Most indicators in one export of `GET /api/v1/indicators/feed` (`?limit=` is capped at this;
/// page with `?offset=`).
pub const MAX_FEED_ROWS: i64 = 100_000;

/// Days the chart of the indicators page covers (ending at the latest day with sightings).
pub const INDICATOR_CHART_DAYS: i64 = 90;

// ---- the aggregator: reading other CSAF providers (jobs::aggregator) ----

/// Largest answer read from a subscribed provider — metadata, feed, `changes.csv`, key, hash,
/// signature or CSAF document. A larger one is refused (`too_large`) and not imported.
/// Flag: `--peer-max-document-bytes`.
pub const DEFAULT_PEER_MAX_DOCUMENT_BYTES: u64 = 4 * 1024 * 1024;

/// Redirects followed for one request to a provider; one more is refused (`redirects`), so a
/// redirect loop ends here. Flag: `--peer-max-redirects`.
pub const DEFAULT_PEER_MAX_REDIRECTS: u32 = 3;

/// How long one request to a provider may take in all (connecting, headers and the whole body):
/// a slow or stalling server is given up (`timeout`). Flag: `--peer-timeout-secs`.
pub const DEFAULT_PEER_TIMEOUT: Duration = Duration::from_secs(20);

/// How often each subscription is polled; zero: only when a coordinator asks
/// (`POST /api/v1/csaf/subscriptions/{id}/poll`). Flag: `--peer-poll-interval-secs`.
pub const DEFAULT_PEER_POLL_INTERVAL: Duration = Duration::from_secs(3600);

/// Most documents read from one provider in one poll (feeds together); the rest wait for the next.
pub const MAX_PEER_DOCUMENTS_PER_POLL: usize = 2_000;

/// How long one poll of one provider starts new document fetches; the rest wait for the next
/// poll (a slow provider with many documents cannot keep the poller busy for hours).
pub const PEER_POLL_BUDGET: Duration = Duration::from_secs(600);

/// Most feeds (ROLIE feeds or directories) read from one provider's metadata, and most public
/// keys fetched from it.
pub const MAX_PEER_FEEDS: usize = 32;
pub const MAX_PEER_KEYS: usize = 8;

/// Most subscriptions (providers) one server follows.
pub const MAX_SUBSCRIPTIONS: usize = 500;

/// Longest subscribed URL and access token.
pub const MAX_SUBSCRIPTION_URL_BYTES: usize = 2048;

/// How the aggregator reads other providers: limits of one request and the poll interval.
#[derive(Debug, Clone)]
pub struct PeerLimits {
    /// See [`DEFAULT_PEER_MAX_DOCUMENT_BYTES`].
    pub max_document_bytes: u64,
    /// See [`DEFAULT_PEER_MAX_REDIRECTS`].
    pub max_redirects: u32,
    /// See [`DEFAULT_PEER_TIMEOUT`].
    pub timeout: Duration,
    /// See [`DEFAULT_PEER_POLL_INTERVAL`].
    pub poll_interval: Duration,
    /// Allow providers over plain http and on loopback, private and link-local addresses
    /// (tests and closed networks), checked where the client resolves, as for webhooks.
    /// Flag: `--allow-private-providers`.
    pub allow_private: bool,
}

impl Default for PeerLimits {
    fn default() -> Self {
        PeerLimits {
            max_document_bytes: DEFAULT_PEER_MAX_DOCUMENT_BYTES,
            max_redirects: DEFAULT_PEER_MAX_REDIRECTS,
            timeout: DEFAULT_PEER_TIMEOUT,
            poll_interval: DEFAULT_PEER_POLL_INTERVAL,
            allow_private: false,
        }
    }
}
