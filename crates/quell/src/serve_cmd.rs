//! `quell serve` and `quell admin`: flags and wiring of the coordination server
//! (`quell-server`), and the account commands that work straight on its database.

use std::io::{BufRead, IsTerminal, Write};
use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};
use quell_server::admin::{AdminAction, AdminOutcome};
use quell_server::auth::{Role, Scope};
use quell_server::limits;
use quell_server::{DbLocation, Limits, ServeConfig};

/// Where the database is (shared by `serve` and `admin`).
#[derive(Debug, Clone, Args)]
pub struct DbArgs {
    /// Directory of the embedded SQLite database (`quell.db`), created when missing.
    #[arg(long, default_value = "quell-data", value_name = "DIR")]
    pub data_dir: PathBuf,

    /// A `postgres://user:password@host/db` URL (several servers may share it), or a SQLite
    /// file (`sqlite://path/quell.db`); overrides --data-dir.
    #[arg(long, env = "QUELL_DB", value_name = "URL", hide_env_values = true)]
    pub db: Option<String>,
}

impl DbArgs {
    fn location(&self) -> DbLocation {
        DbLocation::parse(self.db.as_deref(), &self.data_dir)
    }
}

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// Arguments of `quell serve`.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  quell serve                          SQLite in ./quell-data, 127.0.0.1:8080
  quell serve --listen 0.0.0.0:8080 --data-dir /var/lib/quell
  quell serve --db postgres://quell:secret@db.internal/quell
                                       several servers, one database
  quell admin create-coordinator --email cert@example.org
  quell serve --pack-public-key /etc/quell/quell-packs.pub
                                       take signed detection packs (minisign)
  quell serve --csaf-signing-key /etc/quell/csaf-signing.asc
                                       a trusted CSAF provider (signatures)
  QUELL_SMTP_PASSWORD=... quell serve --smtp-host smtp.example.org \\
      --smtp-port 587 --smtp-user quell
                                       e-mail with STARTTLS and login

Then, on each host:
  quell scan --upload https://quell.example.org --token qt_... /
  quell scan --rules-from https://quell.example.org \\
      --rules-key /etc/quell/quell-packs.pub \\
             --token qt_... /          with the CERT's signed packs

