-- Two-factor login (issue 18): TOTP (RFC 6238) secrets, one-time recovery codes, the half-done
-- logins between password and code, the coordinators' policy, and whether a session was
-- established with a second factor.
CREATE TABLE totp_secrets (
    user_id BIGINT PRIMARY KEY REFERENCES users(id),
    -- Base32, as the authenticator app received it; needed to verify every code.
    secret TEXT NOT NULL,
    -- NULL until a first code confirms the enrolment; only confirmed secrets are asked for.
    confirmed_at BIGINT,
    -- The newest 30-second step whose code was accepted: a code works once.
    last_step BIGINT NOT NULL DEFAULT 0
);
CREATE TABLE recovery_codes (
    id INTEGER PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id),
    code_hash TEXT NOT NULL,
    used_at BIGINT
);
CREATE INDEX recovery_codes_user ON recovery_codes (user_id);
-- A password accepted, the second factor still to come. Only the SHA-256 of the cookie's
-- secret is stored.
CREATE TABLE pending_logins (
    id_hash TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id),
    expires_at BIGINT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0
);
-- Server-wide settings coordinators change at run time (name -> value).
CREATE TABLE settings (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    updated_by BIGINT,
    updated_at BIGINT NOT NULL
);
ALTER TABLE sessions ADD COLUMN two_factor BIGINT NOT NULL DEFAULT 0;
