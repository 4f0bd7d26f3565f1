package dev.rg.backend.vector;

import dev.rg.api.format.WeightFormat;
import dev.rg.api.tensor.HostWeight;
import dev.rg.api.tensor.Shape;
import dev.rg.api.tensor.Weight;
import java.lang.foreign.MemorySegment;

/**
 * A weight loaded on the vector backend: a zero-copy view of the host weight's segment (usually a slice of
 * the memory-mapped checkpoint) plus the kernel that runs its format, resolved once at load time so that a
 * kernel call looks nothing up and allocates nothing (sizes are cached: {@link HostWeight#byteSize()} iterates
 * a map).
 *
 * <p>Quantised formats also carry their second part, {@link #scales()}: the f16 block scales of {@code int8}, or
 * the f32 block absmax of the 4-bit formats (for {@code nf4-dq}/{@code fp4-dq} the effective absmax computed once
 * at load, see {@link VectorBackend#loadWeight}). {@link #byteSize()} counts the bytes the kernels read.
 */
final class VectorWeight implements Weight {
    private final HostWeight host;
    private final MemorySegment data;
    private final MemorySegment scales;
    /** bf16 matrices: the {@link Bf16Panels panel layout} the matmul kernel reads; else null. */
    private final MemorySegment panels;
    private final RowDot dot;
    private final int denseCode;
    private final int rows;
    private final int cols;
    private final long elements;
    private final long byteSize;
    /**
     * A small dense weight (norm scale, bias, conv kernel, gate bias, softplus(Λ)) as floats, converted once here: the
     * kernels copy it each call instead of converting bf16/f16 again. The conversion's Vector API code allocated when C2
     * compiled it on some profiles (48 bytes per kernel call, {@code DecodeAllocationTest}); a copy never does.
     */
    private final float[] smallFloats;
    /** Dense weights up to this many elements keep a float copy ({@link #smallFloats}). */
    static final int SMALL_ELEMENTS = 1 << 16;

    /**
     * A dense weight.
     *
     * @param host      the weight as given to {@code loadWeight} (its parts and parameters, for quantised formats)
     * @param data      the {@link WeightFormat#DATA} part the kernels read (the host's, or a shareable copy of it)
     * @param dot       the matmul/embedding kernel of the format, or null
     * @param denseCode {@link DenseWeights} format code, or -1 for a non-dense format
     */
    VectorWeight(HostWeight host, MemorySegment data, RowDot dot, int denseCode) {
        this(host, data, null, null, dot, denseCode, host.byteSize());
    }

    /**
     * A bf16 matrix with its {@link Bf16Panels panel layout}: the matmul kernel reads {@code panels}, the embedding lookup
     * and the small-weight copy read {@code data}. The kernels reach the panels only through the weight (the backend
     * frees them with the weight or when it closes, see {@link VectorBackend#loadWeight}).
     */
    static VectorWeight withPanels(HostWeight host, MemorySegment data, MemorySegment panels, RowDot dot, int denseCode) {
        return new VectorWeight(host, data, null, panels, dot, denseCode, host.byteSize());
    }

    /**
     * A weight of any format.
     *
     * @param scales   the block scales the kernel reads (quantised formats), or null
     * @param byteSize bytes the kernels read per pass over the weight
     */
    VectorWeight(HostWeight host, MemorySegment data, MemorySegment scales, RowDot dot, int denseCode, long byteSize) {
        this(host, data, scales, null, dot, denseCode, byteSize);
    }

    private VectorWeight(HostWeight host, MemorySegment data, MemorySegment scales, MemorySegment panels, RowDot dot,
            int denseCode, long byteSize) {
        this.host = host;
        this.data = data;
        this.scales = scales;
        this.panels = panels;
        this.dot = dot;
        this.denseCode = denseCode;
        Shape shape = host.shape();
        this.elements = shape.elementCount();
        this.cols = Math.toIntExact(shape.lastDim());
        this.rows = Math.toIntExact(shape.rows());
        this.byteSize = byteSize;
        if (denseCode >= 0 && elements <= SMALL_ELEMENTS) {
            smallFloats = new float[(int) elements];
            for (int i = 0; i < smallFloats.length; i++) {
                smallFloats[i] = DenseWeights.get(data, denseCode, i);
            }
        } else {
            smallFloats = null;
        }
    }

    /** The elements as floats for a small dense weight, converted at load; null for other weights. */
    float[] smallFloats() {
        return smallFloats;
    }

    HostWeight host() {
        return host;
    }

    /** The element data, little-endian. */
    MemorySegment data() {
        return data;
    }

    /** The block scales of a quantised format (little-endian), or null for a dense one. */
    MemorySegment scales() {
        return scales;
    }

    /** The {@link Bf16Panels panel layout} of a bf16 matrix, or null. */
    MemorySegment panels() {
        return panels;
    }

    /** The matmul/embedding kernel of the format. */
    RowDot dot() {
        return dot;
    }

    /** {@link DenseWeights} code, or -1. */
    int denseCode() {
        return denseCode;
    }

    long elements() {
        return elements;
    }

    @Override
    public int rows() {
        return rows;
    }

    @Override
    public int cols() {
        return cols;
    }

    @Override
    public String name() {
        return host.name();
    }

    @Override
    public Shape shape() {
        return host.shape();
    }

    @Override
    public WeightFormat format() {
        return host.format();
    }

    @Override
    public long byteSize() {
        return byteSize;
    }

    @Override
    public String toString() {
        return "VectorWeight[" + name() + " " + shape() + " " + format().name() + "]";
    }
}