API (Authorization: Bearer <token>): POST /api/v1/reports;
GET /api/v1/hosts, /api/v1/hosts/ID, /api/v1/hosts/ID/reports,
/api/v1/reports/ID, /api/v1/inventory, /api/v1/trend?days=N,
/api/v1/search?component=&version=&q=, /api/v1/orgs (coordinators),
/api/v1/tokens, /api/v1/users; /healthz, /metrics, /api/openapi.json.
Indicators (quell hunt --upload): POST/GET /api/v1/indicators,
/api/v1/indicators/pool, /api/v1/indicators/feed?format=stix|misp|csv.
Registry (reads public): /api/v1/registry/entries (+ /ID, /ID/history),
/api/v1/registry/export.csv|json|md, /export/full.json,
/suppliers/NAME/csaf.json, /import, /proposals, /my-products, /notifications,
/confirmations.
Advisories: /api/v1/advisories (+ /ID, /ID/publish, /ID/csaf, /ID/systems,
/ID/progress, /overdue, /import), /api/v1/target-groups, /api/v1/webhook,
/api/v1/contacts, /api/v1/me/openpgp-key, /advisories.atom,
/.well-known/csaf/provider-metadata.json, /.well-known/security.txt.
Detection packs: POST /api/v1/packs {\"pack\",\"signature\"} (coordinators),
GET /api/v1/packs (any token), DELETE /api/v1/packs/NAME, /NAME/history.
Pages: /login, /, /hosts, /search, /indicators, /registry, /advisories, /tokens.

Exit codes: 0 stopped cleanly (SIGINT/SIGTERM), 2 could not start or failed.")]
pub struct ServeArgs {
    /// Address and port to listen on.
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "ADDR:PORT")]
    pub listen: SocketAddr,

    #[command(flatten)]
    pub db: DbArgs,

    /// Database connections of this process.
    #[arg(long, default_value_t = limits::DEFAULT_DB_CONNECTIONS, value_name = "N")]
    pub db_connections: u32,

    /// Largest upload accepted, as sent (compressed); larger ones get 413.
    #[arg(long, default_value_t = limits::DEFAULT_MAX_REPORT_BYTES, value_name = "BYTES")]
    pub max_report_bytes: usize,

    /// Largest report after gzip decoding; larger ones get 413.
    #[arg(long, default_value_t = limits::DEFAULT_MAX_REPORT_INFLATED_BYTES, value_name = "BYTES")]
    pub max_report_inflated_bytes: u64,

    /// Longest JSON line of a report.
    #[arg(long, default_value_t = limits::DEFAULT_MAX_LINE_BYTES, value_name = "BYTES")]
    pub max_line_bytes: usize,

    /// Most records in one report.
    #[arg(long, default_value_t = limits::DEFAULT_MAX_REPORT_RECORDS, value_name = "N")]
    pub max_report_records: usize,

    /// Organisations that must have seen a pooled indicator (`quell hunt --upload`) before
    /// anyone else sees it.
    #[arg(long, default_value_t = limits::DEFAULT_INDICATOR_MIN_ORGS, value_name = "N",
          value_parser = clap::value_parser!(i64).range(1..))]
    pub indicator_min_orgs: i64,

    /// The oldest supported agent release: hosts whose latest report came from an older
    /// `quell` are shown as running an outdated agent (dashboard, host list, API).
    #[arg(long, default_value = limits::DEFAULT_OLDEST_AGENT_VERSION, value_name = "VERSION",
          value_parser = parse_release)]
    pub oldest_agent_version: quell_model::maven::MavenVersion,

    /// Hours a password-reset link stays usable (`POST /api/v1/users/ID/reset-link`, the
    /// accounts page): once used, or when a newer link is issued, it stops working anyway.
    #[arg(long, default_value_t = 24, value_name = "HOURS",
          value_parser = clap::value_parser!(u64).range(1..=720))]
    pub reset_link_hours: u64,

    /// Single sign-on: the OpenID Connect issuer URL (https; discovery at
    /// `ISSUER/.well-known/openid-configuration`). Needs --oidc-client-id and
    /// --oidc-client-secret-file; register `PUBLIC_URL/login/oidc/callback` at the provider.
    #[arg(long, value_name = "URL")]
    pub oidc_issuer: Option<String>,

    /// The client id quell is registered under at the OpenID provider.
    #[arg(long, value_name = "ID", requires = "oidc_issuer")]
    pub oidc_client_id: Option<String>,

    /// A file holding the client secret (kept off the command line and out of `ps`).
    #[arg(long, value_name = "FILE", requires = "oidc_issuer")]
    pub oidc_client_secret_file: Option<std::path::PathBuf>,

    /// The callback URL registered at the provider [default: PUBLIC_URL/login/oidc/callback].
    #[arg(long, value_name = "URL", requires = "oidc_issuer")]
    pub oidc_redirect_url: Option<String>,

    /// The claim naming the account's organisation (as named in quell).
    #[arg(long, value_name = "CLAIM", default_value = "quell_org")]
    pub oidc_org_claim: String,

    /// The claim giving the role: `coordinator`, `admin` or `member` (a string or a list; the
    /// highest wins; absent: member).
    #[arg(long, value_name = "CLAIM", default_value = "quell_role")]
    pub oidc_role_claim: String,

    /// Scopes asked for besides `openid` (repeatable) [default: email profile].
    #[arg(long = "oidc-scope", value_name = "SCOPE")]
    pub oidc_scopes: Vec<String>,

    /// A reverse proxy (address or network, e.g. 10.0.0.0/8; repeatable) whose `Forwarded` or
    /// `X-Forwarded-For` header names the client: login limits then count per real client.
    /// Headers from any other peer are ignored.
    #[arg(long = "trusted-proxy", value_name = "ADDRESS|NETWORK", value_parser = parse_network)]
    pub trusted_proxies: Vec<quell_server::IpNet>,

    /// The minisign public key that detection packs uploaded to `POST /api/v1/packs` must be
    /// signed with: the base64 line (`RWS...`) or the path of the `.pub` file; repeatable (any
    /// of them, during a key rotation). Without it the server takes no packs. Agents check the
    /// packs again against their own --rules-key.
    #[arg(long, env = "QUELL_PACK_PUBLIC_KEY", value_name = "KEY|FILE")]
    pub pack_public_key: Vec<String>,

    /// The language of pages, e-mail and API messages for readers who chose none (in their
    /// account or with the switch on every page) and whose browser asks for neither Dutch nor
    /// English: `nl` or `en`.
    #[arg(long, env = "QUELL_DEFAULT_LANGUAGE", value_name = "nl|en", default_value = "en")]
    pub default_language: quell_server::i18n::Lang,

    /// Also serve `/metrics` here, without login, for Prometheus (keep it on a loopback or
    /// operator-only address). On the main address `/metrics` needs a coordinator's token.
    #[arg(long, value_name = "ADDRESS")]
    pub metrics_listen: Option<SocketAddr>,

    /// Start even when the data directory is readable by every local user (the database holds
    /// every organisation's data; the directory is created 0700 and the files 0600).
    #[arg(long)]
    pub allow_readable_data_dir: bool,

    /// Mark session cookies Secure: for browsers reaching the server over HTTPS (quell serve speaks
    /// HTTP; put a TLS-terminating proxy in front of it for anything but loopback).
    #[arg(long)]
    pub secure_cookies: bool,

    /// Log format on stderr.
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    #[command(flatten)]
    pub advisories: AdvisoryArgs,

    #[command(flatten)]
    pub peers: PeerArgs,
}

