-- Indicators from `quell hunt --upload` (crate::indicators). Every row of organisation data
-- carries org_id; tlp_rank is 0 CLEAR, 1 GREEN, 2 AMBER, 3 AMBER+STRICT, 4 RED (only <= 2 pools).
CREATE TABLE indicator_values (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    value TEXT NOT NULL,
    known_scanner BIGINT NOT NULL,
    UNIQUE (kind, value)
);
CREATE TABLE indicator_uploads (
    id INTEGER PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    content_sha256 TEXT NOT NULL,
    host TEXT NOT NULL,
    tool_version TEXT NOT NULL,
    tlp_rank BIGINT NOT NULL,
    generated_at BIGINT NOT NULL,
    received_at BIGINT NOT NULL,
    token_id BIGINT NOT NULL,
    indicators BIGINT NOT NULL,
    lines BIGINT NOT NULL,
    UNIQUE (org_id, content_sha256)
);
CREATE TABLE indicator_sightings (
    id INTEGER PRIMARY KEY,
    upload_id BIGINT NOT NULL REFERENCES indicator_uploads(id),
    org_id BIGINT NOT NULL,
    indicator_id BIGINT NOT NULL REFERENCES indicator_values(id),
    tlp_rank BIGINT NOT NULL,
    first_seen BIGINT NOT NULL,
    last_seen BIGINT NOT NULL,
    count BIGINT NOT NULL,
    received_at BIGINT NOT NULL,
    time_source TEXT NOT NULL
);
CREATE INDEX indicator_sightings_org ON indicator_sightings (org_id, indicator_id);
CREATE INDEX indicator_sightings_pool ON indicator_sightings (indicator_id, tlp_rank, org_id);
CREATE TABLE indicator_techniques (
    sighting_id BIGINT NOT NULL REFERENCES indicator_sightings(id),
    org_id BIGINT NOT NULL,
    indicator_id BIGINT NOT NULL,
    tlp_rank BIGINT NOT NULL,
    technique TEXT NOT NULL
);
CREATE INDEX indicator_techniques_indicator ON indicator_techniques (indicator_id, technique);
CREATE INDEX indicator_techniques_org ON indicator_techniques (org_id, indicator_id);
CREATE TABLE indicator_days (
    sighting_id BIGINT NOT NULL REFERENCES indicator_sightings(id),
    org_id BIGINT NOT NULL,
    indicator_id BIGINT NOT NULL,
    tlp_rank BIGINT NOT NULL,
    day BIGINT NOT NULL,
    count BIGINT NOT NULL
);
CREATE INDEX indicator_days_org ON indicator_days (org_id, day);
CREATE INDEX indicator_days_indicator ON indicator_days (indicator_id, day);
CREATE TABLE indicator_lines (
    id INTEGER PRIMARY KEY,
    upload_id BIGINT NOT NULL REFERENCES indicator_uploads(id),
    org_id BIGINT NOT NULL,
    file TEXT NOT NULL,
    line BIGINT NOT NULL,
    time TEXT,
    raw TEXT NOT NULL
);
CREATE INDEX indicator_lines_upload ON indicator_lines (upload_id);
