package dev.parley.client.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.sql.ResultSet;
import java.sql.Statement;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The local store is opened durable: write-ahead logging (readers never wait for the writer) and {@code
 * synchronous=FULL}, so that a committed send survives a power cut — the promise behind "nothing is lost".
 */
class LocalDatabaseTest {
    @TempDir
    Path dir;

    @Test
    void theStoreIsOpenedInWalModeWithFullSynchronousCommits() {
        try (LocalDatabase db = LocalDatabase.open(dir.resolve("parley-client.db"))) {
            assertThat(pragma(db, "journal_mode")).isEqualTo("wal");
            assertThat(pragma(db, "synchronous")).as("2 is FULL").isEqualTo("2");
            assertThat(pragma(db, "foreign_keys")).isEqualTo("1");
        }
    }

    @Test
    void walModeIsKeptInTheFileAcrossReopening() {
        Path file = dir.resolve("parley-client.db");
        LocalDatabase.open(file).close();

        try (LocalDatabase db = LocalDatabase.open(file)) {
            assertThat(pragma(db, "journal_mode")).isEqualTo("wal");
            assertThat(pragma(db, "synchronous")).isEqualTo("2");
        }
    }

    private static String pragma(LocalDatabase db, String name) {
        return db.inTransaction(c -> {
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("PRAGMA " + name)) {
                rs.next();
                return rs.getString(1);
            }
        });
    }
}
