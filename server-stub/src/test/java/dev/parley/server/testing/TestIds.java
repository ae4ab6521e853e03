package dev.parley.server.testing;

import com.fasterxml.uuid.Generators;
import com.fasterxml.uuid.impl.TimeBasedEpochGenerator;

/** Client-style UUIDv7 ids for test rows. */
public final class TestIds {
    private static final TimeBasedEpochGenerator V7 = Generators.timeBasedEpochGenerator();

    private TestIds() {
    }

    public static String next() {
        return V7.generate().toString();
    }
}
