package dev.parley.desktop.view;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.NoSuchElementException;
import java.util.function.Consumer;
import javafx.event.ActionEvent;
import javafx.geometry.Insets;
import javafx.scene.Node;
import javafx.scene.control.Button;
import javafx.scene.control.ButtonBar.ButtonData;
import javafx.scene.control.ButtonType;
import javafx.scene.control.Dialog;
import javafx.scene.control.Hyperlink;
import javafx.scene.control.Label;
import javafx.scene.control.TextArea;
import javafx.scene.control.Tooltip;
import javafx.scene.input.Clipboard;
import javafx.scene.input.ClipboardContent;
import javafx.scene.layout.HBox;
import javafx.scene.layout.Priority;
import javafx.scene.layout.Region;
import javafx.scene.layout.VBox;
import javafx.scene.text.Font;
import javafx.scene.text.FontPosture;
import javafx.scene.text.FontWeight;
import javafx.scene.text.Text;
import javafx.scene.text.TextFlow;
import org.commonmark.node.AbstractVisitor;
import org.commonmark.node.Block;
import org.commonmark.node.BlockQuote;
import org.commonmark.node.BulletList;
import org.commonmark.node.Code;
import org.commonmark.node.Emphasis;
import org.commonmark.node.FencedCodeBlock;
import org.commonmark.node.HardLineBreak;
import org.commonmark.node.Heading;
import org.commonmark.node.Image;
import org.commonmark.node.IndentedCodeBlock;
import org.commonmark.node.Link;
import org.commonmark.node.ListItem;
import org.commonmark.node.OrderedList;
import org.commonmark.node.Paragraph;
import org.commonmark.node.SoftLineBreak;
import org.commonmark.node.SourceSpan;
import org.commonmark.node.StrongEmphasis;
import org.commonmark.parser.IncludeSourceSpans;
import org.commonmark.parser.Parser;

/**
 * Renders a message's Markdown (paragraphs, lists, quotes, emphasis, links, code) as JavaFX nodes. No HTML, no
 * WebView. Call on the FX thread.
 *
 * <p>Any text renders, however hostile: quotes and lists are drawn at most {@value #MAX_NESTING} levels deep, and
 * what lies deeper shows as plain text inside the deepest one drawn. A message whose inline markup would make the
 * parser slow or recurse deeply (thousands of emphasis marks or brackets in one paragraph) shows its paragraphs'
 * text as written, its blocks still drawn. A link shows its destination on hover, and a click shows it in full
 * before anything opens it in the browser or copies it.
 */
public final class MarkdownView {
    /**
     * How many quotes and lists are drawn inside each other; deeper content is plain text in the deepest. A list
     * level indents its items by some 22 px, so at 32 levels text would have no width left in a message, wrap at
     * every character and take seconds to lay out; 16 leaves it room and is deeper than any real message goes.
     */
    static final int MAX_NESTING = 16;
    /**
     * How deep emphasis and images are drawn inside each other; deeper ones show their text in the style reached,
     * which is the same picture, as bold and italic cannot get any bolder.
     */
    private static final int MAX_INLINE_NESTING = 32;
    /**
     * List and quote markers parsed at the start of one line; later ones are escaped and so read as text. Far more
     * than {@link #MAX_NESTING}, so no real message is touched; it keeps the parser linear on a line of thousands of
     * {@code "- "}, each of which would make it scan the rest of the line for a thematic break.
     */
    private static final int MAX_MARKERS_PER_LINE = 256;
    /**
     * Emphasis, link and image openers one paragraph may hold and still be parsed inline: the parser merges the text
     * of nested emphasis recursively, one stack frame per level.
     */
    private static final int MAX_INLINE_OPENERS = 2_000;
    /**
     * Inline scanning one message may cost, in characters: each {@code <} and {@code ]} can make the parser scan to
     * the end of its paragraph (an autolink or tag looking for its {@code >}, a link looking back for its label), so
     * a paragraph costs about its length times their number. The limit is some 60 ms of parsing at worst; real
     * messages stay orders of magnitude below it.
     */
    private static final long MAX_INLINE_SCAN = 50_000_000L;
    /** Longest text one flow lays out; a longer paragraph is drawn as consecutive flows (layout cost grows faster). */
    static final int MAX_FLOW_CHARS = 4_000;
    /** Longest destination a tooltip or a label shows whole; the link's dialog shows any destination whole. */
    private static final int MAX_SHOWN_CHARS = 1_000;