/// Flags of the aggregator (subscriptions to other CSAF providers).
#[derive(Debug, Args)]
pub struct PeerArgs {
    /// Largest answer read from a subscribed CSAF provider (metadata, feed, document, hash,
    /// signature, key); a larger document is refused and logged.
    #[arg(long, default_value_t = limits::DEFAULT_PEER_MAX_DOCUMENT_BYTES, value_name = "BYTES")]
    pub peer_max_document_bytes: u64,

    /// Redirects followed per request to a provider (one more is refused: redirect loops).
    #[arg(long, default_value_t = limits::DEFAULT_PEER_MAX_REDIRECTS, value_name = "N")]
    pub peer_max_redirects: u32,

    /// Seconds one request to a provider may take in all (a slow server is given up).
    #[arg(long, default_value_t = limits::DEFAULT_PEER_TIMEOUT.as_secs(), value_name = "SECS")]
    pub peer_timeout_secs: u64,

    /// Seconds between polls of each subscribed provider; 0: only when a coordinator asks.
    #[arg(long, default_value_t = limits::DEFAULT_PEER_POLL_INTERVAL.as_secs(), value_name = "SECS")]
    pub peer_poll_interval_secs: u64,

    /// Allow subscriptions over plain http and to loopback, private and link-local addresses
    /// (tests and closed networks only).
    #[arg(long)]
    pub allow_private_providers: bool,
}

impl PeerArgs {
    fn limits(&self) -> limits::PeerLimits {
        limits::PeerLimits {
            max_document_bytes: self.peer_max_document_bytes,
            max_redirects: self.peer_max_redirects,
            timeout: std::time::Duration::from_secs(self.peer_timeout_secs.max(1)),
            poll_interval: std::time::Duration::from_secs(self.peer_poll_interval_secs),
            allow_private: self.allow_private_providers,
        }
    }
}

/// Advisory flags of `quell serve`.
#[derive(Debug, Args)]
pub struct AdvisoryArgs {
    /// Prefix of advisory identifiers (PREFIX-YYYY-NNNN): upper-case letters and digits.
    #[arg(long, default_value = quell_server::advisories::DEFAULT_PREFIX, value_name = "PREFIX")]
    pub advisory_prefix: String,

    /// Name of the publishing CERT (CSAF publisher, Atom author).
    #[arg(long, default_value = "quell", value_name = "NAME")]
    pub publisher_name: String,

