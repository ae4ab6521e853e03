-- Parley server schema, PostgreSQL dialect (15 or later); the same tables and columns as db/sqlite. Times are
-- epoch milliseconds (UTC) in BIGINT; usage_date is the UTC DATE of message_timestamp.
-- users.change_seq is each user's sync clock: every change to one of the user's sessions or messages takes the
-- next value under the lock of the user's row, so GET /api/chat/sync can page by it without ever skipping a
-- committed change (docs/decisions/0006-postgresql-concurrency.md).
--
-- Ids are compared and ordered byte by byte (COLLATE "C"), as SQLite does, whatever the database's locale: the
-- sessions page and the "last message" of a session break ties by id, and both dialects must agree.

CREATE TABLE users (
    id            TEXT COLLATE "C" PRIMARY KEY,
    email         TEXT   NOT NULL UNIQUE CHECK (email = lower(email)),
    password_hash TEXT   NOT NULL,
    created_at    BIGINT NOT NULL,
    change_seq    BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE auth_tokens (
    token_hash TEXT COLLATE "C" PRIMARY KEY,
    user_id    TEXT COLLATE "C" NOT NULL REFERENCES users (id),
    kind       TEXT   NOT NULL CHECK (kind IN ('access', 'refresh')),
    family_id  TEXT COLLATE "C" NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX auth_tokens_family ON auth_tokens (family_id);

CREATE TABLE chat_sessions (
    id                     TEXT COLLATE "C" PRIMARY KEY,
    user_id                TEXT COLLATE "C" NOT NULL REFERENCES users (id),
    title                  TEXT   NOT NULL,
    title_updated_at       BIGINT,
    created_at             BIGINT NOT NULL,
    updated_at             BIGINT NOT NULL,
    deleted_at             BIGINT,
    message_count          BIGINT NOT NULL DEFAULT 0,
    total_tokens           BIGINT NOT NULL DEFAULT 0,
    last_model             TEXT,
    last_message_preview   TEXT,
    last_message_timestamp BIGINT,
    last_message_id        TEXT COLLATE "C",
    change_seq             BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX chat_sessions_user_seq ON chat_sessions (user_id, change_seq);
CREATE INDEX chat_sessions_user_activity
    ON chat_sessions (user_id, coalesce(last_message_timestamp, created_at) DESC, id DESC);

CREATE TABLE chat_messages (
    id                TEXT COLLATE "C" PRIMARY KEY,
    session_id        TEXT COLLATE "C" NOT NULL REFERENCES chat_sessions (id),
    user_id           TEXT COLLATE "C" NOT NULL REFERENCES users (id),
    role              TEXT    NOT NULL CHECK (role IN ('user', 'assistant', 'system')),
    content           TEXT    NOT NULL,
    model             TEXT,
    input_tokens      BIGINT  NOT NULL DEFAULT 0 CHECK (input_tokens >= 0),
    output_tokens     BIGINT  NOT NULL DEFAULT 0 CHECK (output_tokens >= 0),
    total_tokens      BIGINT  NOT NULL DEFAULT 0,
    user_message_id   TEXT COLLATE "C",
    message_timestamp BIGINT  NOT NULL,
    elapsed_ms        BIGINT  CHECK (elapsed_ms >= 0),
    error_message     TEXT,
    completion_id     TEXT,
    purged            BOOLEAN NOT NULL DEFAULT FALSE,
    created_at        BIGINT  NOT NULL,
    updated_at        BIGINT  NOT NULL,
    change_seq        BIGINT  NOT NULL DEFAULT 0,
    CHECK (total_tokens = input_tokens + output_tokens),
    CHECK (role <> 'assistant' OR input_tokens = 0),
    CHECK (role <> 'user' OR output_tokens = 0)
);
CREATE INDEX chat_messages_user_seq ON chat_messages (user_id, change_seq);
CREATE INDEX chat_messages_session_time ON chat_messages (session_id, message_timestamp, id);
-- At most one assistant reply per user message, whichever path writes it.
CREATE UNIQUE INDEX chat_messages_one_reply ON chat_messages (user_message_id)
    WHERE role = 'assistant' AND user_message_id IS NOT NULL;

CREATE TABLE user_usage_daily (
    user_id           TEXT COLLATE "C" NOT NULL REFERENCES users (id),
    usage_date        DATE   NOT NULL,
    messages_sent     BIGINT NOT NULL DEFAULT 0,
    messages_received BIGINT NOT NULL DEFAULT 0,
    input_tokens      BIGINT NOT NULL DEFAULT 0,
    output_tokens     BIGINT NOT NULL DEFAULT 0,
    total_tokens      BIGINT NOT NULL DEFAULT 0,
    models_used       JSONB  NOT NULL DEFAULT '{}',
    sessions_created  BIGINT NOT NULL DEFAULT 0,
    generation_ms     BIGINT NOT NULL DEFAULT 0,
    updated_at        BIGINT NOT NULL,
    PRIMARY KEY (user_id, usage_date)
);

-- The duplicate guard of POST /api/chat: one row while a message id is being answered, in the database so that
-- it holds across server processes. A claim past expires_at belongs to a process that died and may be taken over;
-- claim_token lets the holder release only its own claim, never one taken over after it.
CREATE TABLE chat_claims (
    message_id  TEXT COLLATE "C" PRIMARY KEY,
    claim_token TEXT COLLATE "C" NOT NULL,
    user_id     TEXT COLLATE "C" NOT NULL,
    claimed_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL
);
