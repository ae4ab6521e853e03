package dev.parley.protocol;

/**
 * Data of a {@code delta} event (SPEC §5.3): the next piece of the reply. The event's {@code id:} is the length of
 * the reply after this piece, in UTF-16 code units, which a client sends back to re-attach from there.
 */
public record StreamDelta(String text) {
}
