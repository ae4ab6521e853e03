package dev.parley.protocol;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;

/**
 * Where a message came from (SPEC §4.1, §5.0): written through Parley, or history imported from another app. An
 * imported row counts in its session's statistics and never in the user's daily usage. A row's origin never
 * changes after it is stored; a message that states none is {@link #CHAT}.
 */
public enum Origin {
    CHAT("chat"),
    IMPORT("import");

    private final String wire;

    Origin(String wire) {
        this.wire = wire;
    }

    @JsonValue
    public String wire() {
        return wire;
    }

    /** Parses a wire origin; {@code null} is {@link #CHAT}; another value throws {@link IllegalArgumentException}. */
    @JsonCreator
    public static Origin fromWire(String wire) {
        if (wire == null) {
            return CHAT;
        }
        for (Origin origin : values()) {
            if (origin.wire.equals(wire)) {
                return origin;
            }
        }
        throw new IllegalArgumentException("unknown origin '" + wire + "' (expected chat or import)");
    }
}
