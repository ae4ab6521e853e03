-- Counting rules of SPEC §4.1 as delta-based triggers, the same arithmetic as db/sqlite/V2. A message contributes
-- when error_message IS NULL and its role is not 'system'. Every write path (API, push, sign-in upload, admin SQL)
-- goes through these, so a row counts exactly once: INSERT adds its contribution, DELETE removes it, UPDATE
-- removes the old one and adds the new one. The UPDATE trigger lists the columns that decide a contribution or a
-- session's preview; a change of change_seq alone never reaches the counters, and a purge removes and re-adds an
-- unchanged contribution (net zero).
--
-- Concurrency: usage rows are changed by INSERT … ON CONFLICT DO UPDATE, which adds to the row's latest committed
-- version under its row lock, so concurrent writers never lose an update; session rows are locked before they are
-- read. The per-user change clock (below) locks the user's row first, so writers of one user run one at a time.

-- The UTC date of an epoch-milliseconds time: the usage day of a message or a session.
CREATE FUNCTION utc_date(millis BIGINT) RETURNS DATE
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT (to_timestamp(millis / 1000.0) AT TIME ZONE 'UTC')::date $$;

CREATE FUNCTION epoch_millis_now() RETURNS BIGINT
    LANGUAGE sql STABLE
    AS $$ SELECT (extract(epoch FROM statement_timestamp()) * 1000)::bigint $$;

-- models_used with delta more uses of model; a count that reaches zero drops its key, as the recomputation has none.
CREATE FUNCTION add_model_uses(uses JSONB, model TEXT, delta BIGINT) RETURNS JSONB
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
        SELECT CASE WHEN n = 0 THEN uses - model ELSE uses || jsonb_build_object(model, n) END
        FROM (SELECT coalesce((uses ->> model)::bigint, 0) + delta AS n) AS counted
    $$;

-- Applies delta (+1 or -1) times the contribution of msg to its user's day and to its session's statistics.
CREATE FUNCTION apply_message_contribution(delta BIGINT, msg chat_messages) RETURNS void
    LANGUAGE plpgsql AS $$
DECLARE
    last_ts    BIGINT;
    last_id    TEXT;
    takes_last BOOLEAN;
    loses_last BOOLEAN;
BEGIN
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

CREATE FUNCTION count_message_change() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        IF OLD.error_message IS NULL AND OLD.role <> 'system' THEN
            PERFORM apply_message_contribution(-1, OLD);
        END IF;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        IF NEW.error_message IS NULL AND NEW.role <> 'system' THEN
            PERFORM apply_message_contribution(1, NEW);
        END IF;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER count_message_change
AFTER INSERT
   OR UPDATE OF user_id, session_id, role, content, model, input_tokens, output_tokens, total_tokens,
                message_timestamp, elapsed_ms, error_message
   OR DELETE
ON chat_messages
FOR EACH ROW EXECUTE FUNCTION count_message_change();

-- ---------------------------------------------------------------- sessions_created from chat_sessions

CREATE FUNCTION apply_session_contribution(delta BIGINT, owner TEXT, created BIGINT) RETURNS void
    LANGUAGE sql AS $$
    INSERT INTO user_usage_daily AS u (user_id, usage_date, sessions_created, updated_at)
    VALUES (owner, utc_date(created), delta, epoch_millis_now())
    ON CONFLICT (user_id, usage_date) DO UPDATE SET
        sessions_created = u.sessions_created + EXCLUDED.sessions_created,
        updated_at       = EXCLUDED.updated_at;
$$;

CREATE FUNCTION count_session_change() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM apply_session_contribution(1, NEW.user_id, NEW.created_at);
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM apply_session_contribution(-1, OLD.user_id, OLD.created_at);
    ELSIF OLD.user_id IS DISTINCT FROM NEW.user_id OR OLD.created_at IS DISTINCT FROM NEW.created_at THEN
        PERFORM apply_session_contribution(-1, OLD.user_id, OLD.created_at);
        PERFORM apply_session_contribution(1, NEW.user_id, NEW.created_at);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER count_session_change
AFTER INSERT OR UPDATE OF user_id, created_at OR DELETE ON chat_sessions
FOR EACH ROW EXECUTE FUNCTION count_session_change();

-- ---------------------------------------------------------------- the per-user sync clock

-- Advances the owner's clock and returns its new value. The UPDATE locks the user's row until the transaction
-- ends, so a second writer of the same user waits here and takes the next value only after the first committed:
-- per user, commit order is clock order, and a reader never sees position n+1 without position n.
CREATE FUNCTION next_change_seq(owner TEXT) RETURNS BIGINT
    LANGUAGE plpgsql AS $$
DECLARE
    seq BIGINT;
BEGIN
    UPDATE users SET change_seq = change_seq + 1 WHERE id = owner RETURNING change_seq INTO seq;
    RETURN coalesce(seq, 0); -- no such user: the foreign key refuses the row
END $$;

CREATE FUNCTION stamp_change_seq() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    NEW.change_seq := next_change_seq(NEW.user_id);
    RETURN NEW;
END $$;

CREATE TRIGGER stamp_change_seq
BEFORE INSERT OR UPDATE ON chat_sessions
FOR EACH ROW EXECUTE FUNCTION stamp_change_seq();

CREATE TRIGGER stamp_change_seq
BEFORE INSERT OR UPDATE ON chat_messages
FOR EACH ROW EXECUTE FUNCTION stamp_change_seq();