    /// URL the server is reached at, for links in the feed, CSAF documents, webhooks and e-mail
    /// (default: http://<--listen>).
    #[arg(long, value_name = "URL")]
    pub public_url: Option<String>,

    /// SMTP relay for advisory e-mail (STARTTLS required unless --smtp-tls says otherwise); no
    /// e-mail without it.
    #[arg(long, value_name = "HOST")]
    pub smtp_host: Option<String>,

    /// Transport security towards the relay: `required` (STARTTLS with a verified certificate,
    /// else no delivery), `opportunistic` (STARTTLS when offered) or `none` (a local MTA on
    /// loopback only).
    #[arg(long, value_enum, default_value_t = SmtpTlsArg::Required)]
    pub smtp_tls: SmtpTlsArg,

    /// Log in to the relay as this user (SMTP AUTH, only over TLS); the password from
    /// QUELL_SMTP_PASSWORD or --smtp-password-file.
    #[arg(long, value_name = "USER")]
    pub smtp_user: Option<String>,

    /// File holding the SMTP password (first line), instead of QUELL_SMTP_PASSWORD.
    #[arg(long, value_name = "FILE", requires = "smtp_user")]
    pub smtp_password_file: Option<PathBuf>,

    /// PEM certificate(s) to trust for the relay besides the system's roots (an internal CA).
    #[arg(long, value_name = "FILE")]
    pub smtp_ca_file: Option<PathBuf>,

    /// Port of the SMTP relay.
    #[arg(long, default_value_t = 25, value_name = "PORT")]
    pub smtp_port: u16,

    /// Sender address of advisory e-mail.
    #[arg(long, default_value = "quell@localhost", value_name = "ADDRESS")]
    pub smtp_from: String,

    /// Seconds one webhook or SMTP attempt may take.
    #[arg(long, default_value_t = 10, value_name = "SECS")]
    pub delivery_timeout_secs: u64,

    /// Seconds before the first retry of a failed delivery (doubling each time).
    #[arg(long, default_value_t = 30, value_name = "SECS")]
    pub delivery_retry_secs: u64,

    /// Attempts before a delivery is given up.
    #[arg(long, default_value_t = 8, value_name = "N")]
    pub delivery_attempts: i64,

    /// Days to take measures for a High/Medium or Medium/High advisory (High/High: 7).
    #[arg(long, default_value_t = 30, value_name = "DAYS")]
    pub deadline_high_days: i64,

    /// Days for Medium/Medium, High/Low, Low/High.
    #[arg(long, default_value_t = 90, value_name = "DAYS")]
    pub deadline_medium_days: i64,

    /// Days for the remaining ratings.
    #[arg(long, default_value_t = 120, value_name = "DAYS")]
    pub deadline_low_days: i64,

    /// Allow webhooks over plain http and to loopback, private and link-local addresses (tests
    /// and closed networks only: webhooks carry AMBER and RED advisories).
    #[arg(long)]
    pub allow_private_webhooks: bool,

    /// The OpenPGP secret key (ASCII-armored file) that signs every CSAF document (`.asc`); the
    /// provider metadata then says `csaf_trusted_provider` and names its fingerprint. Keep it
    /// outside the database, readable by the server only. Passphrase, if any:
    /// QUELL_CSAF_SIGNING_PASSPHRASE.
    #[arg(long, env = "QUELL_CSAF_SIGNING_KEY", value_name = "FILE")]
    pub csaf_signing_key: Option<PathBuf>,

    /// The public key (ASCII-armored file) of an earlier CSAF signing key, still published and
    /// listed after a key rotation so old signatures stay verifiable; repeatable.
    #[arg(long, value_name = "FILE", requires = "csaf_signing_key")]
    pub csaf_previous_public_key: Vec<PathBuf>,

    /// The `Contact:` of /.well-known/security.txt (mailto: or https: URI); default
    /// mailto:<--smtp-from>.
    #[arg(long, value_name = "URI")]
    pub security_contact: Option<String>,
}

