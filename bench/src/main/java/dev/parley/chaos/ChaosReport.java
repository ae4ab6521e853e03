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
 * @param streams             what the devices did with streamed replies
 * @param restartsMidStream   server restarts that came while a stream of a generation on that server was read
 * @param generationsCut      generations the server processes held when a restart stopped them: each ended unstored
 *                            and had to be sent again (the clients saw {@code interrupted} while its claim was
 *                            lapsed, or the failed message the sweep stored after that)
 * @param orphanedClaims      claims left in {@code chat_claims} on messages of conversations deleted since (a
 *                            delete removes its conversation's claims); each is also counted as stuck
 * @param regenerated         replies the devices regenerated (distinct reply ids asked for)
 * @param edited              questions the devices edited (each a new sibling message)
 * @param liveConnects        times the devices' live change streams opened, through the faults and restarts
 * @param notLive             signed-in devices whose live change stream was not open again soon after the faults
 */
public record ChaosReport(int devices, int messages, Map<String, Long> faults, int lost, int duplicated,
                          int analyticsMismatches, int stuck, int diverged, int unexpectedErrors,
                          int refusedAsDeleted, int crashesMidPush, List<String> details, Streams streams,
                          int restartsMidStream, int generationsCut, List<String> orphanedClaims, int regenerated,
                          int edited, int liveConnects, int notLive) {

    /**
     * The streamed messages of a run.
     *
     * @param streams     messages sent as streams
     * @param dropped     of them, streams that ended before {@code done} or {@code error}: dropped by the device on
     *                    purpose, cut by a fault or a restart
     * @param reattached  re-attach requests that got a stream, while the faults lasted and after
     * @param stopped     messages whose Stop took effect: the reply stored as stopped, or stopped before its first word
     * @param interrupted {@code interrupted} errors seen while a cut generation's claim was lapsed but not yet swept
     *                    (a client that comes later sees the failed message the sweep stored)
     * @param resent      messages sent again (same id, as JSON) after the faults, because they were interrupted, failed
     *                    or never arrived
     */
    public record Streams(int streams, int dropped, int reattached, int stopped, int interrupted, int resent) {
    }

    public long faultTotal() {
        return faults.values().stream().mapToLong(Long::longValue).sum();
    }

    public boolean clean() {
        return lost == 0 && duplicated == 0 && analyticsMismatches == 0 && stuck == 0 && diverged == 0
                && unexpectedErrors == 0 && notLive == 0;
    }

    /** The closing line of {@code ./parley chaos}. */
    public String resultLine() {
        return "RESULT chaos devices=" + devices + " messages=" + messages + " faults=" + faultTotal() + " lost=" + lost
                + " duplicated=" + duplicated + " analytics_mismatches=" + analyticsMismatches + " stuck=" + stuck
                + " streams=" + streams.streams() + " dropped=" + streams.dropped() + " reattached="
                + streams.reattached() + " stopped=" + streams.stopped() + " interrupted=" + streams.interrupted()
                + " regenerated=" + regenerated + " edited=" + edited + " live_connects=" + liveConnects
                + " not_live=" + notLive;
    }
}
