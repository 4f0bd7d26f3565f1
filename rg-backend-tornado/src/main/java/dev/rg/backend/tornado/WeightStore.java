package dev.rg.backend.tornado;

import dev.rg.api.format.WeightFormat;
import dev.rg.api.tensor.HostWeight;
import dev.rg.backend.tornado.WeightEncoding.Kind;
import dev.rg.backend.tornado.kernels.RgKernels;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import uk.ac.manchester.tornado.api.types.arrays.ByteArray;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.ShortArray;

/**
 * The host side of the weight buffers: {@code sf} (float32 copies of the small dense weights: norms, biases, conv,
 * RG-LRU gates) and, per {@link Group} of at most {@code typeMax} elements per type, {@code wf} (float32, 4-bit
 * absmax), {@code ws} (16-bit elements, int8 scales) and {@code wb} (int8 elements, packed 4-bit codes). Places each
 * weight, keeps a host copy of every buffer (a rebuilt plan uploads them again) and, while a plan is live, hands
 * writes into spare capacity to the {@link Stager}; a write that does not fit asks for a rebuild.
 */
final class WeightStore {
    /** Dense weights up to this many elements also get a float32 copy in {@code sf} (for the small ops). */
    static final long SMALL_MAX = 1L << 22;
    /** Elements per weight buffer of a group. */
    static final long GROUP_MAX = 1L << 30;
    /** Default spare capacity of each weight buffer, in elements, for weights loaded after the plan is built. */
    static final int WEIGHT_SLACK = 1 << 20;

    static final int T_F = 0;
    static final int T_S = 1;
    static final int T_B = 2;

    /** What the store needs from the live plan. */
    interface Stager {
        /** Whether a plan holds the buffers on the device (else writes only go to the host copies). */
        boolean live();

        /** Uploads {@code count} elements at {@code off} of a host buffer already written to the device copy. */
        void stage(Group g, int type, boolean toSf, long off, long count);

        /** The buffers changed shape: the plan must be rebuilt before the next kernel. */
        void requestRebuild();
    }

    /** One group of weight buffers. */
    static final class Group {
        final int index;
        final long[] used = new long[3];
        final int[] cap = new int[3];
        FloatArray f;
        ShortArray s;
        ByteArray b;
        boolean realloc = true;
        final List<Pending> pending = new ArrayList<>();

        Group(int index) {
            this.index = index;
        }
    }

    /** A write into a weight buffer that waits for the buffer to be (re)allocated. */
    private record Pending(int type, long offset, MemorySegment src, long count) {}

    private final long[] typeMax;
    private final long sfMax;
    private final int slack;
    private final Stager stager;
    private FloatArray sf;
    private long sfUsed;
    private int sfCap;
    private final List<Pending> sfPending = new ArrayList<>();
    private final List<Group> groups = new ArrayList<>();

    /**
     * @param typeMax elements of each buffer type (float, 16-bit, byte) that fit in one device allocation
     * @param sfMax   floats the small-weight buffer may hold
     */
    WeightStore(long[] typeMax, long sfMax, int slack, Stager stager) {
        this.typeMax = typeMax.clone();
        this.sfMax = sfMax;
        this.slack = slack;
        this.stager = stager;
        groups.add(new Group(0));
    }

    FloatArray sf() {
        return sf;
    }

    List<Group> groups() {
        return groups;
    }

    /** Copies a weight to the buffers (now, or when the plan is next built). */
    DeviceWeight load(HostWeight w) {
        w.format().validate(w);
        Kind kind = WeightEncoding.kind(w.format());
        if (kind == null) {
            throw new IllegalArgumentException("the tornado backend has no kernel for weight format '" + w.format().name()
                    + "' (weight '" + w.name() + "'); native formats: " + new java.util.TreeSet<>(WeightEncoding.FORMATS));
        }
        long n = w.shape().elementCount();
        int rows = Math.toIntExact(w.shape().rows());
        int cols = Math.toIntExact(w.shape().lastDim());
        float[] absmax = kind == Kind.FOUR_BIT ? WeightEncoding.effectiveAbsmax(w) : null;
        if (kind != Kind.F32) {
            WeightEncoding.verify(w, kind, absmax);
        }
        boolean small = (kind == Kind.F32 || kind == Kind.DENSE16) && n <= SMALL_MAX;
        int sfOff = -1;
        if (small) {
            float[] values = new float[Math.toIntExact(n)];
            for (int r = 0; r < rows; r++) {
                w.format().dequantizeRow(w, r, values, r * cols);
            }
            sfOff = placeSf(values);
        }
        int fmt = WeightEncoding.code(w.format(), kind, small);
        MemorySegment data = w.part(WeightFormat.DATA);
        return switch (kind) {
            case F32 -> {
                if (small) {
                    yield new DeviceWeight(w, fmt, -1, sfOff, -1, sfOff);
                }
                Group g = place(n, 0, 0);
                long off = g.used[T_F] - n;
                write(g, T_F, off, data, n);
                yield new DeviceWeight(w, fmt, g.index, (int) off, -1, sfOff);
            }
            case DENSE16 -> {
                Group g = place(0, n, 0);
                long off = g.used[T_S] - n;
                write(g, T_S, off, data, n);
                yield new DeviceWeight(w, fmt, g.index, (int) off, -1, sfOff);
            }
            case INT8 -> {
                long scales = (long) rows * ((cols + RgKernels.INT8_BLOCK - 1) / RgKernels.INT8_BLOCK);
                Group g = place(0, scales, n);
                long off = g.used[T_B] - n;
                long sOff = g.used[T_S] - scales;
                write(g, T_B, off, data, n);
                write(g, T_S, sOff, w.part("scale"), scales);
                yield new DeviceWeight(w, fmt, g.index, (int) off, (int) sOff, -1);
            }
            case FOUR_BIT -> {
                long bytes = (n + 1) / 2;
                Group g = place(absmax.length, 0, bytes);
                long off = g.used[T_B] - bytes;
                long sOff = g.used[T_F] - absmax.length;
                write(g, T_B, off, data.asSlice(0, bytes), bytes);
                write(g, T_F, sOff, MemorySegment.ofArray(absmax), absmax.length);
                yield new DeviceWeight(w, fmt, g.index, (int) off, (int) sOff, -1);
            }
        };
    }

