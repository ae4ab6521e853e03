package dev.parley.server.internal.model;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.protocol.Limits;
import dev.parley.protocol.ModelIds;
import dev.parley.protocol.ModelsResponse.ModelInfo;
import dev.parley.server.ModelException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import okhttp3.HttpUrl;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An OpenAI-compatible server's model list, {@code GET {base}/models} in the OpenAI shape
 * {@code {"data":[{"id":…, "name":…}]}}, read once: the models Parley can offer, in the upstream's order, or what
 * kept the list from being read. Shared by the provider that offers an upstream's models
 * ({@link OpenAiCompatibleProvider#withUpstreamModels}) and the check of a connection a user sets up
 * ({@link dev.parley.server.ModelProviders#check}); each words a failure for its own reader (an operator's options,
 * a user's settings), so this class says only what happened.
 *
 * <p>Stateless and thread-safe. {@link #read} blocks its caller for at most the client's call timeout. Ids Parley
 * cannot offer (see {@link ModelIds}) are left out, logged at WARN; nothing it logs or returns holds the API key.
 */
final class UpstreamModelList {
    private static final Logger LOG = LoggerFactory.getLogger(UpstreamModelList.class);

    /** Why the list could not be had. */
    enum Problem {
        /** HTTP 401 or 403 to a request without a key: the upstream wants one. */
        KEY_WANTED,
        /** HTTP 401 or 403 to the key sent: the upstream refused it. */
        KEY_REFUSED,
        /** HTTP 404 or 405: there is no {@code GET /models}, so the base URL leads to no OpenAI-compatible API. */
        NO_ENDPOINT,
        /** A success whose body is no OpenAI model list (a web page, another JSON shape, far too large). */
        NOT_A_LIST,
        /** Another HTTP status (a 5xx, a 429, a redirect, another 4xx); {@link Result#status()} says which. */
        STATUS,
        /** No answer within the timeout. */
        TIMEOUT,
        /** No connection: refused, unknown host, reset; {@link Result#cause()} says which. */
        UNREACHABLE,
        /** A list with no model Parley can offer; {@link Result#unusable()} names those it could not. */
        EMPTY
    }

    /**
     * What one read found.
     *
     * @param models   the usable models, repeats once, in the upstream's order; empty unless {@link #ok()}
     * @param problem  why there is no list, or {@code null} when there is one
     * @param status   the HTTP status, or 0 when none came
     * @param unusable the listed ids Parley cannot offer, quoted and shortened, for a message
     * @param cause    the transport failure of {@link Problem#TIMEOUT} and {@link Problem#UNREACHABLE}, else null
     */
    record Result(List<ModelInfo> models, Problem problem, int status, List<String> unusable, IOException cause) {
        boolean ok() {
            return problem == null;
        }

        static Result failed(Problem problem, int status, IOException cause) {
            return new Result(List.of(), problem, status, List.of(), cause);
        }
    }

    private UpstreamModelList() {
    }

    /**
     * Asks {@code base}'s {@code GET /models} once, with {@code apiKey} as the bearer key when not {@code null}.
     * Never throws for the upstream's trouble; every failure is a {@link Result} with its {@link Problem}.
     *
     * @param client a client set up with the timeout and without redirects
     */
    static Result read(OkHttpClient client, HttpUrl base, String apiKey) {
        HttpUrl url = base.newBuilder().addPathSegment("models").build();
        Request request = OpenAiCompatibleProvider.authorized(new Request.Builder().url(url).get(), "application/json",
                apiKey);
        try (Response response = client.newCall(request).execute()) {
            int status = response.code();
            if (status == 401 || status == 403) {
                return Result.failed(apiKey == null ? Problem.KEY_WANTED : Problem.KEY_REFUSED, status, null);
            }
            if (status == 404 || status == 405) {
                return Result.failed(Problem.NO_ENDPOINT, status, null);
            }
            if (!response.isSuccessful()) {
                return Result.failed(Problem.STATUS, status, null);
            }
            JsonNode root;
            try {
                root = OpenAiCompatibleProvider.parse(OpenAiCompatibleProvider.readCapped(response.body()));
            } catch (ModelException tooLarge) {
                return Result.failed(Problem.NOT_A_LIST, status, null);
            }
            JsonNode data = root == null ? null : root.path("data");
            if (data == null || !data.isArray()) {
                return Result.failed(Problem.NOT_A_LIST, status, null);
            }
            return listed(data, base, status);
        } catch (InterruptedIOException e) {
            return Result.failed(Problem.TIMEOUT, 0, e);
        } catch (IOException e) {
            return Result.failed(Problem.UNREACHABLE, 0, e);
        }
    }

    /** The usable models of a {@code data} array, in its order: invalid ids are left out (and named), repeats once. */
    private static Result listed(JsonNode data, HttpUrl base, int status) {
        List<ModelInfo> infos = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        List<String> unusable = new ArrayList<>();
        for (JsonNode entry : data) {
            JsonNode idNode = entry.path("id");
            String id = idNode.isTextual() ? idNode.textValue().strip() : null;
            if (!ModelIds.isValid(id)) {
                unusable.add(id == null ? String.valueOf(idNode) : "'" + OpenAiCompatibleProvider.shortened(id, 60)
                        + "'");
            } else if (seen.add(id)) {
                JsonNode name = entry.path("name");
                String shownName = name.isTextual()
                        ? OpenAiCompatibleProvider.shortened(name.textValue(), Limits.MAX_MODEL_CHARS) : null;
                infos.add(new ModelInfo(id, shownName == null ? id : shownName));
            }
        }
        if (!unusable.isEmpty()) {
            LOG.warn("the model provider at {} lists {} model id(s) Parley cannot offer (a model id is {}), left out:"
                    + " {}", OpenAiCompatibleProvider.shown(base), unusable.size(), ModelIds.RULE,
                    String.join(", ", unusable.subList(0, Math.min(10, unusable.size())))
                            + (unusable.size() > 10 ? ", …" : ""));
        }
        return new Result(List.copyOf(infos), infos.isEmpty() ? Problem.EMPTY : null, status, List.copyOf(unusable),
                null);
    }
}
