-- SQLite's own part of migration 0006, run after migrations/0006_advisories.sql.
CREATE TRIGGER advisory_versions_immutable BEFORE UPDATE ON advisory_versions WHEN OLD.status = 'published'
BEGIN SELECT RAISE(ABORT, 'a published advisory version is immutable'); END;
CREATE TRIGGER advisory_versions_keep BEFORE DELETE ON advisory_versions WHEN OLD.status = 'published'
BEGIN SELECT RAISE(ABORT, 'a published advisory version is immutable'); END;
CREATE TRIGGER advisory_decisions_no_update BEFORE UPDATE ON advisory_decisions
BEGIN SELECT RAISE(ABORT, 'decisions are append-only'); END;
CREATE TRIGGER advisory_decisions_no_delete BEFORE DELETE ON advisory_decisions
BEGIN SELECT RAISE(ABORT, 'decisions are append-only'); END;
