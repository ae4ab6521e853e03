package dev.parley.client.internal;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.parley.client.ClientException;
import dev.parley.protocol.AuthResponse;
import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Optional;

/**
 * The signed-in account's tokens, in one file of the data directory readable and writable by its owner only.
 * Replaced atomically, so a crash leaves the old tokens or the new ones. Never logged. Thread-safe.
 */
public final class TokenStore {
    private final Path file;
    private final ObjectMapper json;
    private AuthResponse current;

    public TokenStore(Path dataDir, ObjectMapper json) {
        this.file = dataDir.resolve("account.json");
        this.json = json;
    }

    /** The stored tokens, if any. */
    public synchronized Optional<AuthResponse> load() {
        if (current == null && Files.exists(file)) {
            try {
                current = json.readValue(file.toFile(), AuthResponse.class);
            } catch (IOException e) {
                // An unreadable token file is a signed-out state, not a crash.
                current = null;
            }
        }
        return Optional.ofNullable(current);
    }

    public synchronized void save(AuthResponse tokens) {
        Path temp = file.resolveSibling("account.json.tmp");
        try {
            Files.deleteIfExists(temp);
            if (FileSystems.getDefault().supportedFileAttributeViews().contains("posix")) {
                Files.createFile(temp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            } else {
                Files.createFile(temp);
                temp.toFile().setReadable(false, false);
                temp.toFile().setReadable(true, true);
                temp.toFile().setWritable(false, false);
                temp.toFile().setWritable(true, true);
            }
            Files.write(temp, json.writeValueAsBytes(tokens));
            try {
                Files.move(temp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(temp, file, StandardCopyOption.REPLACE_EXISTING);
            }
            current = tokens;
        } catch (IOException e) {
            throw new ClientException("storage", "Parley could not save your sign-in on this computer.", false, e);
        }
    }

    public synchronized void clear() {
        current = null;
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            throw new ClientException("storage", "Parley could not remove your sign-in from this computer.", false, e);
        }
    }

    public Path file() {
        return file;
    }
}
