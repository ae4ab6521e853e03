-- Streaming replies (SPEC §5.3).
-- Why an assistant reply ended: stop, length, stopped or content_filter; NULL on user rows and on replies stored
-- before this column existed. It plays no part in counting, so the triggers of V2 are unchanged.
ALTER TABLE chat_messages ADD COLUMN finish_reason TEXT
    CHECK (finish_reason IS NULL OR finish_reason IN ('stop', 'length', 'stopped', 'content_filter'));

-- A claim is now a live generation that any process can follow: the process holding it (holder) renews
-- expires_at every couple of seconds and appends the reply's text as it is generated, so a client can re-attach on
-- another process; a claim not renewed has lapsed, and its message can be sent again. start_event is the JSON of
-- the stream's start event (the user message, its session, the reply id); stop_requested asks the holder to stop.
-- Claims written before this migration have none of it: they lapse, and are swept away.
ALTER TABLE chat_claims ADD COLUMN session_id TEXT;
ALTER TABLE chat_claims ADD COLUMN reply_id TEXT;
ALTER TABLE chat_claims ADD COLUMN holder TEXT;
ALTER TABLE chat_claims ADD COLUMN start_event TEXT;
ALTER TABLE chat_claims ADD COLUMN content TEXT NOT NULL DEFAULT '';
ALTER TABLE chat_claims ADD COLUMN content_length INTEGER NOT NULL DEFAULT 0;
ALTER TABLE chat_claims ADD COLUMN stop_requested INTEGER NOT NULL DEFAULT 0;
CREATE INDEX chat_claims_user ON chat_claims (user_id, expires_at);
CREATE INDEX chat_claims_holder ON chat_claims (holder);
-- Deleting a conversation removes its claims; lapsed claims are swept into failed messages.
CREATE INDEX chat_claims_session ON chat_claims (session_id);
CREATE INDEX chat_claims_expiry ON chat_claims (expires_at);
