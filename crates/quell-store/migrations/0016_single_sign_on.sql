-- Single sign-on with OpenID Connect (issue 18).
-- A login under way at the identity provider: its state (only its SHA-256), nonce and PKCE
-- verifier, until the provider sends the browser back.
CREATE TABLE sso_logins (
    state_hash TEXT PRIMARY KEY,
    nonce TEXT NOT NULL,
    pkce_verifier TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
-- Which account an identity (issuer, subject) is: linked at its first login, by verified e-mail.
CREATE TABLE sso_identities (
    id INTEGER PRIMARY KEY,
    issuer TEXT NOT NULL,
    subject TEXT NOT NULL,
    user_id BIGINT NOT NULL REFERENCES users(id),
    linked_at BIGINT NOT NULL,
    UNIQUE (issuer, subject)
);
