package dev.parley.server;

import java.util.List;
import java.util.Objects;

/**
 * What {@link ModelProviders#check} found at an OpenAI-compatible server a user wants to use: whether it answers,
 * takes the key and lists models, and a sentence saying so that the user can act on. Immutable; holds no resource.
 * The message never holds the API key, nor the provider's own error text (which may quote it).
 *
 * @param outcome  what was found; never {@code null}
 * @param modelIds the models the server lists that Parley can offer, in its order, the first its default: never
 *                 {@code null}, empty unless {@link Outcome#OK}
 * @param message  one or two plain sentences for the user, naming the address checked; never {@code null}
 */
public record ConnectionCheck(Outcome outcome, List<String> modelIds, String message) {

    /** What a check found. */
    public enum Outcome {
        /** The server answered with a model list; {@link #modelIds()} holds its models. */
        OK,
        /** The server wants a key and got none, refused the one given (HTTP 401, 403), or the key cannot be sent. */
        BAD_KEY,
        /** Nothing answered (no such host, connection refused, no answer in time) or the server has trouble now. */
        UNREACHABLE,
        /** Something answered, but not as an OpenAI-compatible API: no model list at {@code /models}. */
        NOT_OPENAI_COMPATIBLE,
        /** The server lists no model (none loaded or installed, or none whose id Parley can take). */
        NO_MODELS,
        /** The address is not an {@code http://} or {@code https://} URL; nothing was sent. */
        INVALID_URL
    }

    public ConnectionCheck {
        Objects.requireNonNull(outcome, "outcome");
        Objects.requireNonNull(message, "message");
        modelIds = List.copyOf(modelIds);
    }

    /** True when the server can be used: it answered with at least one model. */
    public boolean ok() {
        return outcome == Outcome.OK;
    }
}
