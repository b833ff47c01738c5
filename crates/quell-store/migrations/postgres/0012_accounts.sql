-- PostgreSQL's own part of migration 0012, run after migrations/0012_accounts.sql.
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
FOR EACH ROW EXECUTE FUNCTION quell_refuse_change('the audit log is append-only');
