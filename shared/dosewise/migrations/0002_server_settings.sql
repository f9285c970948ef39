-- Schema 2: per-server settings changed at run time, and indexes for escalation, listing and expiry.

CREATE TABLE server_settings (
    platform   TEXT NOT NULL,
    server_id  TEXT NOT NULL,
    key        TEXT NOT NULL,
    value      TEXT NOT NULL,   -- JSON
    updated_at TEXT NOT NULL,
    PRIMARY KEY (platform, server_id, key)
) WITHOUT ROWID;

-- Repeat offenders: upheld flags of one author in a time window.
CREATE INDEX flags_by_author ON flags (server_id, author_id, status, created_at);

-- Listing across servers (CLI, `pending_flags()` without a server).
CREATE INDEX flags_by_status ON flags (status, created_at);

-- Retention: find flags whose text is due for purging without a full scan.
CREATE INDEX flags_unpurged ON flags (text_purged, created_at);

CREATE INDEX processed_events_age ON processed_events (seen_at);
