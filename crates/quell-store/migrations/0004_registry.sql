-- The product status registry (issue 7). Times are Unix seconds; lists are JSON text.
-- The organisation a supplier account speaks for (set by a coordinator): confirmation requests
-- for that supplier's entries go to it.
ALTER TABLE orgs ADD COLUMN supplier TEXT;
ALTER TABLE orgs ADD COLUMN supplier_key TEXT;
CREATE INDEX orgs_supplier_key ON orgs (supplier_key);
-- One product of one supplier. `revision` counts the changes (1 = created); every revision has
-- exactly one row in registry_history. A merged entry keeps its row (and its history) and
-- points at the entry it was merged into.
CREATE TABLE registry_entries (
    id INTEGER PRIMARY KEY,
    supplier TEXT NOT NULL,
    product TEXT NOT NULL,
    supplier_key TEXT NOT NULL,
    product_key TEXT NOT NULL,
    purl TEXT,
    cpe TEXT,
    notes TEXT NOT NULL,
    links TEXT NOT NULL,
    sources TEXT NOT NULL,
    revision BIGINT NOT NULL,
    merged_into BIGINT REFERENCES registry_entries(id),
    created_at BIGINT NOT NULL,
    created_by TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    updated_by TEXT NOT NULL,
    UNIQUE (supplier_key, product_key)
);
CREATE INDEX registry_entries_product ON registry_entries (product_key);
CREATE INDEX registry_entries_purl ON registry_entries (purl);
CREATE INDEX registry_entries_cpe ON registry_entries (cpe);
CREATE INDEX registry_entries_merged ON registry_entries (merged_into);
CREATE INDEX registry_entries_updated ON registry_entries (updated_at);
-- The current status of an entry per vulnerability (absent = no information).
CREATE TABLE registry_statuses (
    entry_id BIGINT NOT NULL REFERENCES registry_entries(id),
    cve TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('vulnerable', 'fix', 'workaround', 'not_vulnerable', 'under_investigation')),
    affected_versions TEXT NOT NULL,
    fixed_versions TEXT NOT NULL,
    PRIMARY KEY (entry_id, cve)
);
CREATE INDEX registry_statuses_cve ON registry_statuses (cve, status, entry_id);
CREATE INDEX registry_statuses_status ON registry_statuses (status, entry_id);
-- Append-only: one row per revision of an entry, with the full entry as it became.
CREATE TABLE registry_history (
    id INTEGER PRIMARY KEY,
    entry_id BIGINT NOT NULL REFERENCES registry_entries(id),
    revision BIGINT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('import', 'edit', 'accepted_proposal', 'merge', 'supplier_confirmation')),
    snapshot TEXT NOT NULL,
    user_id BIGINT,
    user_email TEXT,
    org_id BIGINT,
    org_name TEXT,
    at BIGINT NOT NULL,
    source TEXT,
    UNIQUE (entry_id, revision)
);
CREATE INDEX registry_history_at ON registry_history (at);
-- Additions and changes proposed by organisations, decided by a coordinator.
CREATE TABLE registry_proposals (
    id INTEGER PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    user_id BIGINT NOT NULL REFERENCES users(id),
    entry_id BIGINT REFERENCES registry_entries(id),
    base_revision BIGINT,
    proposed TEXT NOT NULL,
    comment TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('open', 'accepted', 'rejected')),
    reason TEXT,
    created_at BIGINT NOT NULL,
    decided_at BIGINT,
    decided_by BIGINT,
    result_entry_id BIGINT,
    result_revision BIGINT
);
CREATE INDEX registry_proposals_org ON registry_proposals (org_id, id);
CREATE INDEX registry_proposals_state ON registry_proposals (state, id);
-- An organisation's software "photo": the products it runs, linked to registry entries by key
-- (supplier_key, product_key) or an explicit entry_id.
CREATE TABLE org_products (
    id INTEGER PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    entry_id BIGINT REFERENCES registry_entries(id),
    supplier TEXT NOT NULL,
    product TEXT NOT NULL,
    version TEXT,
    supplier_key TEXT NOT NULL,
    product_key TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX org_products_org ON org_products (org_id, id);
CREATE INDEX org_products_key ON org_products (supplier_key, product_key);
CREATE INDEX org_products_entry ON org_products (entry_id);
-- "An entry you run changed": one row per organisation and change.
CREATE TABLE registry_notifications (
    id INTEGER PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    entry_id BIGINT NOT NULL REFERENCES registry_entries(id),
    revision BIGINT NOT NULL,
    kind TEXT NOT NULL,
    message TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    read_at BIGINT
);
CREATE INDEX registry_notifications_org ON registry_notifications (org_id, id);
-- A request from an organisation to a supplier organisation to confirm an entry's status.
CREATE TABLE registry_confirmations (
    id INTEGER PRIMARY KEY,
    entry_id BIGINT NOT NULL REFERENCES registry_entries(id),
    requester_org_id BIGINT NOT NULL REFERENCES orgs(id),
    supplier_org_id BIGINT NOT NULL REFERENCES orgs(id),
    requested_by BIGINT NOT NULL REFERENCES users(id),
    message TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('open', 'answered')),
    created_at BIGINT NOT NULL,
    answered_at BIGINT,
    answered_by BIGINT,
    answer TEXT,
    revision BIGINT
);
CREATE INDEX registry_confirmations_requester ON registry_confirmations (requester_org_id, id);
CREATE INDEX registry_confirmations_supplier ON registry_confirmations (supplier_org_id, id);
