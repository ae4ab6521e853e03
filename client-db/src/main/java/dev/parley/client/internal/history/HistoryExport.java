package dev.parley.client.internal.history;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.parley.client.ClientException;
import dev.parley.client.ExportSummary;
import dev.parley.client.internal.LocalDatabase;
import dev.parley.client.internal.LocalMessages;
import dev.parley.client.internal.LocalSessions;
import dev.parley.client.internal.MessageRow;
import dev.parley.client.internal.SessionRow;
import dev.parley.protocol.Message;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Clock;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * Exports every conversation shown to whoever is signed in (signed out: this device's own) as one zip:
 * {@code parley-export.json}, which an import reads back, then {@code conversations/…md}, one Markdown file per
 * conversation with every branch ({@link Transcript}). The store is read a page of conversations and one
 * conversation's messages at a time, so the heap holds one conversation whatever the history. The zip is written
 * beside the target and moved into place when complete: a failed export leaves no half file. Not thread-safe; one
 * per export.
 */
public final class HistoryExport {
    private static final int PAGE = 200;
    private static final DateTimeFormatter DAY = DateTimeFormatter.ofPattern("yyyy-MM-dd", Locale.ROOT)
            .withZone(ZoneOffset.UTC);

    private final LocalDatabase db;
    private final String owner;
    private final ObjectMapper json;
    private final Clock clock;
    private final LocalSessions sessions = new LocalSessions();
    private final LocalMessages messages = new LocalMessages();

    /** @param owner whose conversations: the signed-in account, {@code null} signed out */
    public HistoryExport(LocalDatabase db, String owner, ObjectMapper json, Clock clock) {
        this.db = db;
        this.owner = owner;
        this.json = json;
        this.clock = clock;
    }

    /**
     * Writes the zip to {@code file}, replacing what is there.
     *
     * @throws ClientException {@code storage} when the file cannot be written
     */
    public ExportSummary run(Path file) {
        Path absolute = file.toAbsolutePath();
        Path partial = absolute.resolveSibling(absolute.getFileName() + ".part");
        try {
            long[] totals = new long[2];
            try (OutputStream raw = Files.newOutputStream(partial); ZipOutputStream zip = new ZipOutputStream(raw)) {
                zip.putNextEntry(new ZipEntry(ParleyArchive.FILE_NAME));
                ParleyArchive archive = new ParleyArchive(json);
                try (JsonGenerator out = json.getFactory().createGenerator(new Unclosed(zip), JsonEncoding.UTF8)) {
                    archive.begin(out, clock.instant());
                    forEachConversation((session, rows) -> {
                        totals[0]++;
                        totals[1] += rows.size();
                        write(() -> archive.write(out, session.toWire(), rows));
                    });
                    archive.end(out);
                }
                zip.closeEntry();
                Set<String> names = new HashSet<>();
                forEachConversation((session, rows) -> write(() -> {
                    zip.putNextEntry(new ZipEntry("conversations/" + fileName(session, names)));
                    zip.write(Transcript.markdown(session.title(), session.createdAt(), rows)
                            .getBytes(StandardCharsets.UTF_8));
                    zip.closeEntry();
                }));
            }
            Files.move(partial, absolute, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            return new ExportSummary(absolute, (int) totals[0], totals[1]);
        } catch (IOException | UncheckedIOException e) {
            deleteQuietly(partial);
            IOException cause = e instanceof UncheckedIOException unchecked ? unchecked.getCause() : (IOException) e;
            throw new ClientException("storage", "Parley could not write " + absolute.getFileName() + ": "
                    + cause.getMessage(), false, e);
        } catch (RuntimeException e) {
            deleteQuietly(partial);
            throw e;
        }
    }

    private interface ConversationWork {
        void accept(SessionRow session, List<Message> rows);
    }

    /** Every live conversation of the owner, newest activity first, with all its messages. */
    private void forEachConversation(ConversationWork work) {
        SessionRow after = null;
        while (true) {
            SessionRow cursor = after;
            List<SessionRow> page = db.inTransaction(c -> sessions.page(c, owner, null, cursor, PAGE));
            for (SessionRow session : page) {
                List<Message> rows = db.inTransaction(c -> messages.ofSession(c, session.id())).stream()
                        .map(MessageRow::message).toList();
                work.accept(session, rows);
            }
            if (page.size() < PAGE) {
                return;
            }
            after = page.get(page.size() - 1);
        }
    }

    /** {@code 2025-03-14 Trip to Lisbon 0195a1b2.md}: the day it began, its title, and enough id to be unique. */
    private static String fileName(SessionRow session, Set<String> taken) {
        String title = session.title().replaceAll("[\\\\/:*?\"<>|\\p{Cntrl}]+", " ").strip();
        if (title.length() > 80) {
            title = title.substring(0, 80).strip();
        }
        String base = DAY.format(session.createdAt()) + " " + (title.isEmpty() ? "Chat" : title) + " "
                + session.id().substring(0, 8);
        String name = base + ".md";
        for (int n = 2; !taken.add(name); n++) {
            name = base + " " + n + ".md";
        }
        return name;
    }

    private interface IoWork {
        void run() throws IOException;
    }

    private static void write(IoWork work) {
        try {
            work.run();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void deleteQuietly(Path file) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException ignored) {
            // nothing more to do: the export already failed
        }
    }

    /** The zip stream, kept open when the JSON generator closes (the zip has more entries to come). */
    private static final class Unclosed extends java.io.FilterOutputStream {
        Unclosed(OutputStream out) {
            super(out);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            out.write(b, off, len);
        }

        @Override
        public void close() throws IOException {
            flush();
        }
    }
}
