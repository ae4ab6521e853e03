package dev.parley.desktop.view;

import static dev.parley.desktop.view.Drawn.fx;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.TimeoutException;
import javafx.scene.Node;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.RandomDistribution;
import net.jqwik.api.lifecycle.BeforeContainer;
import org.testfx.api.FxToolkit;

/**
 * Whatever a message holds, it renders and lays out without an exception, and its quotes and lists stay within the
 * nesting cap: random mixes of Markdown's marks, HTML, entities, Unicode and control characters, deep nesting of any
 * marker, and long inputs. Rendering runs on the FX thread of the headless toolkit, as in the chat.
 */
class MarkdownFuzzTest {
    /** Pieces of Markdown that open, close or confuse its constructs, and text around them. */
    private static final List<String> PIECES = List.of(
            ">", "> ", "- ", "* ", "+ ", "1. ", "2) ", "123456789. ", "    ", "\t", " ", "\n", "\n\n", "\r\n",
            "`", "``", "```", "~~~", "*", "**", "***", "_", "__", "~", "[", "]", "](", "(", ")", "![", "]: ", "\"",
            "<", "<<", "<a ", "<div>", "</div>", "<span>", "</span>", "<!--", "-->", "<?", "<![CDATA[", "<http://x.y>",
            "<a@b.c>", "&amp;", "&#", "&#x1F600;", "&", "\\", "#", "# ", "###### ", "---", "===", "***\n", "|", ":",
            "word", "a", "b", "é", "日本語", "🙂", "\u0000", "\u0001", "\u0007", "\u001b", "\u007f", "\u200b",
            "\u202e", "\ufeff", "\ud800", "\udfff", "\uffff", "https://example.com/a?b=c", "javascript:alert(1)");
    /** Markers that nest one block inside another. */
    private static final List<String> NESTING = List.of(">", "> ", "- ", "* ", "+ ", "1. ", "9) ", "> - ", "- > ");

    @BeforeContainer
    static void startTheToolkit() throws TimeoutException {
        FxToolkit.registerPrimaryStage();
    }

    @Property(tries = 300)
    void anyMixOfMarkupRendersWithinTheNestingCap(@ForAll("mixes") String markdown) throws Exception {
        assertRendersWithinTheCap(markdown);
    }

    @Property(tries = 60)
    void deepNestingOfAnyMarkersRendersWithinTheCapAndKeepsItsText(@ForAll("deepNesting") String markdown)
            throws Exception {
        Node drawn = assertRendersWithinTheCap(markdown);

        assertThat(fx(() -> Drawn.textsContaining(drawn, "the deep end"))).isNotEmpty();
    }

    @Property(tries = 12)
    void longMixesRender(@ForAll("longMixes") String markdown) throws Exception {
        assertRendersWithinTheCap(markdown);
    }

    @Provide
    Arbitrary<String> mixes() {
        return Arbitraries.oneOf(Arbitraries.of(PIECES), Arbitraries.strings().all().ofMaxLength(3))
                .list().ofMaxSize(400).withSizeDistribution(RandomDistribution.uniform())
                .map(pieces -> String.join("", pieces));
    }

    @Provide
    Arbitrary<String> deepNesting() {
        return Arbitraries.of(NESTING).list().ofMinSize(MarkdownView.MAX_NESTING + 1).ofMaxSize(3_000)
                .withSizeDistribution(RandomDistribution.uniform())
                .map(markers -> String.join("", markers) + "the deep end");
    }

    /** A short mix repeated to 20,000 to 100,000 characters: the same hostile pattern many times over. */
    @Provide
    Arbitrary<String> longMixes() {
        return mixes().filter(mix -> !mix.isEmpty()).flatMap(mix -> Arbitraries.integers().between(20_000, 100_000)
                .map(length -> mix.repeat(length / mix.length() + 1).substring(0, length)));
    }

    private static Node assertRendersWithinTheCap(String markdown) throws Exception {
        return fx(() -> {
            Node drawn = Drawn.layOut(markdown);
            assertThat(Drawn.nesting(drawn, "md-quote", "md-list")).isLessThanOrEqualTo(MarkdownView.MAX_NESTING);
            assertThat(Drawn.depth(drawn)).isLessThanOrEqualTo(Drawn.MAX_DEPTH);
            return drawn;
        });
    }
}
