package dev.parley.client;

import dev.parley.protocol.UsageResponse.UsageDay;
import java.util.List;

/**
 * Daily usage as {@link ChatClient#usage} found it: one entry per UTC day with activity, oldest first, and where
 * the figures come from. Immutable.
 *
 * @param source where the figures come from
 * @param days   the days with activity, oldest first; never {@code null}, empty when nothing was used
 */
public record UsageReport(Source source, List<UsageDay> days) {

    public UsageReport {
        days = List.copyOf(days);
    }

    /** Where the figures of a report come from. */
    public enum Source {
        /** The account's figures as the server keeps them (SPEC §4.1): every device of the account. */
        SERVER,
        /**
         * Counted from this device's store with the server's rules, because the user is signed out or the server
         * could not be reached: what this device holds of the account (or of the signed-out user).
         */
        THIS_DEVICE
    }
}
