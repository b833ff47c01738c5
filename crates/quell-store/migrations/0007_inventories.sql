-- Inventories: every host's full component list (quell scan --inventory) and SBOMs
-- (CycloneDX, SPDX) of hosts and applications, the latest per system and source kind plus
-- history, asked by package key ("where does X run?") and matched against advisories.

-- A system is a host (scanned) or an application (known by its SBOMs only).
ALTER TABLE hosts ADD COLUMN kind TEXT NOT NULL DEFAULT 'host';

-- One stored component list: a scan report's inventory or one SBOM document.
CREATE TABLE component_sources (
    id INTEGER PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    host_id BIGINT NOT NULL REFERENCES hosts(id),
    kind TEXT NOT NULL CHECK (kind IN ('scan', 'cyclonedx', 'spdx')),
    report_id BIGINT REFERENCES reports(id),
    body_sha256 TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    taken_at BIGINT NOT NULL,
    components BIGINT NOT NULL,
    tool TEXT,
    spec_version TEXT,
    -- 1 for the newest list of its system and kind (by taken_at, then id).
    current BIGINT NOT NULL DEFAULT 0,
    UNIQUE (org_id, body_sha256)
);
CREATE INDEX component_sources_system ON component_sources (host_id, kind, taken_at);

-- One component of a list. org_id, host_id and current are copied from the source so the ask
-- is one index range scan.
CREATE TABLE components (
    id INTEGER PRIMARY KEY,
    source_id BIGINT NOT NULL REFERENCES component_sources(id),
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    host_id BIGINT NOT NULL REFERENCES hosts(id),
    purl_key TEXT,
    purl TEXT,
    name TEXT NOT NULL,
    version TEXT,
    sha1 TEXT,
    sha256 TEXT,
    path TEXT NOT NULL,
    confidence TEXT NOT NULL,
    current BIGINT NOT NULL DEFAULT 0
);
-- Covering the ask: (organisation, system, version) of a package's current rows without a
-- table lookup.
CREATE INDEX components_ask ON components (purl_key, current, org_id, version, host_id);
CREATE INDEX components_source ON components (source_id);
CREATE INDEX components_host ON components (host_id, purl_key);
