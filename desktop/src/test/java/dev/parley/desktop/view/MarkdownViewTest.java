package dev.parley.desktop.view;

import static dev.parley.desktop.view.Drawn.fx;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import javafx.scene.Node;
import javafx.scene.Scene;
import javafx.scene.control.Button;
import javafx.scene.control.Hyperlink;
import javafx.scene.control.Label;
import javafx.scene.control.TextArea;
import javafx.scene.input.Clipboard;
import javafx.scene.input.KeyCode;
import javafx.scene.layout.StackPane;
import javafx.scene.layout.VBox;
import javafx.scene.text.Font;
import javafx.scene.text.FontPosture;
import javafx.scene.text.FontWeight;
import javafx.scene.text.Text;
import javafx.scene.text.TextFlow;
import javafx.stage.Stage;
import javafx.stage.Window;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.testfx.api.FxRobot;
import org.testfx.framework.junit5.ApplicationExtension;
import org.testfx.framework.junit5.Start;
import org.testfx.util.WaitForAsyncUtils;

/** Messages as the chat draws them, headless: ordinary Markdown, hostile nesting and sizes, and links. */
@ExtendWith(ApplicationExtension.class)
class MarkdownViewTest {
    /**
     * Longer than rendering any hostile input here takes (well under a second), shorter than the parser took on the
     * slowest of them without the guards (11 to 13 s), or layout on text nested too deep to have any width (47 s).
     */
    private static final Duration HANG = Duration.ofSeconds(8);

    private Stage stage;
    private final List<String> opened = new CopyOnWriteArrayList<>();

    @Start
    void start(Stage stage) {
        this.stage = stage;
        Scene scene = new Scene(new StackPane(), 640, 480);
        scene.getStylesheets().addAll(Drawn.STYLES);
        stage.setScene(scene);
        stage.show();
    }

    @AfterEach
    void forgetTheBrowser() throws Exception {
        MarkdownView.openLinksWith(null);
        fx(() -> {
            List.copyOf(Window.getWindows()).stream().filter(w -> w != stage).forEach(Window::hide);
            return null;
        });
    }

    // ------------------------------------------------------------------ a reply as it grows

    @Test
    void aGrowingReplyKeepsTheNodesOfItsUnchangedBlocksAndEndsAsARenderOfTheWhole() throws Exception {
        fx(() -> {
            MarkdownView.Growing growing = new MarkdownView.Growing();
            growing.show("# Plan\n\nFirst **bold** para");
            VBox box = (VBox) growing.node();
            Node heading = box.getChildren().get(0);
            Node paragraph = box.getChildren().get(1);

            growing.show("# Plan\n\nFirst **bold** paragraph.\n\n- one\n- tw");
            assertThat(box.getChildren()).hasSize(3);
            assertThat(box.getChildren().get(0)).as("the unchanged heading keeps its node").isSameAs(heading);
            assertThat(box.getChildren().get(1)).as("the paragraph that grew is drawn anew").isNotSameAs(paragraph);
            Node list = box.getChildren().get(2);

            String whole = "# Plan\n\nFirst **bold** paragraph.\n\n- one\n- two\n\nDone.";
            growing.show(whole);
            assertThat(box.getChildren()).hasSize(4);
            assertThat(box.getChildren().get(2)).isNotSameAs(list);
            assertThat(texts(growing.node())).isEqualTo(texts(MarkdownView.render(whole)));

            growing.show("Another reply altogether");
            assertThat(box.getChildren()).hasSize(1);
            assertThat(texts(growing.node())).isEqualTo(List.of("Another reply altogether"));
            return null;
        });
    }

    /** The words drawn, in order. */
    private static List<String> texts(Node root) {
        return Drawn.all(root).stream().map(n -> n instanceof Text t ? t.getText()
                : n instanceof Label l ? l.getText() : null).filter(t -> t != null && !t.isBlank()).toList();
    }

    // ------------------------------------------------------------------ ordinary Markdown

