package dev.parley.client.internal.history;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import java.io.BufferedInputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Optional;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;

/**
 * Reads an export a conversation at a time, whatever its size: ChatGPT's {@code conversations.json} (a JSON array
 * of conversations), Parley's {@code parley-export.json}, or a zip holding either. Only one conversation is in
 * memory at once. What a file is comes from its bytes, not its name. Not thread-safe; one per read.
 */
final class HistoryReader {
    private static final String CHATGPT_FILE = "conversations.json";

    /** Receives each conversation of the file in order; returns false to stop reading. */
    interface Visitor {
        boolean conversation(ImportedConversation conversation) throws HistoryFormatException;
    }

    /** Hears how far the read has come, in bytes of the JSON text ({@code total} 0 when unknown). */
    interface Progress {
        void read(long bytes, long total);
    }

    /** Reads one conversation from the middle of the file: what follows it is the rest of the list, not an error. */
    private final ObjectReader conversations;
    private final JsonFactory factory;
    private final ChatGptConversations chatGpt;
    private final ParleyArchive archive;

    HistoryReader(ObjectMapper json, TokenCounter tokens) {
        this.conversations = json.reader().without(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
        this.factory = json.getFactory();
        this.chatGpt = new ChatGptConversations(tokens);
        this.archive = new ParleyArchive(json);
    }

    /**
     * Reads {@code file}, handing each conversation that has a message to import to {@code visitor}.
     *
     * @return the source of the file: {@link ChatGptConversations#SOURCE} or {@link ParleyArchive#SOURCE}
     * @throws HistoryFormatException when the file is not an export Parley reads, or is damaged; the visitor may
     *                                have seen the conversations before the damage
     */
    String read(Path file, Progress progress, Visitor visitor) throws HistoryFormatException {
        try {
            if (isZip(file)) {
                try (ZipFile zip = new ZipFile(file.toFile())) {
                    ZipEntry entry = entryOf(zip);
                    try (InputStream in = zip.getInputStream(entry)) {
                        return read(in, Math.max(0, entry.getSize()), progress, visitor);
                    }
                }
            }
            try (InputStream in = Files.newInputStream(file)) {
                return read(in, Files.size(file), progress, visitor);
            }
        } catch (NoSuchFileException e) {
            throw new HistoryFormatException("There is no file at " + file + ".", e);
        } catch (ZipException e) {
            throw new HistoryFormatException("This zip file is damaged and cannot be read.", e);
        } catch (IOException e) {
            throw new HistoryFormatException("Parley could not read " + file.getFileName() + ": " + e.getMessage(), e);
        }
    }

    private String read(InputStream raw, long total, Progress progress, Visitor visitor)
            throws IOException, HistoryFormatException {
        Counting in = new Counting(new BufferedInputStream(raw, 1 << 16));
        try (JsonParser parser = factory.createParser(in)) {
            JsonToken first = parser.nextToken();
            if (first == JsonToken.START_ARRAY) {
                readConversations(parser, in, total, progress, visitor, chatGpt::read);
                return ChatGptConversations.SOURCE;
            }
            if (first == JsonToken.START_OBJECT) {
                readArchive(parser, in, total, progress, visitor);
                return ParleyArchive.SOURCE;
            }
            throw new HistoryFormatException(first == null ? "The file is empty."
                    : "This is not a ChatGPT or Parley export: it does not start with a JSON array or object.");
        } catch (JsonProcessingException e) {
            throw new HistoryFormatException("The file is not valid JSON (line " + e.getLocation().getLineNr()
                    + ", column " + e.getLocation().getColumnNr() + "): " + e.getOriginalMessage(), e);
        }
    }

    /** Parley's object: {@code format} and {@code version} first, then {@code conversations}. */
    private void readArchive(JsonParser parser, Counting in, long total, Progress progress, Visitor visitor)
            throws IOException, HistoryFormatException {
        String format = null;
        while (parser.nextToken() == JsonToken.FIELD_NAME) {
            String field = parser.currentName();
            JsonToken value = parser.nextToken();
            if (field.equals("format")) {
                format = parser.getValueAsString();
            } else if (field.equals("version") && parser.getValueAsInt(0) > ParleyArchive.VERSION) {
                throw new HistoryFormatException("This Parley export was made by a newer Parley (format version "
                        + parser.getValueAsInt() + "); update Parley to import it.");
            } else if (field.equals("conversations") && value == JsonToken.START_ARRAY) {
                if (!ParleyArchive.FORMAT.equals(format)) {
                    break;
                }
                readConversations(parser, in, total, progress, visitor, archive::read);
                return;
            } else {
                parser.skipChildren();
            }
        }
        throw new HistoryFormatException("This is not a ChatGPT or Parley export: a ChatGPT export is a list of"
                + " conversations (conversations.json), and a Parley export starts with"
                + " \"format\": \"parley-export\".");
    }

    private interface Conversion {
        ImportedConversation read(JsonNode conversation, int index) throws HistoryFormatException;
    }

    private void readConversations(JsonParser parser, Counting in, long total, Progress progress, Visitor visitor,
                                   Conversion conversion) throws IOException, HistoryFormatException {
        int index = 0;
        while (parser.nextToken() != JsonToken.END_ARRAY) {
            if (parser.currentToken() == null) {
                throw new HistoryFormatException("The file ends in the middle of its list of conversations.");
            }
            JsonNode node = conversations.readTree(parser);
            ImportedConversation conversation = conversion.read(node, index++);
            progress.read(in.count, total);
            if (conversation != null && !visitor.conversation(conversation)) {
                return;
            }
        }
        // Anything after the list but whitespace means the file is not what it seems.
        JsonToken after = parser.nextToken();
        if (after != null && after != JsonToken.END_OBJECT) {
            throw new HistoryFormatException("The file goes on after its list of conversations.");
        }
        progress.read(total > 0 ? total : in.count, total);
    }

    private static boolean isZip(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            byte[] magic = in.readNBytes(4);
            return magic.length == 4 && magic[0] == 'P' && magic[1] == 'K' && magic[2] == 3 && magic[3] == 4;
        }
    }

    /** ChatGPT's {@code conversations.json}, or Parley's file, nearest the zip's root. */
    private static ZipEntry entryOf(ZipFile zip) throws HistoryFormatException {
        Optional<? extends ZipEntry> found = zip.stream().filter(e -> !e.isDirectory())
                .filter(e -> named(e, CHATGPT_FILE) || named(e, ParleyArchive.FILE_NAME))
                .min(Comparator.comparingInt((ZipEntry e) -> e.getName().split("/").length));
        return found.orElseThrow(() -> new HistoryFormatException("This zip holds no " + CHATGPT_FILE
                + " (a ChatGPT data export) and no " + ParleyArchive.FILE_NAME + " (a Parley export)."));
    }

    private static boolean named(ZipEntry entry, String name) {
        return entry.getName().equals(name) || entry.getName().endsWith("/" + name);
    }

    /** Counts the bytes read through it, for progress. */
    private static final class Counting extends FilterInputStream {
        long count;

        Counting(InputStream in) {
            super(in);
        }

        @Override
        public int read() throws IOException {
            int b = super.read();
            if (b >= 0) {
                count++;
            }
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n = super.read(b, off, len);
            if (n > 0) {
                count += n;
            }
            return n;
        }

        @Override
        public long skip(long n) throws IOException {
            long skipped = super.skip(n);
            count += skipped;
            return skipped;
        }
    }
}