impl AdvisoryArgs {
    fn config(&self, listen: SocketAddr) -> Result<quell_server::advisories::Config, String> {
        use quell_server::advisories::{Config, DeadlineDays};
        quell_server::advisories::check_prefix(&self.advisory_prefix).map_err(|e| e.to_string())?;
        for days in [self.deadline_high_days, self.deadline_medium_days, self.deadline_low_days] {
            if days < 0 {
                return Err("deadlines are zero days (due at publication) or more".into());
            }
        }
        Ok(Config {
            prefix: self.advisory_prefix.clone(),
            publisher_name: self.publisher_name.clone(),
            public_url: self.public_url.clone().unwrap_or_else(|| format!("http://{listen}")),
            smtp: self.smtp()?,
            delivery_timeout: std::time::Duration::from_secs(self.delivery_timeout_secs.max(1)),
            retry_base: std::time::Duration::from_secs(self.delivery_retry_secs.max(1)),
            max_attempts: self.delivery_attempts.max(1),
            deadlines: DeadlineDays {
                critical: quell_server::advisories::HIGH_HIGH_DEADLINE_DAYS,
                high: self.deadline_high_days,
                medium: self.deadline_medium_days,
                low: self.deadline_low_days,
            },
            allow_private_webhooks: self.allow_private_webhooks,
            csaf_keys: self.csaf_keys()?.map(std::sync::Arc::new),
            security_contact: Some(
                self.security_contact.clone().unwrap_or_else(|| format!("mailto:{}", self.smtp_from)),
            ),
            ..Config::default()
        })
    }
}

/// `--smtp-tls`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SmtpTlsArg {
    Required,
    Opportunistic,
    None,
}

/// Largest `--smtp-ca-file` and `--smtp-password-file` read.
const MAX_SMTP_FILE_BYTES: u64 = 1024 * 1024;

impl AdvisoryArgs {
    /// The SMTP relay settings, checked (`None` without --smtp-host).
    fn smtp(&self) -> Result<Option<quell_server::advisories::Smtp>, String> {
        use quell_server::advisories::{Smtp, SmtpTls};
        let Some(host) = &self.smtp_host else { return Ok(None) };
        let tls = match self.smtp_tls {
            SmtpTlsArg::Required => SmtpTls::Required,
            SmtpTlsArg::Opportunistic => SmtpTls::Opportunistic,
            SmtpTlsArg::None => SmtpTls::None,
        };
        let read = |flag: &str, p: &PathBuf| -> Result<Vec<u8>, String> {
            let meta = std::fs::metadata(p).map_err(|e| format!("{flag} {}: {e}", p.display()))?;
            if meta.len() > MAX_SMTP_FILE_BYTES {
                return Err(format!("{flag} {}: larger than {MAX_SMTP_FILE_BYTES} bytes", p.display()));
            }
            std::fs::read(p).map_err(|e| format!("{flag} {}: {e}", p.display()))
        };
        let credentials = match &self.smtp_user {
            None => None,
            Some(_) if tls == SmtpTls::None => {
                return Err("--smtp-user needs TLS: the password is not sent over plain SMTP (--smtp-tls)".into());
            }
            Some(user) => {
                let password = match &self.smtp_password_file {
                    Some(p) => {
                        let bytes = read("--smtp-password-file", p)?;
                        String::from_utf8_lossy(&bytes).lines().next().unwrap_or_default().to_string()
                    }
                    None => std::env::var("QUELL_SMTP_PASSWORD").map_err(|_| {
                        "--smtp-user needs a password: QUELL_SMTP_PASSWORD or --smtp-password-file".to_string()
                    })?,
                };
                Some((user.clone(), password))
            }
        };
        let extra_roots_pem = match &self.smtp_ca_file {
            Some(p) => Some(read("--smtp-ca-file", p)?),
            None => None,
        };
        Ok(Some(Smtp {
            host: host.clone(),
            port: self.smtp_port,
            from: self.smtp_from.clone(),
            tls,
            credentials,
            extra_roots_pem,
        }))
    }

