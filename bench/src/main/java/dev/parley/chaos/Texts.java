package dev.parley.chaos;

import java.util.List;
import java.util.SplittableRandom;

/**
 * Message texts and titles for simulated users. Every message text is unique in a run (device, counter and a
 * random nonce), so that a message stored twice under two ids shows up as the same text twice.
 */
final class Texts {
    private static final List<String> BODIES = List.of(
            "What is the capital of France?",
            "Summarise this in one line, please.",
            "Write a **Markdown** list:\n- one\n- two",
            "Quote: \"hello\" and 'world' \\ backslash",
            "'; DROP TABLE chat_messages; --",
            "Zwölf Boxkämpfer jagen Viktor quer über den großen Sylter Deich",
            "你好，世界 👋🏽 — emoji and CJK",
            "<script>alert('x')</script>",
            "A long one: " + "lorem ipsum dolor sit amet ".repeat(40),
            "Tabs\tand\r\nWindows line ends");

    private Texts() {
    }

    static String message(SplittableRandom random, String device, int counter) {
        return BODIES.get(random.nextInt(BODIES.size())) + "\n\n[" + device + " #" + counter + " "
                + Long.toHexString(random.nextLong()) + "]";
    }

    static String title(SplittableRandom random, String device, int counter) {
        return switch (random.nextInt(4)) {
            case 0 -> "Renamed on " + device + " #" + counter;
            case 1 -> "Ünïcödé title " + counter + " 🚀";
            case 2 -> "Plans for " + (2026 + random.nextInt(5));
            default -> "Trip notes " + Long.toHexString(random.nextLong()).substring(0, 4);
        };
    }
}
