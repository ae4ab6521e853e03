package dev.parley.desktop.models;

import dev.parley.server.ConnectionCheck;
import dev.parley.server.ModelProviders;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The model servers that may run on this machine and need no key: Ollama on port 11434 and LM Studio on port 1234,
 * asked for their models through their OpenAI-compatible API. Thread-safe; {@link #find()} blocks (briefly: a
 * loopback port that nothing listens on refuses at once), so call it off the FX thread.
 */
public final class LocalServers {
    /** Ollama's and LM Studio's own addresses. */
    public static final List<Candidate> DEFAULT = List.of(
            new Candidate("ollama", "Ollama", "http://127.0.0.1:11434/v1"),
            new Candidate("lmstudio", "LM Studio", "http://127.0.0.1:1234/v1"));
    /** A server on this machine answers its model list in far less; one that takes longer is not usable anyway. */
    private static final Duration ANSWER_WITHIN = Duration.ofSeconds(2);

    private final List<Candidate> candidates;

    /** @param candidates where to look, in display order ({@link #DEFAULT}, or servers a test runs) */
    public LocalServers(List<Candidate> candidates) {
        this.candidates = List.copyOf(candidates);
    }

    /** A place a local server may answer. {@code name} is what its models are listed under. */
    public record Candidate(String name, String label, String baseUrl) {
    }

    /** A local server that answered, with the models it listed (never empty). */
    public record Found(Candidate where, List<String> models) {
        public Found {
            models = List.copyOf(models);
        }
    }

    /** The names local servers' models are listed under: a provider the user adds cannot take one. */
    public List<String> names() {
        return candidates.stream().map(Candidate::name).toList();
    }

    public List<Candidate> candidates() {
        return candidates;
    }

    /** Asks every candidate for its models; those that answer with at least one, in order. */
    public List<Found> find() {
        List<Found> found = new ArrayList<>();
        for (Candidate candidate : candidates) {
            ConnectionCheck check = ModelProviders.check(candidate.baseUrl(), null, ANSWER_WITHIN);
            if (check.outcome() == ConnectionCheck.Outcome.OK && !check.modelIds().isEmpty()) {
                found.add(new Found(candidate, check.modelIds()));
            }
        }
        return found;
    }
}
