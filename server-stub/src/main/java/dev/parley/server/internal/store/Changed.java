package dev.parley.server.internal.store;

/** A row together with the position of its last change on its owner's sync clock. */
public record Changed<T>(long seq, T row) {
}
