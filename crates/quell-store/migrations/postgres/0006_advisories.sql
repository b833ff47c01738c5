-- PostgreSQL's own part of migration 0006, run after migrations/0006_advisories.sql.
CREATE FUNCTION quell_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION '%', TG_ARGV[0]; END $$;
CREATE TRIGGER advisory_versions_immutable BEFORE UPDATE OR DELETE ON advisory_versions
FOR EACH ROW WHEN (OLD.status = 'published') EXECUTE FUNCTION quell_refuse_change('a published advisory version is immutable');
CREATE TRIGGER advisory_decisions_append_only BEFORE UPDATE OR DELETE ON advisory_decisions
FOR EACH ROW EXECUTE FUNCTION quell_refuse_change('decisions are append-only');
