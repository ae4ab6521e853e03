package dev.parley.protocol;

import java.time.LocalDate;
import java.util.List;
import java.util.Map;

/** Body of {@code GET /api/usage/daily}: one entry per UTC day with activity, oldest first. */
public record UsageResponse(List<UsageDay> days) {

    /** The figures of one user on one UTC day. */
    public record UsageDay(LocalDate date, long messagesSent, long messagesReceived, long inputTokens,
                           long outputTokens, long totalTokens, Map<String, Long> modelsUsed, long sessionsCreated,
                           long generationMs) {
    }
}
