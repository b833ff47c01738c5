//! The database: one `sqlx` [`AnyPool`] over SQLite (embedded, the default) or PostgreSQL.
//!
//! Invariants:
//! - Queries are written once, in the SQL both engines accept: `$1` placeholders, `BIGINT`
//!   columns, `CAST(SUM(..) AS BIGINT)` (PostgreSQL's `SUM` is `NUMERIC`, which `Any` cannot
//!   decode), `INSERT .. ON CONFLICT .. RETURNING`. Only the migrations differ per engine.
//! - Times are Unix seconds (`BIGINT`), never engine-specific types.
//! - SQLite runs in WAL mode with `synchronous=FULL`: a committed transaction is on disk before
//!   the server acknowledges it, so an acknowledged report survives `kill -9` and power loss.
//! - Migrations run at start, each in a transaction, recorded in `quell_migrations`; on
//!   PostgreSQL an advisory lock lets several servers start at once.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, ConnectOptions, Executor, Row};

use crate::StoreError;
use crate::limits::SQLITE_BUSY_TIMEOUT;

/// Which engine a pool talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The migrations, in order: (version, SQLite text, PostgreSQL text).
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, include_str!("../migrations/sqlite/0001_core.sql"), include_str!("../migrations/postgres/0001_core.sql")),
    (
        2,
        include_str!("../migrations/sqlite/0002_sessions.sql"),
        include_str!("../migrations/postgres/0002_sessions.sql"),
    ),
    (3, include_str!("../migrations/sqlite/0003_sharing.sql"), include_str!("../migrations/postgres/0003_sharing.sql")),
    (
        4,
        include_str!("../migrations/sqlite/0004_registry.sql"),
        include_str!("../migrations/postgres/0004_registry.sql"),
    ),
    (
        5,
        include_str!("../migrations/sqlite/0005_indicators.sql"),
        include_str!("../migrations/postgres/0005_indicators.sql"),
    ),
    (
        6,
        include_str!("../migrations/sqlite/0006_advisories.sql"),
        include_str!("../migrations/postgres/0006_advisories.sql"),
    ),
    (
        7,
        include_str!("../migrations/sqlite/0007_inventories.sql"),
        include_str!("../migrations/postgres/0007_inventories.sql"),
    ),
    (8, include_str!("../migrations/sqlite/0008_packs.sql"), include_str!("../migrations/postgres/0008_packs.sql")),
    (9, include_str!("../migrations/sqlite/0009_openpgp.sql"), include_str!("../migrations/postgres/0009_openpgp.sql")),
    (
        10,
        include_str!("../migrations/sqlite/0010_language.sql"),
        include_str!("../migrations/postgres/0010_language.sql"),
    ),
    (
        11,
        include_str!("../migrations/sqlite/0011_indicator_vulnerabilities.sql"),
        include_str!("../migrations/postgres/0011_indicator_vulnerabilities.sql"),
    ),
    (
        12,
        include_str!("../migrations/sqlite/0012_accounts.sql"),
        include_str!("../migrations/postgres/0012_accounts.sql"),
    ),
    (
        13,
        include_str!("../migrations/sqlite/0013_csaf_subscriptions.sql"),
        include_str!("../migrations/postgres/0013_csaf_subscriptions.sql"),
    ),
    (
        14,
        include_str!("../migrations/sqlite/0014_two_factor.sql"),
        include_str!("../migrations/postgres/0014_two_factor.sql"),
    ),
    (
        15,
        include_str!("../migrations/sqlite/0015_password_resets.sql"),
        include_str!("../migrations/postgres/0015_password_resets.sql"),
    ),
    (
        16,
        include_str!("../migrations/sqlite/0016_single_sign_on.sql"),
        include_str!("../migrations/postgres/0016_single_sign_on.sql"),
    ),
];

/// The database handle shared by every request. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Db {
    pub pool: AnyPool,
    pub backend: Backend,
}

/// Where the database is: a `postgres://` URL, a `sqlite://` URL, or a data directory that gets
/// `quell.db`.
#[derive(Debug, Clone)]
pub enum DbLocation {
    Postgres(String),
    SqliteFile(PathBuf),
}

