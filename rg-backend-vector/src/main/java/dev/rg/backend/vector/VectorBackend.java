package dev.rg.backend.vector;

import dev.rg.api.backend.Backend;
import dev.rg.api.backend.BackendOptions;
import dev.rg.api.backend.Capabilities;
import dev.rg.api.backend.Kernels;
import dev.rg.api.format.FormatLayout;
import dev.rg.api.format.WeightFormat;
import dev.rg.api.tensor.HostTensor;
import dev.rg.api.tensor.HostWeight;
import dev.rg.api.tensor.Tensor;
import dev.rg.api.tensor.Weight;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import dev.rg.quant.FourBitFormat;
import java.lang.ref.Cleaner;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;

/**
 * A live vector backend: host tensors ({@code float[]}), weights used in place from their segments, and one
 * fixed {@link WorkerPool} of {@code threads - 1} daemon threads (the calling thread is the other one).
 *
 * <p>Settings ({@link BackendOptions#settings()}): {@code spin-us} (default 50), how long idle workers spin
 * before parking; {@code chunk-kb} (default 64), the least work per parallel unit in KB of weights times rows
 * (smaller work runs on the caller alone); {@code bf16-layout} ({@code auto}, the default, {@code panels} or
 * {@code rows}): whether bf16 matrices are repacked at load into {@link Bf16Panels panels} for the matmul kernel (a
 * second copy of every bf16 matrix: {@code rows} keeps only the checkpoint's and runs the row-major kernels, slower for
 * batches and prefill; {@code auto} packs each matrix while its copy fits in the memory available, {@link PanelBudget};
 * {@code panels} packs every one).
 */
public final class VectorBackend implements Backend {
    /** Default least work per parallel unit. */
    static final long DEFAULT_MIN_CHUNK_BYTES = 64 << 10;
    /** Default idle spin of the workers. */
    static final long DEFAULT_SPIN_NANOS = 50_000;

    private final WorkerPool pool;
    private final VectorKernels kernels;
    private final Capabilities capabilities;
    private final List<String> warnings;
    private final boolean bf16Panels;
    /** With {@code bf16-layout=auto}: which matrices get panels; null when every one does (or none). */
    private final PanelBudget panelBudget;
    /**
     * Frees each weight's panels (its own shared arena: an automatic arena counts against the JVM's direct-memory
     * limit, see {@link Bf16Panels#pack}) once the weight is unreachable, or when this backend closes, whichever comes
     * first ({@link Cleaner.Cleanable#clean} runs once). Without the second, a model closed and another loaded in the
     * same JVM ({@code rg quality} over several formats) held both models' panels until a garbage collection, which a
     * heap this quiet may not run for a long time.
     */
    private final List<Cleaner.Cleanable> panelFrees = new CopyOnWriteArrayList<>();
    private static final Cleaner PANEL_CLEANER = Cleaner.create();

    VectorBackend(BackendOptions options) {
        this(options, PanelBudget.ofThisMachine());
    }

    /** {@code budget}: what {@code bf16-layout=auto} packs (tests pass their own). */
    VectorBackend(BackendOptions options, PanelBudget budget) {
        Map<String, String> settings = options.settings();
        long spin = settings.containsKey("spin-us") ? setting(settings, "spin-us", 0) * 1000
                : WorkerPool.spinFor(options.threads(), Runtime.getRuntime().availableProcessors(), DEFAULT_SPIN_NANOS);
        long chunk = setting(settings, "chunk-kb", DEFAULT_MIN_CHUNK_BYTES >> 10) << 10;
        String layout = settings.getOrDefault("bf16-layout", System.getProperty("rg.vector.bf16Layout", "auto")).trim();
        this.bf16Panels = bf16Panels(layout);
        this.panelBudget = layout.equals("auto") ? budget : null;
        this.pool = new WorkerPool(options.threads(), spin, "rg-vector");
        this.kernels = new VectorKernels(this, pool, chunk);
        this.capabilities = VectorBackendProvider.CAPABILITIES;
        this.warnings = VectorSupport.check().map(List::of).orElse(List.of());
    }

    private static boolean bf16Panels(String layout) {
        return switch (layout) {
            case "auto", "panels" -> true;
            case "rows" -> false;
            default -> throw new IllegalArgumentException("vector backend setting bf16-layout=" + layout
                    + " is not one of: auto, panels, rows");
        };
    }

    private static long setting(Map<String, String> settings, String key, long dflt) {
        String v = settings.get(key);
        if (v == null) {
            return dflt;
        }
        try {
            long n = Long.parseLong(v.trim());
            if (n < 0) {
                throw new NumberFormatException();
            }
            return n;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("vector backend setting " + key + "=" + v + " is not a non-negative integer");
        }
    }

    @Override
    public String name() {
        return VectorBackendProvider.NAME;
    }

    @Override
    public Capabilities capabilities() {
        return capabilities;
    }

    @Override
    public Kernels kernels() {
        return kernels;
    }

    /**
     * The start-up self-check ({@link VectorSupport#check()}): empty, or one line saying why the Vector API will not
     * be compiled to SIMD instructions in this JVM (the provider's probe reason carries the same text).
     */
    @Override
    public List<String> warnings() {
        if (panelBudget == null) {
            return warnings;
        }
        return panelBudget.warning().map(w -> Stream.concat(warnings.stream(), Stream.of(w)).toList()).orElse(warnings);
    }