    /** Blocks carry where they are in the input, so that a growing reply redraws only the blocks that changed. */
    private static final Parser PARSER = Parser.builder().includeSourceSpans(IncludeSourceSpans.BLOCKS).build();
    /** Blocks only: each paragraph and heading keeps its text as written, in one text node. */
    private static final Parser BLOCKS = Parser.builder().includeSourceSpans(IncludeSourceSpans.BLOCKS)
            .inlineParserFactory(context -> (lines, block) ->
                    block.appendChild(new org.commonmark.node.Text(lines.getContent())))
            .build();

    /** Where "Open in browser" sends a link; null until the app sets it, and links can then be copied only. */
    private static volatile Consumer<String> browser;

    private MarkdownView() {
    }

    /**
     * Makes "Open in browser" hand the link to {@code browser} (the app's {@code HostServices}); null takes the
     * button away. The user has seen the destination and chosen to open it by then. Any thread.
     */
    public static void openLinksWith(Consumer<String> browser) {
        MarkdownView.browser = browser;
    }

    /** The nodes showing {@code markdown}; null shows nothing. */
    public static Node render(String markdown) {
        Growing drawn = new Growing();
        drawn.show(markdown);
        return drawn.node();
    }

    /**
     * Markdown drawn again and again as it grows — a reply being written: the top-level blocks whose source is as it
     * was keep their nodes (no new styling or layout for them); only the blocks from the first that changed are
     * drawn anew, which while a reply streams is its last one or two. FX thread only.
     */
    public static final class Growing {
        private final VBox box = new VBox(6);
        private List<String> shown = List.of();
        private boolean inline = true;

        public Node node() {
            return box;
        }

        /** Shows {@code markdown} (null: nothing), redrawing the blocks that differ from what is shown. */
        public void show(String markdown) {
            String source = limitMarkersPerLine(markdown == null ? "" : markdown);
            org.commonmark.node.Node blocks = BLOCKS.parse(source);
            boolean affordable = inlineAffordable(blocks);
            org.commonmark.node.Node document = affordable ? PARSER.parse(source) : blocks;
            if (affordable != inline) { // drawn the other way now: nothing shown can stay
                inline = affordable;
                shown = List.of();
            }
            List<org.commonmark.node.Node> top = new ArrayList<>();
            List<String> sources = new ArrayList<>();
            for (org.commonmark.node.Node block = document.getFirstChild(); block != null; block = block.getNext()) {
                top.add(block);
                sources.add(sourceOf(block, source));
            }
            int same = 0;
            while (same < shown.size() && same < sources.size() && sources.get(same) != null
                    && sources.get(same).equals(shown.get(same))) {
                same++;
            }
            box.getChildren().remove(Math.min(same, box.getChildren().size()), box.getChildren().size());
            for (int i = same; i < top.size(); i++) {
                box.getChildren().add(block(top.get(i), 0));
            }
            shown = sources;
        }

        /** The text {@code block} was parsed from, or null when the parser did not say. */
        private static String sourceOf(org.commonmark.node.Node block, String source) {
            List<SourceSpan> spans = block.getSourceSpans();
            if (spans.isEmpty()) {
                return null;
            }
            SourceSpan last = spans.get(spans.size() - 1);
            int from = spans.get(0).getInputIndex();
            int to = Math.min(source.length(), last.getInputIndex() + last.getLength());
            return from < 0 || from > to ? null : source.substring(from, to);
        }
    }

