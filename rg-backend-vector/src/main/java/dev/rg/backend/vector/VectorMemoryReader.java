package dev.rg.backend.vector;

import dev.rg.api.backend.MemoryReader;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Reads memory with full-width vector loads (four in flight per iteration): the bandwidth limit the vector
 * backend's decode is compared with in {@code rg bench}.
 */
public final class VectorMemoryReader implements MemoryReader {
    private static final VectorSpecies<Long> S = LongVector.SPECIES_PREFERRED;

    @Override
    public String name() {
        return "vector-api-" + S.vectorBitSize();
    }

    @Override
    public long read(MemorySegment seg, long from, long to) {
        long step = S.vectorByteSize();
        LongVector a0 = LongVector.zero(S);
        LongVector a1 = LongVector.zero(S);
        LongVector a2 = LongVector.zero(S);
        LongVector a3 = LongVector.zero(S);
        long i = from;
        for (; i + 4 * step <= to; i += 4 * step) {
            a0 = a0.add(LongVector.fromMemorySegment(S, seg, i, ByteOrder.LITTLE_ENDIAN));
            a1 = a1.add(LongVector.fromMemorySegment(S, seg, i + step, ByteOrder.LITTLE_ENDIAN));
            a2 = a2.add(LongVector.fromMemorySegment(S, seg, i + 2 * step, ByteOrder.LITTLE_ENDIAN));
            a3 = a3.add(LongVector.fromMemorySegment(S, seg, i + 3 * step, ByteOrder.LITTLE_ENDIAN));
        }
        long tail = 0;
        for (; i < to; i += 8) {
            tail += seg.get(java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED, i);
        }
        return a0.add(a1).add(a2).add(a3).reduceLanes(jdk.incubator.vector.VectorOperators.ADD) + tail;
    }
}
