package dev.parley.server.internal.store;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.parley.protocol.UsageResponse.UsageDay;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** Reads {@code user_usage_daily}, which only the triggers write. Thread-safe. */
public final class UsageRepository {
    private static final TypeReference<TreeMap<String, Long>> MODEL_COUNTS = new TypeReference<>() {
    };

    private final Dialect dialect;
    private final ObjectMapper json;

    public UsageRepository(Dialect dialect, ObjectMapper json) {
        this.dialect = dialect;
        this.json = json;
    }

    /** The user's rows with {@code from <= usage_date <= to}, oldest first. */
    public List<UsageDay> days(Connection c, String userId, LocalDate from, LocalDate to) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT usage_date, messages_sent, messages_received,"
                + " input_tokens, output_tokens, total_tokens, models_used, sessions_created, generation_ms"
                + " FROM user_usage_daily WHERE user_id = ? AND usage_date >= ? AND usage_date <= ?"
                + " ORDER BY usage_date")) {
            ps.setString(1, userId);
            bindDate(ps, 2, from);
            bindDate(ps, 3, to);
            List<UsageDay> days = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    days.add(new UsageDay(LocalDate.parse(rs.getString("usage_date")), rs.getLong("messages_sent"),
                            rs.getLong("messages_received"), rs.getLong("input_tokens"), rs.getLong("output_tokens"),
                            rs.getLong("total_tokens"), models(rs.getString("models_used")),
                            rs.getLong("sessions_created"), rs.getLong("generation_ms")));
                }
            }
            return days;
        }
    }

    /** The user's {@code total_tokens} on {@code day}; 0 when the user has no row for it. */
    public long totalTokens(Connection c, String userId, LocalDate day) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT total_tokens FROM user_usage_daily WHERE user_id = ? AND usage_date = ?")) {
            ps.setString(1, userId);
            bindDate(ps, 2, day);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getLong(1) : 0;
            }
        }
    }

    private void bindDate(PreparedStatement ps, int index, LocalDate date) throws SQLException {
        if (dialect == Dialect.SQLITE) {
            ps.setString(index, date.toString()); // SQLite keeps dates as ISO text, which sorts by date
        } else {
            ps.setObject(index, date);
        }
    }

    private Map<String, Long> models(String text) {
        try {
            return json.readValue(text, MODEL_COUNTS);
        } catch (Exception e) {
            throw new StoreException("models_used is not a JSON object of counts: " + text, e);
        }
    }
}
