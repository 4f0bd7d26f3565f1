package dev.rg.backend.vector;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.rg.api.backend.BackendOptions;
import dev.rg.api.format.WeightFormat;
import dev.rg.api.format.WeightFormats;
import dev.rg.api.tensor.HostTensor;
import dev.rg.api.tensor.HostWeight;
import dev.rg.api.tensor.Shape;
import dev.rg.api.tensor.Weight;
import dev.rg.conformance.CheckResult;
import dev.rg.conformance.Tolerance;
import dev.rg.core.reference.ReferenceKernels;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Zero-copy loading from mapped files at arbitrary offsets, format validation, confined segments, long offsets. */
class WeightLoadingTest {
    private final ReferenceKernels ref = new ReferenceKernels();

    private static void check(String what, float[] got, float[] want) {
        CheckResult r = Tolerance.KERNEL.compare(what, got, want, want.length);
        assertTrue(r.passed(), r.toString());
    }

    @Test
    void bf16IsReadInPlaceFromAMappedFileAtAnOddOffset(@TempDir Path dir) throws IOException {
        int rows = 45;
        int cols = 77;
        long offset = 6; // not a multiple of 4 or of a vector: every weight load is unaligned
        Path file = dir.resolve("w.bin");
        try (Arena tmp = Arena.ofConfined()) {
            TestWeights t = new TestWeights(tmp, 3);
            HostWeight src = t.random("src", WeightFormats.bf16(), 0.2, rows, cols);
            byte[] bytes = new byte[(int) (offset + src.byteSize() + 10)];
            MemorySegment.copy(src.part(WeightFormat.DATA), ValueLayout.JAVA_BYTE, 0, bytes, (int) offset, (int) src.byteSize());
            Files.write(file, bytes);
        }
        try (Arena arena = Arena.ofShared();
                FileChannel ch = FileChannel.open(file, StandardOpenOption.READ);
                VectorBackend b = new VectorBackend(new BackendOptions(2, Map.of("chunk-kb", "0")))) {
            MemorySegment mapped = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena);
            MemorySegment slice = mapped.asSlice(offset, 2L * rows * cols);
            HostWeight w = HostWeight.dense("mapped", Shape.matrix(rows, cols), WeightFormats.bf16(), slice);
            VectorWeight vw = (VectorWeight) b.loadWeight(w);
            assertEquals(slice.address(), vw.data().address(), "the loaded weight reads the mapped bytes, no copy");
            assertEquals(slice.byteSize(), vw.data().byteSize());
            TestWeights t = new TestWeights(arena, 4);
            for (int n : new int[] {1, 6}) {
                HostTensor x = t.tensor(n, cols, 1.0);
                HostTensor got = new HostTensor(n, rows);
                HostTensor want = new HostTensor(n, rows);
                b.kernels().matmul(x, vw, null, got);
                ref.matmul(x, w, null, want);
                check("mapped bf16 matmul n=" + n, got.data(), want.data());
            }
            int[] ids = {44, 0, 13};
            HostTensor got = new HostTensor(3, cols);
            HostTensor want = new HostTensor(3, cols);
            b.kernels().embed(ids, vw, 2f, got);
            ref.embed(ids, w, 2f, want);
            check("mapped bf16 embed", got.data(), want.data());
        }
    }

    @Test
    void aConfinedSegmentIsCopiedOnceSoThatWorkersCanReadIt() {
        try (Arena confined = Arena.ofConfined();
                VectorBackend b = new VectorBackend(new BackendOptions(3, Map.of("chunk-kb", "0")))) {
            TestWeights t = new TestWeights(confined, 5);
            HostWeight w = t.random("w", WeightFormats.bf16(), 0.1, 64, 96);
            VectorWeight vw = (VectorWeight) b.loadWeight(w);
            assertNotEquals(w.part(WeightFormat.DATA).address(), vw.data().address());
            HostTensor x = t.tensor(3, 96, 1.0);
            HostTensor got = new HostTensor(3, 64);
            HostTensor want = new HostTensor(3, 64);
            b.kernels().matmul(x, vw, null, got);
            ref.matmul(x, w, null, want);
            check("confined bf16 matmul", got.data(), want.data());
        }
    }

    @Test
    void aLayoutWithoutAKernelIsRejectedWhateverTheFormatIsCalled() {
        // int8 with blocks of 64 and f32 scales: a variant rg-quant defines for its measurements but does not register
        dev.rg.api.format.FormatLayout b64 = new dev.rg.api.format.FormatLayout(8, 64,
                dev.rg.api.format.FormatLayout.ElementEncoding.INT8_SYMMETRIC,
                dev.rg.api.format.FormatLayout.Packing.ONE_PER_ELEMENT_LITTLE_ENDIAN,
                dev.rg.api.format.FormatLayout.ScaleType.F32, "scale", false, false, java.util.List.of("data", "scale"), null);
        WeightFormat unknown = new LaidOutAs(b64, "int8-b64-f32");
        try (Arena arena = Arena.ofConfined(); VectorBackend b = new VectorBackend(new BackendOptions(1, Map.of()))) {
            HostWeight w = new HostWeight("layer.weight", Shape.matrix(8, 64), unknown,
                    Map.of(WeightFormat.DATA, arena.allocate(512)), Map.of());
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> b.loadWeight(w));
            assertTrue(e.getMessage().contains("layer.weight") && e.getMessage().contains("int8-b64-f32")
                    && e.getMessage().contains("blocks of 32") && e.getMessage().contains("bf16")
                    && e.getMessage().contains("nf4"), e.getMessage());
            // the name of a format with a kernel does not make its layout readable: the layout decides
            HostWeight impostor = new HostWeight("named.int8", Shape.matrix(8, 64), new LaidOutAs(b64, "int8"),
                    Map.of(WeightFormat.DATA, arena.allocate(512)), Map.of());
            e = assertThrows(IllegalArgumentException.class, () -> b.loadWeight(impostor));
            assertTrue(e.getMessage().contains("named.int8") && e.getMessage().contains("blocks of 32"), e.getMessage());
            assertFalse(VectorBackendProvider.CAPABILITIES.weightFormats().contains("int8-b64-f32"));
            assertTrue(VectorBackendProvider.CAPABILITIES.weightFormats().containsAll(
                    java.util.List.of("f32", "bf16", "f16", "int8", "nf4", "nf4-dq", "fp4", "fp4-dq")));
        }
    }

    /** A format that only describes a layout, under a chosen name. */
    private record LaidOutAs(dev.rg.api.format.FormatLayout layout, String name) implements WeightFormat {
        @Override
        public void validate(HostWeight w) {}

        @Override
        public void dequantizeRow(HostWeight w, long row, float[] dst, int offset) {}

        @Override
        public HostWeight quantize(String n, Shape shape, dev.rg.api.format.RowSource source, Arena arena) {
            throw new UnsupportedOperationException();
        }

        @Override
        public long byteSize(Shape shape) {
            return shape.elementCount();
        }
    }

    /**
     * Quantised weights are read in place too: int8 data and scales, 4-bit codes and absmax keep their addresses;
     * a double-quantised weight keeps its codes and gets its effective absmax computed once at load (4 bytes per
     * 64 weights), and then runs like the single-quantised format.
     */
    @Test
    void quantizedWeightsAreReadInPlaceAndDoubleQuantizationIsResolvedAtLoad() {
        try (Arena arena = Arena.ofShared(); VectorBackend b = new VectorBackend(new BackendOptions(2, Map.of("chunk-kb", "0")))) {
            TestWeights t = new TestWeights(arena, 12);
            for (String name : new String[] {"int8", "nf4", "fp4", "nf4-dq", "fp4-dq"}) {
                HostWeight w = t.random("w." + name, WeightFormats.byName(name), 0.1, 40, 320);
                VectorWeight vw = (VectorWeight) b.loadWeight(w);
                assertEquals(name, vw.format().name(), "the loaded weight keeps its format");
                assertEquals(w.part(WeightFormat.DATA).address(), vw.data().address(), name + " codes read in place");
                if (name.endsWith("-dq")) {
                    assertEquals(4L * (40 * 320 / 64), vw.scales().byteSize(), "one f32 absmax per block");
                    float[] eff = dev.rg.quant.FourBitFormat.effectiveAbsmax(w);
                    for (int i = 0; i < eff.length; i++) {
                        assertEquals(Float.floatToRawIntBits(eff[i]),
                                Float.floatToRawIntBits(vw.scales().get(DenseWeights.F32_LE, 4L * i)));
                    }
                } else {
                    String scales = name.equals("int8") ? dev.rg.quant.Int8Format.SCALE : dev.rg.quant.FourBitFormat.ABSMAX;
                    assertEquals(w.part(scales).address(), vw.scales().address(), name + " scales read in place");
                }
                assertEquals(vw.data().byteSize() + vw.scales().byteSize(), vw.byteSize(), "bytes the kernels read");
                for (int n : new int[] {1, 6}) {
                    HostTensor x = t.tensor(n, 320, 1.0);
                    HostTensor got = new HostTensor(n, 40);
                    HostTensor want = new HostTensor(n, 40);
                    b.kernels().matmul(x, vw, null, got);
                    ref.matmul(x, w, null, want);
                    check(name + " matmul n=" + n, got.data(), want.data());
                }
            }
        }
    }

    @Test
    void aMalformedWeightIsRejected() {
        try (Arena arena = Arena.ofConfined(); VectorBackend b = new VectorBackend(new BackendOptions(1, Map.of()))) {
            HostWeight w = HostWeight.dense("short", Shape.matrix(4, 4), WeightFormats.bf16(), arena.allocate(30));
            RuntimeException e = assertThrows(RuntimeException.class, () -> b.loadWeight(w));
            assertTrue(e.getMessage().contains("short"), e.getMessage());
        }
    }

    /**
     * A bf16 table of 2.1 GB (more than 2^31 bytes) in a sparse file: only its last rows hold data, so the test
     * touches a few pages. Rows past the 2 GB mark must be found by the long offset arithmetic.
     */
    @Test
    void offsetsPastTwoGigabytesAreLong(@TempDir Path dir) throws IOException {
        int cols = 4096;
        int rows = 262_400; // 2 * 4096 * 262400 = 2.149e9 bytes > 2^31
        long bytes = 2L * cols * rows;
        assertTrue(bytes > Integer.MAX_VALUE);
        Path file = dir.resolve("big.bin");
        int tail = 8;
        float[] expected = new float[tail * cols];
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.setLength(bytes);
            ByteBuffer buf = ByteBuffer.allocate(tail * cols * 2).order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < tail * cols; i++) {
                short bf = dev.rg.api.format.Floats.floatToBf16((float) Math.sin(i * 0.37));
                buf.putShort(bf);
                expected[i] = dev.rg.api.format.Floats.bf16ToFloat(bf);
            }
            buf.flip();
            raf.getChannel().write(buf, bytes - (long) tail * cols * 2);
        } catch (IOException e) {
            assumeTrue(false, "cannot create a sparse 2 GB file here: " + e);
        }
        try (Arena arena = Arena.ofShared();
                FileChannel ch = FileChannel.open(file, StandardOpenOption.READ);
                VectorBackend b = new VectorBackend(new BackendOptions(2, Map.of()))) {
            MemorySegment mapped = ch.map(FileChannel.MapMode.READ_ONLY, 0, bytes, arena);
            HostWeight w = HostWeight.dense("big", Shape.matrix(rows, cols), WeightFormats.bf16(), mapped);
            VectorWeight vw = (VectorWeight) b.loadWeight(w);
            int[] ids = {rows - 1, rows - tail};
            HostTensor got = new HostTensor(2, cols);
            b.kernels().embed(ids, vw, 1f, got);
            for (int c = 0; c < cols; c++) {
                assertEquals(expected[(tail - 1) * cols + c], got.data()[c]);
                assertEquals(expected[c], got.data()[cols + c]);
            }
            // the matmul kernel on the last rows only (a full pass would read 2 GB)
            float[] x = new float[cols];
            for (int c = 0; c < cols; c++) {
                x[c] = (float) Math.cos(c);
            }
            float[] out = new float[rows];
            RowDot dot = vw.dot();
            float[] xp = dot.prepare(x, 1, cols, new float[dot.preparedSize(1, cols)]);
            dot.dot(vw, xp, 1, rows - tail, rows, out, new float[dot.scratchSize(cols)], null);
            for (int r = 0; r < tail; r++) {
                double want = 0;
                for (int c = 0; c < cols; c++) {
                    want += (double) x[c] * expected[r * cols + c];
                }
                assertEquals(want, out[rows - tail + r], 1e-3, "row " + (rows - tail + r));
            }
        }
    }
}
