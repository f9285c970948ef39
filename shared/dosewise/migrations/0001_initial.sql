-- Schema 1: flags, their audit trail, and the platform deliveries already handled.
-- Times are ISO-8601 UTC text with microseconds (same width everywhere, so they sort as text).

PRAGMA application_id = 1148154725;  -- 'Dose': tells our files apart from other SQLite databases

CREATE TABLE flags (
    id               INTEGER PRIMARY KEY,
    platform         TEXT    NOT NULL,
    server_id        TEXT    NOT NULL,
    channel_id       TEXT    NOT NULL,
    message_id       TEXT    NOT NULL,
    permalink        TEXT    NOT NULL DEFAULT '',
    author_id        TEXT    NOT NULL,
    author_name      TEXT    NOT NULL DEFAULT '',
    text             TEXT    NOT NULL,
    original_text    TEXT    NOT NULL DEFAULT '',
    score            REAL    NOT NULL,
    category         TEXT    NOT NULL,
    reasons          TEXT    NOT NULL DEFAULT '[]',   -- JSON list of {rule, signal, span, match}
    source           TEXT    NOT NULL,
    status           TEXT    NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'upheld', 'dismissed')),
    created_at       TEXT    NOT NULL,
    updated_at       TEXT    NOT NULL,
    reporter_id      TEXT,
    reporter_name    TEXT,
    reviewed_by_id   TEXT,
    reviewed_by_name TEXT,
    reviewed_at      TEXT,
    action           TEXT,
    note             TEXT    NOT NULL DEFAULT '',
    alert_platform   TEXT,
    alert_server_id  TEXT,
    alert_channel_id TEXT,
    alert_message_id TEXT,
    alert_permalink  TEXT,
    text_purged      INTEGER NOT NULL DEFAULT 0,
    -- One flag per message, whatever the retries, edits and reports.
    UNIQUE (platform, channel_id, message_id)
);

-- The moderator queue: open flags of one server, oldest first.
CREATE INDEX flags_queue ON flags (server_id, status, created_at);

CREATE TABLE audit_events (
    id         INTEGER PRIMARY KEY,
    flag_id    INTEGER NOT NULL REFERENCES flags (id),
    actor_id   TEXT    NOT NULL,
    actor_name TEXT    NOT NULL DEFAULT '',
    action     TEXT    NOT NULL,
    note       TEXT    NOT NULL DEFAULT '',
    at         TEXT    NOT NULL
);

CREATE INDEX audit_by_flag ON audit_events (flag_id, id);

CREATE TABLE processed_events (
    platform TEXT NOT NULL,
    event_id TEXT NOT NULL,
    seen_at  TEXT NOT NULL,
    PRIMARY KEY (platform, event_id)
) WITHOUT ROWID;