    @Test
    void ordinaryMarkdownIsDrawnWithItsStyles() throws Exception {
        String markdown = """
                # Plan

                Some **bold**, *slanted* and `code` text.

                1. first
                2. second

                - item

                > quoted

                ```
                x = 1
                ```
                """;
        double size = Font.getDefault().getSize();
        fx(() -> {
            Node drawn = Drawn.layOut(markdown);
            assertThat(only(drawn, "Plan").getFont()).isEqualTo(Font.font(null, FontWeight.BOLD, size));
            assertThat(only(drawn, "bold").getFont()).isEqualTo(Font.font(null, FontWeight.BOLD, size));
            assertThat(only(drawn, "slanted").getFont())
                    .isEqualTo(Font.font(null, FontWeight.NORMAL, FontPosture.ITALIC, size));
            assertThat(only(drawn, "code").getFont()).isEqualTo(Font.font("monospace", size));
            assertThat(Drawn.all(drawn).stream().filter(n -> n instanceof Label).map(n -> ((Label) n).getText()))
                    .contains("1.", "2.", "•", "x = 1");
            assertThat(Drawn.enclosing(only(drawn, "quoted"), drawn, "md-quote")).isEqualTo(1);
            assertThat(Drawn.enclosing(only(drawn, "second"), drawn, "md-list")).isEqualTo(1);
            return null;
        });
    }

    @Test
    void nestingUpToTheCapIsDrawnInFull() throws Exception {
        String markdown = IntStream.rangeClosed(1, MarkdownView.MAX_NESTING)
                .mapToObj(level -> "> ".repeat(level) + "level " + level + "\n")
                .collect(Collectors.joining());
        fx(() -> {
            Node drawn = Drawn.layOut(markdown);
            for (int level = 1; level <= MarkdownView.MAX_NESTING; level++) {
                assertThat(Drawn.enclosing(only(drawn, "level " + level), drawn, "md-quote"))
                        .as("quotes around level %d", level).isEqualTo(level);
            }
            return null;
        });
    }

    // ------------------------------------------------------------------ hostile nesting

    @Test
    void aThousandNestedQuotesDrawTheCapAndShowTheDeepTextAsText() throws Exception {
        fx(() -> {
            Node drawn = Drawn.layOut("> ".repeat(1_000) + "the deep end");

            assertThat(Drawn.nesting(drawn, "md-quote")).isEqualTo(MarkdownView.MAX_NESTING);
            assertThat(Drawn.depth(drawn)).isLessThanOrEqualTo(Drawn.MAX_DEPTH);
            Text deep = containing(drawn, "the deep end");
            assertThat(Drawn.enclosing(deep, drawn, "md-quote")).isEqualTo(MarkdownView.MAX_NESTING);
            return null;
        });
    }

    @Test
    void aThousandNestedQuoteMarksWithoutSpacesDrawTheCap() throws Exception {
        fx(() -> {
            Node drawn = Drawn.layOut(">".repeat(1_000) + " the deep end");

            assertThat(Drawn.nesting(drawn, "md-quote")).isEqualTo(MarkdownView.MAX_NESTING);
            assertThat(Drawn.enclosing(containing(drawn, "the deep end"), drawn, "md-quote"))
                    .isEqualTo(MarkdownView.MAX_NESTING);
            return null;
        });
    }

    @Test
    void aThousandNestedListsDrawTheCapAndShowTheDeepTextAsText() throws Exception {
        fx(() -> {
            Node drawn = Drawn.layOut("- ".repeat(1_000) + "the deep end");

            assertThat(Drawn.nesting(drawn, "md-list")).isEqualTo(MarkdownView.MAX_NESTING);
            assertThat(Drawn.depth(drawn)).isLessThanOrEqualTo(Drawn.MAX_DEPTH);
            Text deep = containing(drawn, "the deep end");
            assertThat(Drawn.enclosing(deep, drawn, "md-list")).isEqualTo(MarkdownView.MAX_NESTING);
            return null;
        });
    }

    @Test
    void deepListsOverManyLinesKeepEveryLevelsText() throws Exception {
        String markdown = IntStream.range(0, 100).mapToObj(level -> "  ".repeat(level) + "- level " + level + "\n")
                .collect(Collectors.joining());
        fx(() -> {
            Node drawn = Drawn.layOut(markdown);

            assertThat(Drawn.nesting(drawn, "md-list")).isEqualTo(MarkdownView.MAX_NESTING);
            for (int level = 0; level < 100; level++) {
                assertThat(Drawn.textsContaining(drawn, "level " + level)).as("level %d", level).isNotEmpty();
            }
            return null;
        });
    }

    // ------------------------------------------------------------------ hostile sizes

    @Test
    void aHundredThousandCharactersOfProseRenderWhole() throws Exception {
        String prose = "Some *text* with `code` and [a link](https://example.com).\n\n".repeat(1_700);
        assertThat(prose.length()).isGreaterThan(100_000);
        Node drawn = rendered(prose);
        assertThat(fx(() -> Drawn.all(drawn).stream().filter(n -> n instanceof Hyperlink).count())).isEqualTo(1_700);
    }

