package dev.parley.desktop.view;

import atlantafx.base.theme.PrimerLight;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import javafx.scene.Node;
import javafx.scene.Parent;
import javafx.scene.Scene;
import javafx.scene.layout.StackPane;
import javafx.scene.text.Text;
import org.testfx.util.WaitForAsyncUtils;

/**
 * What {@link MarkdownView} drew, looked at as a person's screen would hold it: laid out in a scene with the app's
 * styles, its depth, how deep its quotes and lists go, its text. The scene graph is walked without recursion, as it
 * may be as deep as the bug it is looking for. Methods other than {@link #fx} run on the FX thread.
 */
final class Drawn {
    /**
     * The deepest a message's scene graph may be: its box, three nodes (list, row, item) for each of
     * {@link MarkdownView#MAX_NESTING} lists, and the deepest leaf (a code block's box, bar, copy button, its text).
     */
    static final int MAX_DEPTH = 1 + 3 * MarkdownView.MAX_NESTING + 4;

    /** The app's theme and its own styles, which use the theme's colours. */
    static final List<String> STYLES = List.of(new PrimerLight().getUserAgentStylesheet(),
            Drawn.class.getResource("/dev/parley/desktop/parley.css").toExternalForm());

    private Drawn() {
    }

    /** Renders {@code markdown} into a 640 by 480 scene, with CSS applied (controls get their skins) and laid out. */
    static Node layOut(String markdown) {
        Node message = MarkdownView.render(markdown);
        StackPane root = new StackPane(message);
        Scene scene = new Scene(root, 640, 480);
        scene.getStylesheets().addAll(STYLES);
        root.resize(640, 480);
        root.applyCss();
        root.layout();
        return message;
    }

    /** How many nodes deep {@code root} goes, counting itself. */
    static int depth(Node root) {
        int deepest = 0;
        Deque<Map.Entry<Node, Integer>> pending = new ArrayDeque<>();
        pending.push(Map.entry(root, 1));
        while (!pending.isEmpty()) {
            Map.Entry<Node, Integer> next = pending.pop();
            deepest = Math.max(deepest, next.getValue());
            if (next.getKey() instanceof Parent parent) {
                for (Node child : parent.getChildrenUnmodifiable()) {
                    pending.push(Map.entry(child, next.getValue() + 1));
                }
            }
        }
        return deepest;
    }

    /** The most nodes with one of {@code styleClasses} on one path down from {@code root}. */
    static int nesting(Node root, String... styleClasses) {
        int deepest = 0;
        for (Node node : all(root)) {
            deepest = Math.max(deepest, enclosing(node, root, styleClasses));
        }
        return deepest;
    }

    /** How many of {@code node} and its parents up to {@code root} have one of {@code styleClasses}. */
    static int enclosing(Node node, Node root, String... styleClasses) {
        int count = 0;
        for (Node n = node; n != null; n = n == root ? null : n.getParent()) {
            for (String styleClass : styleClasses) {
                if (n.getStyleClass().contains(styleClass)) {
                    count++;
                    break;
                }
            }
        }
        return count;
    }

    /** The text nodes under {@code root} whose text contains {@code part}. */
    static List<Text> textsContaining(Node root, String part) {
        List<Text> found = new ArrayList<>();
        for (Node node : all(root)) {
            if (node instanceof Text text && text.getText() != null && text.getText().contains(part)) {
                found.add(text);
            }
        }
        return found;
    }

    /** The number of characters in the text nodes under {@code root}. */
    static long characters(Node root) {
        long count = 0;
        for (Node node : all(root)) {
            if (node instanceof Text text && text.getText() != null) {
                count += text.getText().length();
            }
        }
        return count;
    }

    static List<Node> all(Node root) {
        List<Node> nodes = new ArrayList<>();
        Deque<Node> pending = new ArrayDeque<>();
        pending.push(root);
        while (!pending.isEmpty()) {
            Node node = pending.pop();
            nodes.add(node);
            if (node instanceof Parent parent) {
                parent.getChildrenUnmodifiable().forEach(pending::push);
            }
        }
        return nodes;
    }

    /** Runs {@code work} on the FX thread and returns its result; what it throws is rethrown here. */
    static <T> T fx(Callable<T> work) throws Exception {
        try {
            return WaitForAsyncUtils.asyncFx(work).get(60, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof Exception cause) {
                throw cause;
            }
            throw new AssertionError("rendering failed", e.getCause());
        }
    }
}
