package dev.parley.bench;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.UUID;

/**
 * Writes a synthetic ChatGPT data export ({@code conversations.json}) shaped like a real one: each conversation a
 * {@code mapping} tree with a root node without a message, a hidden system node, then user and assistant turns
 * (questions of 50–400 characters, replies of 200–2,000), some replies regenerated (sibling assistant nodes), some
 * questions edited (sibling user nodes, each answered), some questions with an image part (multimodal), and some
 * replies that call a tool first (an assistant node to {@code python}, the tool's output, then the answer). Nodes and
 * messages carry the fields a real export has (status, weight, metadata, recipient…), so the parse costs what a
 * real file's does. Written with Jackson's streaming generator; one conversation is in memory at a time.
 *
 * <p>It also counts what an import of the file must report: the rows (each user node and each answered run of
 * assistant nodes is one), the nodes skipped (the system node and the tool call and output) and the notes (image
 * parts). Deterministic for a seed. Not thread-safe.
 */
final class ChatGptExport {
    /** What was written, and what an import of it must find. */
    record Written(Path file, long bytes, int conversations, long messages, long nodesSkipped, long notes,
                   long nodes) {
    }

    private static final String[] WORDS = ("the a of to and in is that for it as with on be this by are or from at "
            + "an was which you can not if will data function value return server client request table query index "
            + "memory thread cache latency request response model token stream batch commit transaction migration "
            + "schema column primary key foreign constraint should would could because however therefore example "
            + "consider following approach problem solution performance throughput benchmark result measure error "
            + "exception retry timeout connection pool configuration parameter option default setting version "
            + "library framework interface implementation method class object field record list map set queue "
            + "string number integer boolean array element iterate loop condition branch variable constant "
            + "summary explain detail step first second third finally also then next before after during while")
            .split(" ");
    private static final String[] MODELS = {"gpt-4o", "gpt-4o", "gpt-4o", "gpt-4", "gpt-3.5-turbo", "o1-mini"};

    private final Random random;
    private final String corpus;
    private double clock;
    private long messages;
    private long nodesSkipped;
    private long notes;
    private long nodes;

    ChatGptExport(long seed) {
        this.random = new Random(seed);
        this.corpus = corpus(new Random(seed ^ 0x5DEECE66DL), 1 << 17);
    }