    /**
     * Whether parsing the inline markup of {@code blocks}' paragraphs and headings stays cheap and shallow: bounded
     * openers per paragraph and bounded scanning per message (see {@link #MAX_INLINE_SCAN}).
     */
    private static boolean inlineAffordable(org.commonmark.node.Node blocks) {
        long scan = 0;
        for (org.commonmark.node.Node node : descendants(blocks)) {
            if (node instanceof org.commonmark.node.Text text) {
                String content = text.getLiteral();
                int openers = 0;
                int scanners = 0;
                for (int i = 0; i < content.length(); i++) {
                    switch (content.charAt(i)) {
                        case '*', '_', '[' -> openers++;
                        case '<', ']' -> scanners++;
                        default -> {
                        }
                    }
                }
                scan += (long) content.length() * scanners;
                if (openers > MAX_INLINE_OPENERS || scan > MAX_INLINE_SCAN) {
                    return false;
                }
            }
        }
        return true;
    }

    /** {@code markdown} with a backslash before each line's marker beyond {@link #MAX_MARKERS_PER_LINE}. */
    private static String limitMarkersPerLine(String markdown) {
        StringBuilder limited = null;
        int copied = 0;
        for (int start = 0; start < markdown.length(); ) {
            int end = markdown.indexOf('\n', start);
            end = end < 0 ? markdown.length() : end;
            int escape = markerBeyondLimit(markdown, start, end);
            if (escape >= 0) {
                limited = limited == null ? new StringBuilder(markdown.length() + 16) : limited;
                limited.append(markdown, copied, escape).append('\\');
                copied = escape;
            }
            start = end + 1;
        }
        return limited == null ? markdown : limited.append(markdown, copied, markdown.length()).toString();
    }

    /**
     * Where in the line {@code [start, end)} a backslash makes the first marker beyond the limit literal (before
     * {@code >}, a bullet, or an ordered marker's {@code .} or {@code )}), or -1 when the line has no more markers.
     */
    private static int markerBeyondLimit(String s, int start, int end) {
        int markers = 0;
        int i = start;
        while (i < end) {
            char c = s.charAt(i);
            if (c == ' ' || c == '\t') {
                i++;
                continue;
            }
            int punctuation;
            if (c == '>') {
                punctuation = i;
            } else if ((c == '-' || c == '*' || c == '+') && i + 1 < end && isBlank(s.charAt(i + 1))) {
                punctuation = i;
            } else if (c >= '0' && c <= '9') {
                int j = i;
                while (j < end && j - i < 9 && s.charAt(j) >= '0' && s.charAt(j) <= '9') {
                    j++;
                }
                if (j + 1 >= end || (s.charAt(j) != '.' && s.charAt(j) != ')') || !isBlank(s.charAt(j + 1))) {
                    return -1;
                }
                punctuation = j;
            } else {
                return -1;
            }
            if (++markers > MAX_MARKERS_PER_LINE) {
                return punctuation;
            }
            i = punctuation + 1;
        }
        return -1;
    }

    private static boolean isBlank(char c) {
        return c == ' ' || c == '\t';
    }

