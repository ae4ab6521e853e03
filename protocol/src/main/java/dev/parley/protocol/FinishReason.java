package dev.parley.protocol;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;

/**
 * Why an assistant reply ended (SPEC §5.3). User rows, and replies stored before the field existed, carry none
 * ({@code null}). Only {@link #STOP} is a complete reply; {@link #LENGTH} is shown as cut off.
 */
public enum FinishReason {
    /** The model finished the reply. */
    STOP("stop"),
    /** The token limit cut the reply off. */
    LENGTH("length"),
    /** The user stopped the reply; the text is what was generated until then. */
    STOPPED("stopped"),
    /** The provider's content filter ended the reply. */
    CONTENT_FILTER("content_filter");

    private final String wire;

    FinishReason(String wire) {
        this.wire = wire;
    }

    @JsonValue
    public String wire() {
        return wire;
    }

    /**
     * Parses a wire value; an unknown one (from a newer server or an unusual provider) is {@code null}, "not
     * known", rather than an error that would make the whole message unreadable.
     */
    @JsonCreator
    public static FinishReason fromWire(String wire) {
        for (FinishReason reason : values()) {
            if (reason.wire.equals(wire)) {
                return reason;
            }
        }
        return null;
    }
}
