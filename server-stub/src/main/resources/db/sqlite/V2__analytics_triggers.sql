-- Counting rules of SPEC §4.1 as delta-based triggers. A message contributes when error_message IS NULL and its
-- role is not 'system'. Every write path (API, push, sign-in upload, admin SQL) goes through these, so a row counts
-- exactly once: INSERT adds its contribution, DELETE removes it, UPDATE removes the old one and adds the new one.
-- The UPDATE trigger lists the columns that decide a contribution or a session's preview; a change of change_seq
-- alone never reaches the counters, and a purge removes and re-adds an unchanged contribution (net zero).
--
-- SQLite has no procedures, so the arithmetic lives once, in INSTEAD OF triggers on two write-only views:
-- inserting (sign, row...) into message_contributions applies +1 or -1 times that row's contribution.

CREATE VIEW message_contributions AS
SELECT NULL AS sign, NULL AS id, NULL AS session_id, NULL AS user_id, NULL AS role, NULL AS content, NULL AS model,
       NULL AS input_tokens, NULL AS output_tokens, NULL AS total_tokens, NULL AS message_timestamp,
       NULL AS elapsed_ms
WHERE 0;

CREATE TRIGGER apply_message_contribution
INSTEAD OF INSERT ON message_contributions
BEGIN
    INSERT INTO user_usage_daily (user_id, usage_date, messages_sent, messages_received, input_tokens, output_tokens,
                                  total_tokens, models_used, generation_ms, updated_at)
    VALUES (NEW.user_id, date(NEW.message_timestamp / 1000, 'unixepoch'),
            NEW.sign * (NEW.role = 'user'), NEW.sign * (NEW.role = 'assistant'),
            NEW.sign * NEW.input_tokens, NEW.sign * NEW.output_tokens, NEW.sign * NEW.total_tokens,
            CASE WHEN NEW.model IS NULL THEN '{}' ELSE json_object(NEW.model, NEW.sign) END,
            NEW.sign * CASE WHEN NEW.role = 'assistant' THEN coalesce(NEW.elapsed_ms, 0) ELSE 0 END,
            CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER))
    ON CONFLICT (user_id, usage_date) DO UPDATE SET
        messages_sent     = messages_sent + excluded.messages_sent,
        messages_received = messages_received + excluded.messages_received,
        input_tokens      = input_tokens + excluded.input_tokens,
        output_tokens     = output_tokens + excluded.output_tokens,
        total_tokens      = total_tokens + excluded.total_tokens,
        -- Rebuilt through json_each rather than edited by JSON path, so any model name works; a count that
        -- reaches zero drops its key, as the recomputation has none.
        models_used       = CASE WHEN NEW.model IS NULL THEN models_used ELSE (
            SELECT coalesce(json_group_object(model, uses), '{}')
            FROM (SELECT key AS model, value + CASE WHEN key = NEW.model THEN NEW.sign ELSE 0 END AS uses
                  FROM json_each(user_usage_daily.models_used)
                  UNION ALL
                  SELECT NEW.model, NEW.sign
                  WHERE NOT EXISTS (SELECT 1 FROM json_each(user_usage_daily.models_used) WHERE key = NEW.model))
            WHERE uses <> 0) END,
        generation_ms     = generation_ms + excluded.generation_ms,
        updated_at        = excluded.updated_at;

    -- Session statistics; "last" is the contributing message with the greatest (message_timestamp, id).
    UPDATE chat_sessions SET
        message_count          = message_count + NEW.sign,
        total_tokens           = total_tokens + NEW.sign * NEW.total_tokens,
        last_model             = CASE WHEN NEW.sign > 0 AND (last_message_timestamp IS NULL
                                        OR NEW.message_timestamp > last_message_timestamp
                                        OR (NEW.message_timestamp = last_message_timestamp AND NEW.id > last_message_id))
                                      THEN NEW.model ELSE last_model END,
        last_message_preview   = CASE WHEN NEW.sign > 0 AND (last_message_timestamp IS NULL
                                        OR NEW.message_timestamp > last_message_timestamp
                                        OR (NEW.message_timestamp = last_message_timestamp AND NEW.id > last_message_id))
                                      THEN CASE WHEN deleted_at IS NULL THEN substr(NEW.content, 1, 200) ELSE '' END
                                      ELSE last_message_preview END,
        last_message_id        = CASE WHEN NEW.sign > 0 AND (last_message_timestamp IS NULL
                                        OR NEW.message_timestamp > last_message_timestamp
                                        OR (NEW.message_timestamp = last_message_timestamp AND NEW.id > last_message_id))
                                      THEN NEW.id ELSE last_message_id END,
        last_message_timestamp = CASE WHEN NEW.sign > 0
                                      THEN max(coalesce(last_message_timestamp, NEW.message_timestamp),
                                               NEW.message_timestamp)
                                      ELSE last_message_timestamp END
    WHERE id = NEW.session_id;

    -- Removing the last message: the new last one is found among the rows that still contribute.
    UPDATE chat_sessions SET (last_model, last_message_preview, last_message_timestamp, last_message_id) = (
        SELECT m.model, CASE WHEN chat_sessions.deleted_at IS NULL THEN substr(m.content, 1, 200) ELSE '' END,
               m.message_timestamp, m.id
        FROM chat_messages m
        WHERE m.session_id = NEW.session_id AND m.error_message IS NULL AND m.role <> 'system'
        ORDER BY m.message_timestamp DESC, m.id DESC LIMIT 1)
    WHERE NEW.sign < 0 AND id = NEW.session_id AND last_message_id = NEW.id;
