-- Conversations as trees: regenerate and edit make siblings (SPEC 4.3, 5.4, 6).
-- parent_id: the message this row follows. A reply's parent is its user message; a user row's the reply it follows;
-- NULL for a first turn. Existing rows are filled in place exactly as the server fills its own, so a conversation
-- written by an earlier release stays one line and reads back in the same order.
ALTER TABLE messages ADD COLUMN parent_id TEXT;

UPDATE messages SET parent_id = user_message_id WHERE role = 'assistant' AND user_message_id IS NOT NULL;

UPDATE messages SET parent_id = (
    SELECT p.id FROM messages p
    WHERE p.session_id = messages.session_id
      AND (p.message_timestamp < messages.message_timestamp
           OR (p.message_timestamp = messages.message_timestamp AND p.id < messages.id))
    ORDER BY p.message_timestamp DESC, p.id DESC LIMIT 1)
WHERE parent_id IS NULL AND (role <> 'assistant' OR user_message_id IS NULL);

-- The sibling this device shows at a fork, chosen with < 2/3 >; never synced. parent_key is the parent's id, or
-- 'root:' and the session's id for the first turns of a conversation.
CREATE TABLE branch_choices (
    parent_key TEXT PRIMARY KEY,
    message_id TEXT NOT NULL
);

-- A regenerated reply being written: reply_id is the client's id for it from the start (re-attach and stop name
-- it with ?replyId=), model the model asked. An exchange of a user message, a send or a regenerate, is one at a
-- time (messages.sending), so message_id stays the key.
ALTER TABLE unfinished_replies ADD COLUMN regenerate INTEGER NOT NULL DEFAULT 0;
ALTER TABLE unfinished_replies ADD COLUMN model TEXT;

-- A regenerate that got no reply: shown on its user message's branch with Try again, which regenerates again under
-- the same reply_id (the server replays a reply it stored, never bills twice). Kept apart from messages because it
-- is this device's alone: never pushed, never counted. A reply that arrives later under the same id replaces it.
CREATE TABLE failed_replies (
    reply_id        TEXT    PRIMARY KEY,
    message_id      TEXT    NOT NULL REFERENCES messages (id),
    session_id      TEXT    NOT NULL,
    model           TEXT,
    error_message   TEXT    NOT NULL,
    error_code      TEXT    NOT NULL,
    error_retryable INTEGER NOT NULL DEFAULT 0,
    failed_at       INTEGER NOT NULL
);
CREATE INDEX failed_replies_session ON failed_replies (session_id);
