package dev.parley.client.internal;

import dev.parley.protocol.UsageResponse.UsageDay;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Daily usage counted from the local store with the server's rules (SPEC §4.1), for when the server's figures
 * cannot be had: a failed message or a system row counts nothing; a question gives one message sent and its input
 * tokens, a reply one message received, its output tokens and its generation time; both give their tokens to the
 * total and one use to their model; a conversation counts on the day it was created. Days are the UTC dates of
 * {@code message_timestamp}, as on the server. A message whose exchange is under way counts nothing yet (its reply
 * being written lives in {@code unfinished_replies}, which is never counted): the server counts neither until the
 * reply is stored. A message tried again after failing has one id, so it counts once, when it succeeded. A deleted
 * conversation still counts, as on the server: usage is history. Imported history (origin {@code import}) is not
 * what the user spent through Parley and counts nothing. Stateless and thread-safe.
 */
final class LocalUsage {
    /*
     * Through the sessions of the owner (a few rows) into each one's messages_session_time index, bounded by the
     * dates: the cost follows the messages of the period, not the history. CROSS JOIN keeps SQLite to that order.
     */
    static final String MESSAGES = "SELECT date(m.message_timestamp / 1000, 'unixepoch') AS day, m.role,"
            + " m.model, count(*) AS n, sum(m.input_tokens) AS input, sum(m.output_tokens) AS output,"
            + " sum(coalesce(m.elapsed_ms, 0)) AS elapsed"
            + " FROM sessions s CROSS JOIN messages m ON m.session_id = s.id"
            + " AND m.message_timestamp >= ? AND m.message_timestamp < ?"
            + " WHERE s.owner IS ? AND m.owner IS ? AND m.error_message IS NULL AND m.sending = 0"
            + " AND m.role IN ('user', 'assistant') AND m.origin = 'chat'"
            + " GROUP BY day, m.role, m.model";
    private static final String SESSIONS = "SELECT date(created_at / 1000, 'unixepoch') AS day, count(*) AS n"
            + " FROM sessions WHERE owner IS ? AND created_at >= ? AND created_at < ? GROUP BY day";

    /**
     * The days from {@code from} to {@code to} (inclusive, UTC) with activity of {@code owner} ({@code null}: the
     * rows written signed out), oldest first.
     */
    List<UsageDay> days(Connection c, String owner, LocalDate from, LocalDate to) throws SQLException {
        long start = from.atStartOfDay(ZoneOffset.UTC).toInstant().toEpochMilli();
        long end = to.plusDays(1).atStartOfDay(ZoneOffset.UTC).toInstant().toEpochMilli();
        Map<LocalDate, Day> days = new TreeMap<>();
        try (PreparedStatement ps = c.prepareStatement(MESSAGES)) {
            ps.setLong(1, start);
            ps.setLong(2, end);
            ps.setString(3, owner);
            ps.setString(4, owner);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    Day day = days.computeIfAbsent(LocalDate.parse(rs.getString("day")), d -> new Day());
                    long n = rs.getLong("n");
                    boolean reply = "assistant".equals(rs.getString("role"));
                    if (reply) {
                        day.received += n;
                        day.generationMs += rs.getLong("elapsed");
                    } else {
                        day.sent += n;
                    }
                    day.input += rs.getLong("input");
                    day.output += rs.getLong("output");
                    String model = rs.getString("model");
                    if (model != null) {
                        day.models.merge(model, n, Long::sum);
                    }
                }
            }
        }
        try (PreparedStatement ps = c.prepareStatement(SESSIONS)) {
            ps.setString(1, owner);
            ps.setLong(2, start);
            ps.setLong(3, end);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    days.computeIfAbsent(LocalDate.parse(rs.getString("day")), d -> new Day()).sessions +=
                            rs.getLong("n");
                }
            }
        }
        List<UsageDay> result = new ArrayList<>(days.size());
        days.forEach((date, d) -> result.add(new UsageDay(date, d.sent, d.received, d.input, d.output,
                d.input + d.output, d.models, d.sessions, d.generationMs)));
        return result;
    }

    /** One day's figures as they are added up. */
    private static final class Day {
        long sent;
        long received;
        long input;
        long output;
        long sessions;
        long generationMs;
        final Map<String, Long> models = new TreeMap<>();
    }
}
