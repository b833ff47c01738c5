-- Signed detection packs handed to agents (quell_store::packs). Every upload is a row (history
-- kept); the current pack of a name is its latest row, unless that row was withdrawn. Packs are
-- not organisation data: every authenticated token reads the current ones.
CREATE TABLE packs (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    pack TEXT NOT NULL,
    signature TEXT NOT NULL,
    key_id TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    uploaded_at BIGINT NOT NULL,
    uploaded_by BIGINT NOT NULL REFERENCES users(id),
    withdrawn_at BIGINT
);
CREATE INDEX packs_name ON packs (name, id);
