-- Live changes (SPEC §5.5): every move of a user's change clock is announced on the channel the server processes
-- already listen on for streamed replies, with the topic 'user:<id>'. NOTIFY is sent at commit and not at all on
-- a rollback, and repeats of one payload within a transaction are sent once, so a push of many rows is one
-- notification. SQLite has no such channel; its processes poll the clock (see PollingSignals).
CREATE OR REPLACE FUNCTION next_change_seq(owner TEXT) RETURNS BIGINT
    LANGUAGE plpgsql AS $$
DECLARE
    seq BIGINT;
BEGIN
    UPDATE users SET change_seq = change_seq + 1 WHERE id = owner RETURNING change_seq INTO seq;
    PERFORM pg_notify('parley_changes', 'user:' || owner);
    RETURN coalesce(seq, 0); -- no such user: the foreign key refuses the row
END $$;
