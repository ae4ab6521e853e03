package dev.parley.protocol;

import java.time.Instant;

/** Body of {@code PATCH /api/chat/sessions/{id}}; the newer {@code titleUpdatedAt} wins. */
public record RenameRequest(String title, Instant titleUpdatedAt) {
}
