package dev.parley.client.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.client.SyncState;
import dev.parley.protocol.Session;
import dev.parley.protocol.SyncPage;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A pulled session merges into the local one field by field: the title and the system prompt each go to whichever
 * was written last, by their own times, and a local change stays unsent only while the server lacks it.
 */
class HistoryMergeTest {
    private static final Instant CREATED = Instant.parse("2026-03-01T10:00:00Z");
    private static final Instant T1 = CREATED.plusSeconds(10);
    private static final Instant T2 = CREATED.plusSeconds(20);
    private static final Instant T3 = CREATED.plusSeconds(30);

    @TempDir
    Path dir;

    LocalDatabase db;
    final LocalSessions sessions = new LocalSessions();

    @BeforeEach
    void open() {
        db = LocalDatabase.open(dir.resolve("parley-client.db"));
    }

    @AfterEach
    void close() {
        db.close();
    }

    @Test
    void anUnsentPromptEditKeepsItsPlaceAgainstAnOlderOneFromTheServer() {
        store(local("Trip", T1, "Local prompt", T3, SyncState.PENDING));

        SessionRow merged = merge(server("Trip", T1, "Server prompt", T2));

        assertThat(merged.systemPrompt()).isEqualTo("Local prompt");
        assertThat(merged.systemPromptUpdatedAt()).isEqualTo(T3);
        assertThat(merged.syncState()).as("still to be pushed").isEqualTo(SyncState.PENDING);
    }

    @Test
    void aNewerPromptFromTheServerReplacesAnUnsentOlderOneWhileTheNewerLocalTitleWaitsForItsPush() {
        store(local("Renamed here", T3, "Local prompt", T1, SyncState.PENDING));

        SessionRow merged = merge(server("Trip", T1, "Server prompt", T2));

        assertThat(merged.title()).isEqualTo("Renamed here");
        assertThat(merged.titleUpdatedAt()).isEqualTo(T3);
        assertThat(merged.systemPrompt()).isEqualTo("Server prompt");
        assertThat(merged.systemPromptUpdatedAt()).isEqualTo(T2);
        assertThat(merged.syncState()).isEqualTo(SyncState.PENDING);
    }

    @Test
    void anUnsentEditTheServerOverruledOnBothFieldsLeavesNothingToPush() {
        store(local("Renamed here", T1, "Local prompt", T1, SyncState.PENDING));

        SessionRow merged = merge(server("Trip", T2, "Server prompt", T2));

        assertThat(merged.title()).isEqualTo("Trip");
        assertThat(merged.systemPrompt()).isEqualTo("Server prompt");
        assertThat(merged.syncState()).isEqualTo(SyncState.SYNCED);
        assertThat(merged.outboxSeq()).isNull();
    }

    @Test
    void aPromptClearedOnTheServerIsClearedHere() {
        store(local("Trip", T1, "Old prompt", T1, SyncState.SYNCED));

        SessionRow merged = merge(server("Trip", T1, "", T2));

        assertThat(merged.systemPrompt()).isNull();
        assertThat(merged.systemPromptUpdatedAt()).isEqualTo(T2);
        assertThat(merged.toLocal().systemPrompt()).isNull();
    }

    @Test
    void aServerCopyWithoutAnyPromptLeavesTheAcknowledgedLocalPromptAlone() {
        store(local("Trip", T1, "Acknowledged prompt", T2, SyncState.SYNCED));

        SessionRow merged = merge(server("Trip", T1, null, null));

        assertThat(merged.systemPrompt()).isEqualTo("Acknowledged prompt");
        assertThat(merged.systemPromptUpdatedAt()).isEqualTo(T2);
    }

    @Test
    void aSessionFirstSeenInAPullKeepsTheServersPrompt() {
        SessionRow merged = merge(server("Trip", T1, "Server prompt", T2));

        assertThat(merged.systemPrompt()).isEqualTo("Server prompt");
        assertThat(merged.syncState()).isEqualTo(SyncState.SYNCED);
    }

    private static SessionRow local(String title, Instant titleAt, String prompt, Instant promptAt, SyncState state) {
        return new SessionRow("s1", "u1", title, titleAt, prompt, promptAt, CREATED, null, CREATED, "", state,
                state == SyncState.PENDING ? 5L : null, null, null);
    }

    private static Session server(String title, Instant titleAt, String prompt, Instant promptAt) {
        return new Session("s1", title, titleAt, prompt, promptAt, CREATED, null, 0L, 0L, null, null, null);
    }

    private void store(SessionRow row) {
        db.inTransaction(c -> {
            sessions.put(c, row);
            return null;
        });
    }

    private SessionRow merge(Session server) {
        return db.inTransaction(c -> {
            HistoryMerge.merge(c, "u1", new SyncPage(List.of(server), List.of(), "c1", false), sessions,
                    new LocalMessages());
            return sessions.find(c, "s1").orElseThrow();
        });
    }
}
