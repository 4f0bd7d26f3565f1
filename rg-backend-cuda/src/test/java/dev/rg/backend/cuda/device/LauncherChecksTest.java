package dev.rg.backend.cuda.device;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rg.api.backend.AttentionSpec;
import dev.rg.api.backend.Backend;
import dev.rg.api.backend.SeqBatch;
import dev.rg.api.format.WeightFormats;
import dev.rg.api.tensor.HostWeight;
import dev.rg.api.tensor.Shape;
import dev.rg.api.tensor.Tensor;
import dev.rg.api.tensor.Weight;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Device memory is bounds-checked on the Java side: no copy or launch with wrong sizes reaches a driver. */
class LauncherChecksTest {
    private final HostLauncher l = new HostLauncher();
    private final Backend be = HostLauncher.backend(l);
    private final Arena arena = Arena.ofConfined();

    @AfterEach
    void close() {
        be.close();
        arena.close();
    }

    private HostWeight f32(String name, float[] v, long... dims) {
        return WeightFormats.f32().quantize(name, Shape.of(dims), (r, dst) -> System.arraycopy(v,
                (int) (r * dims[dims.length - 1]), dst, 0, (int) dims[dims.length - 1]), arena);
    }

    @Test
    void copiesAreBoundsChecked() {
        DeviceBuffer b = l.allocate(64);
        assertThrows(IndexOutOfBoundsException.class, () -> l.write(MemorySegment.ofArray(new byte[65]), b, 0));
        assertThrows(IndexOutOfBoundsException.class, () -> l.write(MemorySegment.ofArray(new byte[8]), b, 60));
        assertThrows(IndexOutOfBoundsException.class, () -> l.write(MemorySegment.ofArray(new byte[8]), b, -1));
        assertThrows(IndexOutOfBoundsException.class, () -> l.read(b, 57, MemorySegment.ofArray(new byte[8])));
        DeviceBuffer c = l.allocate(16);
        assertThrows(IndexOutOfBoundsException.class, () -> l.copy(b, 0, c, 0, 17));
        assertThrows(IndexOutOfBoundsException.class, () -> l.copy(b, 60, c, 0, 8));
        assertThrows(IllegalArgumentException.class, () -> l.allocate(0));
        l.free(c);
        assertThrows(IllegalStateException.class, () -> l.write(MemorySegment.ofArray(new byte[4]), c, 0));
        l.free(c); // idempotent
        HostLauncher other = new HostLauncher();
        try {
            DeviceBuffer foreign = other.allocate(16);
            assertThrows(IllegalArgumentException.class, () -> l.copy(foreign, 0, b, 0, 4));
        } finally {
            other.close();
        }
    }

    @Test
    void overlappingCopyWithinOneBufferIsAMemmove() {
        DeviceBuffer b = l.allocate(32);
        byte[] v = new byte[32];
        for (int i = 0; i < 32; i++) {
            v[i] = (byte) i;
        }
        l.write(MemorySegment.ofArray(v), b, 0);
        l.copy(b, 0, b, 8, 16);
        byte[] got = new byte[32];
        l.read(b, 0, MemorySegment.ofArray(got));
        for (int i = 0; i < 16; i++) {
            assertEquals(i, got[8 + i]);
        }
    }

    @Test
    void launchesAreCheckedAgainstTheKernelSignature() {
        DeviceBuffer b = l.allocate(64);
        Launch g = new Launch(1, 1, 256);
        assertThrows(IllegalArgumentException.class, () -> l.launch(Kernel.FILL, g, new Span(b, 64), 16L));
        assertThrows(IllegalArgumentException.class, () -> l.launch(Kernel.FILL, g, new Span(b, 64), 16, 1.0f));
        assertThrows(IllegalArgumentException.class, () -> l.launch(Kernel.FILL, g, b, 16L, 1.0f));
        assertThrows(IndexOutOfBoundsException.class, () -> l.launch(Kernel.FILL, g, new Span(b, 65), 16L, 1.0f));
        l.launch(Kernel.FILL, g, new Span(b, 64), 16L, 1.0f);
        assertEquals(1, l.launches.size());
        assertThrows(IllegalArgumentException.class, () -> new Launch(1, 1, 100));
        assertThrows(IllegalArgumentException.class, () -> new Launch(0, 1, 128));
    }

