-- The vulnerabilities of the attempts that carried an indicator (CVE ids: Log4Shell, Text4Shell,
-- Spring4Shell), per sighting, as its techniques are.
CREATE TABLE indicator_vulnerabilities (
    sighting_id BIGINT NOT NULL REFERENCES indicator_sightings(id),
    org_id BIGINT NOT NULL,
    indicator_id BIGINT NOT NULL,
    tlp_rank BIGINT NOT NULL,
    cve TEXT NOT NULL
);
CREATE INDEX indicator_vulnerabilities_indicator ON indicator_vulnerabilities (indicator_id, cve);
CREATE INDEX indicator_vulnerabilities_org ON indicator_vulnerabilities (org_id, indicator_id);
