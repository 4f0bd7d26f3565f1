package dev.rg.backend.cuda.driver;

/**
 * A CUDA driver call returned something other than {@code CUDA_SUCCESS}. The message names the call, the error's
 * enum name and the driver's description, e.g. {@code cuMemAlloc_v2(1073741824 bytes) failed:
 * CUDA_ERROR_OUT_OF_MEMORY (2): out of memory}.
 */
public final class CudaException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final String call;
    private final int code;
    private final String errorName;

    public CudaException(String call, int code, String errorName, String description) {
        super(call + " failed: " + errorName + " (" + code + ")" + (description == null || description.isEmpty() ? ""
                : ": " + description) + (CuResult.isSticky(code) ? " [the CUDA context is now unusable; restart the process]"
                        : ""));
        this.call = call;
        this.code = code;
        this.errorName = errorName;
    }

    /** The driver function (with its salient arguments), e.g. {@code cuMemAlloc_v2(1024 bytes)}. */
    public String call() {
        return call;
    }

    /** The {@code CUresult} value. */
    public int code() {
        return code;
    }

    /** The enum name, e.g. {@code CUDA_ERROR_INVALID_PTX}. */
    public String errorName() {
        return errorName;
    }
}
