package dev.parley.client;

/**
 * Hears one exchange as its reply is written: the same shape as a stream of server-sent events — it starts, text is
 * appended, and it ends once, finished, failed or stopped. Called on the client's event thread, in order, after the
 * local store holds what the call reports; implementations hand work to their UI thread and return quickly.
 */
public interface ExchangeListener {

    /**
     * The server accepted the exchange; its reply will be stored under {@code replyId}. Called again, with another
     * id, when the reply was started anew (its first generation was lost with a server process): the text shown so
     * far is then dropped and what follows is the new reply.
     */
    default void started(Exchange exchange, String replyId) {
    }

    /** {@code piece} arrived ({@link Exchange#text()} holds the whole reply so far). */
    default void textAppended(Exchange exchange, String piece) {
    }

    /** The reply is complete and stored ({@code outcome.reply()} non-null; it may have been cut off). */
    default void finished(Exchange exchange, Exchange.Outcome outcome) {
    }

    /**
     * No reply: {@code outcome.userMessage()} is failed (with Try again when retryable); for a regenerate the
     * question stays answered and {@code outcome.reply()} is the failed reply shown in its place.
     */
    default void failed(Exchange exchange, Exchange.Outcome outcome) {
    }

    /**
     * The user stopped it: {@code outcome.reply()} is the text kept, marked stopped, or {@code null} when it was
     * stopped before its first word (a regenerate then leaves nothing: the path shows the earlier versions). Offline, the reply shown is the text that had arrived (unfinished) and the stop
     * is sent when the connection is back.
     */
    default void stopped(Exchange exchange, Exchange.Outcome outcome) {
    }
}
