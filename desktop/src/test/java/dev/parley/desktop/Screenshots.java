package dev.parley.desktop;

import static org.assertj.core.api.Assertions.assertThat;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import javafx.scene.Scene;
import javafx.scene.image.PixelFormat;
import javafx.scene.image.WritableImage;
import javax.imageio.ImageIO;
import org.testfx.api.FxRobot;
import org.testfx.util.WaitForAsyncUtils;

/**
 * The pictures of the tests that take screenshots: a scene drawn into a PNG under target/screenshots (or, with
 * {@code -Dparley.screenshots=docs}, the repository's docs/screenshots), a dialog drawn over its window, windows
 * side by side, and a check that a file is a real picture of a window rather than a blank one.
 */
final class Screenshots {
    private Screenshots() {
    }

    /**
     * target/screenshots in an ordinary test run, so that tests never change tracked files; docs/screenshots of
     * the repository with {@code -Dparley.screenshots=docs} (how the README's pictures are refreshed). The tests
     * run in desktop/.
     */
    static Path screenshotsDir() throws IOException {
        Path here = Path.of("").toAbsolutePath();
        Path root = here.getFileName().toString().equals("desktop") ? here.getParent() : here;
        assertThat(root.resolve("desktop")).as("the repository root next to the desktop module").isDirectory();
        return Files.createDirectories("docs".equals(System.getProperty("parley.screenshots"))
                ? root.resolve("docs/screenshots") : here.resolve("target/screenshots"));
    }

    static Path save(FxRobot robot, Scene scene, String name) throws Exception {
        WaitForAsyncUtils.waitForFxEvents();
        return write(snapshot(scene), name);
    }

    static BufferedImage snapshot(Scene scene) throws Exception {
        return WaitForAsyncUtils.asyncFx(() -> toBufferedImage(scene.snapshot(null))).get(10, TimeUnit.SECONDS);
    }

    /** Copies the pixels, so no javafx-swing is needed to write a PNG. */
    static BufferedImage toBufferedImage(WritableImage image) {
        int width = (int) image.getWidth();
        int height = (int) image.getHeight();
        int[] argb = new int[width * height];
        image.getPixelReader().getPixels(0, 0, width, height, PixelFormat.getIntArgbInstance(), argb, 0, width);
        BufferedImage out = new BufferedImage(width, height, BufferedImage.TYPE_INT_ARGB);
        out.setRGB(0, 0, width, height, argb, 0, width);
        return out;
    }

    /** The dialog drawn where it sits over the main window, with a thin frame as a window manager would. */
    static BufferedImage overlay(BufferedImage main, BufferedImage dialog, int x, int y) {
        int left = Math.max(0, Math.min(x, main.getWidth() - dialog.getWidth()));
        int top = Math.max(0, Math.min(y, main.getHeight() - dialog.getHeight()));
        BufferedImage out = new BufferedImage(main.getWidth(), main.getHeight(), BufferedImage.TYPE_INT_ARGB);
        Graphics2D g = out.createGraphics();
        try {
            g.drawImage(main, 0, 0, null);
            g.setColor(new Color(0, 0, 0, 40));
            g.fillRect(left - 2, top - 2, dialog.getWidth() + 8, dialog.getHeight() + 8); // shadow
            g.drawImage(dialog, left, top, null);
            g.setColor(new Color(0x8c959f));
            g.setStroke(new BasicStroke(1));
            g.drawRect(left - 1, top - 1, dialog.getWidth() + 1, dialog.getHeight() + 1);
        } finally {
            g.dispose();
        }
        return out;
    }

    static Path write(BufferedImage image, String name) throws IOException {
        Path file = screenshotsDir().resolve(name);
        assertThat(ImageIO.write(image, "png", file.toFile())).as("a PNG writer exists").isTrue();
        return file;
    }

    static void assertIsAScreenshot(Path file) throws IOException {
        assertThat(file).isRegularFile();
        BufferedImage image = ImageIO.read(file.toFile());
        assertThat(image).as("%s is a readable PNG", file).isNotNull();
        assertThat(image.getWidth()).isGreaterThan(200);
        assertThat(image.getHeight()).isGreaterThan(200);
        Set<Integer> colours = new HashSet<>();
        for (int y = 0; y < image.getHeight(); y += 2) {
            for (int x = 0; x < image.getWidth(); x += 2) {
                colours.add(image.getRGB(x, y));
            }
        }
        assertThat(colours.size()).as("distinct colours in %s (text and controls, not a blank window)", file)
                .isGreaterThan(16);
    }

    /** Pictures side by side, top-aligned, {@code gap} pixels apart on the background of the first. */
    static BufferedImage sideBySide(int gap, BufferedImage... pictures) {
        int width = gap * (pictures.length - 1);
        int height = 0;
        for (BufferedImage p : pictures) {
            width += p.getWidth();
            height = Math.max(height, p.getHeight());
        }
        BufferedImage out = new BufferedImage(width, height, BufferedImage.TYPE_INT_ARGB);
        Graphics2D g = out.createGraphics();
        try {
            g.setColor(new Color(0x8c959f));
            g.fillRect(0, 0, width, height);
            int x = 0;
            for (BufferedImage p : pictures) {
                g.drawImage(p, x, 0, null);
                x += p.getWidth() + gap;
            }
        } finally {
            g.dispose();
        }
        return out;
    }
}