    private int placeSf(float[] values) {
        long off = sfUsed;
        if (off + values.length > sfMax) {
            throw new IllegalStateException("too many small weights for the tornado backend's f32 buffer (limit "
                    + sfMax + " floats on this device)");
        }
        sfUsed += values.length;
        MemorySegment src = MemorySegment.ofArray(values);
        if (sf != null && sfUsed <= sfCap) {
            MemorySegment.copy(src, 0, sf.getSegment(), off * 4, values.length * 4L);
            if (stager.live()) {
                stager.stage(groups.getFirst(), T_F, true, off, values.length);
            }
        } else {
            sfPending.add(new Pending(T_F, off, src, values.length));
            stager.requestRebuild();
        }
        return (int) off;
    }

    /** Reserves room for one weight in one group (a new group when the last is full). */
    private Group place(long nF, long nS, long nB) {
        long[] need = {nF, nS, nB};
        for (int t = 0; t < 3; t++) {
            if (need[t] > typeMax[t]) {
                throw new IllegalArgumentException("weight needs " + need[t] + " elements in one device buffer; the tornado "
                        + "backend's limit on this device is " + typeMax[t]);
            }
        }
        Group g = groups.getLast();
        for (int t = 0; t < 3; t++) {
            if (g.used[t] + need[t] > typeMax[t]) {
                g = new Group(groups.size());
                groups.add(g);
                stager.requestRebuild();
                break;
            }
        }
        for (int t = 0; t < 3; t++) {
            g.used[t] += need[t];
        }
        return g;
    }

    private void write(Group g, int type, long off, MemorySegment src, long count) {
        if (count == 0) {
            return;
        }
        boolean fits = g.f != null && !g.realloc && off + count <= g.cap[type];
        if (fits) {
            MemorySegment.copy(src, 0, segment(g, type), off * size(type), count * size(type));
            if (stager.live()) {
                stager.stage(g, type, false, off, count);
            }
        } else {
            g.pending.add(new Pending(type, off, src, count));
            g.realloc = true;
            stager.requestRebuild();
        }
    }

    static int size(int type) {
        return type == T_F ? 4 : type == T_S ? 2 : 1;
    }

    /** The host copy of one buffer of a group ({@code toSf}: the small-weight buffer). */
    MemorySegment host(Group g, int type, boolean toSf) {
        return toSf ? sf.getSegment() : segment(g, type);
    }

    private static MemorySegment segment(Group g, int type) {
        return type == T_F ? g.f.getSegment() : type == T_S ? g.s.getSegment() : g.b.getSegment();
    }

    /** Before a plan is built: (re)allocates the buffers that grew and copies the pending writes into them. */
    void reallocate() {
        if (sf == null || sfUsed > sfCap || !sfPending.isEmpty()) {
            int cap = (int) Math.min(sfMax, Math.max(16, sfUsed + slack));
            FloatArray bigger = new FloatArray(cap);
            if (sf != null) {
                MemorySegment.copy(sf.getSegment(), 0, bigger.getSegment(), 0, Math.min(sfCap, sfUsed) * 4L);
            }
            for (Pending pd : sfPending) {
                MemorySegment.copy(pd.src(), 0, bigger.getSegment(), pd.offset() * 4, pd.count() * 4);
            }
            sfPending.clear();
            sf = bigger;
            sfCap = cap;
        }
        for (Group g : groups) {
            if (!g.realloc && g.f != null) {
                continue;
            }
            int[] cap = new int[3];
            for (int t = 0; t < 3; t++) {
                cap[t] = (int) Math.min(typeMax[t], Math.max(16, g.used[t] + slack));
            }
            FloatArray f = new FloatArray(cap[T_F]);
            ShortArray s = new ShortArray(cap[T_S]);
            ByteArray b = new ByteArray(cap[T_B]);
            if (g.f != null) {
                MemorySegment.copy(g.f.getSegment(), 0, f.getSegment(), 0, Math.min(g.cap[T_F], g.used[T_F]) * 4L);
                MemorySegment.copy(g.s.getSegment(), 0, s.getSegment(), 0, Math.min(g.cap[T_S], g.used[T_S]) * 2L);
                MemorySegment.copy(g.b.getSegment(), 0, b.getSegment(), 0, Math.min(g.cap[T_B], g.used[T_B]));
            }
            g.f = f;
            g.s = s;
            g.b = b;
            System.arraycopy(cap, 0, g.cap, 0, 3);
            for (Pending pd : g.pending) {
                if (!pd.src().scope().isAlive()) {
                    throw new IllegalStateException("a host weight was released before the tornado backend copied it to "
                            + "the device (keep host weights alive until the first kernel runs)");
                }
                MemorySegment.copy(pd.src(), 0, segment(g, pd.type()), pd.offset() * size(pd.type()),
                        pd.count() * size(pd.type()));
            }
            g.pending.clear();
            g.realloc = false;
        }
    }

    void clear() {
        sf = null;
        groups.clear();
    }
}
