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

Then, on each host:
  quell scan --upload https://quell.example.org --token qt_... /

API (Authorization: Bearer <token>): POST /api/v1/reports;
GET /api/v1/hosts, /api/v1/hosts/ID, /api/v1/hosts/ID/reports,
/api/v1/reports/ID, /api/v1/inventory, /api/v1/trend?days=N,
/api/v1/search?component=&version=&q=, /api/v1/orgs (coordinators),
/api/v1/tokens, /api/v1/users; /healthz, /metrics, /api/openapi.json.
Indicators (quell hunt --upload): POST/GET /api/v1/indicators,
/api/v1/indicators/pool, /api/v1/indicators/feed?format=stix|misp|csv.
Pages: /login, /, /hosts, /search, /indicators, /tokens.

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

    /// Mark session cookies Secure: for browsers reaching the server over HTTPS (quell serve speaks
    /// HTTP; put a TLS-terminating proxy in front of it for anything but loopback).
    #[arg(long)]
    pub secure_cookies: bool,

    /// Log format on stderr.
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
}

/// Runs `quell serve`; returns the exit code.
pub fn run(args: ServeArgs) -> u8 {
    let subscriber = tracing_subscriber::fmt().with_writer(std::io::stderr).with_max_level(tracing::Level::INFO);
    let installed = match args.log_format {
        LogFormat::Text => subscriber.try_init(),
        LogFormat::Json => subscriber.json().try_init(),
    };
    if let Err(e) = installed {
        eprintln!("quell serve: cannot set up logging: {e}");
    }
    let location = args.db.location();
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
        },
        secure_cookies: args.secure_cookies,
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
        Ok(Err(e)) | Err(e) => fail(&e.to_string()),
    }
}

fn fail(message: &str) -> u8 {
    eprintln!("quell admin: {message}");
    2
}