    /** A block at {@code depth} quotes and lists deep. */
    private static Node block(org.commonmark.node.Node block, int depth) {
        if (block instanceof FencedCodeBlock fenced) {
            return codeBox(fenced.getLiteral());
        }
        if (block instanceof IndentedCodeBlock indented) {
            return codeBox(indented.getLiteral());
        }
        if (block instanceof BulletList || block instanceof OrderedList) {
            VBox list = new VBox(2);
            int number = block instanceof OrderedList ordered && ordered.getMarkerStartNumber() != null
                    ? ordered.getMarkerStartNumber() : 1;
            for (org.commonmark.node.Node item = block.getFirstChild(); item != null; item = item.getNext()) {
                String marker = block instanceof OrderedList ? (number++) + "." : "•";
                Label bullet = new Label(marker);
                bullet.setMinWidth(Region.USE_PREF_SIZE);
                VBox content = new VBox(2);
                content.getChildren().addAll(contents(item, depth + 1));
                HBox row = new HBox(6, bullet, content);
                HBox.setHgrow(content, Priority.ALWAYS);
                list.getChildren().add(row);
            }
            list.setPadding(new Insets(0, 0, 0, 8));
            list.getStyleClass().add("md-list");
            return list;
        }
        if (block instanceof BlockQuote) {
            VBox quote = new VBox(4);
            quote.getChildren().addAll(contents(block, depth + 1));
            quote.getStyleClass().add("md-quote");
            return quote;
        }
        List<Node> inline = inline(block, block instanceof Heading);
        if (characters(inline) <= MAX_FLOW_CHARS) {
            Flow flow = new Flow();
            flow.getChildren().addAll(inline);
            return flow;
        }
        // Laying out one very long run of text costs far more than its length: draw it as consecutive pieces.
        VBox pieces = new VBox();
        Flow flow = new Flow();
        int inFlow = 0;
        for (Node node : inline) {
            List<Node> parts = node instanceof Text t && t.getText().length() > MAX_FLOW_CHARS
                    ? split(t) : List.of(node);
            for (Node part : parts) {
                int length = part instanceof Text t ? t.getText().length() : 1;
                if (inFlow > 0 && inFlow + length > MAX_FLOW_CHARS) {
                    pieces.getChildren().add(flow);
                    flow = new Flow();
                    inFlow = 0;
                }
                flow.getChildren().add(part);
                inFlow += length;
            }
        }
        pieces.getChildren().add(flow);
        return pieces;
    }

    /** The characters of the text nodes among {@code nodes}. */
    private static long characters(List<Node> nodes) {
        return nodes.stream().mapToLong(n -> n instanceof Text t ? t.getText().length() : 1).sum();
    }

    /** {@code text} as nodes of at most {@link #MAX_FLOW_CHARS} characters each, with its font and styles. */
    private static List<Node> split(Text text) {
        List<Node> parts = new ArrayList<>();
        String whole = text.getText();
        for (int from = 0; from < whole.length(); ) {
            int to = Math.min(whole.length(), from + MAX_FLOW_CHARS);
            if (to < whole.length() && Character.isHighSurrogate(whole.charAt(to - 1))) {
                to--; // never between the halves of a surrogate pair
            }
            Text part = new Text(whole.substring(from, to));
            part.setFont(text.getFont());
            part.getStyleClass().setAll(text.getStyleClass());
            parts.add(part);
            from = to;
        }
        return parts;
    }

    /** The blocks inside a quote or list item, at {@code depth}: drawn, or past {@link #MAX_NESTING} plain text. */
    private static List<Node> contents(org.commonmark.node.Node container, int depth) {
        List<Node> nodes = new ArrayList<>();
        if (depth >= MAX_NESTING) {
            Flow flow = new Flow();
            flow.getChildren().add(text(plainText(container), false, false));
            nodes.add(flow);
            return nodes;
        }
        for (org.commonmark.node.Node child = container.getFirstChild(); child != null; child = child.getNext()) {
            nodes.add(block(child, depth));
        }
        return nodes;
    }

