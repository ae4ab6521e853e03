package dev.parley.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.protocol.RefreshRequest;
import dev.parley.server.internal.store.Dialect;
import dev.parley.server.testing.HttpApi;
import dev.parley.server.testing.TestDatabases;
import dev.parley.server.testing.TestIds;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Migration V6 (refresh grace, token sweep) on a database of version 5: the tokens read back identically, with no
 * rotation time, so a spent token of before the migration gets no grace and its reuse still ends its family.
 */
class TokenMigrationTest {
    @TempDir
    Path dir;

    @Test
    void aVersion5DatabaseMigratesInPlaceAndItsTokensReadBackIdentically() throws Exception {
        String url = TestDatabases.emptyDatabase(dir, "v5");
        Flyway.configure().locations(Dialect.of(url).migrations()).target("5").dataSource(url, null, null).load()
                .migrate();
        Instant now = Instant.now();
        long at = now.toEpochMilli();
        String userId = TestIds.next();
        String family = TestIds.next();
        try (Connection c = DriverManager.getConnection(url)) {
            update(c, "INSERT INTO users (id, email, password_hash, created_at) VALUES (?, ?, ?, ?)", userId,
                    "old@example.com", "not-a-hash", at - 60_000);
            String token = "INSERT INTO auth_tokens (token_hash, user_id, kind, family_id, expires_at, revoked_at,"
                    + " created_at) VALUES (?, ?, ?, ?, ?, ?, ?)";
            // A refresh a few seconds ago, as version 5 did it: the old refresh token revoked, a new pair issued.
            update(c, token, sha256("spent-refresh"), userId, "refresh", family, at + 86_400_000L, at - 5_000,
                    at - 60_000);
            update(c, token, sha256("old-access"), userId, "access", family, at + 3_600_000L, at - 5_000,
                    at - 60_000);
            update(c, token, sha256("live-refresh"), userId, "refresh", family, at + 86_400_000L, null, at - 5_000);
            update(c, token, sha256("live-access"), userId, "access", family, at + 3_600_000L, null, at - 5_000);
        }
        List<Map<String, Object>> before = tokens(url);

        try (ParleyServer server = ParleyServer.start(ServerConfig.builder().port(0).databaseUrl(url).build())) {
            List<Map<String, Object>> after = tokens(url);
            for (Map<String, Object> row : after) {
                assertThat(row).containsKey("rotated_at");
                assertThat(row.remove("rotated_at")).isNull();
            }
            assertThat(after).isEqualTo(before);

            HttpApi api = new HttpApi(server.url());
            assertThat(api.get("/api/chat/sessions", "live-access").status()).isEqualTo(200);
            // Spent before the migration, 5 s ago: no rotation time is known, so no grace; the family ends.
            assertThat(api.post("/api/auth/refresh", new RefreshRequest("spent-refresh"), null).status())
                    .isEqualTo(401);
            assertThat(api.get("/api/chat/sessions", "live-access").status()).isEqualTo(401);
            assertThat(api.post("/api/auth/refresh", new RefreshRequest("live-refresh"), null).status())
                    .isEqualTo(401);
        }
    }

    private static String sha256(String token) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                .digest(token.getBytes(StandardCharsets.UTF_8)));
    }

    private static void update(Connection c, String sql, Object... values) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < values.length; i++) {
                ps.setObject(i + 1, values[i]);
            }
            ps.executeUpdate();
        }
    }

    private static List<Map<String, Object>> tokens(String url) throws SQLException {
        List<Map<String, Object>> rows = new ArrayList<>();
        try (Connection c = DriverManager.getConnection(url); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT * FROM auth_tokens ORDER BY token_hash")) {
            ResultSetMetaData meta = rs.getMetaData();
            while (rs.next()) {
                Map<String, Object> row = new LinkedHashMap<>();
                for (int i = 1; i <= meta.getColumnCount(); i++) {
                    row.put(meta.getColumnName(i).toLowerCase(java.util.Locale.ROOT), rs.getObject(i));
                }
                rows.add(row);
            }
        }
        return rows;
    }
}