    /**
     * Writes conversations of about {@code perConversation} rows each to {@code file} until it holds at least
     * {@code targetMessages} rows.
     */
    Written write(Path file, long targetMessages, int perConversation) throws IOException {
        clock = 1_700_000_000.0; // November 2023
        int conversations = 0;
        JsonFactory factory = new JsonFactory();
        try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(file), 1 << 16);
             JsonGenerator json = factory.createGenerator(out, JsonEncoding.UTF8)) {
            json.writeStartArray();
            while (messages < targetMessages) {
                conversation(json, perConversation);
                conversations++;
            }
            json.writeEndArray();
        }
        return new Written(file, Files.size(file), conversations, messages, nodesSkipped, notes, nodes);
    }

    /** A node of the tree before it is written. */
    private static final class Node {
        final String nodeId;
        final Node parent;
        final List<Node> children = new ArrayList<>();
        String role; // null: the root, without a message
        String text;
        String contentType = "text";
        String recipient = "all";
        String model;
        boolean hidden;
        boolean image;
        double time;

        Node(String nodeId, Node parent) {
            this.nodeId = nodeId;
            this.parent = parent;
            if (parent != null) {
                parent.children.add(this);
            }
        }
    }

    private void conversation(JsonGenerator json, int perConversation) throws IOException {
        List<Node> all = new ArrayList<>();
        double created = clock;
        String model = MODELS[random.nextInt(MODELS.length)];
        Node root = add(all, null);
        Node system = add(all, root);
        system.role = "system";
        system.text = "";
        system.hidden = true;
        nodesSkipped++;
        // Turns of question and answer (2 rows), around the size asked for with the branches below.
        int turns = Math.max(1, perConversation / 2 - 1 + random.nextInt(3) - 1);
        Node tip = system;
        for (int t = 0; t < turns; t++) {
            if (t > 0 && random.nextInt(20) == 0) {
                // An edited question: the first version keeps its own answer, on a branch of its own.
                Node old = question(all, tip, model);
                answer(all, old, model);
            }
            Node question = question(all, tip, model);
            if (random.nextInt(10) == 0) {
                answer(all, question, model); // a reply regenerated: this first one stays, a leaf
            }
            tip = answer(all, question, model);
        }
        writeConversation(json, all, created, tip);
    }

    private Node question(List<Node> all, Node parent, String model) {
        Node node = add(all, parent);
        node.role = "user";
        node.text = text(50, 400);
        node.model = model;
        if (random.nextInt(25) == 0) {
            node.image = true;
            node.contentType = "multimodal_text";
            notes++;
        }
        messages++;
        return node;
    }

    private Node answer(List<Node> all, Node question, String model) {
        Node parent = question;
        if (random.nextInt(20) == 0) {
            Node call = add(all, parent);
            call.role = "assistant";
            call.contentType = "code";
            call.recipient = "python";
            call.model = model;
            call.text = "import pandas as pd\ndf = pd.read_csv('data.csv')\nprint(df.describe())";
            Node output = add(all, call);
            output.role = "tool";
            output.contentType = "execution_output";
            output.text = text(50, 300);
            nodesSkipped += 2;
            parent = output;
        }
        Node node = add(all, parent);
        node.role = "assistant";
        node.text = text(200, 2_000);
        node.model = model;
        messages++;
        return node;
    }

    private Node add(List<Node> all, Node parent) {
        Node node = new Node(uuid(), parent);
        clock += 1 + random.nextInt(90) + random.nextInt(1000) / 1000.0;
        node.time = clock;
        all.add(node);
        nodes++;
        return node;
    }

    private void writeConversation(JsonGenerator json, List<Node> all, double created, Node current)
            throws IOException {
        String id = uuid();
        json.writeStartObject();
        json.writeStringField("title", "Question about " + WORDS[random.nextInt(WORDS.length)] + " and "
                + WORDS[random.nextInt(WORDS.length)]);
        json.writeNumberField("create_time", created);
        json.writeNumberField("update_time", clock);
        json.writeObjectFieldStart("mapping");
        for (Node node : all) {
            json.writeObjectFieldStart(node.nodeId);
            json.writeStringField("id", node.nodeId);
            if (node.role == null) {
                json.writeNullField("message");
            } else {
                message(json, node);
            }
            if (node.parent == null) {
                json.writeNullField("parent");
            } else {
                json.writeStringField("parent", node.parent.nodeId);
            }
            json.writeArrayFieldStart("children");
            for (Node child : node.children) {
                json.writeString(child.nodeId);
            }
            json.writeEndArray();
            json.writeEndObject();
        }
        json.writeEndObject();
        json.writeNullField("moderation_results");
        json.writeStringField("current_node", current.nodeId);
        json.writeArrayFieldStart("plugin_ids");
        json.writeEndArray();
        json.writeStringField("conversation_id", id);
        json.writeNullField("conversation_template_id");
        json.writeNullField("gizmo_id");
        json.writeBooleanField("is_archived", false);
        json.writeArrayFieldStart("safe_urls");
        json.writeEndArray();
        json.writeStringField("default_model_slug", all.get(all.size() - 1).model);
        json.writeStringField("id", id);
        json.writeEndObject();
    }

    private void message(JsonGenerator json, Node node) throws IOException {
        json.writeObjectFieldStart("message");
        json.writeStringField("id", node.nodeId);
        json.writeObjectFieldStart("author");
        json.writeStringField("role", node.role);
        if (node.role.equals("tool")) {
            json.writeStringField("name", "python");
        } else {
            json.writeNullField("name");
        }
        json.writeObjectFieldStart("metadata");
        json.writeEndObject();
        json.writeEndObject();
        json.writeNumberField("create_time", node.time);
        json.writeNullField("update_time");
        json.writeObjectFieldStart("content");
        json.writeStringField("content_type", node.contentType);
        if (node.contentType.equals("code")) {
            json.writeStringField("language", "unknown");
            json.writeStringField("text", node.text);
        } else if (node.contentType.equals("execution_output")) {
            json.writeStringField("text", node.text);
        } else {
            json.writeArrayFieldStart("parts");
            if (node.image) {
                json.writeStartObject();
                json.writeStringField("content_type", "image_asset_pointer");
                json.writeStringField("asset_pointer", "file-service://file-" + uuid().replace("-", "")
                        .substring(0, 24));
                json.writeNumberField("size_bytes", 100_000 + random.nextInt(400_000));
                json.writeNumberField("width", 1024);
                json.writeNumberField("height", 768);
                json.writeNullField("fovea");
                json.writeObjectFieldStart("metadata");
                json.writeNullField("dalle");
                json.writeEndObject();
                json.writeEndObject();
            }
            json.writeString(node.text);
            json.writeEndArray();
        }
        json.writeEndObject();
        json.writeStringField("status", "finished_successfully");
        if (node.role.equals("assistant") && node.recipient.equals("all")) {
            json.writeBooleanField("end_turn", true);
        } else {
            json.writeNullField("end_turn");
        }
        json.writeNumberField("weight", node.hidden ? 0.0 : 1.0);
        json.writeObjectFieldStart("metadata");
        if (node.hidden) {
            json.writeBooleanField("is_visually_hidden_from_conversation", true);
        }
        if (node.role.equals("assistant")) {
            json.writeStringField("model_slug", node.model);
            json.writeStringField("default_model_slug", node.model);
            json.writeStringField("parent_id", node.parent.nodeId);
            json.writeStringField("request_id", Long.toHexString(random.nextLong()));
            json.writeStringField("timestamp_", "absolute");
            json.writeObjectFieldStart("finish_details");
            json.writeStringField("type", "stop");
            json.writeEndObject();
            json.writeBooleanField("is_complete", true);
        } else if (node.role.equals("user")) {
            json.writeStringField("request_id", Long.toHexString(random.nextLong()));
            json.writeStringField("message_source", "null");
            json.writeStringField("timestamp_", "absolute");
        }
        json.writeEndObject();
        json.writeStringField("recipient", node.recipient);
        json.writeNullField("channel");
        json.writeEndObject();
    }

    /** Text of {@code min}–{@code max} characters: a slice of the corpus, starting at a word. */
    private String text(int min, int max) {
        int length = min + random.nextInt(max - min + 1);
        int start = random.nextInt(corpus.length() - max - 64);
        while (corpus.charAt(start) != ' ') {
            start++;
        }
        int end = start + 1 + length;
        if (Character.isHighSurrogate(corpus.charAt(end - 1))) {
            end++; // never half an emoji
        }
        return corpus.substring(start + 1, end).strip();
    }

    private String uuid() {
        return new UUID(random.nextLong(), random.nextLong()).toString();
    }

    /** Sentences and paragraphs of words, with now and then a list, a code block or a non-ASCII word. */
    private static String corpus(Random random, int chars) {
        StringBuilder text = new StringBuilder(chars + 200);
        while (text.length() < chars) {
            int kind = random.nextInt(12);
            if (kind == 0) {
                text.append("\n\n```java\nfor (int i = 0; i < items.size(); i++) {\n    total += items.get(i)"
                        + ".price();\n}\n```\n\n");
            } else if (kind == 1) {
                for (int i = 1; i <= 3; i++) {
                    text.append("\n").append(i).append(". ").append(sentence(random));
                }
                text.append("\n\n");
            } else if (kind == 2) {
                text.append(" Café naïve résumé — “quoted” 日本語 😀. ");
            } else {
                text.append(sentence(random)).append(random.nextInt(4) == 0 ? "\n\n" : " ");
            }
        }
        return text.toString();
    }

    private static String sentence(Random random) {
        StringBuilder s = new StringBuilder();
        int words = 6 + random.nextInt(18);
        for (int i = 0; i < words; i++) {
            String word = WORDS[random.nextInt(WORDS.length)];
            if (i == 0) {
                word = Character.toUpperCase(word.charAt(0)) + word.substring(1);
            }
            s.append(i == 0 ? "" : " ").append(word).append(i == words / 2 && random.nextBoolean() ? "," : "");
        }
        return s.append('.').toString();
    }
}