    private static List<Node> inline(org.commonmark.node.Node parent, boolean heading) {
        List<Node> nodes = new ArrayList<>();
        parent.accept(new AbstractVisitor() {
            private boolean bold = heading;
            private boolean italic;
            private int nesting;

            @Override
            public void visit(org.commonmark.node.Text text) {
                nodes.add(text(text.getLiteral(), bold, italic));
            }

            @Override
            public void visit(StrongEmphasis strong) {
                boolean was = bold;
                bold = true;
                nested(strong);
                bold = was;
            }

            @Override
            public void visit(Emphasis emphasis) {
                boolean was = italic;
                italic = true;
                nested(emphasis);
                italic = was;
            }

            @Override
            public void visit(Image image) {
                nested(image); // its description, as text
            }

            @Override
            public void visit(Code code) {
                Text node = new Text(code.getLiteral());
                node.setFont(Font.font("monospace", Font.getDefault().getSize()));
                node.getStyleClass().add("md-text");
                nodes.add(node);
            }

            @Override
            public void visit(Link link) {
                StringBuilder label = new StringBuilder();
                for (org.commonmark.node.Node node : descendants(link)) {
                    if (node instanceof org.commonmark.node.Text text) {
                        label.append(text.getLiteral());
                    }
                }
                String destination = link.getDestination();
                Hyperlink hyperlink = new Hyperlink(label.length() == 0 ? destination : label.toString());
                hyperlink.setPadding(Insets.EMPTY);
                hyperlink.setTooltip(destinationTooltip(destination));
                hyperlink.setOnAction(e -> confirmLink(hyperlink, destination));
                hyperlink.setUserData(destination);
                nodes.add(hyperlink);
            }

            @Override
            public void visit(SoftLineBreak softLineBreak) {
                nodes.add(new Text(" "));
            }

            @Override
            public void visit(HardLineBreak hardLineBreak) {
                nodes.add(new Text("\n"));
            }

            @Override
            public void visit(Paragraph paragraph) {
                visitChildren(paragraph);
            }

            @Override
            public void visit(ListItem listItem) {
                visitChildren(listItem);
            }

            /** The children of {@code node} in the style reached; past {@link #MAX_INLINE_NESTING} as one text. */
            private void nested(org.commonmark.node.Node node) {
                if (nesting >= MAX_INLINE_NESTING) {
                    nodes.add(text(plainText(node), bold, italic));
                    return;
                }
                nesting++;
                visitChildren(node);
                nesting--;
            }
        });
        return nodes;
    }

    private static Text text(String literal, boolean bold, boolean italic) {
        Text node = new Text(literal);
        node.setFont(Font.font(null, bold ? FontWeight.BOLD : FontWeight.NORMAL,
                italic ? FontPosture.ITALIC : FontPosture.REGULAR, Font.getDefault().getSize()));
        node.getStyleClass().add("md-text");
        return node;
    }

    /** The text under {@code node}, one block to a line, without markup. */
    private static String plainText(org.commonmark.node.Node node) {
        StringBuilder text = new StringBuilder();
        for (org.commonmark.node.Node child : descendants(node)) {
            if (child instanceof Block && text.length() > 0 && text.charAt(text.length() - 1) != '\n') {
                text.append('\n');
            }
            if (child instanceof org.commonmark.node.Text literal) {
                text.append(literal.getLiteral());
            } else if (child instanceof Code code) {
                text.append(code.getLiteral());
            } else if (child instanceof FencedCodeBlock fenced) {
                text.append(fenced.getLiteral());
            } else if (child instanceof IndentedCodeBlock indented) {
                text.append(indented.getLiteral());
            } else if (child instanceof SoftLineBreak) {
                text.append(' ');
            } else if (child instanceof HardLineBreak) {
                text.append('\n');
            }
        }
        return text.toString().stripTrailing();
    }

    /** The nodes under {@code root} in document order, found without recursion: nesting may be thousands deep. */
    private static Iterable<org.commonmark.node.Node> descendants(org.commonmark.node.Node root) {
        return () -> new Iterator<>() {
            private org.commonmark.node.Node next = root.getFirstChild();

            @Override
            public boolean hasNext() {
                return next != null;
            }

            @Override
            public org.commonmark.node.Node next() {
                if (next == null) {
                    throw new NoSuchElementException();
                }
                org.commonmark.node.Node current = next;
                org.commonmark.node.Node after = current.getFirstChild();
                for (org.commonmark.node.Node up = current; after == null && up != root; up = up.getParent()) {
                    after = up.getNext();
                }
                next = after;
                return current;
            }
        };
    }

    private static Tooltip destinationTooltip(String destination) {
        Tooltip tooltip = new Tooltip(abbreviated(destination));
        tooltip.setWrapText(true);
        tooltip.setMaxWidth(480);
        return tooltip;
    }

    /** {@code destination} whole, or when it is absurdly long its start and how much more the dialog shows. */
    private static String abbreviated(String destination) {
        return destination.length() <= MAX_SHOWN_CHARS ? destination : destination.substring(0, MAX_SHOWN_CHARS)
                + "… (" + (destination.length() - MAX_SHOWN_CHARS) + " more characters, shown in the link's dialog)";
    }

