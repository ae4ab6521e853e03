package dev.parley.bench;

import java.lang.management.ManagementFactory;

/**
 * CPU time used by this process (all threads: client, server, JIT, GC). On a shared machine wall-clock rates
 * depend on the neighbours; CPU time per message does not, so reports give both.
 */
final class ProcessCpu {
    private ProcessCpu() {
    }

    static long nanos() {
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            return os.getProcessCpuTime();
        }
        return -1;
    }
}
