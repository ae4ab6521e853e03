-- Parley's local store. Times are epoch milliseconds (UTC).
-- owner: the account a row belongs to; NULL for rows written while signed out (sync_state 'local').
-- sync_state: local | pending | synced | rejected. outbox_seq orders pending rows by creation (NULL otherwise).

CREATE TABLE sessions (
    id               TEXT    PRIMARY KEY,
    owner            TEXT,
    title            TEXT    NOT NULL,
    title_updated_at INTEGER,
    created_at       INTEGER NOT NULL,
    deleted_at       INTEGER,
    last_activity_at INTEGER NOT NULL,
    last_preview     TEXT    NOT NULL DEFAULT '',
    sync_state       TEXT    NOT NULL CHECK (sync_state IN ('local', 'pending', 'synced', 'rejected')),
    outbox_seq       INTEGER,
    reject_code      TEXT,
    reject_reason    TEXT
);
CREATE INDEX sessions_outbox ON sessions (owner, outbox_seq) WHERE sync_state = 'pending';
CREATE INDEX sessions_activity ON sessions (owner, last_activity_at DESC, id DESC) WHERE deleted_at IS NULL;

CREATE TABLE messages (
    id                TEXT    PRIMARY KEY,
    session_id        TEXT    NOT NULL REFERENCES sessions (id),
    owner             TEXT,
    role              TEXT    NOT NULL,
    content           TEXT    NOT NULL,
    model             TEXT,
    input_tokens      INTEGER NOT NULL DEFAULT 0,
    output_tokens     INTEGER NOT NULL DEFAULT 0,
    user_message_id   TEXT,
    message_timestamp INTEGER NOT NULL,
    elapsed_ms        INTEGER,
    error_message     TEXT,
    error_code        TEXT,
    error_retryable   INTEGER NOT NULL DEFAULT 0,
    completion_id     TEXT,
    sync_state        TEXT    NOT NULL CHECK (sync_state IN ('local', 'pending', 'synced', 'rejected')),
    outbox_seq        INTEGER,
    reject_code       TEXT,
    reject_reason     TEXT,
    -- 1 while this device's own chat request for the message is under way; such a row is not pushed. A row
    -- still marked at start-up was interrupted by a crash and becomes a failed message (retryable).
    sending           INTEGER NOT NULL DEFAULT 0
);
-- The push loop reads only this index, so its cost follows the unsent rows, not the history.
CREATE INDEX messages_outbox ON messages (owner, outbox_seq) WHERE sync_state = 'pending';
CREATE INDEX messages_session_time ON messages (session_id, message_timestamp, id);

-- Small key/value state: the outbox clock, the sync cursor of each account, preferences.
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
INSERT INTO settings (key, value) VALUES ('outbox_seq', '0');
