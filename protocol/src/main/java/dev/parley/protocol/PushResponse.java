package dev.parley.protocol;

import java.util.List;

/** Per-row results of a push, in request order. */
public record PushResponse(List<RowResult> sessions, List<RowResult> messages) {
}
