-- Counting rules of SPEC §4.1 as delta-based triggers. A message contributes when error_message IS NULL and its
-- role is not 'system'. Every write path (API, push, sign-in upload, admin SQL) goes through these, so a row counts
-- exactly once: INSERT adds its contribution, UPDATE adds contribution(NEW) - contribution(OLD), DELETE removes it.
-- The UPDATE triggers list the columns that decide a contribution, so rewriting content (purge) or change_seq
-- never touches the counters.

-- ---------------------------------------------------------------- user_usage_daily from chat_messages

CREATE TRIGGER usage_add_on_message_insert
AFTER INSERT ON chat_messages
WHEN NEW.error_message IS NULL AND NEW.role <> 'system'
BEGIN
    INSERT INTO user_usage_daily (user_id, usage_date, messages_sent, messages_received, input_tokens, output_tokens,
                                  total_tokens, models_used, generation_ms, updated_at)
    VALUES (NEW.user_id, date(NEW.message_timestamp / 1000, 'unixepoch'),
            NEW.role = 'user', NEW.role = 'assistant', NEW.input_tokens, NEW.output_tokens, NEW.total_tokens,
            CASE WHEN NEW.model IS NULL THEN '{}' ELSE json_object(NEW.model, 1) END,
            CASE WHEN NEW.role = 'assistant' THEN coalesce(NEW.elapsed_ms, 0) ELSE 0 END,
            CAST(unixepoch('subsec') * 1000 AS INTEGER))
    ON CONFLICT (user_id, usage_date) DO UPDATE SET
        messages_sent     = messages_sent + excluded.messages_sent,
        messages_received = messages_received + excluded.messages_received,
        input_tokens      = input_tokens + excluded.input_tokens,
        output_tokens     = output_tokens + excluded.output_tokens,
        total_tokens      = total_tokens + excluded.total_tokens,
        models_used       = CASE WHEN NEW.model IS NULL THEN models_used
                                 ELSE json_set(models_used, '$."' || NEW.model || '"',
                                      coalesce(json_extract(models_used, '$."' || NEW.model || '"'), 0) + 1) END,
        generation_ms     = generation_ms + excluded.generation_ms,
        updated_at        = excluded.updated_at;

    UPDATE chat_sessions SET
        message_count          = message_count + 1,
        total_tokens           = total_tokens + NEW.total_tokens,
        last_model             = CASE WHEN last_message_timestamp IS NULL
                                        OR NEW.message_timestamp > last_message_timestamp
                                        OR (NEW.message_timestamp = last_message_timestamp AND NEW.id > last_message_id)
                                      THEN NEW.model ELSE last_model END,
        last_message_preview   = CASE WHEN last_message_timestamp IS NULL
                                        OR NEW.message_timestamp > last_message_timestamp
                                        OR (NEW.message_timestamp = last_message_timestamp AND NEW.id > last_message_id)
                                      THEN CASE WHEN deleted_at IS NULL THEN substr(NEW.content, 1, 200) ELSE '' END
                                      ELSE last_message_preview END,
        last_message_id        = CASE WHEN last_message_timestamp IS NULL
                                        OR NEW.message_timestamp > last_message_timestamp
                                        OR (NEW.message_timestamp = last_message_timestamp AND NEW.id > last_message_id)
                                      THEN NEW.id ELSE last_message_id END,
        last_message_timestamp = max(coalesce(last_message_timestamp, NEW.message_timestamp), NEW.message_timestamp)
    WHERE id = NEW.session_id;
END;

