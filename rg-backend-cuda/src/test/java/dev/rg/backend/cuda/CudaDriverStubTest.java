package dev.rg.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rg.api.backend.Availability;
import dev.rg.api.backend.BackendOptions;
import dev.rg.api.backend.BackendUnavailableException;
import dev.rg.api.backend.SeqBatch;
import dev.rg.api.format.WeightFormats;
import dev.rg.api.tensor.Shape;
import dev.rg.api.tensor.Tensor;
import dev.rg.api.tensor.Weight;
import dev.rg.backend.cuda.driver.CudaDriver;
import dev.rg.backend.cuda.driver.CudaException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The FFM bindings and the probe against a stub {@code libcuda} (src/test/native/cuda_stub.c, compiled here with
 * gcc): every bound symbol resolves with the declared signature, out-parameters and error strings come back, the
 * probe's verdicts are precise, and the CUDA backend's memory path (alloc, upload, download, device copies,
 * memset, launches with their parameter blocks) works end to end except for running kernels. Skipped where no C
 * compiler is installed.
 */
class CudaDriverStubTest {
    private static final Path DIR = Path.of("target/cuda-stub").toAbsolutePath();

    @BeforeAll
    static void compileStubs() throws Exception {
        Assumptions.assumeTrue(CudaPtxToolchainTest.onPath("gcc"), "skipped: gcc not on the PATH (needed to build the stub driver)");
        Files.createDirectories(DIR);
        compile("ok");
        compile("nodevice", "-DSTUB_INIT_RESULT=100");
        compile("olddriver", "-DSTUB_DRIVER_VERSION=10020");
        compile("turing", "-DSTUB_CC_MAJOR=7", "-DSTUB_CC_MINOR=5");
        compile("zerodevices", "-DSTUB_DEVICES=0");
    }

