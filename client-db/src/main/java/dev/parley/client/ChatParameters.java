package dev.parley.client;

import dev.parley.protocol.Limits;

/**
 * How a chat asks the model to answer: its sampling temperature and the most tokens a reply may have. A chat's own
 * parameters are this device's ({@link ChatClient#setChatParameters}, never synced); a field it leaves {@code null}
 * is taken from the client's defaults ({@link ChatClient#setDefaultParameters}), and one left {@code null} there
 * too is left to the model. Immutable and thread-safe.
 *
 * @param temperature from {@value Limits#MIN_TEMPERATURE} to {@value Limits#MAX_TEMPERATURE}, or {@code null}
 * @param maxTokens   from 1 to {@value Limits#MAX_REPLY_TOKENS}, or {@code null}
 */
public record ChatParameters(Double temperature, Integer maxTokens) {
    /** Neither parameter set: everything left to the defaults, or to the model. */
    public static final ChatParameters NONE = new ChatParameters(null, null);

    /** @throws ClientException {@code bad_request}, in plain language, when a value is out of range */
    public ChatParameters {
        if (temperature != null && !(temperature >= Limits.MIN_TEMPERATURE && temperature <= Limits.MAX_TEMPERATURE)) {
            throw new ClientException("bad_request", "The temperature is a number from " + (int) Limits.MIN_TEMPERATURE
                    + " to " + (int) Limits.MAX_TEMPERATURE + ".", false, null);
        }
        if (maxTokens != null && (maxTokens < 1 || maxTokens > Limits.MAX_REPLY_TOKENS)) {
            throw new ClientException("bad_request", "The longest reply is from 1 to " + Limits.MAX_REPLY_TOKENS
                    + " tokens.", false, null);
        }
    }

    /** These parameters, each field that is {@code null} here taken from {@code defaults}. */
    public ChatParameters orElse(ChatParameters defaults) {
        return new ChatParameters(temperature != null ? temperature : defaults.temperature(),
                maxTokens != null ? maxTokens : defaults.maxTokens());
    }
}
