package dev.parley.server.testing;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The rows of the tables that hold user data, read through plain JDBC, so that a migration test compares a
 * database before and after a server upgraded it; and plain-SQL writes, so that rows are written as an older
 * server wrote them (its triggers doing the counting).
 */
public final class DatabaseDump {
    private DatabaseDump() {
    }

    /** Every row of the user-data tables, as column name to value, each table in a stable order. */
    public static Map<String, List<Map<String, Object>>> dump(String url) throws SQLException {
        Map<String, String> tables = new LinkedHashMap<>();
        tables.put("users", "id");
        tables.put("chat_sessions", "id");
        tables.put("chat_messages", "id");
        tables.put("user_usage_daily", "user_id, usage_date");
        Map<String, List<Map<String, Object>>> dump = new LinkedHashMap<>();
        try (Connection c = DriverManager.getConnection(url); Statement s = c.createStatement()) {
            for (Map.Entry<String, String> table : tables.entrySet()) {
                List<Map<String, Object>> rows = new ArrayList<>();
                try (ResultSet rs = s.executeQuery("SELECT * FROM " + table.getKey() + " ORDER BY "
                        + table.getValue())) {
                    ResultSetMetaData meta = rs.getMetaData();
                    while (rs.next()) {
                        Map<String, Object> row = new LinkedHashMap<>();
                        for (int i = 1; i <= meta.getColumnCount(); i++) {
                            row.put(meta.getColumnName(i).toLowerCase(Locale.ROOT), rs.getObject(i));
                        }
                        rows.add(row);
                    }
                }
                dump.put(table.getKey(), rows);
            }
        }
        return dump;
    }

    /** Runs one statement with {@code values} bound in order. */
    public static void update(Connection c, String sql, Object... values) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < values.length; i++) {
                ps.setObject(i + 1, values[i]);
            }
            ps.executeUpdate();
        }
    }
}
