-- The invariant of SPEC §4.1 as one query: SELECT * FROM analytics_mismatches lists every counter that differs
-- from the same figure recomputed from chat_messages and chat_sessions. Empty means exact. The same views, with
-- the same columns, as db/sqlite/V3; subject is the day as 'YYYY-MM-DD' or the session id.

CREATE VIEW expected_usage_daily AS
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
    WHERE error_message IS NULL AND role <> 'system'
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

CREATE VIEW expected_models_used AS
SELECT user_id, utc_date(message_timestamp) AS usage_date, model, count(*) AS uses
FROM chat_messages
WHERE error_message IS NULL AND role <> 'system' AND model IS NOT NULL
GROUP BY 1, 2, 3;

CREATE VIEW expected_session_stats AS
WITH contributing AS (
    SELECT m.*, row_number() OVER (PARTITION BY session_id ORDER BY message_timestamp DESC, id DESC) AS recency
    FROM chat_messages m
    WHERE error_message IS NULL AND role <> 'system'),
totals AS (
    SELECT session_id, count(*) AS message_count, sum(total_tokens) AS total_tokens
    FROM contributing
    GROUP BY session_id)
SELECT s.id AS session_id, s.user_id,
       coalesce(t.message_count, 0) AS message_count,
       coalesce(t.total_tokens, 0)  AS total_tokens,
       l.model                      AS last_model,
       left(l.content, 200)         AS last_message_preview,
       l.message_timestamp          AS last_message_timestamp
FROM chat_sessions s
LEFT JOIN totals t ON t.session_id = s.id
LEFT JOIN contributing l ON l.session_id = s.id AND l.recency = 1;

CREATE VIEW analytics_mismatches AS
WITH usage_pairs AS (
    SELECT coalesce(u.user_id, e.user_id)       AS user_id,
           coalesce(u.usage_date, e.usage_date) AS usage_date,
           coalesce(u.messages_sent, 0)     AS s_sent,     coalesce(e.messages_sent, 0)     AS e_sent,
           coalesce(u.messages_received, 0) AS s_received, coalesce(e.messages_received, 0) AS e_received,
           coalesce(u.input_tokens, 0)      AS s_input,    coalesce(e.input_tokens, 0)      AS e_input,
           coalesce(u.output_tokens, 0)     AS s_output,   coalesce(e.output_tokens, 0)     AS e_output,
           coalesce(u.total_tokens, 0)      AS s_total,    coalesce(e.total_tokens, 0)      AS e_total,
           coalesce(u.sessions_created, 0)  AS s_sessions, coalesce(e.sessions_created, 0)  AS e_sessions,
           coalesce(u.generation_ms, 0)     AS s_gen,      coalesce(e.generation_ms, 0)     AS e_gen
    FROM user_usage_daily u
    FULL OUTER JOIN expected_usage_daily e ON e.user_id = u.user_id AND e.usage_date = u.usage_date),
stored_models AS (
    SELECT u.user_id, u.usage_date, j.key AS model, j.value::bigint AS uses
    FROM user_usage_daily u, jsonb_each_text(u.models_used) j),
model_pairs AS (
    SELECT coalesce(s.user_id, e.user_id) AS user_id, coalesce(s.usage_date, e.usage_date) AS usage_date,
           coalesce(s.model, e.model) AS model, coalesce(s.uses, 0) AS stored, coalesce(e.uses, 0) AS expected
    FROM stored_models s
    FULL OUTER JOIN expected_models_used e
        ON e.user_id = s.user_id AND e.usage_date = s.usage_date AND e.model = s.model),
session_pairs AS (
    SELECT s.id, s.user_id, s.deleted_at,
           s.message_count, e.message_count AS e_message_count,
           s.total_tokens, e.total_tokens AS e_total_tokens,
           s.last_model, e.last_model AS e_last_model,
           s.last_message_preview, e.last_message_preview AS e_last_message_preview,
           s.last_message_timestamp, e.last_message_timestamp AS e_last_message_timestamp
    FROM chat_sessions s
    JOIN expected_session_stats e ON e.session_id = s.id)
SELECT 'usage' AS scope, user_id, to_char(usage_date, 'YYYY-MM-DD') AS subject, 'messages_sent' AS field,
       CAST(s_sent AS TEXT) AS stored, CAST(e_sent AS TEXT) AS expected
FROM usage_pairs WHERE s_sent <> e_sent
UNION ALL
SELECT 'usage', user_id, to_char(usage_date, 'YYYY-MM-DD'), 'messages_received', CAST(s_received AS TEXT),
       CAST(e_received AS TEXT)
FROM usage_pairs WHERE s_received <> e_received
UNION ALL
SELECT 'usage', user_id, to_char(usage_date, 'YYYY-MM-DD'), 'input_tokens', CAST(s_input AS TEXT),
       CAST(e_input AS TEXT)
FROM usage_pairs WHERE s_input <> e_input
UNION ALL
SELECT 'usage', user_id, to_char(usage_date, 'YYYY-MM-DD'), 'output_tokens', CAST(s_output AS TEXT),
       CAST(e_output AS TEXT)
FROM usage_pairs WHERE s_output <> e_output
UNION ALL
SELECT 'usage', user_id, to_char(usage_date, 'YYYY-MM-DD'), 'total_tokens', CAST(s_total AS TEXT),
       CAST(e_total AS TEXT)
FROM usage_pairs WHERE s_total <> e_total
UNION ALL
SELECT 'usage', user_id, to_char(usage_date, 'YYYY-MM-DD'), 'sessions_created', CAST(s_sessions AS TEXT),
       CAST(e_sessions AS TEXT)
FROM usage_pairs WHERE s_sessions <> e_sessions
UNION ALL
SELECT 'usage', user_id, to_char(usage_date, 'YYYY-MM-DD'), 'generation_ms', CAST(s_gen AS TEXT),
       CAST(e_gen AS TEXT)
FROM usage_pairs WHERE s_gen <> e_gen
UNION ALL
SELECT 'usage', user_id, to_char(usage_date, 'YYYY-MM-DD'), 'models_used.' || model, CAST(stored AS TEXT),
       CAST(expected AS TEXT)
FROM model_pairs WHERE stored <> expected
UNION ALL
SELECT 'session', user_id, id, 'message_count', CAST(message_count AS TEXT), CAST(e_message_count AS TEXT)
FROM session_pairs WHERE message_count <> e_message_count
UNION ALL
SELECT 'session', user_id, id, 'total_tokens', CAST(total_tokens AS TEXT), CAST(e_total_tokens AS TEXT)
FROM session_pairs WHERE total_tokens <> e_total_tokens
UNION ALL
SELECT 'session', user_id, id, 'last_model', last_model, e_last_model
FROM session_pairs WHERE last_model IS DISTINCT FROM e_last_model
UNION ALL
SELECT 'session', user_id, id, 'last_message_timestamp',
       CAST(last_message_timestamp AS TEXT), CAST(e_last_message_timestamp AS TEXT)
FROM session_pairs WHERE last_message_timestamp IS DISTINCT FROM e_last_message_timestamp
UNION ALL
SELECT 'session', user_id, id, 'last_message_preview', last_message_preview, e_last_message_preview
FROM session_pairs WHERE deleted_at IS NULL AND last_message_preview IS DISTINCT FROM e_last_message_preview;
