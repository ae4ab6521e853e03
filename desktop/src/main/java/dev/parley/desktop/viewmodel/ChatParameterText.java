package dev.parley.desktop.viewmodel;

import dev.parley.protocol.Limits;
import java.math.BigDecimal;

/** Temperature and reply-length limit as the user types them: blank means "leave it to the model". */
final class ChatParameterText {
    private ChatParameterText() {
    }

    /** The first problem with the two texts, or {@code null} when both are blank or in range. */
    static String problem(String temperature, String maxTokens) {
        if (!blank(temperature)) {
            Double t = parseDouble(temperature);
            if (t == null || t < Limits.MIN_TEMPERATURE || t > Limits.MAX_TEMPERATURE) {
                return "The temperature is a number from 0 to 2, such as 0.7, or blank for the model's own.";
            }
        }
        if (!blank(maxTokens)) {
            Integer n = parseInt(maxTokens);
            if (n == null || n < 1 || n > Limits.MAX_REPLY_TOKENS) {
                return "The longest reply is a whole number of tokens from 1 to 200,000, or blank for the model's"
                        + " own.";
            }
        }
        return null;
    }

    /** The temperature typed, or {@code null} when blank. Valid only when {@link #problem} found none. */
    static Double temperatureOf(String text) {
        return blank(text) ? null : parseDouble(text);
    }

    /** The reply-length limit typed, or {@code null} when blank. Valid only when {@link #problem} found none. */
    static Integer maxTokensOf(String text) {
        return blank(text) ? null : parseInt(text);
    }

    /** A temperature as the user would type it: {@code 0.7}, {@code 1}. */
    static String temperature(double value) {
        return new BigDecimal(Double.toString(value)).stripTrailingZeros().toPlainString();
    }

    private static boolean blank(String text) {
        return text == null || text.isBlank();
    }

    private static Double parseDouble(String text) {
        try {
            double value = Double.parseDouble(text.strip().replace(',', '.'));
            return Double.isFinite(value) ? value : null;
        } catch (NumberFormatException e) {
            return null;
        }
    }

    private static Integer parseInt(String text) {
        try {
            return Integer.parseInt(text.strip().replace(",", "").replace("_", ""));
        } catch (NumberFormatException e) {
            return null;
        }
    }
}
