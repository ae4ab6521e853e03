package dev.parley.protocol;

import java.util.regex.Pattern;

/** Row ids are client-generated UUIDv7 strings in canonical lower-case form (SPEC §3). */
public final class Ids {
    private static final Pattern UUID_V7 =
            Pattern.compile("[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");

    private Ids() {
    }

    /** True when {@code id} is a canonical lower-case UUID of version 7 and the RFC 9562 variant. */
    public static boolean isValid(String id) {
        return id != null && UUID_V7.matcher(id).matches();
    }
}