    /**
     * Shows where a link goes, in full, and lets the user open it in the browser (web links only, once the app has
     * said how), copy it, or leave it. The copy button keeps the dialog open and says what it copied.
     */
    private static void confirmLink(Node source, String destination) {
        Consumer<String> opener = browser;
        boolean web = isWebLink(destination);
        Dialog<ButtonType> dialog = new Dialog<>();
        dialog.setTitle("Open link");
        if (!web) {
            dialog.setHeaderText("Parley opens only web links (http:// or https://). You can copy this one.");
        } else if (opener == null) {
            dialog.setHeaderText("Copy this link to open it in your browser.");
        } else {
            dialog.setHeaderText("Open this link in your browser?");
        }
        TextArea address = new TextArea(destination);
        address.setId("linkDestination");
        address.setEditable(false);
        address.setWrapText(true);
        address.setPrefRowCount(3);
        address.setPrefColumnCount(40);
        Label copied = new Label();
        copied.setId("linkCopied");
        copied.setWrapText(true);
        copied.setMaxWidth(480);
        dialog.getDialogPane().setContent(new VBox(8, new Label("This link goes to:"), address, copied));

        ButtonType open = new ButtonType("Open in browser", ButtonData.OK_DONE);
        ButtonType copy = new ButtonType("Copy link", ButtonData.OTHER);
        if (web && opener != null) {
            dialog.getDialogPane().getButtonTypes().add(open);
            dialog.getDialogPane().lookupButton(open).setId("linkOpen");
        }
        dialog.getDialogPane().getButtonTypes().addAll(copy, ButtonType.CANCEL);
        Button copyButton = (Button) dialog.getDialogPane().lookupButton(copy);
        copyButton.setId("linkCopy");
        copyButton.addEventFilter(ActionEvent.ACTION, e -> {
            e.consume(); // stay open, to show what was copied
            Clipboard.getSystemClipboard().setContent(clipboard(destination));
            copied.setText("Copied to the clipboard: " + abbreviated(destination));
        });
        if (source.getScene() != null && source.getScene().getWindow() != null) {
            dialog.initOwner(source.getScene().getWindow());
            dialog.getDialogPane().getStylesheets().addAll(source.getScene().getStylesheets());
        }
        dialog.setOnHidden(e -> {
            if (dialog.getResult() == open && opener != null) {
                opener.accept(destination);
            }
        });
        dialog.show();
    }

    private static boolean isWebLink(String destination) {
        String lower = destination.toLowerCase(Locale.ROOT);
        return lower.startsWith("https://") || lower.startsWith("http://");
    }

    private static Node codeBox(String code) {
        String trimmed = code.endsWith("\n") ? code.substring(0, code.length() - 1) : code;
        Label text = new Label(trimmed);
        text.setFont(Font.font("monospace", Font.getDefault().getSize()));
        text.setWrapText(true);
        Button copy = new Button("Copy");
        copy.getStyleClass().add("small");
        copy.setOnAction(e -> Clipboard.getSystemClipboard().setContent(clipboard(trimmed)));
        Region spacer = new Region();
        HBox.setHgrow(spacer, Priority.ALWAYS);
        VBox box = new VBox(4, new HBox(spacer, copy), text);
        box.setPadding(new Insets(8));
        box.getStyleClass().add("code-block");
        return box;
    }

    /**
     * A text flow that remembers its height for the last width it was asked about, until its layout is requested
     * again. Every level of a list asks its content's height several times per layout pass, so text nested n levels
     * deep is asked some 3n² times, and a plain {@link TextFlow} lays its whole text out twice for each answer.
     */
    private static final class Flow extends TextFlow {
        private double heightWidth = Double.NaN;
        private double height;

        @Override
        protected double computePrefHeight(double width) {
            if (Double.compare(width, heightWidth) != 0) {
                height = super.computePrefHeight(width);
                heightWidth = width;
            }
            return height;
        }

        @Override
        public void requestLayout() {
            heightWidth = Double.NaN;
            super.requestLayout();
        }
    }

    private static ClipboardContent clipboard(String text) {
        ClipboardContent content = new ClipboardContent();
        content.putString(text);
        return content;
    }
}
