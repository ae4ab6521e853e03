package dev.parley.client;

import java.util.concurrent.CompletableFuture;

/**
 * A message's exchange with the server, while its reply is written: the user message as stored at once (for a
 * regenerate, the question answered again), the reply as it grows, and how it ended. The client owns it; it runs on the client's threads and ends on its own (a reply
 * that no dropped connection can lose: a broken stream is re-attached to). Thread-safe.
 */
public interface Exchange {

    /** The user message as stored when the exchange began (show it immediately). */
    LocalMessage userMessage();

    default String messageId() {
        return userMessage().id();
    }

    default String sessionId() {
        return userMessage().message().sessionId();
    }

    /**
     * The id the reply is stored under: for a regenerate the one the client chose, from the start; for a send the
     * one the client asked for, until the server's start names the reply it stores (a message answered before
     * keeps its earlier reply, whose id {@link ExchangeListener#started} then tells). Key the growing reply by it.
     * {@code null} only for an implementation that cannot tell.
     */
    default String replyId() {
        return null;
    }

    /** The reply's text so far; empty before its first word. */
    String text();

    /**
     * Completes, on a client thread, with the user message as stored afterwards and the reply (or the failure
     * recorded on the user message); it never completes exceptionally.
     */
    CompletableFuture<Outcome> outcome();

    /**
     * Adds a listener, called on the client's event thread. A listener added late first hears what it missed (the
     * start, the text so far as one piece, the end), so it never needs to read the rest elsewhere.
     */
    void addListener(ExchangeListener listener);

    void removeListener(ExchangeListener listener);

    /**
     * Asks the server to stop the reply and keep what it wrote (SPEC §5.3 stop); does not block. Offline, the reply
     * stops here at once and the stop is sent when the connection is back. Nothing once the exchange has ended.
     */
    void stop();

    /**
     * How an exchange ended.
     *
     * @param userMessage the user message as stored afterwards (failed, pending, synced…); a regenerate leaves it
     *                    as it was, answered
     * @param reply       the assistant reply, or {@code null} when the exchange failed or was stopped before its
     *                    first word; for a regenerate that failed, the failed reply (its {@link LocalMessage#failed()}
     *                    true, with its error code and Try again), which the path shows in its place
     */
    record Outcome(LocalMessage userMessage, LocalMessage reply) {
    }
}