    @Test
    void shapesAreCheckedBeforeAnyLaunch() {
        Tensor x = be.allocate(2, 8);
        Tensor y = be.allocate(2, 5);
        Weight w = be.loadWeight(f32("w", new float[6 * 8], 6, 8));
        int before = l.launches.size();
        assertThrows(IllegalArgumentException.class, () -> be.kernels().matmul(x, w, null, y));
        assertThrows(IllegalArgumentException.class, () -> be.kernels().add(x, y, x));
        assertThrows(IllegalArgumentException.class, () -> be.kernels().copyRows(x, 1, x, 0, 2));
        assertThrows(IllegalArgumentException.class, () -> be.upload(new float[15], x));
        assertThrows(IllegalArgumentException.class, () -> be.download(x, new float[15]));
        assertThrows(IllegalArgumentException.class, () -> be.kernels().embed(new int[] {6}, w, 1f, be.allocate(1, 8)));
        assertThrows(IllegalArgumentException.class, () -> be.kernels().topK(x, 9, new int[18], new float[18]));
        assertThrows(IllegalArgumentException.class, () -> be.kernels().argmax(x, new int[1]));
        AttentionSpec spec = new AttentionSpec(2, 1, 4, 3);
        Tensor cache = be.allocate(1, spec.cacheCols());
        assertThrows(IllegalArgumentException.class, () -> be.kernels().localAttention(x, x, x, SeqBatch.single(0, 2), spec,
                cache, cache, x));
        assertEquals(before, l.launches.size(), "no launch may happen for a call with wrong shapes");
        Backend other = HostLauncher.backend(new HostLauncher());
        try {
            Tensor foreign = other.allocate(2, 8);
            assertThrows(IllegalArgumentException.class, () -> be.kernels().add(x, foreign, x));
        } finally {
            other.close();
        }
    }

    @Test
    void tensorsRoundTripAndCloseFreesEverything() {
        Tensor t = be.allocate(3, 5);
        float[] zeros = new float[15];
        be.download(t, zeros);
        assertArrayEquals(new float[15], zeros);
        float[] v = new float[15];
        for (int i = 0; i < 15; i++) {
            v[i] = i * 0.5f;
        }
        be.upload(v, t);
        float[] back = new float[15];
        be.download(t, back);
        assertArrayEquals(v, back);
        be.kernels().copyRows(t, 2, t, 0, 1);
        be.download(t, back);
        assertEquals(v[10], back[0]);
        t.close();
        assertThrows(IllegalStateException.class, () -> be.download(t, back));
        t.close(); // idempotent
        be.allocate(4, 4);
        be.close();
        assertEquals(0, l.liveAllocations());
        assertTrue(l.isClosed());
        assertThrows(IllegalStateException.class, () -> be.allocate(1, 1));
    }

