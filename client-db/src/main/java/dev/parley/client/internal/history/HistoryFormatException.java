package dev.parley.client.internal.history;

/** A file that is not an export Parley can read; the message says why in words for the user. */
final class HistoryFormatException extends Exception {
    HistoryFormatException(String message) {
        super(message);
    }

    HistoryFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
