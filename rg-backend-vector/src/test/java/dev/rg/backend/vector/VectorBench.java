package dev.rg.backend.vector;

import dev.rg.api.backend.BackendOptions;
import dev.rg.api.format.WeightFormats;
import dev.rg.api.tensor.HostTensor;
import dev.rg.api.tensor.HostWeight;
import dev.rg.api.tensor.Shape;
import dev.rg.api.tensor.Weight;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Quick, JMH-free throughput measurement for tuning (not a test, no assertions). Run with the test class path:
 * {@code java --add-modules jdk.incubator.vector -cp ... dev.rg.backend.vector.VectorBench THREADS WHAT RUNS}, WHAT one
 * of {@code decode}, {@code prefill}, {@code prefill-2b} (the three 2B layer shapes), {@code prefill-misaligned}
 * (rows on and off cache lines), {@code prefill-f32}, {@code read}, {@code l2}, {@code pool}, {@code all}, or for
 * the quantised formats {@code decode-FORMAT} (FORMAT {@code bf16}, {@code int8}, {@code nf4}, {@code fp4}; the
 * three 2B shapes), {@code l2-q} (a cache-resident matrix in each format: the kernels' compute rate in weights/s) and
 * {@code prefill-q} (128 x [2560 x 2560] in each format), {@code batchl2-FORMAT} and {@code batchl3-FORMAT} (batched
 * matmuls of 1 to 16 rows against a 256 x 2560 or a 2560 x 2560 matrix repeated from cache), {@code batch-FORMAT}
 * (the same against a 7680 x 2560 matrix streamed from DRAM; {@code -Dbench.rows=R -Dbench.cols=C} for another shape).
 *
 * <p>Decode figures stream each matrix from DRAM: a pass cycles through enough copies of the matrix to exceed the
 * last-level cache (a single 39 MB matrix would otherwise be served from L3 after the first pass), and right
 * before each pass a plain vector read of as many bytes measures the limit under the same machine load (the
 * machine is shared: absolute numbers move by tens of percent between runs). Figures are best / median /
 * worst over the runs.
 */
public final class VectorBench {
    private static final long COPY_BYTES = 1536L << 20; // bytes cycled through per decode pass, well above L3
    private static MemorySegment readBuffer;
    private static final float[] SINK = new float[64];
    private static final VectorStreamsMemoryReader STREAMS = new VectorStreamsMemoryReader();

    public static void main(String[] args) {
        int threads = args.length > 0 ? Integer.parseInt(args[0]) : 2;
        String what = args.length > 1 ? args[1] : "all";
        int runs = args.length > 2 ? Integer.parseInt(args[2]) : 9;
        System.out.println("threads " + threads + ", " + Simd.describe() + ", "
                + VectorSupport.check().orElse("Vector API intrinsified"));
        try (Arena arena = Arena.ofShared();
                VectorBackend b = (VectorBackend) new VectorBackendProvider().create(new BackendOptions(threads, Map.of()))) {
            if (what.equals("all") || what.equals("read") || what.startsWith("decode")) {
                readBuffer = arena.allocate(COPY_BYTES, 64);
                readBuffer.fill((byte) 1);
            }
            if (what.equals("all") || what.equals("read")) {
                double[] one = new double[runs];
                double[] four = new double[runs];
                readPass(b, COPY_BYTES);
                for (int run = 0; run < runs; run++) {
                    one[run] = readPass(b, COPY_BYTES, false);
                    four[run] = readPass(b, COPY_BYTES, true);
                }
                report("plain vector read of 1.5 GB off-heap, one stream per unit", one, "GB/s");
                report("the same, four streams per unit (its quarters)", four, "GB/s");
            }
            if (what.equals("all") || what.equals("decode")) {
                matvec(arena, b, 7680, 2560, runs);
                matvec(arena, b, 2560, 7680, runs);
                matvec(arena, b, 256000, 2560, Math.min(runs, 7));
            }
            if (what.startsWith("decode-")) {
                for (String format : what.substring("decode-".length()).split(",")) {
                    matvec(arena, b, format, 7680, 2560, runs);
                    matvec(arena, b, format, 2560, 7680, runs);
                    matvec(arena, b, format, 256000, 2560, Math.min(runs, 5));
                }
            }
            if (what.startsWith("batchl2-")) {
                // the same from a cache-resident matrix: the kernels' compute rate per batch size
                for (String format : what.substring("batchl2-".length()).split(",")) {
                    Weight w = b.loadWeight(random(arena, format, 256, 2560, 9));
                    for (int n : new int[] {1, 2, 4, 8, 16}) {
                        timeMatmulRepeated(b, w, n, runs, String.format("%s matmul %d x [256 x 2560] (L2-resident), repeated", format, n));
                    }
                }
            }
            if (what.startsWith("batchl3-")) {
                // a 2560 x 2560 matrix (13 MB) served from L3: the batched kernels' rate without DRAM or dispatch limits
                for (String format : what.substring("batchl3-".length()).split(",")) {
                    Weight w = b.loadWeight(random(arena, format, 2560, 2560, 9));
                    for (int n : new int[] {1, 4, 8, 16}) {
                        timeMatmulRepeated(b, w, n, runs, String.format("%s matmul %d x [2560 x 2560] (L3-resident), repeated", format, n));
                    }
                }
            }
            if (what.startsWith("batch-")) {
                // batched decode: B activation rows against one matrix streamed from DRAM; time per call vs B = 1
                for (String format : what.substring("batch-".length()).split(",")) {
                    batched(arena, b, format, Integer.getInteger("bench.rows", 7680), Integer.getInteger("bench.cols", 2560), runs);
                }
            }
            if (what.equals("l2-q")) {
                for (String format : new String[] {"bf16", "int8", "nf4"}) {
                    cacheResident(arena, b, format, runs);
                }
            }
            if (what.equals("prefill-q")) {
                for (String format : new String[] {"bf16", "int8", "nf4"}) {
                    Weight w = b.loadWeight(random(arena, format, 2560, 2560, 5));
                    timeMatmul(b, w, 128, runs, format + " matmul 128 x [2560 x 2560] (prefill)");
                }
            }
            if (what.equals("all") || what.equals("prefill")) {
                Weight w = b.loadWeight(HostWeight.dense("w", Shape.matrix(2560, 2560), WeightFormats.bf16(),
                        randomBf16(arena, 2560L * 2560, 5)));
                timeMatmul(b, w, 128, runs, "bf16 matmul 128 x [2560 x 2560] (prefill)");
            }
            if (what.equals("prefill-2b")) {
                // the three matrix shapes of RecurrentGemma-2B's layers, a 128-token prompt chunk each
                for (int[] shape : new int[][] {{2560, 2560}, {7680, 2560}, {2560, 7680}}) {
                    Weight w = b.loadWeight(HostWeight.dense("w", Shape.matrix(shape[0], shape[1]), WeightFormats.bf16(),
                            randomBf16(arena, (long) shape[0] * shape[1], 5)));
                    timeMatmul(b, w, 128, runs, String.format("bf16 matmul 128 x [%d x %d] (prefill)", shape[0], shape[1]));
                }
            }
            if (what.equals("prefill-misaligned")) {
                // 7680 x 2560 with rows on cache lines, then 16 bytes past (as a checkpoint's tensors mapped in place)
                for (int off : new int[] {0, 16}) {
                    MemorySegment bytes = randomBf16(arena, 7680L * 2560 + 32, 5).asSlice(off, 2L * 7680 * 2560);
                    Weight w = b.loadWeight(HostWeight.dense("w", Shape.matrix(7680, 2560), WeightFormats.bf16(), bytes));
                    timeMatmul(b, w, 128, runs, "bf16 matmul 128 x [7680 x 2560] (prefill), rows " + off + " bytes past a line");
                }
                for (int off : new int[] {0, 16}) {
                    // the same bf16 values widened to float32
                    MemorySegment bf = randomBf16(arena, 7680L * 2560, 5);
                    MemorySegment f = arena.allocate(4L * 7680 * 2560 + 64, 64).asSlice(off, 4L * 7680 * 2560);
                    for (long i = 0; i < 7680L * 2560; i++) {
                        f.set(ValueLayout.JAVA_FLOAT_UNALIGNED, 4 * i,
                                Float.intBitsToFloat((bf.get(ValueLayout.JAVA_SHORT_UNALIGNED, 2 * i) & 0xFFFF) << 16));
                    }
                    Weight w = b.loadWeight(HostWeight.dense("w", Shape.matrix(7680, 2560), WeightFormats.f32(), f));
                    timeMatmul(b, w, 128, runs, "f32 matmul 128 x [7680 x 2560] (prefill), rows " + off + " bytes past a line");
                }
            }
            if (what.equals("prefill-f32")) {
                MemorySegment bf = randomBf16(arena, 2560L * 2560, 5);
                MemorySegment f = arena.allocate(4L * 2560 * 2560, 64);
                for (long i = 0; i < 2560L * 2560; i++) {
                    f.set(ValueLayout.JAVA_FLOAT_UNALIGNED, 4 * i,
                            Float.intBitsToFloat((bf.get(ValueLayout.JAVA_SHORT_UNALIGNED, 2 * i) & 0xFFFF) << 16));
                }
                Weight w = b.loadWeight(HostWeight.dense("w", Shape.matrix(2560, 2560), WeightFormats.f32(), f));
                timeMatmul(b, w, 128, runs, "f32 matmul 128 x [2560 x 2560] (prefill)");
            }
            if (what.equals("l2")) {
                cacheResident(arena, b, runs);
            }
            if (what.equals("pool")) {
                WorkerPool.Task noop = (u, worker) -> SINK[worker * 16 % 64] += u;
                for (int units : new int[] {2, 8}) {
                    double[] us = new double[runs];
                    for (int run = 0; run < runs; run++) {
                        long t0 = System.nanoTime();
                        for (int i = 0; i < 100_000; i++) {
                            b.pool().run(noop, units);
                        }
                        us[run] = (System.nanoTime() - t0) / 1e5 / 1e3;
                    }
                    report("one dispatch of " + units + " empty units, back to back", us, "us");
                }
            }
        }
    }

    static MemorySegment randomBf16(Arena arena, long elements, long seed) {
        MemorySegment s = arena.allocate(elements * 2, 64);
        SplittableRandom r = new SplittableRandom(seed);
        for (long i = 0; i < elements; i++) {
            // a bf16 in roughly [-0.06, 0.06]: sign, exponent 118..122, random mantissa
            int e = 118 + r.nextInt(5);
            int bits = (r.nextBoolean() ? 0x8000 : 0) | (e << 7) | r.nextInt(128);
            s.set(ValueLayout.JAVA_SHORT_UNALIGNED, i * 2, (short) bits);
        }
        return s;
    }

    /**
     * A random weight in {@code format} built from random parts (quantising 655 M weights would take minutes): bf16
     * as {@link #randomBf16}; int8 codes uniform in -127..127 with f16 scales in [0.5, 1) x 2^-10; 4-bit codes
     * uniform with f32 absmax in [0.01, 0.1).
     */
    static HostWeight random(Arena arena, String format, int rows, int cols, long seed) {
        long n = (long) rows * cols;
        Shape shape = Shape.matrix(rows, cols);
        SplittableRandom r = new SplittableRandom(seed);
        switch (format) {
            case "bf16" -> {
                return HostWeight.dense("w", shape, WeightFormats.bf16(), randomBf16(arena, n, seed));
            }
            case "f32", "f16" -> {
                boolean f32 = format.equals("f32");
                MemorySegment d = arena.allocate(n * (f32 ? 4 : 2), 64);
                for (long i = 0; i < n; i++) {
                    float v = (float) (r.nextGaussian() * 0.02);
                    if (f32) {
                        d.set(DenseWeights.F32_LE, 4 * i, v);
                    } else {
                        d.set(DenseWeights.I16_LE, 2 * i, Float.floatToFloat16(v));
                    }
                }
                return HostWeight.dense("w", shape, f32 ? WeightFormats.f32() : WeightFormats.f16(), d);
            }
            case "int8" -> {
                MemorySegment d = arena.allocate(n, 64);
                for (long i = 0; i < n; i++) {
                    d.set(ValueLayout.JAVA_BYTE, i, (byte) (r.nextInt(255) - 127));
                }
                long scales = (long) rows * ((cols + 31) / 32);
                MemorySegment s = arena.allocate(2 * scales, 64);
                for (long i = 0; i < scales; i++) {
                    s.set(DenseWeights.I16_LE, 2 * i, Float.floatToFloat16((float) ((0.5 + 0.5 * r.nextDouble()) / 1024)));
                }
                return new HostWeight("w", shape, WeightFormats.byName("int8"), Map.of("data", d, "scale", s), Map.of());
            }
            default -> {
                MemorySegment d = arena.allocate((n + 1) / 2, 64);
                for (long i = 0; i < (n + 1) / 2; i++) {
                    d.set(ValueLayout.JAVA_BYTE, i, (byte) r.nextInt(256));
                }
                long blocks = (n + 63) / 64;
                MemorySegment s = arena.allocate(4 * blocks, 64);
                for (long i = 0; i < blocks; i++) {
                    s.set(DenseWeights.F32_LE, 4 * i, (float) (0.01 + 0.09 * r.nextDouble()));
                }
                return new HostWeight("w", shape, WeightFormats.byName(format), Map.of("data", d, "absmax", s), Map.of());
            }
        }
    }

    /** Copies of a random weight, as many as make {@link #COPY_BYTES} (at most 64). */
    private static List<Weight> copies(Arena arena, VectorBackend b, String format, int rows, int cols) {
        HostWeight first = random(arena, format, rows, cols, 1);
        long bytes = first.byteSize();
        int n = (int) Math.max(1, Math.min(64, COPY_BYTES / bytes));
        List<Weight> ws = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            HostWeight h = first;
            if (i > 0) {
                Map<String, MemorySegment> parts = new java.util.HashMap<>();
                for (var e : first.parts().entrySet()) {
                    parts.put(e.getKey(), arena.allocate(e.getValue().byteSize(), 64).copyFrom(e.getValue()));
                }
                h = new HostWeight("w" + i, first.shape(), first.format(), parts, first.params());
            }
            ws.add(b.loadWeight(h));
        }
        return ws;
    }

    /** Decode matvec of one format, cycling through copies (DRAM), with the plain read of as many bytes before each run. */
    private static void matvec(Arena arena, VectorBackend b, String format, int rows, int cols, int runs) {
        List<Weight> ws = copies(arena, b, format, rows, cols);
        HostTensor x = new HostTensor(1, cols);
        SplittableRandom r = new SplittableRandom(3);
        for (int i = 0; i < cols; i++) {
            x.data()[i] = (float) r.nextGaussian();
        }
        HostTensor out = new HostTensor(1, rows);
        long bytes = ws.get(0).byteSize();
        for (int i = 0; i < Math.max(200, ws.size()) && (i < ws.size() || bytes < (64 << 20)); i++) {
            b.kernels().matmul(x, ws.get(i % ws.size()), null, out);
        }
        double[] gbs = new double[runs];
        double[] gw = new double[runs];
        double[] reads = new double[runs];
        double[] ratio = new double[runs];
        for (int run = 0; run < runs; run++) {
            reads[run] = readPass(b, bytes * ws.size());
            long t0 = System.nanoTime();
            for (Weight w : ws) {
                b.kernels().matmul(x, w, null, out);
            }
            long dt = System.nanoTime() - t0;
            gbs[run] = (double) bytes * ws.size() / dt;
            gw[run] = (double) rows * cols * ws.size() / dt;
            ratio[run] = gbs[run] / reads[run];
        }
        report(String.format("%s matvec 1 x [%d x %d] (%.1f MB, %d copies cycled)", format, rows, cols, bytes / 1e6, ws.size()),
                gbs, "GB/s");
        report("   the same in weights", gw, "G weights/s");
        report("   plain vector read of as many bytes just before each run", reads, "GB/s");
        report("   matvec / read, per run", ratio, "");
    }

    /**
     * Batched decode: {@code B} rows (1, 2, 4, 8, 12, 16, then 1 again) against the matrix's copies cycled from DRAM; the
     * time of one pass per B and its ratio to B = 1 (the ideal for a bandwidth-bound batch is 1.0: every row for the
     * price of one). B = 1 comes again last because the first line of a fresh JVM moved by up to a third between
     * otherwise equal runs.
     */
    private static void batched(Arena arena, VectorBackend b, String format, int rows, int cols, int runs) {
        List<Weight> ws = copies(arena, b, format, rows, cols);
        long bytes = ws.get(0).byteSize();
        double one = 0;
        for (int n : new int[] {1, 2, 4, 8, 12, 16, 1}) {
            HostTensor x = new HostTensor(n, cols);
            SplittableRandom r = new SplittableRandom(3);
            for (int i = 0; i < x.data().length; i++) {
                x.data()[i] = (float) r.nextGaussian();
            }
            HostTensor out = new HostTensor(n, rows);
            for (int i = 0; i < Math.max(100, ws.size()); i++) {
                b.kernels().matmul(x, ws.get(i % ws.size()), null, out);
            }
            double[] us = new double[runs];
            double[] gbs = new double[runs];
            for (int run = 0; run < runs; run++) {
                long t0 = System.nanoTime();
                for (Weight w : ws) {
                    b.kernels().matmul(x, w, null, out);
                }
                long dt = System.nanoTime() - t0;
                us[run] = dt / 1e3 / ws.size();
                gbs[run] = (double) bytes * ws.size() / dt;
            }
            double[] sorted = us.clone();
            Arrays.sort(sorted);
            if (n == 1) {
                one = sorted[runs / 2];
            }
            report(String.format("%s matmul %d x [%d x %d] (%.1f MB, %d copies cycled), per call; median %.2fx B=1", format, n,
                    rows, cols, bytes / 1e6, ws.size(), sorted[runs / 2] / one), us, "us");
            report("   weights streamed", gbs, "GB/s");
            double[] gflops = new double[runs];
            for (int run = 0; run < runs; run++) {
                gflops[run] = 2.0 * rows * cols * n / (us[run] * 1e3);
            }
            // batches past a few rows are bound by FMAs, not the read: compare this with the FMA probe
            report("   arithmetic", gflops, "GFLOP/s");
        }
    }

    /** A matrix of about 1 MB of weights x 2048 columns, repeated from L2: the kernel's compute rate. */
    private static void cacheResident(Arena arena, VectorBackend b, String format, int runs) {
        int cols = 2048;
        int rows = format.equals("bf16") ? 256 : format.equals("int8") ? 512 : 1024;
        Weight w = b.loadWeight(random(arena, format, rows, cols, 9));
        HostTensor x = new HostTensor(1, cols);
        HostTensor out = new HostTensor(1, rows);
        for (int i = 0; i < 20000; i++) {
            b.kernels().matmul(x, w, null, out);
        }
        double[] g = new double[runs];
        double[] gb = new double[runs];
        for (int run = 0; run < runs; run++) {
            long t0 = System.nanoTime();
            for (int i = 0; i < Integer.getInteger("vb.warm", 2000); i++) {
                b.kernels().matmul(x, w, null, out);
            }
            long dt = System.nanoTime() - t0;
            g[run] = 2000.0 * rows * cols / dt;
            gb[run] = 2000.0 * w.byteSize() / dt;
        }
        report(String.format("%s matvec 1 x [%d x %d] (%.2f MB, L2-resident), repeated", format, rows, cols, w.byteSize() / 1e6),
                g, "G weights/s");
        report("   the same in bytes", gb, "GB/s");
    }

    private static List<Weight> copies(Arena arena, VectorBackend b, int rows, int cols) {
        long bytes = 2L * rows * cols;
        int n = (int) Math.max(1, Math.min(64, COPY_BYTES / bytes));
        MemorySegment first = randomBf16(arena, (long) rows * cols, 1);
        List<Weight> ws = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            MemorySegment s = i == 0 ? first : arena.allocate(bytes, 64).copyFrom(first);
            ws.add(b.loadWeight(HostWeight.dense("w" + i, Shape.matrix(rows, cols), WeightFormats.bf16(), s)));
        }
        return ws;
    }

    private static void matvec(Arena arena, VectorBackend b, int rows, int cols, int runs) {
        List<Weight> ws = copies(arena, b, rows, cols);
        HostTensor x = new HostTensor(1, cols);
        SplittableRandom r = new SplittableRandom(3);
        for (int i = 0; i < cols; i++) {
            x.data()[i] = (float) r.nextGaussian();
        }
        HostTensor out = new HostTensor(1, rows);
        long bytes = 2L * rows * cols;
        for (int i = 0; i < Math.max(200, ws.size()) && (i < ws.size() || bytes < (64 << 20)); i++) {
            b.kernels().matmul(x, ws.get(i % ws.size()), null, out); // compile, and touch every copy
        }
        double[] gbs = new double[runs];
        double[] reads = new double[runs];
        double[] ratio = new double[runs];
        for (int run = 0; run < runs; run++) {
            reads[run] = readPass(b, bytes * ws.size());
            long t0 = System.nanoTime();
            for (Weight w : ws) {
                b.kernels().matmul(x, w, null, out);
            }
            gbs[run] = (double) bytes * ws.size() / (System.nanoTime() - t0);
            ratio[run] = gbs[run] / reads[run];
        }
        report(String.format("bf16 matvec 1 x [%d x %d] (%.1f MB, %d copies cycled)", rows, cols, bytes / 1e6, ws.size()), gbs,
                "GB/s");
        report("   plain vector read of as many bytes just before each run", reads, "GB/s");
        report("   matvec / read, per run", ratio, "");
    }

    private static void timeMatmulRepeated(VectorBackend b, Weight w, int n, int runs, String what) {
        HostTensor x = new HostTensor(n, w.cols());
        SplittableRandom r = new SplittableRandom(4);
        for (int i = 0; i < x.data().length; i++) {
            x.data()[i] = (float) r.nextGaussian();
        }
        HostTensor out = new HostTensor(n, w.rows());
        // about 4 GFLOP per timed run (at most 500 calls), four runs' worth of warm-up
        double flops = 2.0 * n * w.rows() * w.cols();
        int calls = (int) Math.max(20, Math.min(500, 4e9 / flops));
        for (int i = 0; i < 4 * calls; i++) {
            b.kernels().matmul(x, w, null, out);
        }
        double[] g = new double[runs];
        double[] cpu = new double[runs];
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        for (int run = 0; run < runs; run++) {
            long c0 = mx.getCurrentThreadCpuTime();
            long t0 = System.nanoTime();
            for (int i = 0; i < calls; i++) {
                b.kernels().matmul(x, w, null, out);
            }
            g[run] = calls * flops / (System.nanoTime() - t0);
            cpu[run] = calls * flops / (mx.getCurrentThreadCpuTime() - c0);
        }
        report(what, g, "GFLOP/s");
        if (b.threads() == 1) {
            report("   per CPU-second of the calling thread", cpu, "GFLOP/s");
        }
    }

    private static void timeMatmul(VectorBackend b, Weight w, int n, int runs, String what) {
        int rows = w.rows();
        int cols = w.cols();
        HostTensor x = new HostTensor(n, cols);
        SplittableRandom r = new SplittableRandom(4);
        for (int i = 0; i < x.data().length; i++) {
            x.data()[i] = (float) r.nextGaussian();
        }
        HostTensor out = new HostTensor(n, rows);
        for (int i = 0; i < 20; i++) {
            b.kernels().matmul(x, w, null, out);
        }
        double flops = 2.0 * n * rows * cols;
        double[] g = new double[runs];
        double[] cpu = new double[runs];
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        for (int run = 0; run < runs; run++) {
            long c0 = mx.getCurrentThreadCpuTime();
            long t0 = System.nanoTime();
            b.kernels().matmul(x, w, null, out);
            g[run] = flops / (System.nanoTime() - t0);
            cpu[run] = flops / (mx.getCurrentThreadCpuTime() - c0);
        }
        report(what, g, "GFLOP/s");
        if (b.threads() == 1) {
            report("   per CPU-second of the calling thread", cpu, "GFLOP/s");
        }
    }

    /** A 1 MB matrix (L2-resident) repeated: the kernel's compute speed in bytes of bf16 per second. */
    private static void cacheResident(Arena arena, VectorBackend b, int runs) {
        int rows = 256;
        int cols = 2048;
        Weight w = b.loadWeight(HostWeight.dense("w", Shape.matrix(rows, cols), WeightFormats.bf16(),
                randomBf16(arena, (long) rows * cols, 9)));
        HostTensor x = new HostTensor(1, cols);
        HostTensor out = new HostTensor(1, rows);
        for (int i = 0; i < 20000; i++) {
            b.kernels().matmul(x, w, null, out);
        }
        double[] g = new double[runs];
        for (int run = 0; run < runs; run++) {
            long t0 = System.nanoTime();
            for (int i = 0; i < Integer.getInteger("vb.warm", 2000); i++) {
                b.kernels().matmul(x, w, null, out);
            }
            g[run] = 2000.0 * 2 * rows * cols / (System.nanoTime() - t0);
        }
        report("bf16 matvec 1 x [256 x 2048] (1 MB, L2-resident), repeated", g, "GB/s");
        MemorySegment s = arena.allocate(1 << 20, 64);
        for (int run = 0; run < runs; run++) {
            long t0 = System.nanoTime();
            for (int i = 0; i < Integer.getInteger("vb.warm", 2000); i++) {
                SINK[0] += sum(s, 0, 1 << 20);
            }
            g[run] = 2000.0 * (1 << 20) / (System.nanoTime() - t0);
        }
        report("plain vector read of 1 MB (L2-resident), repeated", g, "GB/s");
    }

    /** A plain vector sum over {@code bytes} of the 1.5 GB off-heap buffer on the backend's pool: the read limit now. */
    /**
     * The faster of two plain reads of {@code bytes} over the worker pool: each unit as one sequential stream, and as
     * four (its quarters at once, {@link VectorStreamsMemoryReader}), the pattern decode reads its weights in.
     */
    private static double readPass(VectorBackend b, long bytes) {
        return Math.max(readPass(b, bytes, false), readPass(b, bytes, true));
    }

    private static double readPass(VectorBackend b, long bytes, boolean fourStreams) {
        MemorySegment s = readBuffer;
        long len = Math.min(bytes, s.byteSize());
        int units = (int) Math.max(b.threads() * 8L, len / (4 << 20));
        long per = len / units / 256 * 256;
        WorkerPool.Task task = fourStreams
                ? (u, worker) -> SINK[worker * 16 % 64] += STREAMS.read(s, u * per, u * per + per)
                : (u, worker) -> SINK[worker * 16 % 64] += sum(s, u * per, per);
        long t0 = System.nanoTime();
        b.pool().run(task, units);
        return (double) per * units / (System.nanoTime() - t0);
    }

    private static float sum(MemorySegment s, long from, long len) {
        FloatVector a0 = FloatVector.zero(Simd.F);
        FloatVector a1 = a0;
        FloatVector a2 = a0;
        FloatVector a3 = a0;
        int step = Simd.F.vectorByteSize();
        for (long o = from, end = from + len; o <= end - 4L * step; o += 4L * step) {
            a0 = a0.add(FloatVector.fromMemorySegment(Simd.F, s, o, Simd.LE));
            a1 = a1.add(FloatVector.fromMemorySegment(Simd.F, s, o + step, Simd.LE));
            a2 = a2.add(FloatVector.fromMemorySegment(Simd.F, s, o + 2L * step, Simd.LE));
            a3 = a3.add(FloatVector.fromMemorySegment(Simd.F, s, o + 3L * step, Simd.LE));
        }
        return a0.add(a1).add(a2).add(a3).reduceLanes(VectorOperators.ADD);
    }

    /** Best, median and worst of {@code v}: for times ({@code us}) the best is the lowest, for rates the highest. */
    private static void report(String what, double[] v, String unit) {
        double[] s = v.clone();
        Arrays.sort(s);
        boolean time = unit.equals("us");
        double best = time ? s[0] : s[s.length - 1];
        double worst = time ? s[s.length - 1] : s[0];
        System.out.printf("%-72s best %7.2f  median %7.2f  worst %7.2f %s (%d runs)%n", what, best, s[s.length / 2],
                worst, unit, s.length);
    }
}
