-- Branches (SPEC §4.3): regenerate and edit keep every version of a turn as siblings in the conversation's tree.
-- parent_id is the row a message follows: for a reply its user message, for a user message the reply it follows,
-- NULL for a first turn. A reply is now identified by its own id, so a user message may have several replies: the
-- one-reply index gives way to a plain one that finds a message's replies.
ALTER TABLE chat_messages ADD COLUMN parent_id TEXT;

DROP INDEX chat_messages_one_reply;
CREATE INDEX chat_messages_replies ON chat_messages (user_message_id)
    WHERE role = 'assistant' AND user_message_id IS NOT NULL;

-- Rows written before branches form one line, in the order they were shown: a reply follows its user message, any
-- other row the row before it in its session. Stating that order as parents leaves every conversation as it read.
-- Only parent_id changes, which no counting trigger watches. The rows' sync clock stays where it was: a parent
-- stated here says nothing a client's copy of the same rows does not already say by their order (clients state it
-- the same way when their own store migrates), so no client downloads its whole history again.
DROP TRIGGER sync_seq_on_message_update;
UPDATE chat_messages SET parent_id = user_message_id
    WHERE role = 'assistant' AND user_message_id IS NOT NULL;
UPDATE chat_messages SET parent_id = earlier.previous_id
    FROM (SELECT id, lag(id) OVER (PARTITION BY session_id ORDER BY message_timestamp, id) AS previous_id
          FROM chat_messages) AS earlier
    WHERE chat_messages.id = earlier.id AND chat_messages.parent_id IS NULL
      AND (chat_messages.role <> 'assistant' OR chat_messages.user_message_id IS NULL)
      AND earlier.previous_id IS NOT NULL;
-- The clock's trigger back, as V2 made it.
CREATE TRIGGER sync_seq_on_message_update
AFTER UPDATE ON chat_messages
WHEN NEW.change_seq IS OLD.change_seq
BEGIN
    UPDATE users SET change_seq = change_seq + 1 WHERE id = NEW.user_id;
    UPDATE chat_messages SET change_seq = (SELECT change_seq FROM users WHERE id = NEW.user_id) WHERE id = NEW.id;
END;
