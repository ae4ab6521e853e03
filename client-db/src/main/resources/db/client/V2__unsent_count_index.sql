-- Counting a state's rows (the status bar after every change, the start of every push) read the whole table, so
-- their cost grew with the history. These indexes hold only the rows not yet synced — a few, whatever the history —
-- and serve every count of an unsent state (local, pending, rejected).
CREATE INDEX messages_unsent ON messages (owner, sync_state) WHERE sync_state <> 'synced';
CREATE INDEX sessions_unsent ON sessions (owner, sync_state) WHERE sync_state <> 'synced';
