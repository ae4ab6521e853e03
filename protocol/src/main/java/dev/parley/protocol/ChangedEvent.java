package dev.parley.protocol;

/**
 * Data of a {@code changed} event of {@code GET /api/chat/events} (SPEC §5.5): the user's change clock as a sync
 * cursor. A client whose own cursor is behind pulls {@code GET /api/chat/sync} from its own cursor.
 */
public record ChangedEvent(String cursor) {
}
