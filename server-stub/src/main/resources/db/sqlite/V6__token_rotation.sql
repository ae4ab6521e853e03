-- Refresh grace and token purging (SPEC §8). rotated_at is when a refresh token was spent by a refresh (its
-- revoked_at says only that it is no longer live, which sign-out and reuse also set): the same token presented
-- again within 30 s of it is a lost answer, not a theft. Rows written before this migration have none, so their
-- reuse revokes the family as before. The index serves the sweep of expired tokens.
ALTER TABLE auth_tokens ADD COLUMN rotated_at INTEGER;
CREATE INDEX auth_tokens_expires ON auth_tokens (expires_at);
