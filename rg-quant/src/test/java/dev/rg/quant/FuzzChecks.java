package dev.rg.quant;

import java.lang.management.ManagementFactory;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The contract every fuzz target checks on each input: the parser either succeeds or throws one of its clean,
 * documented exception types (anything else is a crash and fails the run); and it allocates at most
 * {@value #BYTES_PER_INPUT_BYTE} bytes per input byte plus {@value #FIXED_BYTES} bytes, so that no few-byte
 * input can make it reserve memory out of proportion to the file (a header claiming 2^40 tensors, a length field
 * of 2^62, ...). Hangs are caught by Jazzer's per-input timeout in fuzzing mode and by the test timeout in
 * regression mode.
 */
public final class FuzzChecks {
    /** Generous: a JSON tree node costs ~100 bytes for a 2-byte token, a String 2 bytes per char plus copies. */
    public static final long BYTES_PER_INPUT_BYTE = 256;
    public static final long FIXED_BYTES = 16L << 20;
    /** Largest allocation seen relative to the input (bytes per input byte, fixed part removed), for the report. */
    public static final AtomicLong WORST = new AtomicLong();
    public static final AtomicLong EXECUTIONS = new AtomicLong();

    private static final com.sun.management.ThreadMXBean MX =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    private FuzzChecks() {}

    /** A parse that may throw. */
    @FunctionalInterface
    public interface Parse {
        void run() throws Exception;
    }

    /** Runs {@code parse} on an input of {@code length} bytes; exceptions of the {@code clean} types are expected outcomes. */
    @SafeVarargs
    public static void check(int length, Parse parse, Class<? extends Throwable>... clean) {
        EXECUTIONS.incrementAndGet();
        long allocated = measure(length, parse, clean);
        long bound = FIXED_BYTES + BYTES_PER_INPUT_BYTE * length;
        if (allocated > bound) {
            // the first run of a code path also pays for class loading and initialisation: measure again
            allocated = measure(length, parse, clean);
        }
        WORST.accumulateAndGet(length == 0 ? 0 : Math.max(0, allocated - FIXED_BYTES) / length, Math::max);
        if (allocated > bound) {
            throw new AssertionError("allocated " + allocated + " bytes for a " + length + "-byte input (bound " + bound + ")");
        }
    }

    @SafeVarargs
    private static long measure(int length, Parse parse, Class<? extends Throwable>... clean) {
        long before = MX.getCurrentThreadAllocatedBytes();
        try {
            parse.run();
        } catch (Throwable t) {
            boolean expected = false;
            for (Class<? extends Throwable> c : clean) {
                expected |= c.isInstance(t);
            }
            if (!expected) {
                throw new AssertionError("unclean failure on a " + length + "-byte input: " + t, t);
            }
            if (t.getMessage() == null || t.getMessage().isBlank() || t.getMessage().contains("\n")) {
                throw new AssertionError("error message is not one line: " + t, t);
            }
        }
        return MX.getCurrentThreadAllocatedBytes() - before;
    }
}
