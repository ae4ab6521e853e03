package dev.parley.protocol;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;

/** What the server did with one pushed row; {@code code} and {@code reason} are set only when rejected. */
public record RowResult(String id, Outcome result, String code, String reason) {

    /** The outcome of one row. */
    public enum Outcome {
        INSERTED("inserted"), UPDATED("updated"), UNCHANGED("unchanged"), REJECTED("rejected");

        private final String wire;

        Outcome(String wire) {
            this.wire = wire;
        }

        @JsonValue
        public String wire() {
            return wire;
        }

        @JsonCreator
        public static Outcome fromWire(String wire) {
            for (Outcome outcome : values()) {
                if (outcome.wire.equals(wire)) {
                    return outcome;
                }
            }
            throw new IllegalArgumentException("unknown row result '" + wire + "'");
        }
    }

    /** Rejection codes used in {@code code}. */
    public static final String CONFLICT = "conflict";
    public static final String SESSION_DELETED = "session_deleted";
    public static final String NOT_FOUND = "not_found";
    public static final String BAD_REQUEST = "bad_request";

    public static RowResult of(String id, Outcome outcome) {
        return new RowResult(id, outcome, null, null);
    }

    public static RowResult rejected(String id, String code, String reason) {
        return new RowResult(id, Outcome.REJECTED, code, reason);
    }

    /** True when the server holds the row now (inserted, updated or unchanged). */
    public boolean accepted() {
        return result != Outcome.REJECTED;
    }
}
