-- Imported history (SPEC 4.1): origin 'import' marks a message brought in from another app (a ChatGPT export, or
-- a Parley export read back). It is pushed with that origin, counts in its conversation like any row and never in
-- daily usage. Every row stored before this release was written through Parley: 'chat'. Never changes.
ALTER TABLE messages ADD COLUMN origin TEXT NOT NULL DEFAULT 'chat' CHECK (origin IN ('chat', 'import'));
