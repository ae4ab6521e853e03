package dev.parley.server.internal.signal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.server.internal.store.Database;
import dev.parley.server.testing.TestDatabases;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The cross-process channel that re-attach (SPEC §5.3) and live changes (§5.5) share, on the dialect of the run:
 * a watcher of a topic wakes after a commit that announced it, on the other "process" (a second database handle
 * with signals of its own), and a closed watch wakes no more. On PostgreSQL, where announcements travel with the
 * transaction, a rolled-back one wakes nobody and other topics stay quiet.
 */
class ChangeSignalsTest {
    @TempDir
    Path dir;

    private Database writer;
    private Database reader;
    private ChangeSignals announcing;
    private ChangeSignals watching;

    @BeforeEach
    void open() {
        String url = TestDatabases.urlFor(dir);
        writer = Database.open(url, 2);
        reader = Database.open(url, 2);
        announcing = signals(writer);
        watching = signals(reader);
    }

    /** A long safety wake, so that on PostgreSQL only notifications wake a watcher within a test's wait. */
    private static ChangeSignals signals(Database db) {
        return TestDatabases.postgres() ? new PostgresSignals(db::openDedicated, Duration.ofMinutes(5))
                : new PollingSignals(Duration.ofMillis(50));
    }

    @AfterEach
    void close() {
        watching.close();
        announcing.close();
        reader.close();
        writer.close();
    }

    @Test
    void aWatcherOnAnotherProcessWakesAfterTheAnnouncingCommit() throws Exception {
        CountDownLatch woken = new CountDownLatch(1);
        try (ChangeSignals.Watch watch = watching.watch(Topics.reply("m-1"), woken::countDown)) {
            awaitListening();
            writer.inTransaction(c -> {
                announcing.announce(c, Topics.reply("m-1"));
                return null;
            });

            assertThat(woken.await(5, TimeUnit.SECONDS)).isTrue();
        }
    }

    @Test
    void aClosedWatchWakesNoMore() throws Exception {
        AtomicInteger wakes = new AtomicInteger();
        ChangeSignals.Watch watch = watching.watch(Topics.reply("m-2"), wakes::incrementAndGet);
        awaitListening();
        watch.close();
        int before = wakes.get();
        writer.inTransaction(c -> {
            announcing.announce(c, Topics.reply("m-2"));
            return null;
        });
        CountDownLatch other = new CountDownLatch(1);
        try (ChangeSignals.Watch later = watching.watch(Topics.reply("m-2"), other::countDown)) {
            writer.inTransaction(c -> {
                announcing.announce(c, Topics.reply("m-2"));
                return null;
            });
            assertThat(other.await(5, TimeUnit.SECONDS)).as("signals still flow").isTrue();
        }

        assertThat(wakes.get()).isEqualTo(before);
    }

    /** SQLite's watchers poll, so there every wake is "look again", by design. */
    @Test
    @Tag("postgresql-only")
    void onPostgresqlOnlyCommittedAnnouncementsOfTheTopicWake() throws Exception {
        AtomicInteger wrongWakes = new AtomicInteger();
        CountDownLatch right = new CountDownLatch(1);
        awaitListening(); // before the watches: starting to listen wakes every watcher once
        try (ChangeSignals.Watch quiet = watching.watch(Topics.reply("rolled-back"), wrongWakes::incrementAndGet);
             ChangeSignals.Watch loud = watching.watch(Topics.reply("committed"), right::countDown)) {
            try {
                writer.inTransaction(c -> {
                    announcing.announce(c, Topics.reply("rolled-back"));
                    throw new IllegalStateException("roll back");
                });
            } catch (IllegalStateException expected) {
                // the transaction rolled back, and its announcement with it
            }
            writer.inTransaction(c -> {
                announcing.announce(c, Topics.reply("committed"));
                return null;
            });

            assertThat(right.await(5, TimeUnit.SECONDS)).isTrue();
            assertThat(wrongWakes.get()).isZero();
        }
    }

    /**
     * Waits until the watching side is ready to hear: on PostgreSQL its listening connection wakes every watcher
     * once when it starts listening, so a probe watch that is woken proves the LISTEN is in place.
     */
    private void awaitListening() throws InterruptedException {
        if (!TestDatabases.postgres()) {
            return;
        }
        CountDownLatch ready = new CountDownLatch(1);
        try (ChangeSignals.Watch probe = watching.watch("probe", ready::countDown)) {
            while (!ready.await(50, TimeUnit.MILLISECONDS)) {
                writer.inTransaction(c -> {
                    announcing.announce(c, "probe");
                    return null;
                });
            }
        }
    }
}
