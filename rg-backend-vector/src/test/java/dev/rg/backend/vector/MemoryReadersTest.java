package dev.rg.backend.vector;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.rg.api.backend.MemoryReader;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The bandwidth probe's readers must read every byte of their range, once: each returns the sum of the range's longs
 * (any order gives the same integer sum), here against a plain loop, for ranges of whole and partial vector groups
 * and quarters, at offsets that are not the segment's start.
 */
class MemoryReadersTest {

    @Test
    void everyReaderSumsEveryLongOfItsRangeOnce() {
        List<MemoryReader> readers = List.of(new VectorMemoryReader(), new VectorStreamsMemoryReader());
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(1 << 16, 64);
            SplittableRandom r = new SplittableRandom(5);
            for (long i = 0; i < s.byteSize(); i += 8) {
                s.set(ValueLayout.JAVA_LONG, i, r.nextLong());
            }
            long[][] ranges = {{0, 64}, {0, 256}, {64, 64 * 7}, {128, 128 + 64 * 37}, {0, 1 << 16}, {192, (1 << 16) - 64}};
            for (long[] range : ranges) {
                long want = 0;
                for (long i = range[0]; i < range[1]; i += 8) {
                    want += s.get(ValueLayout.JAVA_LONG, i);
                }
                for (MemoryReader reader : readers) {
                    assertEquals(want, reader.read(s, range[0], range[1]), reader.name() + " over [" + range[0] + ", " + range[1] + ")");
                }
            }
        }
    }
}
