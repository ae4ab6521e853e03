-- Per-chat system prompts (SPEC §4, §5.0). system_prompt is the text a chat's model is told first, NULL for none;
-- system_prompt_updated_at orders its edits last writer wins, on its own, as title_updated_at orders renames. It
-- stays set when an edit clears the prompt, so that an older edit arriving later does not bring the prompt back.
-- Rows written before this migration have neither. A system prompt plays no part in counting: the triggers of V2
-- are unchanged, and an edit only advances the session's change_seq (sync_seq_on_session_update), so that sync
-- delivers it.
ALTER TABLE chat_sessions ADD COLUMN system_prompt TEXT;
ALTER TABLE chat_sessions ADD COLUMN system_prompt_updated_at INTEGER;
