import java.awt.Color;
import java.awt.GradientPaint;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.Ellipse2D;
import java.awt.geom.Path2D;
import java.awt.geom.RoundRectangle2D;
import java.awt.image.BufferedImage;
import java.io.File;
import javax.imageio.ImageIO;

/**
 * Draws Parley's icon, a speech bubble on a blue rounded square, 256×256. Run once, the PNG is committed:
 * {@code java -Djava.awt.headless=true desktop/src/main/packaging/DrawIcon.java
 * desktop/src/main/resources/dev/parley/desktop/parley.png}.
 */
public class DrawIcon {
    public static void main(String[] args) throws Exception {
        int size = 256;
        BufferedImage image = new BufferedImage(size, size, BufferedImage.TYPE_INT_ARGB);
        Graphics2D g = image.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setRenderingHint(RenderingHints.KEY_STROKE_CONTROL, RenderingHints.VALUE_STROKE_PURE);

        g.setPaint(new GradientPaint(0, 0, new Color(0x4F7CFF), size, size, new Color(0x2A3FBF)));
        g.fill(new RoundRectangle2D.Double(8, 8, size - 16, size - 16, 96, 96));

        Path2D bubble = new Path2D.Double();
        bubble.append(new RoundRectangle2D.Double(44, 58, 168, 116, 64, 64), false);
        Path2D tail = new Path2D.Double();
        tail.moveTo(78, 160);
        tail.lineTo(66, 214);
        tail.lineTo(128, 168);
        tail.closePath();
        bubble.append(tail, false);
        g.setColor(Color.WHITE);
        g.fill(bubble);

        g.setColor(new Color(0x2F4FD8));
        for (int x : new int[] {88, 128, 168}) {
            g.fill(new Ellipse2D.Double(x - 13, 116 - 13, 26, 26));
        }
        g.dispose();
        ImageIO.write(image, "png", new File(args[0]));
    }
}
