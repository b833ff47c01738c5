//! `quell serve`: the coordination platform. Organisations upload the reports of `quell scan`;
//! each sees its own inventory (hosts, copies, versions, CVE status counts, where a version is,
//! the trend); a coordinator sees counts per organisation and nothing more.
//!
//! Parts, in request order:
//! 1. [`router`]: the one route table, grouped by resource; page routes are wrapped in
//!    [`html::html_errors`].
//! 2. [`extract`]: who the caller is, as extractor types in the handler's signature (bearer
//!    tokens and their scope, sessions, roles, CSRF-checked forms, JSON bodies).
//! 3. Handlers: [`api`] (JSON) and [`pages`] (maud HTML in the frame of [`html`]); each calls
//!    one store function (`quell_store`, re-exported as [`auth`] and [`inventory`] where the
//!    older paths are used) or a service module ([`ingest`]: decoding and validating a report;
//!    [`registry`], [`indicators`], [`advisories`], [`aggregator`]), then renders.
//! 4. [`error`]: the one error type, sent as JSON, or as an HTML page on page routes.
//! 5. [`jobs`]: background work — the ingest writer's group commit, advisory delivery, the
//!    aggregator's poller of subscribed CSAF providers.
//!
//! [`admin`] is `quell admin` (accounts from the command line); [`limits`] holds every limit.
//!
//! Invariants:
//! - The server keeps no state beyond the database (per-process metrics counters aside), so
//!   several processes can share one PostgreSQL.
//! - Every read and write of organisation data filters on the organisation of the caller's
//!   [`auth::Principal`]; ids in URLs are only ever looked up together with that organisation,
//!   and another organisation's id answers 404, the same as an id that does not exist.
//!   Coordinators get counts per organisation; host names only of an organisation whose admin
//!   shares them (`orgs.shares_details`), and never paths.
//! - An upload is acknowledged only after its transaction committed (SQLite: WAL,
//!   `synchronous=FULL`), so an acknowledged report survives `kill -9`. Uploads are stored by one
//!   group-commit writer per process ([`ingest::Writer`]): many reports, one transaction.
//! - Every limit is a named constant in [`limits`], settable per process through [`Limits`].

use std::net::SocketAddr;
use std::sync::Arc;

// First: its `t!` macro is used by the modules below.
#[macro_use]
pub mod i18n;

pub mod admin;
pub mod advisories;
pub mod agents;
pub mod aggregator;
pub mod api;
pub mod audit;
pub mod error;
pub mod extract;
pub mod html;
pub mod indicators;
pub mod ingest;
pub mod inventories;
pub mod jobs;
pub mod limits;
pub mod metrics;
pub mod openapi;
pub mod openpgp;
pub mod pages;
pub mod refusals;
pub mod registry;
pub mod resets;
pub mod router;
pub mod sso;
pub mod two_factor;

pub use ipnet::IpNet;
pub use limits::Limits;
/// The one clock and calendar module (`quell_model::time`).
pub use quell_model::time::{self, now};
/// Accounts, tokens, sessions and who a request acts as live in the store.
pub use quell_store::accounts as auth;
/// The read side of reports (hosts, copies, versions, CVE counts, search, trend) lives in the store.
pub use quell_store::inventory;
pub use quell_store::{Db, DbLocation, StoreError};

/// Everything that can go wrong, each with its HTTP status (see [`api`]).
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("configuration: {0}")]
    Config(String),
    #[error("{0}")]
    Db(StoreError),
    #[error("{0}")]
    Invalid(String),
    #[error("line {0}: {1}")]
    BadLine(usize, String),
    #[error("{0}")]
    TooLarge(String),
    #[error("authentication required: {0}")]
    Unauthorized(String),
    #[error("forbidden: {0}")]
    Forbidden(String),
    #[error("not found: {0}")]
    NotFound(String),
    #[error("conflict: {0}")]
    Conflict(String),
    /// Well-formed but refused on its merits (a pack signed by another key, tampered, expired): 422.
    #[error("{0}")]
    Unprocessable(String),
    #[error("too many requests: {0}")]
    TooMany(String),
    /// A service the request depends on failed (the OpenID provider): 502.
    #[error("{0}")]
    Upstream(String),
    #[error("internal error: {0}")]
    Internal(String),
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    /// A typed refusal of the store or a pure crate ([`quell_store::Refusal`]): `reason` is its
    /// stable machine code (the API's `reason`), `message` its sentence in the reader's
    /// language ([`refusals`]).
    #[error("{}{message}", kind.prefix())]
    Refused { kind: RefusalKind, reason: &'static str, message: String },
}

/// The HTTP kind of a [`ServerError::Refused`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefusalKind {
    /// 400 `invalid`.
    Invalid,
    /// 409 `conflict`.
    Conflict,
    /// 403 `forbidden`.
    Forbidden,
}

impl RefusalKind {
    /// What `Display` puts before the message, as for the other variants (`conflict: `).
    fn prefix(self) -> &'static str {
        match self {
            RefusalKind::Invalid => "",
            RefusalKind::Conflict => "conflict: ",
            RefusalKind::Forbidden => "forbidden: ",
        }
    }
}

impl ServerError {
    /// A refusal of the store or a pure crate, said in the current language.
    pub fn refused(kind: RefusalKind, refusal: &quell_store::Refusal) -> ServerError {
        ServerError::Refused { kind, reason: refusal.code(), message: refusals::refusal(refusal) }
    }
}

