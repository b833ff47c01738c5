-- Account lifecycle (disable, re-enable, remove; password changes) and the audit log.
ALTER TABLE users ADD COLUMN disabled_at BIGINT;
ALTER TABLE users ADD COLUMN removed_at BIGINT;
-- Append-only: who did what to whom, and when. `org_id` is the organisation the event concerns
-- (its account, its data), NULL for coordinators' own.
CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY,
    at BIGINT NOT NULL,
    actor_user_id BIGINT,
    actor_email TEXT,
    actor_org_id BIGINT,
    action TEXT NOT NULL,
    org_id BIGINT,
    target TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_org ON audit_log (org_id, id);
