package dev.rg.backend.vector;

/**
 * How the non-matmul kernels split independent items (rows, channel groups, element ranges) into parallel units: at
 * least {@code minChunkBytes} of memory traffic per unit (so that the dispatch, about a microsecond, stays negligible
 * and a decode step's small work runs on the caller alone), and otherwise about four units per thread (a thread slowed
 * by another process sheds its share), as {@link Matmul} does for weight rows.
 */
final class Parallel {
    private static final int UNITS_PER_THREAD = 4;

    private Parallel() {}

    /**
     * Items per unit for {@code items} items of {@code bytesPerItem} bytes each; {@code items} itself (one unit, run on
     * the caller) when the whole is under {@code minChunkBytes} or there is one thread.
     */
    static int itemsPerUnit(int items, long bytesPerItem, long minChunkBytes, int threads) {
        if (items <= 1 || threads <= 1 || (long) items * bytesPerItem < 2 * minChunkBytes) {
            return Math.max(1, items);
        }
        long min = (minChunkBytes + bytesPerItem - 1) / Math.max(1, bytesPerItem);
        long balanced = ((long) items + (long) threads * UNITS_PER_THREAD - 1) / ((long) threads * UNITS_PER_THREAD);
        return (int) Math.max(1, Math.min(items, Math.max(min, balanced)));
    }
}
