//! The limits the store enforces itself. The server re-exports them beside its own
//! (`quell_server::limits`), so every limit is still found in one place.

use std::time::Duration;

/// Longest e-mail, organisation, token name.
pub const MAX_NAME_BYTES: usize = 200;

/// Shortest password accepted for an account.
pub const MIN_PASSWORD_CHARS: usize = 12;

/// How long a request waits for a locked SQLite database before failing.
pub const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// Most rows any list endpoint returns in one page (`?limit=` is capped at this).
pub const MAX_PAGE_ROWS: i64 = 1000;

/// Days a trend covers at most (`?days=` is capped at this).
pub const MAX_TREND_DAYS: i64 = 366;

/// Rows inserted by one multi-row `INSERT` when storing findings (keeps the statement under
/// SQLite's and PostgreSQL's parameter limits: 9 parameters a row).
pub const FINDINGS_PER_INSERT: usize = 500;

/// Rows inserted by one multi-row `INSERT` when storing inventory components (12 parameters a
/// row: under SQLite's 32,766 and PostgreSQL's 65,535).
pub const COMPONENTS_PER_INSERT: usize = 1000;

/// How long a password-reset link an administrator issued stays usable (`quell serve
/// --reset-link-hours` changes it per process).
pub const PASSWORD_RESET_LIFETIME: Duration = Duration::from_secs(24 * 3600);

/// How long a login may wait between its password and its second factor.
pub const PENDING_LOGIN_LIFETIME: Duration = Duration::from_secs(5 * 60);

/// Wrong codes one pending login allows before the password must be given again (with the
/// login limits on passwords, this bounds guessing a 6-digit code).
pub const MAX_SECOND_FACTOR_ATTEMPTS: i64 = 5;

/// Recovery codes issued with each confirmed enrolment (each works once).
pub const RECOVERY_CODES: usize = 10;
