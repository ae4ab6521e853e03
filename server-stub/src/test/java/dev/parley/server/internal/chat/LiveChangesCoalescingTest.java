package dev.parley.server.internal.chat;

import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.protocol.GeneratingEvent;
import dev.parley.protocol.Json;
import dev.parley.server.internal.signal.ChangeSignals;
import dev.parley.server.internal.signal.Topics;
import dev.parley.server.internal.store.Database;
import dev.parley.server.testing.TestDatabases;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link LiveChanges} with signals the test fires itself and a coalescing window long enough that a burst of
 * commits surely falls inside it: however many commits and wakes the burst holds, each subscriber is told once,
 * with the newest cursor; a wake with no commit tells nothing; another user's subscribers hear only their own
 * user's commits. Both dialects.
 */
class LiveChangesCoalescingTest {
    private static final Duration WINDOW = Duration.ofSeconds(2);

    @TempDir
    Path dir;

    private final ManualSignals signals = new ManualSignals();
    private Database db;
    private LiveChanges changes;

    @BeforeEach
    void open() throws Exception {
        db = Database.open(TestDatabases.urlFor(dir), 2);
        for (String user : List.of("u1", "u2")) {
            update("INSERT INTO users (id, email, password_hash, created_at) VALUES (?, ?, 'x', 0)", user,
                    user + "@example.com");
        }
        changes = new LiveChanges(db, signals, Clock.systemUTC(), Json.newMapper(), WINDOW);
    }

    @AfterEach
    void close() {
        changes.close();
        db.close();
    }

    @Test
    void aBurstOfCommitsInsideTheWindowIsToldOnceWithTheNewestCursor() throws Exception {
        Recorder first = new Recorder();
        Recorder second = new Recorder();
        Recorder otherUser = new Recorder();
        changes.subscribe("u1", first);
        changes.subscribe("u1", second);
        changes.subscribe("u2", otherUser);
        assertThat(first.next()).isEqualTo("0");
        assertThat(second.next()).isEqualTo("0");
        assertThat(otherUser.next()).isEqualTo("0");

        for (int i = 0; i < 20; i++) {
            update("UPDATE users SET change_seq = change_seq + 1 WHERE id = ?", "u1");
            signals.wake(Topics.user("u1"));
        }

        assertThat(first.next()).isEqualTo("20");
        assertThat(second.next()).isEqualTo("20");
        // Wakes without a commit tell nothing: the next event each hears is the next commit's.
        signals.wake(Topics.user("u1"));
        signals.wake(Topics.user("u2"));
        update("UPDATE users SET change_seq = change_seq + 1 WHERE id = ?", "u2");
        signals.wake(Topics.user("u2"));
        assertThat(otherUser.next()).isEqualTo("1");
        update("UPDATE users SET change_seq = change_seq + 1 WHERE id = ?", "u1");
        signals.wake(Topics.user("u1"));
        assertThat(first.next()).isEqualTo("21");
        assertThat(first.told).containsExactly("0", "20", "21");
        assertThat(second.next()).isEqualTo("21");
        assertThat(second.told).containsExactly("0", "20", "21");
        assertThat(otherUser.told).containsExactly("0", "1");
        assertThat(changes.subscriptions()).isEqualTo(3);
    }

    @Test
    void aClosedSubscriptionLetsGoOfItsUsersWatch() throws Exception {
        Recorder recorder = new Recorder();
        LiveChanges.Subscription subscription = changes.subscribe("u1", recorder);
        assertThat(recorder.next()).isEqualTo("0");
        assertThat(signals.watching(Topics.user("u1"))).isEqualTo(1);

        subscription.close();
        subscription.close(); // idempotent

        assertThat(signals.watching(Topics.user("u1"))).isZero();
        assertThat(changes.subscriptions()).isZero();
    }

    private void update(String sql, String... values) throws SQLException {
        db.inTransaction(c -> {
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                for (int i = 0; i < values.length; i++) {
                    ps.setString(i + 1, values[i]);
                }
                return ps.executeUpdate();
            }
        });
    }

    /** What one subscriber was told, in order. */
    private static final class Recorder implements LiveChanges.Listener {
        final List<String> told = new CopyOnWriteArrayList<>();
        private final BlockingQueue<String> queue = new LinkedBlockingQueue<>();

        @Override
        public void changed(String cursor) {
            told.add(cursor);
            queue.add(cursor);
        }

        @Override
        public void generating(GeneratingEvent event) {
            told.add("generating " + event.replyId());
        }

        String next() throws InterruptedException {
            String cursor = queue.poll(20, TimeUnit.SECONDS);
            assertThat(cursor).as("a changed event within 20 s").isNotNull();
            return cursor;
        }
    }

    /** Signals that wake only when the test says so. */
    private static final class ManualSignals implements ChangeSignals {
        private final Map<String, List<Runnable>> watches = new ConcurrentHashMap<>();

        @Override
        public void announce(Connection c, String topic) {
        }

        @Override
        public Watch watch(String topic, Runnable onWake) {
            watches.computeIfAbsent(topic, t -> new CopyOnWriteArrayList<>()).add(onWake);
            return () -> watches.getOrDefault(topic, List.of()).remove(onWake);
        }

        void wake(String topic) {
            watches.getOrDefault(topic, List.of()).forEach(Runnable::run);
        }

        int watching(String topic) {
            return watches.getOrDefault(topic, List.of()).size();
        }

        @Override
        public void close() {
        }
    }
}
