package dev.parley.server.internal.chat;

/**
 * One row of a push as read from the wire: the row, or why it could not be read (then {@code row} is null and
 * {@code id} is whatever id the row carried, possibly null). Rows are read one by one so that an unreadable row is
 * rejected alone.
 */
public record ParsedRow<T>(T row, String id, String problem) {
    public static <T> ParsedRow<T> of(T row) {
        return new ParsedRow<>(row, null, null);
    }

    public static <T> ParsedRow<T> unreadable(String id, String problem) {
        return new ParsedRow<>(null, id, problem);
    }
}
