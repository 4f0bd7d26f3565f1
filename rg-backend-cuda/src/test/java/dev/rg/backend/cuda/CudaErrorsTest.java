package dev.rg.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rg.backend.cuda.driver.CuResult;
import dev.rg.backend.cuda.driver.CudaException;
import org.junit.jupiter.api.Test;

/** CUresult codes become exceptions that name the call and the error. */
class CudaErrorsTest {
    @Test
    void knownCodesHaveTheirEnumNames() {
        assertEquals("CUDA_SUCCESS", CuResult.name(0));
        assertEquals("CUDA_ERROR_OUT_OF_MEMORY", CuResult.name(2));
        assertEquals("CUDA_ERROR_NO_DEVICE", CuResult.name(100));
        assertEquals("CUDA_ERROR_INVALID_PTX", CuResult.name(218));
        assertEquals("CUDA_ERROR_UNSUPPORTED_PTX_VERSION", CuResult.name(222));
        assertEquals("CUDA_ERROR_ILLEGAL_ADDRESS", CuResult.name(700));
        assertEquals("CUDA_ERROR_UNKNOWN", CuResult.name(999));
        assertEquals("CUresult 12345", CuResult.name(12345));
        assertTrue(CuResult.isOutOfMemory(2));
    }

    @Test
    void messagesNameCallErrorAndDescription() {
        CudaException e = new CudaException("cuMemAlloc_v2(1024 bytes)", 2, CuResult.name(2), "out of memory");
        assertEquals("cuMemAlloc_v2(1024 bytes) failed: CUDA_ERROR_OUT_OF_MEMORY (2): out of memory", e.getMessage());
        assertEquals(2, e.code());
        assertEquals("cuMemAlloc_v2(1024 bytes)", e.call());
        CudaException sticky = new CudaException("cuStreamSynchronize", 700, CuResult.name(700), "");
        assertTrue(sticky.getMessage().startsWith("cuStreamSynchronize failed: CUDA_ERROR_ILLEGAL_ADDRESS (700)"));
        assertTrue(sticky.getMessage().endsWith("[the CUDA context is now unusable; restart the process]"));
        assertFalse(CuResult.isSticky(2));
    }
}
