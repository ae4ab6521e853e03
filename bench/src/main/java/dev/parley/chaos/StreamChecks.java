package dev.parley.chaos;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.parley.protocol.ChatResponse;
import dev.parley.protocol.Json;
import dev.parley.protocol.Message;
import java.io.IOException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * The end checks of the streamed messages, read from the server's database once every one was followed to its end
 * (SPEC §5.3), beside {@link ChaosVerifier}'s. For each streamed message id:
 * <ul>
 *   <li><b>lost</b>: answered, but no user row is stored under its id, or one with other text, or not as a user
 *   message; a reply the client was shown ({@code done}, a JSON answer or a stop's answer) that is not stored;</li>
 *   <li><b>diverged</b>: the text the client streamed before a {@code done} is not that reply's text, every
 *   character exactly once and in order (over drops and re-attaches); a delta whose {@code id:} was not the
 *   length so far; a reply shown otherwise than stored (text, finish reason; a stopped reply must be stored with
 *   {@code finish_reason 'stopped'}); a stop before the first word not stored as the failed "Stopped before the
 *   reply began"; a user row of another account; a refusal for any reason but a deleted conversation;</li>
 *   <li><b>stuck</b>: a streamed message with no final outcome after the resolution; any row left in
 *   {@code chat_claims} (a live generation, or a lapsed claim the server did not sweep); those of messages whose
 *   conversation was deleted since are also listed as orphaned, since deleting a conversation removes its
 *   claims;</li>
 *   <li><b>duplicated</b>: two replies to one streamed message are counted by {@link ChaosVerifier} already (it
 *   covers every user message); here they are only named.</li>
 * </ul>
 * Stateless; each call reads afresh.
 */
final class StreamChecks {
    private static final int MAX_DETAILS = 40;
    private static final ObjectMapper JSON = Json.newMapper();
    private static final String STOPPED_BEFORE_REPLY = StreamedExchange.STOPPED_BEFORE_REPLY;

    /**
     * The findings; {@code details} names the first violations. {@code orphanedClaims} are claims left on messages
     * of conversations deleted since, which no client can clear (a server finding, not counted as stuck).
     */
    record Findings(int lost, int duplicated, int stuck, int diverged, int refusedAsDeleted, List<String> details,
                    ChaosReport.Streams stats, List<String> orphanedClaims) {
    }

    private record Row(String id, String userId, String sessionId, String role, String content, String error,
                       boolean purged, String userMessageId, String finishReason) {
    }

    private final List<String> details = new ArrayList<>();
    private int lost;
    private int stuck;
    private int diverged;

    /**
     * @param regenerated user message id to the reply ids devices asked for when they regenerated its reply: those
     *                    replies are siblings, not the stream's own
     */
    Findings verify(String serverDbUrl, List<StreamedExchange> streamed, Map<String, Set<String>> regenerated)
            throws SQLException {
        Map<String, Row> rows = new HashMap<>();
        Map<String, List<Row>> replies = new HashMap<>();
        Set<String> deletedSessions = new HashSet<>();
        Map<String, String> userIds = new HashMap<>();
        List<String[]> claims = new ArrayList<>();
        try (Connection c = DriverManager.getConnection(serverDbUrl); Statement s = c.createStatement()) {
            try (ResultSet rs = s.executeQuery("SELECT id, user_id, session_id, role, content, error_message, purged,"
                    + " user_message_id, finish_reason FROM chat_messages")) {
                while (rs.next()) {
                    Row row = new Row(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4),
                            rs.getString(5), rs.getString(6), rs.getBoolean(7), rs.getString(8), rs.getString(9));
                    rows.put(row.id(), row);
                    if (row.role().equals("assistant") && row.userMessageId() != null
                            && !regenerated.getOrDefault(row.userMessageId(), Set.of()).contains(row.id())) {
                        replies.computeIfAbsent(row.userMessageId(), k -> new ArrayList<>()).add(row);
                    }
                }
            }
            try (ResultSet rs = s.executeQuery("SELECT id FROM chat_sessions WHERE deleted_at IS NOT NULL")) {
                while (rs.next()) {
                    deletedSessions.add(rs.getString(1));
                }
            }
            try (ResultSet rs = s.executeQuery("SELECT id, email FROM users")) {
                while (rs.next()) {
                    userIds.put(rs.getString(2).toLowerCase(Locale.ROOT), rs.getString(1));
                }
            }
            try (ResultSet rs = s.executeQuery("SELECT message_id, holder, expires_at, start_event FROM chat_claims")) {
                while (rs.next()) {
                    claims.add(new String[] {rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4)});
                }
            }
        }

        int refusedAsDeleted = 0;
        Set<String> streamedIds = new HashSet<>();
        for (StreamedExchange x : streamed) {
            streamedIds.add(x.messageId);
            for (String problem : x.problems()) {
                diverged("diverged: stream of " + x.messageId + " on " + x.device + ": " + problem);
            }
            Row user = rows.get(x.messageId);
            List<Row> answers = replies.getOrDefault(x.messageId, List.of());
            if (answers.size() > 1) {
                note("duplicated: streamed message " + x.messageId + " has " + answers.size() + " replies");
            }
            if (!x.isFinal()) {
                stuck++;
                note("stuck: streamed message " + x.messageId + " from " + x.device + " still " + x.state()
                        + " (" + x.lastError() + ")");
                continue;
            }
            if (x.state() == StreamedExchange.State.REFUSED) {
                if (deletedSessions.contains(x.request.sessionId())) {
                    refusedAsDeleted += user == null ? 1 : 0;
                } else {
                    diverged("refused: streamed message " + x.messageId + " from " + x.device + " ("
                            + x.lastError() + ")");
                }
                continue;
            }
            if (user == null || !user.role().equals("user")) {
                lost("lost: streamed message " + x.messageId + " from " + x.device + " was answered, but "
                        + (user == null ? "no row is stored under its id" : "its id is stored as " + user.role()));
                continue;
            }
            if (!user.purged() && !user.content().equals(x.request.content())) {
                lost("lost: streamed message " + x.messageId + " is stored with other text");
            }
            String account = userIds.get(x.user.email().toLowerCase(Locale.ROOT));
            if (!user.userId().equals(account)) {
                diverged("owner: streamed message " + x.messageId + " is stored under " + user.userId()
                        + ", not its sender's account");
            }
            for (StreamedExchange.Answered answer : x.answers()) {
                Message shown = answer.response().assistantMessage();
                boolean purged = shown != null && answers.stream().anyMatch(r -> r.id().equals(shown.id())
                        && r.purged()); // deleted since: its text is gone from the server and from a later done
                if (answer.viaStream() && !purged
                        && !answer.streamed().equals(shown == null ? "" : shown.content())) {
                    diverged("diverged: the deltas of " + x.messageId + " before its done were "
                            + brief(answer.streamed()) + ", the done's reply " + brief(shown == null ? ""
                            : shown.content()));
                }
                checkShown(x, "a done", answer.response(), user, answers);
            }
            for (ChatResponse stop : x.stopAnswers()) {
                checkShown(x, "a stop's answer", stop, user, answers);
            }
        }
        List<String> orphaned = new ArrayList<>();
        for (String[] claim : claims) {
            String session = sessionOf(claim[3]);
            String what = claim[0] + " (holder " + claim[1] + ", expires " + claim[2]
                    + (streamedIds.contains(claim[0]) ? ", a streamed message" : "") + ")";
            stuck++;
            if (session != null && deletedSessions.contains(session)) {
                // Deleting a conversation removes its claims, with the text they hold.
                orphaned.add("a claim is left in chat_claims for " + what + " in conversation " + session
                        + ", deleted since; it keeps the message's text");
            }
            note("stuck: a claim is left in chat_claims: " + what);
        }
        ChaosReport.Streams stats = new ChaosReport.Streams(streamed.size(),
                (int) streamed.stream().filter(StreamedExchange::dropped).count(),
                streamed.stream().mapToInt(StreamedExchange::reattachedCount).sum(),
                (int) streamed.stream().filter(StreamedExchange::stopped).count(),
                streamed.stream().mapToInt(StreamedExchange::interruptedCount).sum(),
                (int) streamed.stream().filter(x -> x.resentCount() > 0).count());
        return new Findings(lost, 0, stuck, diverged, refusedAsDeleted, List.copyOf(details), stats,
                List.copyOf(orphaned));
    }

    /** The session id in a claim's start event, or {@code null} when it has none that reads. */
    private static String sessionOf(String startEvent) {
        try {
            return startEvent == null ? null : JSON.readTree(startEvent).path("session").path("id").asText(null);
        } catch (IOException e) {
            return null;
        }
    }

    /** What a client was shown of a message's reply is what is stored. */
    private void checkShown(StreamedExchange x, String what, ChatResponse response, Row user, List<Row> answers) {
        Message shown = response.assistantMessage();
        if (shown == null && !StreamedExchange.stoppedBeforeReply(response)) {
            return; // a stop that came after the model had failed answers the failed message: the resend repaired it
        }
        if (shown == null) {
            // Stopped before the first word: stored as failed, unless a Try again answered it since.
            boolean asStopped = user.error() != null && user.error().equals(STOPPED_BEFORE_REPLY) && answers.isEmpty();
            boolean answeredSince = user.error() == null && answers.size() == 1;
            if (!asStopped && !answeredSince) {
                diverged("diverged: " + what + " of " + x.messageId + " said stopped before the reply began; stored "
                        + (user.error() == null ? "answered " + answers.size() + " times" : "as '" + user.error()
                        + "'"));
            }
            return;
        }
        Row stored = answers.stream().filter(r -> r.id().equals(shown.id())).findFirst().orElse(null);
        if (stored == null) {
            lost("lost: reply " + shown.id() + " to streamed message " + x.messageId + ", shown in " + what
                    + ", is not stored");
            return;
        }
        if (!stored.purged() && !stored.content().equals(shown.content())) {
            diverged("diverged: reply " + shown.id() + " was shown in " + what + " as " + brief(shown.content())
                    + ", stored as " + brief(stored.content()));
        }
        String reason = shown.finishReason() == null ? null : shown.finishReason().wire();
        if (!Objects.equals(stored.finishReason(), reason)) {
            diverged("diverged: reply " + shown.id() + " was shown in " + what + " as finished by " + reason
                    + ", stored as " + stored.finishReason());
        }
        if (user.error() != null) {
            diverged("diverged: streamed message " + x.messageId + " has reply " + shown.id()
                    + " but is stored as failed");
        }
    }

    private void lost(String detail) {
        lost++;
        note(detail);
    }

    private void diverged(String detail) {
        diverged++;
        note(detail);
    }

    private void note(String detail) {
        if (details.size() < MAX_DETAILS) {
            details.add(detail);
        }
    }

    private static String brief(String text) {
        String flat = text.replaceAll("\\s+", " ");
        return flat.length() > 50 ? "'" + flat.substring(0, 50) + "…' (" + text.length() + " chars)"
                : "'" + flat + "'";
    }
}
