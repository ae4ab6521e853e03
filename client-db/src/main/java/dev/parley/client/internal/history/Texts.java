package dev.parley.client.internal.history;

import dev.parley.protocol.Limits;

/** Imported text made storable: what the server takes (SPEC §3, §5.0). Stateless. */
final class Texts {
    private Texts() {
    }

    /**
     * {@code text} cleaned, and cut to the content limit with a note saying how much was left out: the server
     * refuses a longer message, and a refused row would never reach the user's other devices.
     */
    static String fit(String text) {
        String clean = clean(text);
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

    /** Without NUL characters and unpaired surrogates (a broken escape in the file), each replaced by U+FFFD. */
    static String clean(String text) {
        StringBuilder out = null;
        for (int i = 0; i < text.length(); i++) {
            char ch = text.charAt(i);
            boolean pair = Character.isHighSurrogate(ch) && i + 1 < text.length()
                    && Character.isLowSurrogate(text.charAt(i + 1));
            boolean bad = ch == 0 || (!pair && Character.isSurrogate(ch));
            if (bad && out == null) {
                out = new StringBuilder(text.length()).append(text, 0, i);
            }
            if (out != null) {
                out.append(bad ? '\uFFFD' : ch);
                if (pair) {
                    out.append(text.charAt(i + 1));
                }
            }
            if (pair) {
                i++;
            }
        }
        return out == null ? text : out.toString();
    }
}