    private static void compile(String variant, String... defines) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("gcc", "-shared", "-fPIC", "-O1", "-Wall", "-Werror"));
        cmd.addAll(List.of(defines));
        cmd.addAll(List.of("-o", lib(variant).toString(), Path.of("src/test/native/cuda_stub.c").toAbsolutePath().toString()));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        assertTrue(p.waitFor(2, TimeUnit.MINUTES));
        String out = new String(p.getInputStream().readAllBytes());
        assertEquals(0, p.exitValue(), "gcc: " + out);
    }

    private static Path lib(String variant) {
        return DIR.resolve("libcuda-stub-" + variant + ".so");
    }

    /** Runs {@code body} with the driver library property pointing at a stub variant. */
    private static <T> T with(String variant, java.util.function.Supplier<T> body) {
        String old = System.getProperty(CudaDriver.LIBRARY_PROPERTY);
        System.setProperty(CudaDriver.LIBRARY_PROPERTY, lib(variant).toString());
        try {
            return body.get();
        } finally {
            if (old == null) {
                System.clearProperty(CudaDriver.LIBRARY_PROPERTY);
            } else {
                System.setProperty(CudaDriver.LIBRARY_PROPERTY, old);
            }
        }
    }

    private static Availability probe(String variant) {
        return with(variant, () -> CudaProbe.run(0, Ptx.shipped()).availability());
    }

    @Test
    void bindingsResolveAndOutParametersComeBack() {
        CudaDriver d = with("ok", CudaDriver::load);
        d.init();
        assertEquals(12040, d.driverVersion());
        assertEquals(1, d.deviceCount());
        int dev = d.device(0);
        assertEquals("rg stub GPU", d.deviceName(dev));
        assertEquals(9, d.attribute(dev, CudaDriver.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR));
        assertEquals(80L << 30, d.totalMemory(dev));
        long p = d.allocate(64);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment src = a.allocate(64);
            for (int i = 0; i < 16; i++) {
                src.setAtIndex(ValueLayout.JAVA_INT, i, i * 3);
            }
            d.copyHtoD(p, src);
            MemorySegment dst = a.allocate(64);
            d.copyDtoH(dst, p);
            assertEquals(45, dst.getAtIndex(ValueLayout.JAVA_INT, 15));
        }
        d.free(p);
    }

    @Test
    void errorsAreTranslatedWithTheDriversNamesAndStrings() {
        CudaDriver d = with("ok", CudaDriver::load);
        d.init();
        CudaException oom = assertThrows(CudaException.class, () -> d.allocate(2L << 30));
        assertEquals("cuMemAlloc_v2(2147483648 bytes) failed: CUDA_ERROR_OUT_OF_MEMORY (2): out of memory", oom.getMessage());
        CudaException bad = assertThrows(CudaException.class, () -> d.check(218, "cuModuleLoadDataEx"));
        assertEquals("cuModuleLoadDataEx failed: CUDA_ERROR_INVALID_PTX (218): a PTX JIT compilation failed", bad.getMessage());
        CudaException unknown = assertThrows(CudaException.class, () -> d.check(801, "cuX"));
        assertEquals("cuX failed: CUDA_ERROR_NOT_SUPPORTED (801)", unknown.getMessage(), "the built-in table when the driver has no name");
        try (Arena a = Arena.ofConfined()) {
            CudaException jit = assertThrows(CudaException.class, () -> d.loadModule(a.allocateFrom("not ptx")));
            assertTrue(jit.getMessage().contains("[JIT error log: stub: not PTX]"), jit.getMessage());
        }
    }

    @Test
    void probeVerdicts() {
        Availability ok = probe("ok");
        assertTrue(ok.available(), ok.reason());
        assertEquals("rg stub GPU (device 0, sm_90, 80.0 GiB, 132 SMs), driver 12.4", ok.reason());
        assertEquals("no CUDA device (cuInit: CUDA_ERROR_NO_DEVICE)", probe("nodevice").reason());
        assertEquals("no CUDA device (the driver 12.4 sees none)", probe("zerodevices").reason());
        assertEquals("driver version 10.2 (10020) too old for PTX ISA 7.0: needs a driver for CUDA 11.0 or newer",
                probe("olddriver").reason());
        assertEquals("rg stub GPU has compute capability 7.5, below the 8.0 the kernels are built for (sm_80)",
                probe("turing").reason());
        Availability second = with("ok", () -> CudaProbe.run(3, Ptx.shipped()).availability());
        assertEquals("CUDA device 3 requested but there is 1 device (device=0..0)", second.reason());
        Availability missing = with("missing", () -> CudaProbe.run(0, Ptx.shipped()).availability());
        assertEquals(lib("missing") + " not found (no NVIDIA driver)", missing.reason());
        BackendUnavailableException e = assertThrows(BackendUnavailableException.class,
                () -> with("nodevice", () -> new CudaBackendProvider().create(new BackendOptions(1, Map.of()))));
        assertEquals("no CUDA device (cuInit: CUDA_ERROR_NO_DEVICE)", e.getMessage());
    }

    @Test
    void theBackendsMemoryPathRunsOnTheStub() throws Throwable {
        CudaBackend be = (CudaBackend) with("ok", () -> new CudaBackendProvider().create(new BackendOptions(1, Map.of("device", "0"))));
        try (Arena arena = Arena.ofConfined()) {
            assertTrue(be.device().startsWith("rg stub GPU"));
            Tensor t = be.allocate(3, 4);
            float[] zero = new float[12];
            be.download(t, zero);
            assertArrayEquals(new float[12], zero, "allocate zero-fills (cuMemsetD32)");
            float[] v = new float[12];
            for (int i = 0; i < 12; i++) {
                v[i] = i + 0.5f;
            }
            be.upload(v, t);
            be.kernels().copyRows(t, 2, t, 0, 1); // cuMemcpyDtoD
            float[] back = new float[12];
            be.download(t, back);
            assertEquals(8.5f, back[0]);
            assertEquals(11.5f, back[3]);
            Weight w = be.loadWeight(WeightFormats.bf16().quantize("w", Shape.matrix(5, 4), (r, d) -> {}, arena));
            Tensor y = be.allocate(3, 5);
            long before = launches();
            be.kernels().matmul(t, w, null, y);
            be.kernels().rope(t, new SeqBatch(3, 1, new int[] {0, 1, 2}), 1, 4, 4, 10000f);
            assertEquals(before + 2, launches());
            assertEquals("rg_rope", lastKernel());
            assertEquals(0.25f, be.timeMillis(() -> be.kernels().fill(y, 1f)));
            assertEquals("rg_fill", lastKernel());
            long[] mem = be.memoryInfo();
            assertEquals(80L << 30, mem[1]);
            assertThrows(CudaException.class, () -> be.allocate(1 << 16, 1 << 14), "2^32 bytes: out of memory");
        } finally {
            be.close();
        }
        assertEquals(0L, liveAllocations(), "close() frees every device buffer");
    }

    private static MethodHandle stubFn(String name, FunctionDescriptor fd) {
        SymbolLookup l = SymbolLookup.libraryLookup(lib("ok"), Arena.global());
        return Linker.nativeLinker().downcallHandle(l.find(name).orElseThrow(), fd);
    }

    private static long launches() throws Throwable {
        return (long) stubFn("rgstub_launches", FunctionDescriptor.of(ValueLayout.JAVA_LONG)).invokeExact();
    }

    private static long liveAllocations() throws Throwable {
        return (long) stubFn("rgstub_live_allocations", FunctionDescriptor.of(ValueLayout.JAVA_LONG)).invokeExact();
    }

    private static String lastKernel() throws Throwable {
        MemorySegment s = (MemorySegment) stubFn("rgstub_last_kernel", FunctionDescriptor.of(ValueLayout.ADDRESS)).invokeExact();
        return s.reinterpret(128).getString(0);
    }

    @Test
    void unusedVariantsStayUnavailable() {
        assertFalse(probe("turing").available());
    }
}