    /// The CSAF signing key and earlier public keys, read and checked (`None` without a key).
    fn csaf_keys(&self) -> Result<Option<quell_server::openpgp::CsafKeys>, String> {
        let Some(path) = &self.csaf_signing_key else { return Ok(None) };
        let read = |p: &PathBuf| {
            let meta = std::fs::metadata(p).map_err(|e| format!("{}: {e}", p.display()))?;
            if meta.len() > quell_server::openpgp::MAX_KEY_FILE_BYTES as u64 {
                return Err(format!("{}: larger than a key file can be", p.display()));
            }
            std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()))
        };
        let secret = read(path).map_err(|e| format!("--csaf-signing-key {e}"))?;
        let previous = self
            .csaf_previous_public_key
            .iter()
            .map(|p| read(p).map_err(|e| format!("--csaf-previous-public-key {e}")))
            .collect::<Result<Vec<_>, _>>()?;
        let passphrase = std::env::var("QUELL_CSAF_SIGNING_PASSPHRASE").unwrap_or_default();
        let keys = quell_server::openpgp::CsafKeys::new(&secret, &passphrase, &previous)
            .map_err(|e| format!("--csaf-signing-key {}: {e}", path.display()))?;
        tracing::info!(fingerprint = %keys.current.fingerprint, "CSAF documents are signed");
        Ok(Some(keys))
    }
}

/// Runs `quell serve`; returns the exit code.
pub fn run(args: ServeArgs) -> u8 {
    // Colour only on a terminal and never with NO_COLOR: a log file gets no escape sequences.
    let colour = {
        use std::io::IsTerminal;
        std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
    };
    let subscriber =
        tracing_subscriber::fmt().with_writer(std::io::stderr).with_ansi(colour).with_max_level(tracing::Level::INFO);
    let installed = match args.log_format {
        // Every field and message is written with its control characters escaped, so a value
        // from a request (an e-mail with a newline) cannot forge a log line. JSON escapes them.
        LogFormat::Text => subscriber.fmt_fields(escaped_fields()).try_init(),
        LogFormat::Json => subscriber.json().try_init(),
    };
    if let Err(e) = installed {
        eprintln!("quell serve: cannot set up logging: {e}");
    }
    let location = args.db.location();
    if !args.allow_readable_data_dir
        && let Err(e) = location.refuse_readable_dir()
    {
        eprintln!("quell serve: {e}");
        return 2;
    }
    let advisories = match args.advisories.config(args.listen) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("quell serve: {e}");
            return 2;
        }
    };
    let pack_keys = match args.pack_public_key.iter().map(|k| crate::packs_remote::read_key(k)).collect() {
        Ok(keys) => keys,
        Err(e) => {
            eprintln!("quell serve: --pack-public-key {e}");
            return 2;
        }
    };
    let sso = match sso_config(&args, &advisories.public_url) {
        Ok(sso) => sso,
        Err(e) => {
            eprintln!("quell serve: {e}");
            return 2;
        }
    };
    let config = ServeConfig {
        listen: args.listen,
        db: location.clone(),
        db_connections: args.db_connections,
        limits: Limits {
            max_report_bytes: args.max_report_bytes,
            max_report_inflated_bytes: args.max_report_inflated_bytes,
            max_line_bytes: args.max_line_bytes,
            max_report_records: args.max_report_records,
            indicator_min_orgs: args.indicator_min_orgs,
            oldest_agent_version: args.oldest_agent_version.clone(),
            password_reset_lifetime: std::time::Duration::from_secs(args.reset_link_hours * 3600),
            peers: args.peers.limits(),
        },
        secure_cookies: args.secure_cookies,
        advisories,
        trusted_proxies: args.trusted_proxies.clone(),
        metrics_listen: args.metrics_listen,
        pack_keys,
        default_language: args.default_language,
        sso,
    };
    let result = quell_server::block_on(quell_server::serve(config, |address| {
        eprintln!("quell serve: listening on http://{address} ({})", location.describe());
    }));
    match result {
        Ok(Ok(())) => 0,
        Ok(Err(e)) | Err(e) => {
            eprintln!("quell serve: {e}");
            2
        }
    }
}