impl DbLocation {
    /// Reads `--db`: `postgres://...`/`postgresql://...` is PostgreSQL, `sqlite://PATH` or any
    /// other text a SQLite file; `None` means `<data_dir>/quell.db`.
    pub fn parse(db: Option<&str>, data_dir: &Path) -> DbLocation {
        match db {
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                DbLocation::Postgres(url.to_string())
            }
            Some(url) => DbLocation::SqliteFile(PathBuf::from(url.strip_prefix("sqlite://").unwrap_or(url))),
            None => DbLocation::SqliteFile(data_dir.join("quell.db")),
        }
    }

    /// Refuses a SQLite file in a directory that every local user may read (the database holds
    /// every organisation's hosts, AMBER and RED advisories and webhook secrets). PostgreSQL
    /// and directories that do not exist yet (they are created 0700) pass.
    pub fn refuse_readable_dir(&self) -> Result<(), StoreError> {
        #[cfg(unix)]
        if let DbLocation::SqliteFile(path) = self {
            use std::os::unix::fs::PermissionsExt;
            let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
            if let Ok(meta) = std::fs::metadata(dir) {
                let mode = meta.permissions().mode() & 0o777;
                if mode & 0o004 != 0 {
                    return Err(StoreError::Config(format!(
                        "the data directory {} is readable by every local user (mode {mode:03o}): \
                         `chmod 700` it, or start with --allow-readable-data-dir",
                        dir.display()
                    )));
                }
            }
        }
        Ok(())
    }

    /// For messages: the file, or the PostgreSQL URL without its password.
    pub fn describe(&self) -> String {
        match self {
            DbLocation::SqliteFile(path) => format!("sqlite {}", path.display()),
            DbLocation::Postgres(url) => match (url.find("://"), url.rfind('@')) {
                (Some(scheme), Some(at)) if at > scheme => {
                    let user = &url[scheme + 3..at];
                    let user = user.split(':').next().unwrap_or("");
                    format!("postgres {}{user}:***{}", &url[..scheme + 3], &url[at..])
                }
                _ => format!("postgres {url}"),
            },
        }
    }
}

/// Creates a directory (and its parents) readable by its owner only (0700).
fn private_dir(dir: &Path) -> Result<(), StoreError> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir).map_err(|e| StoreError::Config(format!("cannot create {}: {e}", dir.display())))
}

/// Creates the database file readable and writable by its owner only (0600), or takes group and
/// other permissions away from an existing one. SQLite creates its `-wal` and `-shm` files with
/// the permissions of the database file, so they follow.
fn private_file(path: &Path) -> Result<(), StoreError> {
    let error = |e: std::io::Error| StoreError::Config(format!("cannot secure {}: {e}", path.display()));
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        std::fs::OpenOptions::new().create(true).append(true).mode(0o600).open(path).map_err(error)?;
        let mode = std::fs::metadata(path).map_err(error)?.permissions().mode();
        if mode & 0o077 != 0 {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode & 0o700)).map_err(error)?;
        }
    }
    #[cfg(not(unix))]
    std::fs::OpenOptions::new().create(true).append(true).open(path).map_err(error)?;
    Ok(())
}

impl Db {
    /// Opens (creating the SQLite file and its directory when needed) and migrates.
    pub async fn open(location: &DbLocation, connections: u32) -> Result<Db, StoreError> {
        sqlx::any::install_default_drivers();
        let (url, backend) = match location {
            DbLocation::Postgres(url) => (url.clone(), Backend::Postgres),
            DbLocation::SqliteFile(path) => {
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    private_dir(dir)?;
                }
                private_file(path)?;
                (format!("sqlite://{}?mode=rwc", path.display()), Backend::Sqlite)
            }
        };
        let options = AnyConnectOptions::from_str(&url)
            .map_err(|e| StoreError::Config(format!("bad database location: {e}")))?
            .disable_statement_logging();
        let busy_ms = SQLITE_BUSY_TIMEOUT.as_millis();
        let pool = AnyPoolOptions::new()
            .max_connections(connections.max(1))
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        conn.execute(
                            format!(
                                "PRAGMA busy_timeout = {busy_ms}; PRAGMA journal_mode = WAL; \
                                 PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;"
                            )
                            .as_str(),
                        )
                        .await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await?;
        let db = Db { pool, backend };
        db.migrate().await?;
        Ok(db)
    }

    /// Whether the database answers (the health check).
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").fetch_one(&self.pool).await?;
        Ok(())
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        if self.backend == Backend::Postgres {
            // Several servers may start together: one migrates, the others wait here.
            sqlx::query("SELECT pg_advisory_xact_lock(7423001)").execute(&mut *tx).await?;
        }
        tx.execute(
            "CREATE TABLE IF NOT EXISTS quell_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)",
        )
        .await?;
        let applied: Vec<i64> = sqlx::query("SELECT version FROM quell_migrations")
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(|row| row.try_get::<i64, _>("version"))
            .collect::<Result<_, _>>()?;
        for (version, sqlite, postgres) in MIGRATIONS {
            if applied.contains(version) {
                continue;
            }
            let text = if self.backend == Backend::Sqlite { sqlite } else { postgres };
            sqlx::raw_sql(text).execute(&mut *tx).await?;
            sqlx::query("INSERT INTO quell_migrations (version, applied_at) VALUES ($1, $2)")
                .bind(*version)
                .bind(quell_model::time::now())
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations() {
        let dir = Path::new("/d");
        assert!(matches!(DbLocation::parse(None, dir), DbLocation::SqliteFile(p) if p == Path::new("/d/quell.db")));
        assert!(matches!(DbLocation::parse(Some("postgres://u:p@h/db"), dir), DbLocation::Postgres(_)));
        assert!(
            matches!(DbLocation::parse(Some("sqlite:///x/y.db"), dir), DbLocation::SqliteFile(p) if p == Path::new("/x/y.db"))
        );
        assert_eq!(
            DbLocation::parse(Some("postgres://u:secret@h:5432/db"), dir).describe(),
            "postgres postgres://u:***@h:5432/db"
        );
    }
}
