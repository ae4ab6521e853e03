package dev.parley.bench;

import com.fasterxml.uuid.Generators;
import com.fasterxml.uuid.impl.TimeBasedEpochGenerator;
import dev.parley.protocol.Message;
import dev.parley.protocol.ModelsResponse;
import dev.parley.protocol.Role;
import dev.parley.protocol.Session;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Made-up conversations of realistic shape: sessions of question/answer pairs, UUIDv7 ids, timestamps one second
 * apart ending before now, a ~110-character question and a ~450-character answer. Deterministic text; not
 * thread-safe.
 */
final class Conversations {
    private static final TimeBasedEpochGenerator V7 = Generators.timeBasedEpochGenerator();
    private static final String QUESTION = "Question %d: what changed in the quarterly plan since last week, and"
            + " which of the open items should we tackle first?";
    private static final String ANSWER = "Answer %d. Three things changed: the launch moved by a week, the budget"
            + " for contractors was cut by a tenth, and the design review now happens before the security review."
            + " Start with the items that block others: the data migration, then the API freeze, then the"
            + " documentation pass. The rest can wait until the review is done, and two of them may not be needed"
            + " at all once the migration lands. Keep the list short and revisit it on Friday.";

    private Instant clock;
    private long counter;

    /** @param first the timestamp of the first message made */
    Conversations(Instant first) {
        this.clock = first;
    }

    /** A start time that leaves room for {@code messages} one-second steps before now. */
    static Instant startingBefore(Instant now, long messages) {
        return now.minusSeconds(messages + 3_600);
    }

    static String newId() {
        return V7.generate().toString();
    }

    Session session(String title) {
        return Session.of(newId(), title, clock, clock, null);
    }

    /** {@code count} messages of {@code sessionId}: questions and their answers, alternating. */
    List<Message> messages(String sessionId, int count) {
        List<Message> messages = new ArrayList<>(count);
        Message question = null;
        for (int i = 0; i < count; i++) {
            long n = counter++;
            clock = clock.plusSeconds(1);
            if (i % 2 == 0) {
                question = new Message(newId(), sessionId, Role.USER, String.format(QUESTION, n),
                        ModelsResponse.LOCAL_MODEL_ID, 27L, 0L, 27L, null, clock, null, null, null);
                messages.add(question);
            } else {
                messages.add(new Message(newId(), sessionId, Role.ASSISTANT, String.format(ANSWER, n),
                        ModelsResponse.LOCAL_MODEL_ID, 0L, 96L, 96L, question.id(), clock, 850L, null,
                        "local-" + n));
            }
        }
        return messages;
    }
}
