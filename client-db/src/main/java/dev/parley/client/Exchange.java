package dev.parley.client;

import java.util.concurrent.CompletableFuture;

/**
 * A message just written locally and its exchange with the server, still under way.
 *
 * @param userMessage the user message as stored at once (show it immediately)
 * @param outcome     completes, on a client thread, with the stored user message and the reply (or the failure
 *                    recorded on the user message); it never completes exceptionally
 */
public record Exchange(LocalMessage userMessage, CompletableFuture<Outcome> outcome) {

    /**
     * How an exchange ended.
     *
     * @param userMessage the user message as stored afterwards (failed, pending, synced…)
     * @param reply       the assistant reply, or {@code null} when the exchange failed
     */
    public record Outcome(LocalMessage userMessage, LocalMessage reply) {
    }
}
