package dev.rg.backend.cuda.device;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The start positions that position-dependent kernels (conv1d, the RG-LRU, RoPE, attention) read from device memory,
 * uploaded only when no buffer already holds them.
 *
 * <p>Two kinds of buffer. The <em>step</em> buffer takes the positions a pass announces up front
 * ({@code Kernels.stepInputs}): always the same buffer, so the groups a decode step records as graphs find their
 * positions at the same address every step. The few <em>other</em> buffers take positions no pass announced: the
 * parts of a shared pass ({@code Griffin.forwardTogether}), whose ops alternate between the parts inside every layer.
 * Each part keeps its own buffer for the whole pass, so a pass uploads each part's positions once instead of at every
 * switch between parts (twice per layer), and never overwrites the step buffer a recorded graph reads.
 */
final class StartPositions implements AutoCloseable {
    /** Buffers kept for parts beyond the step's: a shared pass has the decode step's part and the prompts' part. */
    static final int OTHERS = 3;

    private final KernelLauncher l;
    private Held step;
    /** Most recently used first; at most {@link #OTHERS}. */
    private final List<Held> others = new ArrayList<>(OTHERS);

    /** A device buffer and the positions it holds (a copy: a caller's array may change afterwards). */
    private static final class Held {
        DeviceBuffer buffer;
        int[] positions = new int[0];

        boolean holds(int[] s) {
            return buffer != null && !buffer.isFreed() && Arrays.equals(s, positions);
        }
    }

    StartPositions(KernelLauncher launcher) {
        this.l = launcher;
    }

    /** The positions a pass announces before its first op: into the step buffer (the same address every pass). */
    Span forStep(int[] s) {
        if (step == null) {
            step = new Held();
        }
        return upload(step, s);
    }

    /** The positions an op reads: a buffer that holds them already, else the least recently used other buffer. */
    Span forOp(int[] s) {
        if (step != null && step.holds(s)) {
            return span(step, s);
        }
        for (int i = 0; i < others.size(); i++) {
            Held h = others.get(i);
            if (h.holds(s)) {
                if (i > 0) {
                    others.remove(i);
                    others.addFirst(h);
                }
                return span(h, s);
            }
        }
        Held h = others.size() == OTHERS ? others.removeLast() : new Held();
        others.addFirst(h);
        return upload(h, s);
    }

    private Span upload(Held h, int[] s) {
        if (!h.holds(s)) {
            h.buffer = DeviceKernels.grow(l, h.buffer, s.length * 4L);
            l.write(MemorySegment.ofArray(s), h.buffer, 0);
            h.positions = s.clone();
        }
        return span(h, s);
    }

    private static Span span(Held h, int[] s) {
        return new Span(h.buffer, s.length * 4L);
    }

    @Override
    public void close() {
        if (step != null) {
            others.add(step);
            step = null;
        }
        for (Held h : others) {
            if (h.buffer != null && !h.buffer.isFreed()) {
                l.free(h.buffer);
            }
        }
        others.clear();
    }
}
