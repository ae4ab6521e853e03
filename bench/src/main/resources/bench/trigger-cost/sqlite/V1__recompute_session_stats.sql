-- For the trigger-cost benchmark only, never for a real database: the old system's way of keeping session
-- statistics. After every inserted message the session's aggregates are recomputed from all of its messages, so
-- inserting a message costs O(messages in the session). The benchmark removes every trigger on chat_messages
-- (Parley's delta counting and its sync clock) before this runs, and adds no usage counting, so this variant does
-- strictly less bookkeeping than Parley's own triggers.

CREATE TRIGGER old_update_session_stats
AFTER INSERT ON chat_messages
BEGIN
    UPDATE chat_sessions SET
        message_count = (SELECT count(*) FROM chat_messages m
                         WHERE m.session_id = NEW.session_id AND m.error_message IS NULL AND m.role <> 'system'),
        total_tokens  = (SELECT coalesce(sum(m.total_tokens), 0) FROM chat_messages m
                         WHERE m.session_id = NEW.session_id AND m.error_message IS NULL AND m.role <> 'system'),
        (last_model, last_message_preview, last_message_timestamp) = (
            SELECT m.model, substr(m.content, 1, 200), m.message_timestamp FROM chat_messages m
            WHERE m.session_id = NEW.session_id AND m.error_message IS NULL AND m.role <> 'system'
            ORDER BY m.message_timestamp DESC, m.id DESC LIMIT 1)
    WHERE id = NEW.session_id;
END;
