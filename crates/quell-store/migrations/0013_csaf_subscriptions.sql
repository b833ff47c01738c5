-- The aggregator (issue 19, point 2): coordinators subscribe to other CSAF providers'
-- provider-metadata.json; a poller imports their documents read-only into external_advisories.
CREATE TABLE csaf_subscriptions (
    id INTEGER PRIMARY KEY,
    metadata_url TEXT NOT NULL UNIQUE,
    -- A key the coordinator pinned: its fingerprint (upper-case hex) and, when given, the key.
    pinned_fingerprint TEXT,
    pinned_key TEXT,
    -- A bearer token the peer issued to us, sent only to the metadata URL's origin.
    access_token TEXT,
    created_by BIGINT NOT NULL REFERENCES users(id),
    created_at BIGINT NOT NULL,
    removed_at BIGINT,
    -- The last poll: when it was claimed, when it ended, its outcome and summary.
    claimed_at BIGINT,
    polled_at BIGINT,
    poll_status TEXT NOT NULL DEFAULT 'new' CHECK (poll_status IN ('new', 'ok', 'partial', 'failed')),
    poll_summary TEXT NOT NULL DEFAULT '',
    -- From the last metadata read (for aggregator.json).
    publisher_name TEXT,
    publisher_namespace TEXT,
    publisher_category TEXT,
    role TEXT,
    metadata_updated TEXT,
    listed BIGINT NOT NULL DEFAULT 0
);
-- What each poll did per document (and per feed or key that failed): readable by coordinators.
CREATE TABLE csaf_subscription_log (
    id INTEGER PRIMARY KEY,
    subscription_id BIGINT NOT NULL REFERENCES csaf_subscriptions(id),
    at BIGINT NOT NULL,
    url TEXT NOT NULL,
    outcome TEXT NOT NULL CHECK (outcome IN ('imported', 'refused', 'error')),
    reason TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX csaf_subscription_log_sub ON csaf_subscription_log (subscription_id, id);
-- Conditional requests: the validators of every URL fetched, and the feed's time of a document
-- last imported or found unchanged.
CREATE TABLE csaf_fetch_cache (
    subscription_id BIGINT NOT NULL REFERENCES csaf_subscriptions(id),
    url TEXT NOT NULL,
    etag TEXT,
    last_modified TEXT,
    marker TEXT,
    sha256 TEXT,
    fetched_at BIGINT NOT NULL,
    PRIMARY KEY (subscription_id, url)
);
ALTER TABLE external_advisories ADD COLUMN subscription_id BIGINT REFERENCES csaf_subscriptions(id);
ALTER TABLE external_advisories ADD COLUMN source_url TEXT;