/// Arguments of `quell admin`.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  quell admin create-coordinator --email cert@example.org   (password: stdin)
  quell admin create-org --name 'Municipality of Example'
  quell admin create-user --org 'Municipality of Example' \\
      --email it@example.nl --role admin
  quell admin create-token --email it@example.nl --name agents --scope upload
  quell admin revoke-token --id 7
  quell admin unlock --email it@example.nl     (after failed logins)
  echo \"$PASSWORD\" | quell admin --db postgres://... \\
      create-coordinator --email cert@example.org

Tokens are printed once and stored only as a hash. Exit codes: 0 done, 2 failed.")]
pub struct AdminArgs {
    #[command(flatten)]
    pub db: DbArgs,

    #[command(subcommand)]
    pub action: AdminCommand,
}

/// Roles an organisation's user can have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OrgRole {
    Admin,
    Member,
}

/// Token scopes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TokenScope {
    /// Only uploading reports (for scanning agents).
    Upload,
    /// Everything the user may do.
    Full,
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create a coordinator account (sees counts per organisation). Password from stdin.
    CreateCoordinator {
        #[arg(long)]
        email: String,
    },
    /// Create an organisation.
    CreateOrg {
        #[arg(long)]
        name: String,
    },
    /// Create an organisation's admin or member. Password from stdin.
    CreateUser {
        #[arg(long)]
        org: String,
        #[arg(long)]
        email: String,
        #[arg(long, value_enum)]
        role: OrgRole,
    },
    /// Create an API token for a user; printed once.
    CreateToken {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        #[arg(long, value_enum, default_value_t = TokenScope::Upload)]
        scope: TokenScope,
    },
    /// Revoke an API token by its id.
    RevokeToken {
        #[arg(long)]
        id: i64,
    },
    /// Forget an account's failed logins (every client address), so its owner can log in
    /// again at once.
    Unlock {
        #[arg(long)]
        email: String,
    },
}

/// Reads a password: one line of stdin; on a terminal, prompted and not echoed.
fn read_password() -> std::io::Result<String> {
    let stdin = std::io::stdin();
    let terminal = stdin.is_terminal();
    if terminal {
        eprint!("password (at least {} characters): ", limits::MIN_PASSWORD_CHARS);
        std::io::stderr().flush()?;
    }
    #[cfg(unix)]
    let saved = if terminal {
        let saved = rustix::termios::tcgetattr(&stdin).ok();
        if let Some(mut quiet) = saved.clone() {
            quiet.local_modes.remove(rustix::termios::LocalModes::ECHO);
            let _ = rustix::termios::tcsetattr(&stdin, rustix::termios::OptionalActions::Now, &quiet);
        }
        saved
    } else {
        None
    };
    let mut line = String::new();
    let result = stdin.lock().read_line(&mut line);
    #[cfg(unix)]
    if let Some(saved) = saved {
        let _ = rustix::termios::tcsetattr(&stdin, rustix::termios::OptionalActions::Now, &saved);
        eprintln!();
    }
    result?;
    Ok(line.trim_end_matches(['\n', '\r']).to_string())
}

/// Runs `quell admin`; returns the exit code.
pub fn run_admin(args: AdminArgs) -> u8 {
    let action = match args.action {
        AdminCommand::CreateCoordinator { email } => match read_password() {
            Ok(password) => AdminAction::CreateCoordinator { email, password },
            Err(e) => return fail(&format!("cannot read the password: {e}")),
        },
        AdminCommand::CreateOrg { name } => AdminAction::CreateOrg { name },
        AdminCommand::CreateUser { org, email, role } => match read_password() {
            Ok(password) => AdminAction::CreateUser {
                org,
                email,
                role: if role == OrgRole::Admin { Role::Admin } else { Role::Member },
                password,
            },
            Err(e) => return fail(&format!("cannot read the password: {e}")),
        },
        AdminCommand::CreateToken { email, name, scope } => AdminAction::CreateToken {
            email,
            name,
            scope: if scope == TokenScope::Full { Scope::Full } else { Scope::Upload },
        },
        AdminCommand::RevokeToken { id } => AdminAction::RevokeToken { id },
        AdminCommand::Unlock { email } => AdminAction::Unlock { email },
    };
    let location = args.db.location();
    match quell_server::block_on(quell_server::admin::run(&location, action)) {
        Ok(Ok(AdminOutcome::Created { what, id })) => {
            println!("created {what} {id}");
            0
        }
        Ok(Ok(AdminOutcome::Token(token))) => {
            eprintln!("token {} ({}, scope {}); it is shown only now:", token.id, token.name, token.scope.as_str());
            println!("{}", token.token);
            0
        }
        Ok(Ok(AdminOutcome::Revoked(true))) => {
            println!("revoked");
            0
        }
        Ok(Ok(AdminOutcome::Revoked(false))) => fail("no live token with that id"),
        Ok(Ok(AdminOutcome::Unlocked(forgotten))) => {
            println!("unlocked ({forgotten} failed logins forgotten)");
            0
        }
        Ok(Err(e)) | Err(e) => fail(&e.to_string()),
    }
}