impl ServerError {
    /// A 404 for what the store or a handler did not find, in the reader's language.
    pub(crate) fn missing(missing: &quell_store::Missing) -> ServerError {
        ServerError::NotFound(refusals::missing(missing))
    }
}

impl From<StoreError> for ServerError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Config(m) => ServerError::Config(m),
            db @ StoreError::Db(_) => ServerError::Db(db),
            StoreError::Invalid(r) => ServerError::refused(RefusalKind::Invalid, &r),
            StoreError::NotFound(m) => ServerError::missing(&m),
            StoreError::Conflict(r) => ServerError::refused(RefusalKind::Conflict, &r),
            StoreError::Forbidden(r) => ServerError::refused(RefusalKind::Forbidden, &r),
            StoreError::Internal(m) => ServerError::Internal(m),
        }
    }
}

/// What every request handler shares. Cheap to clone.
#[derive(Debug, Clone)]
pub struct AppState {
    pub db: Db,
    pub limits: Arc<Limits>,
    pub metrics: Arc<metrics::Metrics>,
    /// The group-commit writer of this process (see [`ingest::Writer`]).
    pub writer: ingest::Writer,
    /// See [`ServeConfig::secure_cookies`].
    pub secure_cookies: bool,
    /// See [`ServeConfig::advisories`].
    pub advisories: Arc<advisories::Config>,
    /// See [`ServeConfig::trusted_proxies`].
    pub trusted_proxies: Arc<Vec<ipnet::IpNet>>,
    /// Uploads being decoded at once (see [`limits::MAX_CONCURRENT_DECODES`]).
    pub decoding: Arc<tokio::sync::Semaphore>,
    /// See [`ServeConfig::pack_keys`].
    pub pack_keys: Arc<Vec<quell_packs::signed::PinnedKey>>,
    /// See [`ServeConfig::default_language`].
    pub default_language: i18n::Lang,
    /// See [`ServeConfig::sso`].
    pub sso: Option<Arc<sso::Config>>,
}

/// How `quell serve` runs.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    pub listen: SocketAddr,
    pub db: DbLocation,
    pub db_connections: u32,
    pub limits: Limits,
    /// Mark session cookies `Secure` (set when the server is reached over HTTPS, e.g. behind a
    /// TLS-terminating proxy).
    pub secure_cookies: bool,
    /// Advisories: identifier prefix, public URL, SMTP relay, webhook retries, deadlines.
    pub advisories: advisories::Config,
    /// Where to serve `/metrics` without login (for Prometheus); `None`: only on the main
    /// address, for coordinators.
    pub metrics_listen: Option<SocketAddr>,
    /// Reverse proxies (addresses or networks) whose `Forwarded`/`X-Forwarded-For` name the
    /// client (login limits count per client). Empty: every peer is the client.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// The minisign public keys that uploaded detection packs must be signed with (one of them;
    /// `--pack-public-key`, repeatable for a key rotation); none: `POST /api/v1/packs` is refused.
    pub pack_keys: Vec<quell_packs::signed::PinnedKey>,
    /// The language of readers who chose none and whose browser asks for neither Dutch nor
    /// English (`--default-language`).
    pub default_language: i18n::Lang,
    /// Single sign-on with an OpenID provider (`--oidc-*`); `None`: passwords only.
    pub sso: Option<sso::Config>,
}

/// Opens the database (migrating it), binds and serves until SIGINT or SIGTERM, then finishes
/// the requests in flight. `ready` receives the bound address (useful with port 0).
pub async fn serve(config: ServeConfig, ready: impl FnOnce(SocketAddr)) -> Result<(), ServerError> {
    if let Some(sso) = &config.sso {
        sso.check().map_err(ServerError::Config)?;
    }
    let db = Db::open(&config.db, config.db_connections).await?;
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|e| ServerError::Config(format!("cannot listen on {}: {e}", config.listen)))?;
    let address = listener.local_addr()?;
    let writer = ingest::Writer::start(db.clone());
    let state = AppState {
        db,
        limits: Arc::new(config.limits),
        metrics: Arc::default(),
        writer,
        secure_cookies: config.secure_cookies,
        advisories: Arc::new(config.advisories),
        decoding: Arc::new(tokio::sync::Semaphore::new(limits::MAX_CONCURRENT_DECODES)),
        trusted_proxies: Arc::new(config.trusted_proxies),
        pack_keys: Arc::new(config.pack_keys),
        default_language: config.default_language,
        sso: config.sso.map(Arc::new),
    };
    jobs::delivery::start(state.clone());
    jobs::aggregator::start(state.clone());
    if let Some(metrics_address) = config.metrics_listen {
        let metrics = tokio::net::TcpListener::bind(metrics_address)
            .await
            .map_err(|e| ServerError::Config(format!("cannot listen on {metrics_address}: {e}")))?;
        let app = router::metrics_router(state.clone());
        tracing::info!(address = %metrics.local_addr()?, "metrics listening");
        tokio::spawn(async move {
            if let Err(e) = axum::serve(metrics, app).with_graceful_shutdown(shutdown_signal()).await {
                tracing::error!(error = %e, "metrics listener stopped");
            }
        });
    }
    tracing::info!(%address, "quell serve listening");
    ready(address);
    axum::serve(listener, router::router(state).into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    tracing::info!("quell serve stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}

/// Runs a future to completion on a fresh multi-threaded runtime: the entry point for the
/// (synchronous) command-line binary.
pub fn block_on<F: std::future::Future>(future: F) -> Result<F::Output, ServerError> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    Ok(runtime.block_on(future))
}
