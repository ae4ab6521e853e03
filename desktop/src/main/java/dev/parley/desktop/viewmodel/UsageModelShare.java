package dev.parley.desktop.viewmodel;

import java.util.Locale;

/**
 * How many messages went through one model over the days shown. A message sent and its reply are each one use of
 * their model (SPEC §4.1), so these are messages, not tokens: the daily figures do not split tokens by model.
 * Immutable; any thread.
 *
 * @param model    the model id, as the server or this device recorded it
 * @param messages the messages sent or received with it
 * @param share    its part of all messages with a model, from 0 to 1
 */
public record UsageModelShare(String model, long messages, double share) {

    /** The messages as the panel shows them: {@code 1,204}. */
    public String messagesText() {
        return UsageTotals.count(messages);
    }

    /** The share as the panel shows it: {@code 42 %}; below one percent but not none, {@code < 1 %}. */
    public String shareText() {
        long percent = Math.round(share * 100);
        return percent == 0 && messages > 0 ? "< 1 %" : String.format(Locale.ROOT, "%d %%", percent);
    }
}