fn fail(message: &str) -> u8 {
    eprintln!("quell admin: {message}");
    2
}

/// `10.0.0.0/8`, `2001:db8::/32` or one address (`192.0.2.10`: a /32).
fn parse_network(text: &str) -> Result<quell_server::IpNet, String> {
    text.parse::<quell_server::IpNet>()
        .or_else(|_| text.parse::<std::net::IpAddr>().map(quell_server::IpNet::from))
        .map_err(|_| format!("not an address or network: {text:?} (e.g. 10.0.0.1 or 10.0.0.0/8)"))
}

/// A release number for `--oldest-agent-version` (`0.2.0`, `1.0.0-rc1`).
fn parse_release(text: &str) -> Result<quell_model::maven::MavenVersion, String> {
    quell_model::scan::tool_release(text).ok_or_else(|| format!("not a release number: {text:?} (e.g. 0.2.0)"))
}

/// The text log's field formatter: `name=value` pairs (the message bare), control characters
/// escaped as in Rust string literals.
fn escaped_fields() -> impl for<'w> tracing_subscriber::fmt::FormatFields<'w> {
    use tracing_subscriber::field::MakeExt;
    tracing_subscriber::fmt::format::debug_fn(|writer, field, value| {
        let raw = format!("{value:?}");
        let text = escape_controls(&raw);
        if field.name() == "message" { write!(writer, "{text}") } else { write!(writer, "{field}={text}") }
    })
    .delimited(" ")
}

/// `text` with every control character written as an escape (`\n`, `\r`, `\t`, `\u{1b}`).
fn escape_controls(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", u32::from(c))),
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

/// The single sign-on settings of `--oidc-*` (`None` without `--oidc-issuer`).
fn sso_config(args: &ServeArgs, public_url: &str) -> Result<Option<quell_server::sso::Config>, String> {
    let Some(issuer) = &args.oidc_issuer else { return Ok(None) };
    let secret_file = args.oidc_client_secret_file.as_ref().ok_or("--oidc-issuer needs --oidc-client-secret-file")?;
    let secret = std::fs::read_to_string(secret_file)
        .map_err(|e| format!("--oidc-client-secret-file {}: {e}", secret_file.display()))?;
    let config = quell_server::sso::Config {
        issuer: issuer.clone(),
        client_id: args.oidc_client_id.clone().ok_or("--oidc-issuer needs --oidc-client-id")?,
        client_secret: secret.trim().to_string(),
        redirect_url: args
            .oidc_redirect_url
            .clone()
            .unwrap_or_else(|| format!("{}/login/oidc/callback", public_url.trim_end_matches('/'))),
        org_claim: args.oidc_org_claim.clone(),
        role_claim: args.oidc_role_claim.clone(),
        scopes: if args.oidc_scopes.is_empty() {
            vec!["email".into(), "profile".into()]
        } else {
            args.oidc_scopes.clone()
        },
    };
    config.check()?;
    Ok(Some(config))
}

#[cfg(test)]
mod tests {
    use super::escape_controls;

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(escape_controls("plain"), "plain");
        assert_eq!(escape_controls("a\nb\r\tc\u{1b}[31m"), "a\\nb\\r\\tc\\u{1b}[31m");
    }
}