    @Test
    void matmulPicksTheMatvecTheTensorCoresOrTheTiledKernel() {
        Weight w = be.loadWeight(WeightFormats.bf16().quantize("w", Shape.matrix(37, 64), (r, d) -> {}, arena));
        Tensor x1 = be.allocate(1, 64);
        Tensor y1 = be.allocate(1, 37);
        l.launches.clear();
        be.kernels().matmul(x1, w, null, y1);
        assertEquals(1, l.launches.size());
        HostLauncher.Recorded r = l.launches.get(0);
        assertEquals(Kernel.MATVEC_BF16, r.kernel());
        assertEquals(new Launch(5, 1, 256), r.geometry(), "8 weight rows per 256-thread block");
        Tensor x8 = be.allocate(8, 64);
        Tensor y8 = be.allocate(8, 37);
        l.launches.clear();
        be.kernels().matmul(x8, w, null, y8);
        assertEquals(1, l.launches.size(), "a batch of 8 reads the weights once");
        Tensor x12 = be.allocate(12, 64);
        Tensor y12 = be.allocate(12, 37);
        l.launches.clear();
        be.kernels().matmul(x12, w, null, y12);
        assertEquals(2, l.launches.size(), "8 activation rows per matvec pass");
        Tensor x17 = be.allocate(17, 64);
        Tensor y17 = be.allocate(17, 37);
        l.launches.clear();
        be.kernels().matmul(x17, w, null, y17);
        assertEquals(Kernel.MATMUL_MMA_BF16, l.launches.get(0).kernel(), "bf16 above 16 rows: tensor cores");
        assertEquals(new Launch(1, 1, 256), l.launches.get(0).geometry(), "128 weight rows x 64 tokens per block");
        Weight w32 = be.loadWeight(WeightFormats.f32().quantize("w32", Shape.matrix(37, 64), (rr, d) -> {}, arena));
        l.launches.clear();
        be.kernels().matmul(x17, w32, null, y17);
        assertEquals(Kernel.MATMUL_MMA_F32, l.launches.get(0).kernel(), "f32: tensor cores, split into bf16 halves");
        Weight w16 = be.loadWeight(WeightFormats.f16().quantize("w16", Shape.matrix(37, 64), (row, d) -> {
            for (int c = 0; c < d.length; c++) {
                d[c] = (float) Math.sin(row + 0.25 * c);
            }
        }, arena));
        l.launches.clear();
        be.kernels().matmul(x17, w16, null, y17);
        assertEquals(Kernel.MATMUL_MMA_F16, l.launches.get(0).kernel(), "f16: tensor cores, split into bf16 halves");
        org.junit.jupiter.api.Assumptions.assumeTrue(WeightFormats.find("int8").isPresent(), "rg-quant on the class path");
        Weight w8 = be.loadWeight(int8(37, 64, arena));
        l.launches.clear();
        be.kernels().matmul(x17, w8, null, y17);
        assertEquals(Kernel.MATMUL_MMA_I8, l.launches.get(0).kernel(), "int8 blocks of 32, K a multiple of 32: tensor cores");
        Tensor x17w = be.allocate(17, 48);
        Weight w8odd = be.loadWeight(int8(37, 48, arena));
        l.launches.clear();
        be.kernels().matmul(x17w, w8odd, null, y17);
        assertEquals(Kernel.MATMUL_TILED, l.launches.get(0).kernel(), "K not a multiple of 32: the float32 tiles");
        Weight w4 = be.loadWeight(WeightFormats.byName("nf4").quantize("w4", Shape.matrix(37, 64), (row, d) -> {
            for (int c = 0; c < d.length; c++) {
                d[c] = (float) Math.cos(row * 64 + c + 0.5);
            }
        }, arena));
        l.launches.clear();
        be.kernels().matmul(x17, w4, null, y17);
        assertEquals(Kernel.MATMUL_MMA_Q4, l.launches.get(0).kernel(), "4-bit, K whole absmax blocks: tensor cores");
    }

    @Test
    void positionsCrossOncePerStep() {
        Tensor x = be.allocate(2, 8);
        l.launches.clear();
        int w0 = l.writes;
        be.kernels().rope(x, new SeqBatch(2, 1, new int[] {3, 7}), 2, 4, 4, 10000f);
        assertEquals(w0 + 2, l.writes, "start positions and the inverse frequencies go up once");
        be.kernels().rope(x, new SeqBatch(2, 1, new int[] {3, 7}), 2, 4, 4, 10000f);
        assertEquals(w0 + 2, l.writes, "same positions, same frequencies: nothing crosses");
        be.kernels().rope(x, new SeqBatch(2, 1, new int[] {4, 8}), 2, 4, 4, 10000f);
        assertEquals(w0 + 3, l.writes, "the next step's positions");
        assertEquals(3, l.launches.size());
        assertFalse(l.isClosed());
    }

    /** An int8 weight (rg-quant) of varied, non-zero values. */
    private static dev.rg.api.tensor.HostWeight int8(int rows, int cols, java.lang.foreign.Arena arena) {
        return WeightFormats.byName("int8").quantize("w8", Shape.matrix(rows, cols), (r, d) -> {
            for (int c = 0; c < d.length; c++) {
                d[c] = (float) Math.sin(r * cols + c + 0.5);
            }
        }, arena);
    }
}
