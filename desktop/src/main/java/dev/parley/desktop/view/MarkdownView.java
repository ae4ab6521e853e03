package dev.parley.desktop.view;

import java.util.ArrayList;
import java.util.List;
import javafx.geometry.Insets;
import javafx.scene.Node;
import javafx.scene.control.Button;
import javafx.scene.control.Hyperlink;
import javafx.scene.control.Label;
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
import org.commonmark.node.BlockQuote;
import org.commonmark.node.BulletList;
import org.commonmark.node.Code;
import org.commonmark.node.Emphasis;
import org.commonmark.node.FencedCodeBlock;
import org.commonmark.node.HardLineBreak;
import org.commonmark.node.Heading;
import org.commonmark.node.IndentedCodeBlock;
import org.commonmark.node.Link;
import org.commonmark.node.ListItem;
import org.commonmark.node.OrderedList;
import org.commonmark.node.Paragraph;
import org.commonmark.node.SoftLineBreak;
import org.commonmark.node.StrongEmphasis;
import org.commonmark.parser.Parser;

/** Renders a message's Markdown (paragraphs, lists, emphasis, links, code) as JavaFX nodes. No HTML, no WebView. */
public final class MarkdownView {
    private static final Parser PARSER = Parser.builder().build();

    private MarkdownView() {
    }

    public static Node render(String markdown) {
        VBox box = new VBox(6);
        org.commonmark.node.Node document = PARSER.parse(markdown == null ? "" : markdown);
        for (org.commonmark.node.Node block = document.getFirstChild(); block != null; block = block.getNext()) {
            box.getChildren().add(block(block, 0));
        }
        return box;
    }

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
                for (org.commonmark.node.Node child = item.getFirstChild(); child != null; child = child.getNext()) {
                    content.getChildren().add(block(child, depth + 1));
                }
                HBox row = new HBox(6, bullet, content);
                HBox.setHgrow(content, Priority.ALWAYS);
                list.getChildren().add(row);
            }
            list.setPadding(new Insets(0, 0, 0, 8));
            return list;
        }
        if (block instanceof BlockQuote) {
            VBox quote = new VBox(4);
            for (org.commonmark.node.Node child = block.getFirstChild(); child != null; child = child.getNext()) {
                quote.getChildren().add(block(child, depth + 1));
            }
            quote.getStyleClass().add("md-quote");
            return quote;
        }
        TextFlow flow = new TextFlow();
        flow.getChildren().addAll(inline(block, block instanceof Heading));
        return flow;
    }

    private static List<Node> inline(org.commonmark.node.Node parent, boolean heading) {
        List<Node> nodes = new ArrayList<>();
        parent.accept(new AbstractVisitor() {
            private boolean bold = heading;
            private boolean italic;

            @Override
            public void visit(org.commonmark.node.Text text) {
                Text node = new Text(text.getLiteral());
                node.setFont(Font.font(null, bold ? FontWeight.BOLD : FontWeight.NORMAL,
                        italic ? FontPosture.ITALIC : FontPosture.REGULAR, Font.getDefault().getSize()));
                node.getStyleClass().add("md-text");
                nodes.add(node);
            }

            @Override
            public void visit(StrongEmphasis strong) {
                boolean was = bold;
                bold = true;
                visitChildren(strong);
                bold = was;
            }

            @Override
            public void visit(Emphasis emphasis) {
                boolean was = italic;
                italic = true;
                visitChildren(emphasis);
                italic = was;
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
                link.accept(new AbstractVisitor() {
                    @Override
                    public void visit(org.commonmark.node.Text text) {
                        label.append(text.getLiteral());
                    }
                });
                Hyperlink hyperlink = new Hyperlink(label.length() == 0 ? link.getDestination() : label.toString());
                hyperlink.setPadding(Insets.EMPTY);
                hyperlink.setOnAction(e -> Clipboard.getSystemClipboard()
                        .setContent(clipboard(link.getDestination())));
                hyperlink.setUserData(link.getDestination());
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
        });
        return nodes;
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

    private static ClipboardContent clipboard(String text) {
        ClipboardContent content = new ClipboardContent();
        content.putString(text);
        return content;
    }
}
