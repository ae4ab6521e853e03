package dev.parley.client.internal.history;

import com.fasterxml.uuid.UUIDType;
import com.fasterxml.uuid.impl.UUIDUtil;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;

/**
 * Ids for imported rows, derived from the export's own ids, so that importing a file again finds the rows it wrote
 * the first time. Each is a valid UUIDv7 (SPEC §3): its 48-bit time is the row's own time, so imported rows order
 * by time like any other, and its 74 other bits come from a SHA-256 of the export's id, which no two different ids
 * share in practice. Stateless and thread-safe.
 */
final class ImportIds {
    private static final long MAX_MILLIS = (1L << 48) - 1;

    private ImportIds() {
    }

    /** The id of the row that {@code key} (a source, a conversation and a node of the export) becomes. */
    static String of(String key, Instant time) {
        byte[] bytes = new byte[16];
        long millis = Math.max(0, Math.min(MAX_MILLIS, time.toEpochMilli()));
        for (int i = 0; i < 6; i++) {
            bytes[i] = (byte) (millis >>> (40 - 8 * i));
        }
        System.arraycopy(sha256(key), 0, bytes, 6, 10);
        // The library sets the version (7) and variant bits over what is there.
        return UUIDUtil.constructUUID(UUIDType.TIME_BASED_EPOCH, bytes).toString();
    }

    private static byte[] sha256(String key) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime has SHA-256", e);
        }
    }
}
