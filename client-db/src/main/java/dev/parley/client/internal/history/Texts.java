package dev.parley.client.internal.history;

import dev.parley.protocol.Limits;
import dev.parley.protocol.StorableText;

/** Imported text made storable: what the server takes (SPEC §3, §5.0). Stateless. */
final class Texts {
    private Texts() {
    }

    /**
     * {@code text} made storable ({@link StorableText}), and cut to the content limit with a note saying how much
     * was left out: the server
     * refuses a longer message, and a refused row would never reach the user's other devices.
     */
    static String fit(String text) {
        String clean = StorableText.of(text);
        if (clean.length() <= Limits.MAX_CONTENT_CHARS) {
            return clean;
        }
        String note = "\n\n[Parley kept the first part of this message: it is longer than "
                + Limits.MAX_CONTENT_CHARS + " characters.]";
        int cut = Limits.MAX_CONTENT_CHARS - note.length();
        if (Character.isHighSurrogate(clean.charAt(cut - 1))) {
            cut--;
        }
        return clean.substring(0, cut) + note;
    }
}
