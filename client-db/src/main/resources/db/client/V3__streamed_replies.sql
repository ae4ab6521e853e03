-- Streamed replies (SPEC 5.3, 6).
-- How an assistant reply ended: stop | length | stopped | content_filter. NULL on user rows and on replies stored
-- before this release, which read back exactly as they were.
ALTER TABLE messages ADD COLUMN finish_reason TEXT;

-- A reply being written: the text streamed so far for a user message whose exchange is under way (its row is marked
-- sending). Kept apart from messages so that it is never pushed and never counted; the outcome of the exchange
-- replaces it, in one transaction, with the rows the server stored. A row left here at start-up is re-attached to
-- (or its stop sent) rather than given up.
-- stop_requested: the user pressed Stop; the stop is sent to the server, now or when the connection returns.
CREATE TABLE unfinished_replies (
    message_id     TEXT    PRIMARY KEY REFERENCES messages (id),
    session_id     TEXT    NOT NULL,
    reply_id       TEXT,
    content        TEXT    NOT NULL DEFAULT '',
    started_at     INTEGER NOT NULL,
    stop_requested INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX unfinished_replies_session ON unfinished_replies (session_id);