END;

CREATE TRIGGER count_message_insert
AFTER INSERT ON chat_messages
WHEN NEW.error_message IS NULL AND NEW.role <> 'system'
BEGIN
    INSERT INTO message_contributions
    VALUES (1, NEW.id, NEW.session_id, NEW.user_id, NEW.role, NEW.content, NEW.model, NEW.input_tokens,
            NEW.output_tokens, NEW.total_tokens, NEW.message_timestamp, NEW.elapsed_ms);
END;

CREATE TRIGGER count_message_delete
AFTER DELETE ON chat_messages
WHEN OLD.error_message IS NULL AND OLD.role <> 'system'
BEGIN
    INSERT INTO message_contributions
    VALUES (-1, OLD.id, OLD.session_id, OLD.user_id, OLD.role, OLD.content, OLD.model, OLD.input_tokens,
            OLD.output_tokens, OLD.total_tokens, OLD.message_timestamp, OLD.elapsed_ms);
END;

CREATE TRIGGER count_message_update
AFTER UPDATE OF user_id, session_id, role, content, model, input_tokens, output_tokens, total_tokens,
                message_timestamp, elapsed_ms, error_message ON chat_messages
BEGIN
    INSERT INTO message_contributions
    SELECT -1, OLD.id, OLD.session_id, OLD.user_id, OLD.role, OLD.content, OLD.model, OLD.input_tokens,
           OLD.output_tokens, OLD.total_tokens, OLD.message_timestamp, OLD.elapsed_ms
    WHERE OLD.error_message IS NULL AND OLD.role <> 'system';

    INSERT INTO message_contributions
    SELECT 1, NEW.id, NEW.session_id, NEW.user_id, NEW.role, NEW.content, NEW.model, NEW.input_tokens,
           NEW.output_tokens, NEW.total_tokens, NEW.message_timestamp, NEW.elapsed_ms
    WHERE NEW.error_message IS NULL AND NEW.role <> 'system';
END;

-- ---------------------------------------------------------------- sessions_created from chat_sessions

CREATE VIEW session_contributions AS
SELECT NULL AS sign, NULL AS user_id, NULL AS created_at
WHERE 0;

CREATE TRIGGER apply_session_contribution
INSTEAD OF INSERT ON session_contributions
BEGIN
    INSERT INTO user_usage_daily (user_id, usage_date, sessions_created, updated_at)
    VALUES (NEW.user_id, date(NEW.created_at / 1000, 'unixepoch'), NEW.sign,
            CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER))
    ON CONFLICT (user_id, usage_date) DO UPDATE SET
        sessions_created = sessions_created + excluded.sessions_created,
        updated_at       = excluded.updated_at;
END;

CREATE TRIGGER count_session_insert
AFTER INSERT ON chat_sessions
BEGIN
    INSERT INTO session_contributions VALUES (1, NEW.user_id, NEW.created_at);
END;

CREATE TRIGGER count_session_delete
AFTER DELETE ON chat_sessions
BEGIN
    INSERT INTO session_contributions VALUES (-1, OLD.user_id, OLD.created_at);
END;

CREATE TRIGGER count_session_update
AFTER UPDATE OF user_id, created_at ON chat_sessions
WHEN OLD.user_id IS NOT NEW.user_id OR OLD.created_at IS NOT NEW.created_at
BEGIN
    INSERT INTO session_contributions VALUES (-1, OLD.user_id, OLD.created_at);
    INSERT INTO session_contributions VALUES (1, NEW.user_id, NEW.created_at);
END;

-- ---------------------------------------------------------------- the per-user sync clock

CREATE TRIGGER sync_seq_on_session_insert
AFTER INSERT ON chat_sessions
BEGIN
    UPDATE users SET change_seq = change_seq + 1 WHERE id = NEW.user_id;
    UPDATE chat_sessions SET change_seq = (SELECT change_seq FROM users WHERE id = NEW.user_id) WHERE id = NEW.id;
END;

CREATE TRIGGER sync_seq_on_session_update
AFTER UPDATE ON chat_sessions
WHEN NEW.change_seq IS OLD.change_seq
BEGIN
    UPDATE users SET change_seq = change_seq + 1 WHERE id = NEW.user_id;
    UPDATE chat_sessions SET change_seq = (SELECT change_seq FROM users WHERE id = NEW.user_id) WHERE id = NEW.id;
END;

CREATE TRIGGER sync_seq_on_message_insert
AFTER INSERT ON chat_messages
BEGIN
    UPDATE users SET change_seq = change_seq + 1 WHERE id = NEW.user_id;
    UPDATE chat_messages SET change_seq = (SELECT change_seq FROM users WHERE id = NEW.user_id) WHERE id = NEW.id;
END;

CREATE TRIGGER sync_seq_on_message_update
AFTER UPDATE ON chat_messages
WHEN NEW.change_seq IS OLD.change_seq
BEGIN
    UPDATE users SET change_seq = change_seq + 1 WHERE id = NEW.user_id;
    UPDATE chat_messages SET change_seq = (SELECT change_seq FROM users WHERE id = NEW.user_id) WHERE id = NEW.id;
END;
