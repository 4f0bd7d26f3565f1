package dev.rg.api.format;

/**
 * The one set of numeric codes that kernels use for an element encoding, as compile-time constants (TornadoVM
 * kernels and {@code switch} labels need constants; the CUDA C header {@code rg_port.h} repeats them as
 * {@code RG_FMT_*}, and a test of the cuda backend checks that the two agree). {@link FormatLayout.ElementEncoding#code()}
 * maps an encoding to its code.
 *
 * <p>Codes below {@link #FIRST_BACKEND_CODE} are reserved for encodings of the SPI; a backend that needs private
 * storage variants (tornado keeps small f32 weights in a separate array) numbers them from there.
 */
public final class FormatCodes {
    private FormatCodes() {}

    /** {@link FormatLayout.ElementEncoding#F32}. */
    public static final int F32 = 0;
    /** {@link FormatLayout.ElementEncoding#BF16}. */
    public static final int BF16 = 1;
    /** {@link FormatLayout.ElementEncoding#F16}. */
    public static final int F16 = 2;
    /** {@link FormatLayout.ElementEncoding#INT8_SYMMETRIC}. */
    public static final int INT8_SYMMETRIC = 3;
    /** {@link FormatLayout.ElementEncoding#CODE_BOOK_4BIT}. */
    public static final int CODE_BOOK_4BIT = 4;
    /** The first code a backend may give a storage variant of its own. */
    public static final int FIRST_BACKEND_CODE = 16;
}