    /**
     * The weight keeps the host weight's segments (a memory-mapped checkpoint slice stays mapped; f32, f16, int8 and the
     * 4-bit codes are read straight from it). Three exceptions:
     * <ul>
     *   <li>a bf16 matrix (rank 2) is also repacked once, here, into {@link Bf16Panels panels} (a copy of its bytes in an
     *       arena freed with the weight, on the workers), which its matmuls read; the mapped rows stay for embedding lookups. With
     *       the setting {@code bf16-layout=rows} there is no copy and the row-major kernels run; with {@code auto} (the
     *       default) a matrix whose copy would not fit in the memory available stays row-major ({@link PanelBudget});</li>
     *   <li>a segment confined to its creating thread cannot be read by the workers, so it is copied once into an
     *       automatic off-heap arena (checkpoints are mapped in shared arenas and never take this path);</li>
     *   <li>{@code nf4-dq} and {@code fp4-dq} weights are converted once, here, with
     *       {@link FourBitFormat#toSingleQuantized}: the packed codes stay in place and the effective float32 absmax
     *       of every block (identical dequantised bits) is computed into an automatic arena, 4 bytes per 64 weights;
     *       the kernels are then those of {@code nf4}/{@code fp4} and never touch the nested codes.</li>
     * </ul>
     *
     * @throws IllegalArgumentException for a format this backend has no kernel for
     */
    @Override
    public Weight loadWeight(HostWeight w) {
        String why = VectorFormats.unsupported(w.format());
        if (why != null) {
            throw new IllegalArgumentException("the vector backend cannot run weight '" + w.name() + "' in format '"
                    + w.format().name() + "': " + why + "; it runs " + VectorFormats.supported());
        }
        FormatLayout layout = w.format().layout();
        int dense = DenseWeights.code(layout.elementEncoding());
        RowDot dot = RowDots.forWeight(w.format(), Math.toIntExact(w.shape().lastDim()));
        w.format().validate(w);
        if (dense >= 0) {
            MemorySegment data = shareable(w.part(WeightFormat.DATA));
            if (dense == DenseWeights.BF16 && bf16Panels && w.shape().rank() == 2) {
                int rows = Math.toIntExact(w.shape().rows());
                int cols = Math.toIntExact(w.shape().lastDim());
                if (panelBudget == null || panelBudget.admit(Bf16Panels.bytes(rows, cols))) {
                    Arena arena = Arena.ofShared();
                    try {
                        MemorySegment panels = kernels.packPanels(data, rows, cols, arena);
                        VectorWeight packed = VectorWeight.withPanels(w, data, panels, RowDots.BF16_PANELS, dense);
                        panelFrees.add(PANEL_CLEANER.register(packed, arena::close));
                        return packed;
                    } catch (RuntimeException | Error e) {
                        arena.close();
                        throw e;
                    }
                }
            }
            return new VectorWeight(w, data, dot, dense);
        }
        // nested 4-bit scales: VectorFormats admits them only for rg-quant's formats, which resolve them
        HostWeight kernelView = layout.nestedScales() ? FourBitFormat.toSingleQuantized(w, Arena.ofAuto()) : w;
        MemorySegment data = shareable(kernelView.part(WeightFormat.DATA));
        MemorySegment scales = shareable(kernelView.part(layout.scalePart()));
        return new VectorWeight(w, data, scales, dot, -1, data.byteSize() + scales.byteSize());
    }

    private MemorySegment shareable(MemorySegment s) {
        // any thread other than the owner of a confined segment will do for the accessibility test
        Thread worker = pool.anyWorker();
        if (worker == null || s.isAccessibleBy(worker)) {
            return s;
        }
        MemorySegment copy = Arena.ofAuto().allocate(s.byteSize(), 64);
        copy.copyFrom(s);
        return copy;
    }

    /** The loaded form of {@code w}: itself if loaded here, else loaded now (allocates; the model always passes loaded weights). */
    VectorWeight adopt(Weight w) {
        if (w instanceof VectorWeight v) {
            return v;
        }
        if (w instanceof HostWeight h) {
            return (VectorWeight) loadWeight(h);
        }
        throw new IllegalArgumentException("weight '" + w.name() + "' belongs to another backend: " + w.getClass().getName());
    }

    @Override
    public Tensor allocate(int rows, int cols) {
        return new HostTensor(rows, cols);
    }

    @Override
    public void upload(float[] src, Tensor dst) {
        float[] d = HostTensor.of(dst).data();
        if (src.length != d.length) {
            throw new IllegalArgumentException("upload of " + src.length + " floats into a tensor of " + d.length);
        }
        System.arraycopy(src, 0, d, 0, d.length);
    }

    @Override
    public void download(Tensor src, float[] dst) {
        float[] s = HostTensor.of(src).data();
        if (dst.length < s.length) {
            throw new IllegalArgumentException("download of a tensor of " + s.length + " floats into " + dst.length);
        }
        System.arraycopy(s, 0, dst, 0, s.length);
    }

    @Override
    public int threads() {
        return pool.threads();
    }

    /** The worker pool (benchmarks and tests). */
    WorkerPool pool() {
        return pool;
    }

    /** Thread ids of the worker threads (not the caller), for allocation accounting. */
    long[] workerThreadIds() {
        return pool.workerThreadIds();
    }

    @Override
    public void close() {
        pool.close();
        panelFrees.forEach(Cleaner.Cleanable::clean);
        panelFrees.clear();
    }

    @Override
    public String toString() {
        return "VectorBackend[" + pool.threads() + " threads, " + Simd.describe() + "]";
    }
}
