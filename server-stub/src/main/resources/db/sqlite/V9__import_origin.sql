-- Imported history (SPEC §4.1, §5.0): a message brought in from another app carries origin 'import'. It counts in
-- its session's statistics like any row, and in the user's daily usage never: that records what the user spent
-- through Parley, so an import cannot inflate usage or a budget. Every row stored before this release was written
-- through Parley and is 'chat'. A row's origin never changes; the counting triggers do not watch it, so a change
-- would leave the counters wrong, and the database refuses one.
ALTER TABLE chat_messages ADD COLUMN origin TEXT NOT NULL DEFAULT 'chat' CHECK (origin IN ('chat', 'import'));

CREATE TRIGGER origin_is_final
BEFORE UPDATE OF origin ON chat_messages
WHEN NEW.origin IS NOT OLD.origin
BEGIN
    SELECT RAISE(ABORT, 'a message''s origin never changes');
END;

-- The contribution of V2, now told the row's origin: the same arithmetic, the user's day left out for an import.
DROP TRIGGER count_message_insert;
DROP TRIGGER count_message_delete;
DROP TRIGGER count_message_update;
DROP TRIGGER apply_message_contribution;
DROP VIEW message_contributions;

CREATE VIEW message_contributions AS
SELECT NULL AS sign, NULL AS id, NULL AS session_id, NULL AS user_id, NULL AS role, NULL AS content, NULL AS model,
       NULL AS input_tokens, NULL AS output_tokens, NULL AS total_tokens, NULL AS message_timestamp,
       NULL AS elapsed_ms, NULL AS origin
WHERE 0;

CREATE TRIGGER apply_message_contribution
INSTEAD OF INSERT ON message_contributions
BEGIN
    -- History brought in from another app is not what the user spent through Parley: it reaches the session's
    -- statistics below, never the user's day.
    INSERT INTO user_usage_daily (user_id, usage_date, messages_sent, messages_received, input_tokens, output_tokens,
                                  total_tokens, models_used, generation_ms, updated_at)
    SELECT NEW.user_id, date(NEW.message_timestamp / 1000, 'unixepoch'),
            NEW.sign * (NEW.role = 'user'), NEW.sign * (NEW.role = 'assistant'),
            NEW.sign * NEW.input_tokens, NEW.sign * NEW.output_tokens, NEW.sign * NEW.total_tokens,
            CASE WHEN NEW.model IS NULL THEN '{}' ELSE json_object(NEW.model, NEW.sign) END,
            NEW.sign * CASE WHEN NEW.role = 'assistant' THEN coalesce(NEW.elapsed_ms, 0) ELSE 0 END,
            CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)
    WHERE NEW.origin IS NOT 'import'
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
            NEW.output_tokens, NEW.total_tokens, NEW.message_timestamp, NEW.elapsed_ms, NEW.origin);
END;

CREATE TRIGGER count_message_delete
AFTER DELETE ON chat_messages
WHEN OLD.error_message IS NULL AND OLD.role <> 'system'
BEGIN
    INSERT INTO message_contributions
    VALUES (-1, OLD.id, OLD.session_id, OLD.user_id, OLD.role, OLD.content, OLD.model, OLD.input_tokens,
            OLD.output_tokens, OLD.total_tokens, OLD.message_timestamp, OLD.elapsed_ms, OLD.origin);
END;

CREATE TRIGGER count_message_update
AFTER UPDATE OF user_id, session_id, role, content, model, input_tokens, output_tokens, total_tokens,
                message_timestamp, elapsed_ms, error_message ON chat_messages
BEGIN
    INSERT INTO message_contributions
    SELECT -1, OLD.id, OLD.session_id, OLD.user_id, OLD.role, OLD.content, OLD.model, OLD.input_tokens,
           OLD.output_tokens, OLD.total_tokens, OLD.message_timestamp, OLD.elapsed_ms, OLD.origin
    WHERE OLD.error_message IS NULL AND OLD.role <> 'system';

    INSERT INTO message_contributions
    SELECT 1, NEW.id, NEW.session_id, NEW.user_id, NEW.role, NEW.content, NEW.model, NEW.input_tokens,
           NEW.output_tokens, NEW.total_tokens, NEW.message_timestamp, NEW.elapsed_ms, NEW.origin
    WHERE NEW.error_message IS NULL AND NEW.role <> 'system';
END;

-- The recomputation of V3 leaves imports out of the days, as the triggers do; the session statistics keep them.
DROP VIEW expected_usage_daily;
DROP VIEW expected_models_used;

CREATE VIEW expected_usage_daily AS
WITH contributions AS (
    SELECT user_id,
           date(message_timestamp / 1000, 'unixepoch') AS usage_date,
           sum(role = 'user')                                                       AS messages_sent,
           sum(role = 'assistant')                                                  AS messages_received,
           sum(input_tokens)                                                        AS input_tokens,
           sum(output_tokens)                                                       AS output_tokens,
           sum(total_tokens)                                                        AS total_tokens,
           sum(CASE WHEN role = 'assistant' THEN coalesce(elapsed_ms, 0) ELSE 0 END) AS generation_ms
    FROM chat_messages
    WHERE error_message IS NULL AND role <> 'system' AND origin <> 'import'
    GROUP BY 1, 2),
created AS (
    SELECT user_id, date(created_at / 1000, 'unixepoch') AS usage_date, count(*) AS sessions_created
    FROM chat_sessions
    GROUP BY 1, 2),
days AS (
    SELECT user_id, usage_date FROM contributions
    UNION
    SELECT user_id, usage_date FROM created)
SELECT d.user_id, d.usage_date,
       coalesce(c.messages_sent, 0)     AS messages_sent,
       coalesce(c.messages_received, 0) AS messages_received,
       coalesce(c.input_tokens, 0)      AS input_tokens,
       coalesce(c.output_tokens, 0)     AS output_tokens,
       coalesce(c.total_tokens, 0)      AS total_tokens,
       coalesce(s.sessions_created, 0)  AS sessions_created,
       coalesce(c.generation_ms, 0)     AS generation_ms
FROM days d
LEFT JOIN contributions c ON c.user_id = d.user_id AND c.usage_date = d.usage_date
LEFT JOIN created s ON s.user_id = d.user_id AND s.usage_date = d.usage_date;

CREATE VIEW expected_models_used AS
SELECT user_id, date(message_timestamp / 1000, 'unixepoch') AS usage_date, model, count(*) AS uses
FROM chat_messages
WHERE error_message IS NULL AND role <> 'system' AND origin <> 'import' AND model IS NOT NULL
GROUP BY 1, 2, 3;
