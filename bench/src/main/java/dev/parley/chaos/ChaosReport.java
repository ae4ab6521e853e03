package dev.parley.chaos;

import java.util.List;
import java.util.Map;

/**
 * What a chaos run did and found. {@link #clean()} is true when nothing was lost, duplicated, miscounted, stuck or
 * diverged and the client threw nothing unexpected. Immutable.
 *
 * @param devices             devices simulated
 * @param messages            user messages written on any device
 * @param faults              injected faults by kind
 * @param lost                see {@link ChaosVerifier}
 * @param duplicated          see {@link ChaosVerifier}
 * @param analyticsMismatches rows of the {@code analytics_mismatches} view after the run
 * @param stuck               device rows still unsent after the drain
 * @param diverged            device views that differ from the server after the drain
 * @param unexpectedErrors    exceptions other than {@code ClientException} out of the client API
 * @param refusedAsDeleted    messages the server refused because their conversation was deleted elsewhere
 * @param crashesMidPush      crashes that came while the crashing device was pushing
 * @param details             the first violations, in words
 */
public record ChaosReport(int devices, int messages, Map<String, Long> faults, int lost, int duplicated,
                          int analyticsMismatches, int stuck, int diverged, int unexpectedErrors,
                          int refusedAsDeleted, int crashesMidPush, List<String> details) {

    public long faultTotal() {
        return faults.values().stream().mapToLong(Long::longValue).sum();
    }

    public boolean clean() {
        return lost == 0 && duplicated == 0 && analyticsMismatches == 0 && stuck == 0 && diverged == 0
                && unexpectedErrors == 0;
    }

    /** The closing line of {@code ./parley chaos}. */
    public String resultLine() {
        return "RESULT chaos devices=" + devices + " messages=" + messages + " faults=" + faultTotal() + " lost=" + lost
                + " duplicated=" + duplicated + " analytics_mismatches=" + analyticsMismatches + " stuck=" + stuck;
    }
}
