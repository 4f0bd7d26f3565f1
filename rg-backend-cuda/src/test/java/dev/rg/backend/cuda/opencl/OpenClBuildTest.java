package dev.rg.backend.cuda.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** The CUDA kernel sources build as OpenCL C 1.2 without a single warning, unchanged but for the inlined header. */
class OpenClBuildTest {
    @Test
    void kernelsBuildCleanlyAsOpenClC() {
        Object d = OpenClSimBackendProvider.device();
        Assumptions.assumeTrue(d instanceof OpenCl.Device, () -> "skipped: no OpenCL device (" + d + ")");
        OpenCl.Device dev = (OpenCl.Device) d;
        OpenCl cl = OpenCl.load();
        MemorySegment ctx = cl.createContext(dev.device());
        try {
            MemorySegment program = cl.buildProgram(ctx, dev.device(), KernelSource.openClProgram(), "-cl-std=CL1.2");
            assertEquals("", cl.lastBuildLog, "OpenCL build warnings");
            cl.releaseProgram(program);
        } finally {
            cl.releaseContext(ctx);
        }
        assertFalse(KernelSource.openClProgram().contains("#include \"rg_port.h\""));
    }
}
