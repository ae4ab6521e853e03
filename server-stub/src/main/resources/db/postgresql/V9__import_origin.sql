-- Imported history (SPEC §4.1, §5.0): a message brought in from another app carries origin 'import'. It counts in
-- its session's statistics like any row, and in the user's daily usage never: that records what the user spent
-- through Parley, so an import cannot inflate usage or a budget. Every row stored before this release was written
-- through Parley and is 'chat'. A row's origin never changes; the counting trigger does not watch it, so a change
-- would leave the counters wrong, and the database refuses one. The same meaning as db/sqlite/V9.
ALTER TABLE chat_messages ADD COLUMN origin TEXT NOT NULL DEFAULT 'chat' CHECK (origin IN ('chat', 'import'));

CREATE FUNCTION refuse_origin_change() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'a message''s origin never changes' USING ERRCODE = 'check_violation';
END $$;

CREATE TRIGGER origin_is_final
BEFORE UPDATE OF origin ON chat_messages
FOR EACH ROW WHEN (NEW.origin IS DISTINCT FROM OLD.origin)
EXECUTE FUNCTION refuse_origin_change();

-- The contribution of V2, the user's day left out for an import.
-- Applies delta (+1 or -1) times the contribution of msg to its user's day and to its session's statistics.
CREATE OR REPLACE FUNCTION apply_message_contribution(delta BIGINT, msg chat_messages) RETURNS void
    LANGUAGE plpgsql AS $$
DECLARE
    last_ts    BIGINT;
    last_id    TEXT;
    takes_last BOOLEAN;
    loses_last BOOLEAN;
BEGIN
    -- History brought in from another app is not what the user spent through Parley: it reaches the session's
    -- statistics below, never the user's day.
    IF msg.origin <> 'import' THEN
        INSERT INTO user_usage_daily AS u (user_id, usage_date, messages_sent, messages_received, input_tokens,
                                           output_tokens, total_tokens, models_used, generation_ms, updated_at)
        VALUES (msg.user_id, utc_date(msg.message_timestamp),
                delta * CASE WHEN msg.role = 'user' THEN 1 ELSE 0 END,
                delta * CASE WHEN msg.role = 'assistant' THEN 1 ELSE 0 END,
                delta * msg.input_tokens, delta * msg.output_tokens, delta * msg.total_tokens,
                CASE WHEN msg.model IS NULL THEN '{}'::jsonb ELSE jsonb_build_object(msg.model, delta) END,
                delta * CASE WHEN msg.role = 'assistant' THEN coalesce(msg.elapsed_ms, 0) ELSE 0 END,
                epoch_millis_now())
        ON CONFLICT (user_id, usage_date) DO UPDATE SET
            messages_sent     = u.messages_sent + EXCLUDED.messages_sent,
            messages_received = u.messages_received + EXCLUDED.messages_received,
            input_tokens      = u.input_tokens + EXCLUDED.input_tokens,
            output_tokens     = u.output_tokens + EXCLUDED.output_tokens,
            total_tokens      = u.total_tokens + EXCLUDED.total_tokens,
            models_used       = CASE WHEN msg.model IS NULL THEN u.models_used
                                     ELSE add_model_uses(u.models_used, msg.model, delta) END,
            generation_ms     = u.generation_ms + EXCLUDED.generation_ms,
            updated_at        = EXCLUDED.updated_at;
    END IF;

    -- Session statistics; "last" is the contributing message with the greatest (message_timestamp, id). The row
    -- is locked before it is read, so the comparison holds until the update below.
    SELECT s.last_message_timestamp, s.last_message_id INTO last_ts, last_id
    FROM chat_sessions s WHERE s.id = msg.session_id FOR UPDATE;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    takes_last := delta > 0 AND (last_ts IS NULL OR msg.message_timestamp > last_ts
                                 OR (msg.message_timestamp = last_ts AND msg.id > last_id COLLATE "C"));
    loses_last := delta < 0 AND last_id = msg.id;

    UPDATE chat_sessions s SET
        message_count          = s.message_count + delta,
        total_tokens           = s.total_tokens + delta * msg.total_tokens,
        last_model             = CASE WHEN takes_last THEN msg.model ELSE s.last_model END,
        last_message_preview   = CASE WHEN NOT takes_last THEN s.last_message_preview
                                      WHEN s.deleted_at IS NULL THEN left(msg.content, 200) ELSE '' END,
        last_message_timestamp = CASE WHEN takes_last THEN msg.message_timestamp ELSE s.last_message_timestamp END,
        last_message_id        = CASE WHEN takes_last THEN msg.id ELSE s.last_message_id END
    WHERE s.id = msg.session_id;

    -- Removing the last message: the new last one is found among the rows that still contribute.
    IF loses_last THEN
        UPDATE chat_sessions s SET (last_model, last_message_preview, last_message_timestamp, last_message_id) = (
            SELECT m.model, CASE WHEN s.deleted_at IS NULL THEN left(m.content, 200) ELSE '' END,
                   m.message_timestamp, m.id
            FROM chat_messages m
            WHERE m.session_id = msg.session_id AND m.error_message IS NULL AND m.role <> 'system'
            ORDER BY m.message_timestamp DESC, m.id DESC
            LIMIT 1)
        WHERE s.id = msg.session_id;
    END IF;
END $$;

-- The recomputation of V3 leaves imports out of the days, as the trigger does; the session statistics keep them.
CREATE OR REPLACE VIEW expected_usage_daily AS
WITH contributions AS (
    SELECT user_id,
           utc_date(message_timestamp)                                                AS usage_date,
           count(*) FILTER (WHERE role = 'user')                                      AS messages_sent,
           count(*) FILTER (WHERE role = 'assistant')                                 AS messages_received,
           sum(input_tokens)                                                          AS input_tokens,
           sum(output_tokens)                                                         AS output_tokens,
           sum(total_tokens)                                                          AS total_tokens,
           sum(CASE WHEN role = 'assistant' THEN coalesce(elapsed_ms, 0) ELSE 0 END)  AS generation_ms
    FROM chat_messages
    WHERE error_message IS NULL AND role <> 'system' AND origin <> 'import'
    GROUP BY 1, 2),
created AS (
    SELECT user_id, utc_date(created_at) AS usage_date, count(*) AS sessions_created
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

CREATE OR REPLACE VIEW expected_models_used AS
SELECT user_id, utc_date(message_timestamp) AS usage_date, model, count(*) AS uses
FROM chat_messages
WHERE error_message IS NULL AND role <> 'system' AND origin <> 'import' AND model IS NOT NULL
GROUP BY 1, 2, 3;
