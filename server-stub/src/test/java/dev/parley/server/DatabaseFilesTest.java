package dev.parley.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.protocol.AuthResponse;
import dev.parley.server.testing.TestServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The SQLite database and its journal files are created owner-only (SPEC §8): they hold password hashes. */
@Tag("sqlite-only")
class DatabaseFilesTest {
    private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rw-------");

    @TempDir
    Path dir;

    @Test
    void aNewDatabaseAndItsWalAndShmFilesAreOwnerOnlyAndItsDirectoryIsLeftAlone() throws Exception {
        Path home = Files.createDirectory(dir.resolve("data"));
        Files.setPosixFilePermissions(home, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path db = home.resolve("parley.db");
        try (TestServer server = TestServer.start(dir, b -> b.databaseUrl("jdbc:sqlite:" + db))) {
            AuthResponse ada = server.signUp("ada@example.com"); // a write, so the WAL holds something

            assertThat(ada.accessToken()).isNotBlank();
            for (String name : new String[] {"parley.db", "parley.db-wal", "parley.db-shm"}) {
                Path file = home.resolve(name);
                assertThat(file).as(name).exists();
                assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).as(name)
                        .isEqualTo(PosixFilePermissions.toString(OWNER_ONLY));
            }
        }
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(home))).isEqualTo("rwxr-xr-x");
    }
}
