CREATE TABLE orgs (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL
);
CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('coordinator', 'admin', 'member')),
    org_id BIGINT REFERENCES orgs(id),
    created_at BIGINT NOT NULL
);
CREATE TABLE tokens (
    id INTEGER PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    user_id BIGINT NOT NULL REFERENCES users(id),
    name TEXT NOT NULL,
    scope TEXT NOT NULL CHECK (scope IN ('upload', 'full')),
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE TABLE hosts (
    id INTEGER PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    name TEXT NOT NULL,
    first_seen BIGINT NOT NULL,
    last_seen BIGINT NOT NULL,
    latest_report_id BIGINT,
    UNIQUE (org_id, name)
);
CREATE TABLE reports (
    id INTEGER PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    host_id BIGINT NOT NULL REFERENCES hosts(id),
    body_sha256 TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    scanned_at BIGINT NOT NULL,
    tool_version TEXT,
    files BIGINT NOT NULL,
    archives BIGINT NOT NULL,
    bytes BIGINT NOT NULL,
    findings BIGINT NOT NULL,
    affected BIGINT NOT NULL,
    errors BIGINT NOT NULL,
    elapsed_ms BIGINT NOT NULL,
    token_id BIGINT NOT NULL,
    UNIQUE (org_id, body_sha256)
);
CREATE INDEX reports_host ON reports (host_id, scanned_at);
CREATE INDEX reports_org ON reports (org_id, scanned_at);
CREATE TABLE findings (
    id INTEGER PRIMARY KEY,
    report_id BIGINT NOT NULL REFERENCES reports(id),
    org_id BIGINT NOT NULL,
    path TEXT NOT NULL,
    component TEXT NOT NULL,
    version TEXT,
    version_range TEXT,
    affected BIGINT NOT NULL,
    record TEXT NOT NULL
);
CREATE INDEX findings_report ON findings (report_id);
CREATE INDEX findings_component ON findings (org_id, component, version);
CREATE TABLE report_errors (
    id INTEGER PRIMARY KEY,
    report_id BIGINT NOT NULL REFERENCES reports(id),
    path TEXT NOT NULL,
    message TEXT NOT NULL
);
CREATE INDEX report_errors_report ON report_errors (report_id);
CREATE TABLE report_cve_counts (
    report_id BIGINT NOT NULL REFERENCES reports(id),
    cve TEXT NOT NULL,
    status TEXT NOT NULL,
    count BIGINT NOT NULL,
    PRIMARY KEY (report_id, cve, status)
);
