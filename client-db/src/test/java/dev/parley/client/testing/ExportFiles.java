package dev.parley.client.testing;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * Export files for import tests: the hand-written ChatGPT export of the test resources, and generated ones of any
 * size, written as a stream so that a 200 MB file costs no memory to make.
 */
public final class ExportFiles {
    /** The time of the first generated conversation: 2024-03-09, seconds since the epoch as ChatGPT writes them. */
    private static final long START = 1_710_000_000L;

    private ExportFiles() {
    }

    /**
     * The realistic ChatGPT export (test resource {@code chatgpt/conversations.json}), copied to {@code dir}: four
     * conversations, of which three have messages — 12 messages in all, with a regenerated reply, an edited question,
     * a tool call and its output, a missing (deleted) node, hidden custom instructions, reasoning nodes, an image, an
     * attachment, unicode titles, and one conversation without id, title or times.
     */
    public static Path realistic(Path dir) throws IOException {
        Path file = dir.resolve("conversations.json");
        try (InputStream in = ExportFiles.class.getResourceAsStream("/chatgpt/conversations.json")) {
            Files.createDirectories(dir);
            Files.copy(in, file);
        }
        return file;
    }

    /** {@code source} inside a zip at {@code entryName}, as ChatGPT's data export delivers it. */
    public static Path zipped(Path source, Path zip, String entryName) throws IOException {
        try (OutputStream out = Files.newOutputStream(zip); ZipOutputStream z = new ZipOutputStream(out)) {
            z.putNextEntry(new ZipEntry("chat.html"));
            z.write("<html>the export's viewer</html>".getBytes(java.nio.charset.StandardCharsets.UTF_8));
            z.closeEntry();
            if (source != null) {
                z.putNextEntry(new ZipEntry(entryName));
                Files.copy(source, z);
                z.closeEntry();
            }
        }
        return zip;
    }

    /**
     * A generated ChatGPT export: {@code conversations} conversations of {@code turns} question-and-reply pairs in one
     * line, each message {@code textChars} long. With {@code brokenAtEnd} the last conversation is cut off in the
     * middle, so the file is not valid JSON only at its very end.
     */
    public static Path generated(Path file, int conversations, int turns, int textChars, boolean brokenAtEnd)
            throws IOException {
        String text = "x".repeat(Math.max(1, textChars - 20));
        try (OutputStream out = Files.newOutputStream(file);
             JsonGenerator g = new JsonFactory().createGenerator(out, JsonEncoding.UTF8)) {
            g.writeStartArray();
            for (int c = 0; c < conversations; c++) {
                long at = START + c * 60L;
                g.writeStartObject();
                g.writeStringField("id", String.format("conv-%08d", c));
                g.writeStringField("title", "Generated " + c);
                g.writeNumberField("create_time", at);
                g.writeObjectFieldStart("mapping");
                String parent = "root";
                node(g, "root", null, null, null, 0, turns == 0 ? null : "q0");
                for (int t = 0; t < turns; t++) {
                    String q = "q" + t;
                    String a = "a" + t;
                    node(g, q, parent, "user", "question " + c + "." + t + " " + text, at + 2 * t + 1, a);
                    node(g, a, q, "assistant", "reply " + c + "." + t + " " + text, at + 2 * t + 2,
                            t + 1 < turns ? "q" + (t + 1) : null);
                    parent = a;
                }
                g.writeEndObject();
                g.writeEndObject();
                if (brokenAtEnd && c == conversations - 1) {
                    g.flush();
                    out.write("{\"id\": \"cut off".getBytes(java.nio.charset.StandardCharsets.UTF_8));
                    out.flush();
                    return file;
                }
            }
            g.writeEndArray();
        }
        return file;
    }

    private static void node(JsonGenerator g, String id, String parent, String role, String content, long time,
                             String child) throws IOException {
        g.writeObjectFieldStart(id);
        g.writeStringField("id", id);
        if (role == null) {
            g.writeNullField("message");
        } else {
            g.writeObjectFieldStart("message");
            g.writeStringField("id", id);
            g.writeObjectFieldStart("author");
            g.writeStringField("role", role);
            g.writeEndObject();
            g.writeNumberField("create_time", time);
            g.writeObjectFieldStart("content");
            g.writeStringField("content_type", "text");
            g.writeArrayFieldStart("parts");
            g.writeString(content);
            g.writeEndArray();
            g.writeEndObject();
            g.writeObjectFieldStart("metadata");
            if (role.equals("assistant")) {
                g.writeStringField("model_slug", "gpt-4o");
            }
            g.writeEndObject();
            g.writeStringField("recipient", "all");
            g.writeEndObject();
        }
        if (parent == null) {
            g.writeNullField("parent");
        } else {
            g.writeStringField("parent", parent);
        }
        g.writeArrayFieldStart("children");
        if (child != null) {
            g.writeString(child);
        }
        g.writeEndArray();
        g.writeEndObject();
    }
}
