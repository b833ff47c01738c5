-- One-time password-reset links an administrator issues for an account (issue 18). Only the
-- SHA-256 of the link's secret is stored; a link works once, until it expires, and issuing a
-- new one for the account retires the old.
CREATE TABLE password_resets (
    id INTEGER PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id),
    secret_hash TEXT NOT NULL UNIQUE,
    created_by BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);
CREATE INDEX password_resets_user ON password_resets (user_id);
