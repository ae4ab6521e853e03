package dev.parley.server.internal.model;

import dev.parley.protocol.ModelsResponse.ModelInfo;
import dev.parley.server.ConnectionCheck;
import dev.parley.server.ConnectionCheck.Outcome;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.List;
import okhttp3.HttpUrl;
import okhttp3.OkHttpClient;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The check behind {@link dev.parley.server.ModelProviders#check}: reads an OpenAI-compatible server's model list
 * once ({@link UpstreamModelList}) and words what it found for the user who typed the address and the key. Stateless
 * and thread-safe; each check makes its own HTTP client and releases it before returning. Neither the messages nor
 * the log hold the key.
 */
public final class UpstreamCheck {
    private static final Logger LOG = LoggerFactory.getLogger(UpstreamCheck.class);
    private static final String EXAMPLE = "http://127.0.0.1:11434/v1";

    private UpstreamCheck() {
    }

    /**
     * Checks the server at {@code baseUrl} with {@code apiKey} ({@code null} or blank for none). Blocks for at most
     * {@code timeout}. Never throws for the server's trouble or a bad address or key.
     *
     * @throws IllegalArgumentException when {@code timeout} is not more than 0 and at most an hour
     */
    public static ConnectionCheck run(String baseUrl, String apiKey, Duration timeout) {
        Duration limit = OpenAiCompatibleProvider.timeout(timeout);
        String key = apiKey == null || apiKey.isBlank() ? null : apiKey.strip();
        ConnectionCheck check = check(baseUrl, key, limit);
        LOG.info("connection check of {}: {}", baseUrl == null ? "(no address)"
                : OpenAiCompatibleProvider.withoutKey(shownAddress(baseUrl), key), check.outcome());
        return check;
    }

    private static ConnectionCheck check(String baseUrl, String key, Duration timeout) {
        HttpUrl base = baseUrl == null || baseUrl.isBlank() ? null : HttpUrl.parse(baseUrl.strip());
        if (base == null) {
            return failed(Outcome.INVALID_URL, baseUrl == null || baseUrl.isBlank()
                    ? "Enter the provider's address, such as " + EXAMPLE + "."
                    : "'" + OpenAiCompatibleProvider.withoutKey(shortened(baseUrl), key) + "' is not a web address:"
                            + " it starts with http:// or https://, as in " + EXAMPLE + ".");
        }
        if (key != null && !key.chars().allMatch(c -> c > 0x20 && c < 0x7f)) {
            return failed(Outcome.BAD_KEY, "The API key holds spaces or other characters a key cannot have. Paste it"
                    + " again.");
        }
        String at = OpenAiCompatibleProvider.withoutKey(OpenAiCompatibleProvider.shown(base), key);
        OkHttpClient client = OpenAiCompatibleProvider.configured(OpenAiCompatibleProvider.ownedClient(), timeout);
        UpstreamModelList.Result list;
        try {
            list = UpstreamModelList.read(client, base, key);
        } finally {
            OpenAiCompatibleProvider.release(client);
        }
        int status = list.status();
        if (list.ok()) {
            List<String> ids = list.models().stream().map(ModelInfo::id).toList();
            return new ConnectionCheck(Outcome.OK, ids, "Connected to " + at + ": " + ids.size()
                    + (ids.size() == 1 ? " model." : " models."));
        }
        return switch (list.problem()) {
            case KEY_WANTED -> failed(Outcome.BAD_KEY, "The provider at " + at + " wants an API key (HTTP " + status
                    + "). Enter the key.");
            case KEY_REFUSED -> failed(Outcome.BAD_KEY, "The provider refused the API key (HTTP " + status
                    + "). Check the key.");
            case NO_ENDPOINT, NOT_A_LIST -> notCompatible(at);
            case STATUS -> statusFailure(at, status);
            case TIMEOUT -> failed(Outcome.UNREACHABLE, "Nothing answered at " + at + " within "
                    + OpenAiCompatibleProvider.describe(timeout) + ": is the server running, and is the address"
                    + " right?");
            case UNREACHABLE -> list.cause() instanceof UnknownHostException
                    ? failed(Outcome.UNREACHABLE, "No server called " + base.host() + " was found: check the address,"
                            + " and that this computer is online.")
                    : failed(Outcome.UNREACHABLE, "Nothing answered at " + at + ": is the server running?");
            case EMPTY -> failed(Outcome.NO_MODELS, list.unusable().isEmpty()
                    ? at + " lists no models. Load or install a model there, then check again."
                    : at + " lists no model Parley can use (" + list.unusable().size() + " with ids it cannot take)."
                            + " Load or install another model there, then check again.");
        };
    }

    private static ConnectionCheck statusFailure(String at, int status) {
        if (status == 429) {
            return failed(Outcome.UNREACHABLE, at + " is limiting requests (HTTP 429). Try again in a minute.");
        }
        if (status >= 500) {
            return failed(Outcome.UNREACHABLE, at + " answered HTTP " + status + ": the server has trouble right"
                    + " now. Try again later.");
        }
        if (status >= 300 && status < 400) {
            return failed(Outcome.NOT_OPENAI_COMPATIBLE, at + " answered with a redirect (HTTP " + status + "), not a"
                    + " model list. Check the address; it usually ends in /v1.");
        }
        return failed(Outcome.NOT_OPENAI_COMPATIBLE, at + " answered HTTP " + status + ", not a model list. Check the"
                + " address; it usually ends in /v1.");
    }

    private static ConnectionCheck notCompatible(String at) {
        return failed(Outcome.NOT_OPENAI_COMPATIBLE, at + " answered, but not as an OpenAI-compatible API (no model"
                + " list at /models). Check the address; it usually ends in /v1.");
    }

    private static ConnectionCheck failed(Outcome outcome, String message) {
        return new ConnectionCheck(outcome, List.of(), message);
    }

    /** An address as typed, fit for a log: a URL without credentials, or the text shortened. */
    private static String shownAddress(String baseUrl) {
        HttpUrl url = HttpUrl.parse(baseUrl.strip());
        return url == null ? "'" + shortened(baseUrl) + "'" : OpenAiCompatibleProvider.shown(url);
    }

    private static String shortened(String text) {
        String line = OpenAiCompatibleProvider.shortened(text, 80);
        return line == null ? "" : line;
    }
}
