package dev.parley.client.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The reads that run when a conversation opens or the usage view asks stay cheap however long the history grows:
 * SQLite answers them from an index, never by reading every message.
 */
class QueryPlanTest {
    @TempDir
    Path dir;

    @Test
    void theLastModelOfAConversationIsReadFromTheNewestEndOfItsTimeIndex() {
        List<String> plan = plan(LocalMessages.LAST_MODEL, 1);

        assertThat(plan).anyMatch(step -> step.contains("USING INDEX messages_session_time (session_id=?)"));
        assertThat(plan).noneMatch(step -> step.contains("TEMP B-TREE")).noneMatch(step -> step.startsWith("SCAN"));
    }

    @Test
    void usageOnThisDeviceReadsOnlyTheMessagesOfThePeriodThroughTheSessionTimeIndex() {
        List<String> plan = plan(LocalUsage.MESSAGES, 4);

        assertThat(plan).anyMatch(step -> step.contains("SEARCH m USING INDEX messages_session_time"
                + " (session_id=? AND message_timestamp>? AND message_timestamp<?)"));
        assertThat(plan).noneMatch(step -> step.startsWith("SCAN m"));
    }

    private List<String> plan(String sql, int parameters) {
        try (LocalDatabase db = LocalDatabase.open(dir.resolve("parley-client.db"))) {
            return db.inTransaction(c -> {
                try (PreparedStatement ps = c.prepareStatement("EXPLAIN QUERY PLAN " + sql)) {
                    for (int i = 1; i <= parameters; i++) {
                        ps.setString(i, "x");
                    }
                    List<String> steps = new ArrayList<>();
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) {
                            steps.add(rs.getString("detail"));
                        }
                    }
                    return steps;
                }
            });
        }
    }
}