    @Test
    void oneLineOfAHundredThousandCharactersRendersWhole() throws Exception {
        String line = "word ".repeat(20_000).strip() + " end";
        Node drawn = rendered(line);
        assertThat(fx(() -> Drawn.characters(drawn))).isEqualTo(line.length());
    }

    @Test
    void tenThousandListItemsRender() throws Exception {
        String items = IntStream.range(0, 10_000).mapToObj(i -> "- item " + i + "\n").collect(Collectors.joining());
        Node drawn = rendered(items);
        assertThat(fx(() -> Drawn.textsContaining(drawn, "item 9999"))).hasSize(1);
    }

    @Test
    void pathologicalEmphasisRendersWithItsText() throws Exception {
        Node drawn = renderedBeforeHang("*a**a***".repeat(12_500));
        assertThat(fx(() -> Drawn.textsContaining(drawn, "a"))).isNotEmpty();
    }

    @Test
    void inputsThatMakeTheParserSlowOrRecurseShowTheirTextAsWritten() throws Exception {
        List<String> hostile = List.of(
                "<".repeat(100_000),
                "<a ".repeat(33_000),
                "[".repeat(50_000) + "]".repeat(50_000),
                "![".repeat(16_000) + "x" + "](u)".repeat(16_000),
                "*".repeat(50_000) + "a" + "*".repeat(50_000),
                "_a".repeat(50_000),
                "[a](<".repeat(20_000),
                "- ".repeat(50_000) + "x");
        for (String markdown : hostile) {
            Node drawn = renderedBeforeHang(markdown);
            String end = markdown.substring(markdown.length() - 40);
            assertThat(fx(() -> Drawn.textsContaining(drawn, end))).as("text showing the end of %.20s…", markdown)
                    .isNotEmpty();
        }
    }

    // ------------------------------------------------------------------ links

    @Test
    void hoveringALinkShowsItsWholeDestination(FxRobot robot) throws Exception {
        String destination = "https://docs.example.com/guide/install?platform=linux&version=2#from-source";
        Hyperlink link = showLink(robot, "Read [the guide](" + destination + ") first.");
        assertThat(fx(link::getText)).isEqualTo("the guide");

        robot.moveTo(link);

        WaitForAsyncUtils.waitFor(10, TimeUnit.SECONDS, () -> link.getTooltip().isShowing());
        assertThat(fx(() -> link.getTooltip().getText())).isEqualTo(destination);
    }

    @Test
    void clickingALinkShowsItsDestinationAndOpensItOnlyWhenAsked(FxRobot robot) throws Exception {
        MarkdownView.openLinksWith(opened::add);
        String destination = "https://example.com/a?b=c";
        Hyperlink link = showLink(robot, "[innocent text](" + destination + ")");

        robot.clickOn(link);

        WaitForAsyncUtils.waitFor(10, TimeUnit.SECONDS, () -> robot.lookup("#linkDestination").tryQuery().isPresent());
        assertThat(fx(() -> robot.lookup("#linkDestination").queryAs(TextArea.class).getText()))
                .isEqualTo(destination);
        assertThat(opened).isEmpty();

        robot.clickOn("#linkOpen");

        WaitForAsyncUtils.waitFor(10, TimeUnit.SECONDS, () -> !opened.isEmpty());
        assertThat(opened).containsExactly(destination);
    }

    @Test
    void cancellingOrEscapingOpensNothing(FxRobot robot) throws Exception {
        MarkdownView.openLinksWith(opened::add);
        Hyperlink link = showLink(robot, "[x](https://example.com)");

        robot.clickOn(link);
        WaitForAsyncUtils.waitFor(10, TimeUnit.SECONDS, () -> robot.lookup("#linkDestination").tryQuery().isPresent());
        robot.clickOn("Cancel");
        WaitForAsyncUtils.waitFor(10, TimeUnit.SECONDS, () -> robot.lookup("#linkDestination").tryQuery().isEmpty());
        robot.clickOn(link);
        WaitForAsyncUtils.waitFor(10, TimeUnit.SECONDS, () -> robot.lookup("#linkDestination").tryQuery().isPresent());
        robot.type(KeyCode.ESCAPE);
        WaitForAsyncUtils.waitFor(10, TimeUnit.SECONDS, () -> robot.lookup("#linkDestination").tryQuery().isEmpty());
        WaitForAsyncUtils.waitForFxEvents();

        assertThat(opened).isEmpty();
    }

