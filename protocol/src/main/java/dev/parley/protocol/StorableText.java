package dev.parley.protocol;

/** Text the server stores as given (SPEC §3): any Unicode but NUL and unpaired surrogates. Stateless. */
public final class StorableText {
    private StorableText() {
    }

    /**
     * {@code text} as a store can hold it: unpaired surrogates and NUL (which PostgreSQL refuses) become U+FFFD,
     * so that a model's reply, or imported history, is stored, and pushed back by a client, exactly as it was shown.
     * Returns {@code text} itself when nothing needs replacing.
     */
    public static String of(String text) {
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
                if (bad) {
                    out.append('\uFFFD');
                } else {
                    out.append(ch);
                    if (pair) {
                        out.append(text.charAt(++i));
                    }
                }
            } else if (pair) {
                i++;
            }
        }
        return out == null ? text : out.toString();
    }
}
