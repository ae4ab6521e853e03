-- Per-chat settings (SPEC 5.0, 6).
-- system_prompt: the conversation's own system prompt, NULL for none; synced, last writer wins by
-- system_prompt_updated_at, apart from the title (NULL: never set here or on the server; a clear has a time).
-- temperature, max_tokens: this device's own parameters for the chat's requests, never synced; NULL leaves them to
-- the client's defaults (and those, when unset too, to the model). Stores of earlier releases read back unchanged.
ALTER TABLE sessions ADD COLUMN system_prompt TEXT;
ALTER TABLE sessions ADD COLUMN system_prompt_updated_at INTEGER;
ALTER TABLE sessions ADD COLUMN temperature REAL;
ALTER TABLE sessions ADD COLUMN max_tokens INTEGER;