CREATE TRIGGER usage_remove_on_message_delete
AFTER DELETE ON chat_messages
WHEN OLD.error_message IS NULL AND OLD.role <> 'system'
BEGIN
    UPDATE user_usage_daily SET
        messages_sent     = messages_sent - (OLD.role = 'user'),
        messages_received = messages_received - (OLD.role = 'assistant'),
        input_tokens      = input_tokens - OLD.input_tokens,
        output_tokens     = output_tokens - OLD.output_tokens,
        total_tokens      = total_tokens - OLD.total_tokens,
        models_used       = CASE WHEN OLD.model IS NULL THEN models_used
                                 WHEN coalesce(json_extract(models_used, '$."' || OLD.model || '"'), 0) <= 1
                                   THEN json_remove(models_used, '$."' || OLD.model || '"')
                                 ELSE json_set(models_used, '$."' || OLD.model || '"',
                                      json_extract(models_used, '$."' || OLD.model || '"') - 1) END,
        generation_ms     = generation_ms - CASE WHEN OLD.role = 'assistant' THEN coalesce(OLD.elapsed_ms, 0) ELSE 0 END,
        updated_at        = CAST(unixepoch('subsec') * 1000 AS INTEGER)
    WHERE user_id = OLD.user_id AND usage_date = date(OLD.message_timestamp / 1000, 'unixepoch');

    UPDATE chat_sessions SET
        message_count = message_count - 1,
        total_tokens  = total_tokens - OLD.total_tokens
    WHERE id = OLD.session_id;

    UPDATE chat_sessions SET (last_model, last_message_preview, last_message_timestamp, last_message_id) = (
        SELECT m.model, CASE WHEN chat_sessions.deleted_at IS NULL THEN substr(m.content, 1, 200) ELSE '' END,
               m.message_timestamp, m.id
        FROM chat_messages m
        WHERE m.session_id = OLD.session_id AND m.error_message IS NULL AND m.role <> 'system'
        ORDER BY m.message_timestamp DESC, m.id DESC LIMIT 1)
    WHERE id = OLD.session_id AND last_message_id = OLD.id;
END;

-- An UPDATE is a removal of the old contribution followed by an insertion of the new one.
CREATE TRIGGER usage_remove_old_on_message_update
AFTER UPDATE OF user_id, session_id, role, model, input_tokens, output_tokens, total_tokens, message_timestamp,
                elapsed_ms, error_message ON chat_messages
WHEN OLD.error_message IS NULL AND OLD.role <> 'system'
BEGIN
    UPDATE user_usage_daily SET
        messages_sent     = messages_sent - (OLD.role = 'user'),
        messages_received = messages_received - (OLD.role = 'assistant'),
        input_tokens      = input_tokens - OLD.input_tokens,
        output_tokens     = output_tokens - OLD.output_tokens,
        total_tokens      = total_tokens - OLD.total_tokens,
        models_used       = CASE WHEN OLD.model IS NULL THEN models_used
                                 WHEN coalesce(json_extract(models_used, '$."' || OLD.model || '"'), 0) <= 1
                                   THEN json_remove(models_used, '$."' || OLD.model || '"')
                                 ELSE json_set(models_used, '$."' || OLD.model || '"',
                                      json_extract(models_used, '$."' || OLD.model || '"') - 1) END,
        generation_ms     = generation_ms - CASE WHEN OLD.role = 'assistant' THEN coalesce(OLD.elapsed_ms, 0) ELSE 0 END,
        updated_at        = CAST(unixepoch('subsec') * 1000 AS INTEGER)
    WHERE user_id = OLD.user_id AND usage_date = date(OLD.message_timestamp / 1000, 'unixepoch');

    UPDATE chat_sessions SET
        message_count = message_count - 1,
        total_tokens  = total_tokens - OLD.total_tokens
    WHERE id = OLD.session_id;

    UPDATE chat_sessions SET (last_model, last_message_preview, last_message_timestamp, last_message_id) = (
        SELECT m.model, CASE WHEN chat_sessions.deleted_at IS NULL THEN substr(m.content, 1, 200) ELSE '' END,
               m.message_timestamp, m.id
        FROM chat_messages m
        WHERE m.session_id = OLD.session_id AND m.error_message IS NULL AND m.role <> 'system'
        ORDER BY m.message_timestamp DESC, m.id DESC LIMIT 1)
    WHERE id = OLD.session_id AND last_message_id = OLD.id;
END;

CREATE TRIGGER usage_add_new_on_message_update
AFTER UPDATE OF user_id, session_id, role, model, input_tokens, output_tokens, total_tokens, message_timestamp,
                elapsed_ms, error_message ON chat_messages
