//! The limits the store enforces itself. The server re-exports them beside its own
//! (`quell_server::limits`), so every limit is still found in one place.

use std::time::Duration;

/// Longest e-mail, organisation, token name.
pub const MAX_NAME_BYTES: usize = 200;

/// Shortest password accepted for an account.
pub const MIN_PASSWORD_CHARS: usize = 12;

/// How long a request waits for a locked SQLite database before failing.
pub const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(30);
