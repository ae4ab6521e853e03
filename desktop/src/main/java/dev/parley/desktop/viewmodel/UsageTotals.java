package dev.parley.desktop.viewmodel;

import java.util.List;
import java.util.Locale;

/**
 * The sums of a stretch of days of usage, as the usage panel shows them. Immutable; any thread.
 *
 * @param messagesSent     the user's messages that counted (SPEC §4.1: successful, not system)
 * @param messagesReceived the replies that counted
 * @param inputTokens      tokens of the prompts of the messages sent
 * @param outputTokens     tokens of the replies
 * @param totalTokens      input and output tokens together, as the days give them
 * @param generationMs     how long the model took over the replies, in milliseconds
 * @param sessionsCreated  conversations started
 */
public record UsageTotals(long messagesSent, long messagesReceived, long inputTokens, long outputTokens,
                          long totalTokens, long generationMs, long sessionsCreated) {

    /** Nothing used. */
    public static final UsageTotals NONE = new UsageTotals(0, 0, 0, 0, 0, 0, 0);

    /** Messages sent and received together. */
    public long messages() {
        return messagesSent + messagesReceived;
    }

    /** The totals as rows of a name and a formatted value, in the order the panel shows them. */
    public List<Figure> figures() {
        return List.of(
                new Figure("Messages sent", count(messagesSent)),
                new Figure("Messages received", count(messagesReceived)),
                new Figure("Input tokens", count(inputTokens)),
                new Figure("Output tokens", count(outputTokens)),
                new Figure("Total tokens", count(totalTokens)),
                new Figure("Generation time", duration(generationMs)),
                new Figure("Conversations started", count(sessionsCreated)));
    }

    /** One line of the totals: what it is and its value, formatted. */
    public record Figure(String name, String value) {
    }

    /** A count with thousands separators: {@code 12,345}. */
    static String count(long n) {
        return String.format(Locale.ROOT, "%,d", n);
    }

    /** A duration in the largest units that read well: {@code 850 ms}, {@code 4.2 s}, {@code 3 min 5 s}, {@code 2 h 7 min}. */
    static String duration(long ms) {
        if (ms < 1_000) {
            return ms + " ms";
        }
        if (ms < 60_000) {
            return String.format(Locale.ROOT, "%.1f s", ms / 1_000.0);
        }
        long seconds = ms / 1_000;
        if (seconds < 3_600) {
            return (seconds / 60) + " min " + (seconds % 60) + " s";
        }
        return count(seconds / 3_600) + " h " + (seconds % 3_600 / 60) + " min";
    }
}
