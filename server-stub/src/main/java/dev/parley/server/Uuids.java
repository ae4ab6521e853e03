package dev.parley.server;

import com.fasterxml.uuid.Generators;
import com.fasterxml.uuid.impl.TimeBasedEpochGenerator;

/** UUIDv7 strings for rows the server makes itself. Thread-safe. */
final class Uuids {
    private static final TimeBasedEpochGenerator V7 = Generators.timeBasedEpochGenerator();

    private Uuids() {
    }

    static String next() {
        return V7.generate().toString();
    }
}