    @Test
    void copyingALinkCopiesTheShownDestinationAndSaysSo(FxRobot robot) throws Exception {
        String destination = "https://example.com/a?b=c";
        Hyperlink link = showLink(robot, "[innocent text](" + destination + ")");

        robot.clickOn(link);
        WaitForAsyncUtils.waitFor(10, TimeUnit.SECONDS, () -> robot.lookup("#linkCopy").tryQuery().isPresent());
        robot.clickOn("#linkCopy");

        assertThat(fx(() -> Clipboard.getSystemClipboard().getString())).isEqualTo(destination);
        assertThat(fx(() -> robot.lookup("#linkCopied").queryAs(Label.class).getText()))
                .isEqualTo("Copied to the clipboard: " + destination);
        assertThat(fx(() -> robot.lookup("#linkDestination").queryAs(TextArea.class).isVisible())).isTrue();
    }

    @Test
    void linksThatAreNotWebLinksCanBeCopiedButNotOpened(FxRobot robot) throws Exception {
        MarkdownView.openLinksWith(opened::add);
        Hyperlink link = showLink(robot, "[your settings](file:///etc/passwd)");

        robot.clickOn(link);
        WaitForAsyncUtils.waitFor(10, TimeUnit.SECONDS, () -> robot.lookup("#linkCopy").tryQuery().isPresent());

        assertThat(robot.lookup("#linkOpen").tryQuery()).isEmpty();
        assertThat(fx(() -> robot.lookup("#linkDestination").queryAs(TextArea.class).getText()))
                .isEqualTo("file:///etc/passwd");
        assertThat(fx(() -> robot.lookup("#linkCopy").queryAs(Button.class).isDisabled())).isFalse();
    }

    @Test
    void aVeryLongParagraphOfMixedScriptsIsDrawnInPiecesBeforeItCouldHang() throws Exception {
        // Found by MarkdownFuzzTest: as one text run this took over a minute to lay out.
        String unit = "javascript:alert(1)===:</div>\uFFFF===\u5653\uBB4F\uB606\u111E\u36BA![";
        String markdown = unit.repeat(40_000 / unit.length() + 1).substring(0, 40_000);

        Node drawn = renderedBeforeHang(markdown);

        // All its text but the HTML tags (`</div>`, six characters of each forty), which are not drawn.
        assertThat(Drawn.characters(drawn)).as("the text is all still drawn").isEqualTo(34_000);
        assertThat(fx(() -> Drawn.all(drawn).stream().filter(n -> n instanceof TextFlow).count()))
                .as("drawn as consecutive pieces").isGreaterThan(1);
    }

    // ------------------------------------------------------------------ helpers

    /** Shows {@code markdown} in the window and returns its one link. */
    private Hyperlink showLink(FxRobot robot, String markdown) throws Exception {
        Hyperlink link = fx(() -> {
            Node drawn = MarkdownView.render(markdown);
            ((StackPane) stage.getScene().getRoot()).getChildren().setAll(drawn);
            return (Hyperlink) Drawn.all(drawn).stream().filter(n -> n instanceof Hyperlink).findFirst().orElseThrow();
        });
        WaitForAsyncUtils.waitForFxEvents();
        return link;
    }

    /** Renders and lays out {@code markdown} on the FX thread, within the nesting cap. */
    private static Node rendered(String markdown) throws Exception {
        return fx(() -> {
            Node node = Drawn.layOut(markdown);
            assertThat(Drawn.depth(node)).isLessThanOrEqualTo(Drawn.MAX_DEPTH);
            return node;
        });
    }

    /** As {@link #rendered}, failing when it takes as long as a hang. */
    private static Node renderedBeforeHang(String markdown) throws Exception {
        long start = System.nanoTime();
        Node drawn = rendered(markdown);
        assertThat(Duration.ofNanos(System.nanoTime() - start)).as("time to render %.20s…", markdown)
                .isLessThan(HANG);
        return drawn;
    }

    /** The one text node under {@code root} that shows exactly {@code text}. */
    private static Text only(Node root, String text) {
        List<Text> found = Drawn.textsContaining(root, text).stream().filter(t -> t.getText().equals(text)).toList();
        assertThat(found).as("text nodes showing \"%s\"", text).hasSize(1);
        return found.get(0);
    }

    /** The one text node under {@code root} whose text contains {@code part}. */
    private static Text containing(Node root, String part) {
        List<Text> found = Drawn.textsContaining(root, part);
        assertThat(found).as("text nodes containing \"%s\"", part).hasSize(1);
        return found.get(0);
    }
}
