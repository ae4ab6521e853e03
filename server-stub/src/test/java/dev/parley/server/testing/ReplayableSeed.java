package dev.parley.server.testing;

import net.jqwik.api.lifecycle.AroundPropertyHook;
import net.jqwik.api.lifecycle.PropagationMode;
import net.jqwik.api.lifecycle.PropertyExecutionResult;
import net.jqwik.api.lifecycle.PropertyExecutor;
import net.jqwik.api.lifecycle.PropertyLifecycleContext;

/**
 * Makes a failing jqwik property replayable from a CI log alone: the failure's message begins with the seed the
 * run was generated from, and {@code -Dparley.jqwik.seed=SEED} runs the property from that seed. jqwik prints every
 * run's seed to standard output as well, which surefire keeps in {@code target/surefire-reports*}, but the build's
 * console shows a failure's message only. Register it on a class with
 * {@code @AddLifecycleHook(ReplayableSeed.class)}. Stateless.
 */
public final class ReplayableSeed implements AroundPropertyHook {
    /** System property holding the seed to replay; Maven passes {@code -D} options on to the test JVM. */
    public static final String SEED_PROPERTY = "parley.jqwik.seed";

    /** Registered on a class, it wraps each of the class's properties. */
    @Override
    public PropagationMode propagateTo() {
        return PropagationMode.ALL_DESCENDANTS;
    }

    @Override
    public PropertyExecutionResult aroundProperty(PropertyLifecycleContext context, PropertyExecutor property) {
        String replay = System.getProperty(SEED_PROPERTY, "").strip();
        if (!replay.isEmpty()) {
            context.attributes().setSeed(replay);
        }
        PropertyExecutionResult result = property.execute();
        if (result.status() != PropertyExecutionResult.Status.FAILED || result.seed().isEmpty()) {
            return result;
        }
        String seed = result.seed().get();
        Throwable failure = result.throwable().orElse(null);
        String message = "falsified with seed " + seed + " (replay: -D" + SEED_PROPERTY + "=" + seed
                + ", or @Property(seed = \"" + seed + "\"))"
                + (failure == null ? "" : "\n" + failure.getMessage());
        return result.mapToFailed(new AssertionError(message, failure));
    }
}
