CREATE TABLE advisory_counters (
    year BIGINT PRIMARY KEY,
    last BIGINT NOT NULL
);
CREATE TABLE advisories (
    id INTEGER PRIMARY KEY,
    identifier TEXT NOT NULL UNIQUE,
    year BIGINT NOT NULL,
    number BIGINT NOT NULL,
    created_by BIGINT NOT NULL REFERENCES users(id),
    created_at BIGINT NOT NULL
);
CREATE TABLE advisory_versions (
    id INTEGER PRIMARY KEY,
    advisory_id BIGINT NOT NULL REFERENCES advisories(id),
    version BIGINT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('draft', 'published')),
    tlp TEXT NOT NULL,
    title TEXT NOT NULL,
    chance TEXT NOT NULL,
    damage TEXT NOT NULL,
    severity TEXT NOT NULL,
    content TEXT NOT NULL,
    recipients TEXT NOT NULL,
    created_by BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    published_by BIGINT,
    published_at BIGINT,
    UNIQUE (advisory_id, version)
);
CREATE INDEX advisory_versions_published ON advisory_versions (status, published_at);
CREATE TABLE advisory_cves (
    version_id BIGINT NOT NULL REFERENCES advisory_versions(id),
    cve TEXT NOT NULL,
    PRIMARY KEY (version_id, cve)
);
CREATE TABLE advisory_audience (
    version_id BIGINT NOT NULL REFERENCES advisory_versions(id),
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    via TEXT NOT NULL,
    PRIMARY KEY (version_id, org_id)
);
CREATE INDEX advisory_audience_org ON advisory_audience (org_id);
CREATE TABLE advisory_named (
    version_id BIGINT NOT NULL REFERENCES advisory_versions(id),
    user_id BIGINT NOT NULL REFERENCES users(id),
    PRIMARY KEY (version_id, user_id)
);
CREATE TABLE external_advisories (
    id INTEGER PRIMARY KEY,
    publisher TEXT NOT NULL,
    tracking_id TEXT NOT NULL,
    version TEXT NOT NULL,
    title TEXT NOT NULL,
    tlp_label TEXT NOT NULL,
    current_release_date TEXT NOT NULL,
    cves TEXT NOT NULL,
    document TEXT NOT NULL,
    imported_by BIGINT NOT NULL REFERENCES users(id),
    imported_at BIGINT NOT NULL,
    UNIQUE (publisher, tracking_id, version)
);
CREATE TABLE target_groups (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL
);
CREATE TABLE target_group_orgs (
    group_id BIGINT NOT NULL REFERENCES target_groups(id),
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    PRIMARY KEY (group_id, org_id)
);
CREATE TABLE target_group_children (
    group_id BIGINT NOT NULL REFERENCES target_groups(id),
    child_id BIGINT NOT NULL REFERENCES target_groups(id),
    PRIMARY KEY (group_id, child_id),
    CHECK (group_id <> child_id)
);
CREATE TABLE org_webhooks (
    org_id BIGINT PRIMARY KEY REFERENCES orgs(id),
    url TEXT NOT NULL,
    secret TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE TABLE org_contacts (
    id INTEGER PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    name TEXT NOT NULL,
    phone TEXT NOT NULL,
    email TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX org_contacts_org ON org_contacts (org_id);
CREATE TABLE deliveries (
    id INTEGER PRIMARY KEY,
    version_id BIGINT NOT NULL REFERENCES advisory_versions(id),
    org_id BIGINT,
    user_id BIGINT,
    channel TEXT NOT NULL CHECK (channel IN ('webhook', 'email')),
    target TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'sending', 'delivered', 'failed')),
    attempts BIGINT NOT NULL,
    next_at_ms BIGINT NOT NULL,
    lease_until_ms BIGINT NOT NULL,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    delivered_at BIGINT,
    UNIQUE (version_id, channel, target)
);
CREATE INDEX deliveries_due ON deliveries (state, next_at_ms);
CREATE TABLE delivery_attempts (
    id INTEGER PRIMARY KEY,
    delivery_id BIGINT NOT NULL REFERENCES deliveries(id),
    at BIGINT NOT NULL,
    duration_ms BIGINT NOT NULL,
    status BIGINT NOT NULL,
    error TEXT
);
CREATE INDEX delivery_attempts_delivery ON delivery_attempts (delivery_id);
CREATE TABLE call_list (
    id INTEGER PRIMARY KEY,
    advisory_id BIGINT NOT NULL REFERENCES advisories(id),
    version_id BIGINT NOT NULL REFERENCES advisory_versions(id),
    contact_id BIGINT NOT NULL REFERENCES org_contacts(id),
    org_id BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (advisory_id, contact_id)
);
CREATE TABLE calls (
    id INTEGER PRIMARY KEY,
    call_id BIGINT NOT NULL REFERENCES call_list(id),
    caller_id BIGINT NOT NULL REFERENCES users(id),
    at BIGINT NOT NULL,
    result TEXT NOT NULL CHECK (result IN ('reached', 'no_answer', 'voicemail', 'wrong_number', 'call_back')),
    note TEXT NOT NULL
);
CREATE TABLE advisory_decisions (
    id INTEGER PRIMARY KEY,
    advisory_id BIGINT NOT NULL REFERENCES advisories(id),
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    host_id BIGINT REFERENCES hosts(id),
    org_product_id BIGINT,
    decision TEXT NOT NULL CHECK (decision IN ('patched', 'mitigated', 'switched_off', 'not_affected', 'risk_accepted')),
    measure TEXT,
    justification TEXT,
    reason TEXT,
    expires_at BIGINT,
    user_id BIGINT NOT NULL REFERENCES users(id),
    at BIGINT NOT NULL
);
CREATE INDEX advisory_decisions_system ON advisory_decisions (advisory_id, org_id, host_id, at);
