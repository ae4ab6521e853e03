package dev.parley.protocol;

/** Body of {@code GET /health}: {@code status} is {@code ok} or {@code degraded}; {@code database} is {@code ok} or {@code unreachable}. */
public record HealthResponse(String status, String database) {
}