WHEN NEW.error_message IS NULL AND NEW.role <> 'system'
BEGIN
    INSERT INTO user_usage_daily (user_id, usage_date, messages_sent, messages_received, input_tokens, output_tokens,
                                  total_tokens, models_used, generation_ms, updated_at)
    VALUES (NEW.user_id, date(NEW.message_timestamp / 1000, 'unixepoch'),
            NEW.role = 'user', NEW.role = 'assistant', NEW.input_tokens, NEW.output_tokens, NEW.total_tokens,
            CASE WHEN NEW.model IS NULL THEN '{}' ELSE json_object(NEW.model, 1) END,
            CASE WHEN NEW.role = 'assistant' THEN coalesce(NEW.elapsed_ms, 0) ELSE 0 END,
            CAST(unixepoch('subsec') * 1000 AS INTEGER))
    ON CONFLICT (user_id, usage_date) DO UPDATE SET
        messages_sent     = messages_sent + excluded.messages_sent,
        messages_received = messages_received + excluded.messages_received,
        input_tokens      = input_tokens + excluded.input_tokens,
        output_tokens     = output_tokens + excluded.output_tokens,
        total_tokens      = total_tokens + excluded.total_tokens,
        models_used       = CASE WHEN NEW.model IS NULL THEN models_used
                                 ELSE json_set(models_used, '$."' || NEW.model || '"',
                                      coalesce(json_extract(models_used, '$."' || NEW.model || '"'), 0) + 1) END,
        generation_ms     = generation_ms + excluded.generation_ms,
        updated_at        = excluded.updated_at;

    UPDATE chat_sessions SET
        message_count          = message_count + 1,
        total_tokens           = total_tokens + NEW.total_tokens,
        last_model             = CASE WHEN last_message_timestamp IS NULL
                                        OR NEW.message_timestamp > last_message_timestamp
                                        OR (NEW.message_timestamp = last_message_timestamp AND NEW.id > last_message_id)
                                      THEN NEW.model ELSE last_model END,
        last_message_preview   = CASE WHEN last_message_timestamp IS NULL
                                        OR NEW.message_timestamp > last_message_timestamp
                                        OR (NEW.message_timestamp = last_message_timestamp AND NEW.id > last_message_id)
                                      THEN CASE WHEN deleted_at IS NULL THEN substr(NEW.content, 1, 200) ELSE '' END
                                      ELSE last_message_preview END,
        last_message_id        = CASE WHEN last_message_timestamp IS NULL
                                        OR NEW.message_timestamp > last_message_timestamp
                                        OR (NEW.message_timestamp = last_message_timestamp AND NEW.id > last_message_id)
                                      THEN NEW.id ELSE last_message_id END,
        last_message_timestamp = max(coalesce(last_message_timestamp, NEW.message_timestamp), NEW.message_timestamp)
    WHERE id = NEW.session_id;
END;

-- ---------------------------------------------------------------- sessions_created from chat_sessions

CREATE TRIGGER usage_add_on_session_insert
AFTER INSERT ON chat_sessions
BEGIN
    INSERT INTO user_usage_daily (user_id, usage_date, sessions_created, updated_at)
    VALUES (NEW.user_id, date(NEW.created_at / 1000, 'unixepoch'), 1, CAST(unixepoch('subsec') * 1000 AS INTEGER))
    ON CONFLICT (user_id, usage_date) DO UPDATE SET
        sessions_created = sessions_created + 1,
        updated_at       = excluded.updated_at;
END;

CREATE TRIGGER usage_remove_on_session_delete
AFTER DELETE ON chat_sessions
BEGIN
    UPDATE user_usage_daily SET
        sessions_created = sessions_created - 1,
        updated_at       = CAST(unixepoch('subsec') * 1000 AS INTEGER)
    WHERE user_id = OLD.user_id AND usage_date = date(OLD.created_at / 1000, 'unixepoch');
END;

CREATE TRIGGER usage_move_on_session_update
AFTER UPDATE OF user_id, created_at ON chat_sessions
WHEN OLD.user_id IS NOT NEW.user_id OR OLD.created_at IS NOT NEW.created_at
BEGIN
    UPDATE user_usage_daily SET
        sessions_created = sessions_created - 1,
        updated_at       = CAST(unixepoch('subsec') * 1000 AS INTEGER)
    WHERE user_id = OLD.user_id AND usage_date = date(OLD.created_at / 1000, 'unixepoch');

    INSERT INTO user_usage_daily (user_id, usage_date, sessions_created, updated_at)
    VALUES (NEW.user_id, date(NEW.created_at / 1000, 'unixepoch'), 1, CAST(unixepoch('subsec') * 1000 AS INTEGER))
    ON CONFLICT (user_id, usage_date) DO UPDATE SET
        sessions_created = sessions_created + 1,
        updated_at       = excluded.updated_at;
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
