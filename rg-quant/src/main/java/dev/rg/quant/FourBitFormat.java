package dev.rg.quant;

import dev.rg.api.format.FormatLayout;
import dev.rg.api.format.InvalidWeightException;
import dev.rg.api.format.NestedScales;
import dev.rg.api.format.RowSource;
import dev.rg.api.format.WeightFormat;
import dev.rg.api.tensor.HostWeight;
import dev.rg.api.tensor.Shape;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.Map;

/**
 * The bitsandbytes 4-bit formats, byte for byte as bitsandbytes stores them, so a checkpoint's tensors are used
 * without copying. There are four: {@code nf4}, {@code fp4} (one float32 absmax per block) and {@code nf4-dq},
 * {@code fp4-dq} (double quantisation: the absmax values are themselves 8-bit codes).
 *
 * <h2>Layout</h2>
 * Let n be the element count of the weight and nb = ceil(n / 64).
 * <ul>
 *   <li>{@code data}: ceil(n/2) bytes of packed codes over the <em>flattened</em> row-major tensor. Element i
 *       is in byte i/2: an even i in the <b>high</b> nibble, an odd i in the low nibble. If n is odd, the last
 *       low nibble is padding and never read.</li>
 *   <li>{@code absmax}: per block of 64 consecutive elements of the flattened tensor (the last block may be
 *       partial); blocks cross row ends when the row length is not a multiple of 64. Single quantisation: nb
 *       float32. Double quantisation: nb unsigned bytes, codes into {@code nested_quant_map}.</li>
 *   <li>double quantisation only: {@code nested_absmax}, ceil(nb/256) float32, one per 256 blocks;
 *       {@code nested_quant_map}, 256 float32 (bitsandbytes' dynamic map); and the parameter {@code offset}
 *       (a float32 value held in a double).</li>
 * </ul>
 *
 * <h2>Reference dequantisation (bit-exact with bitsandbytes)</h2>
 * <pre>
 *   single: absmax_eff[b] = absmax[b]
 *   double: absmax_eff[b] = f32(f32(nested_quant_map[absmax[b]] * nested_absmax[b / 256]) + offset)
 *           (two roundings, no FMA)
 *   w[i] = f32(codeBook[code(i)] * absmax_eff[i / 64])
 * </pre>
 * This is bitsandbytes' {@code dequantize_4bit} in float32, before it casts to the checkpoint's dtype. The code
 * book is fixed by the format ({@link FourBitCodeBook}): bitsandbytes ignores the {@code quant_map} tensor when
 * dequantising, so it is not a part; the checkpoint adapter checks that it holds the expected table.
 *
 * <p>A backend needs a single kernel for all four formats: {@link #toSingleQuantized} turns a double-quantised
 * weight into the equivalent single-quantised one (same {@code data}, float32 absmax), which dequantises to
 * identical bits.
 */
public abstract sealed class FourBitFormat implements WeightFormat
        permits Nf4Format, Nf4DqFormat, Fp4Format, Fp4DqFormat {

    /** Elements per block sharing one absmax (bitsandbytes' {@code blocksize}, the transformers default). */
    public static final int BLOCK_SIZE = 64;
    /** Blocks per nested block of double quantisation (bitsandbytes' {@code nested_blocksize}). */
    public static final int NESTED_BLOCK_SIZE = NestedScales.NESTED_BLOCK_SIZE;
    /** Part: the per-block absmax (float32, or u8 codes with double quantisation). */
    public static final String ABSMAX = "absmax";
    /** Part: float32 absmax of each nested block of (absmax - offset). */
    public static final String NESTED_ABSMAX = NestedScales.NESTED_ABSMAX;
    /** Part: the 256 float32 entries that the u8 absmax codes index. */
    public static final String NESTED_QUANT_MAP = NestedScales.NESTED_QUANT_MAP;
    /** Parameter: the float32 mean subtracted from the absmax values before their 8-bit quantisation. */
    public static final String OFFSET = NestedScales.OFFSET;

    private final FourBitCodeBook codeBook;
    private final boolean doubleQuantized;
    private final FormatLayout layout;

    FourBitFormat(FourBitCodeBook codeBook, boolean doubleQuantized) {
        this.codeBook = codeBook;
        this.doubleQuantized = doubleQuantized;
        List<String> parts = doubleQuantized ? List.of(DATA, ABSMAX, NESTED_ABSMAX, NESTED_QUANT_MAP)
                : List.of(DATA, ABSMAX);
        this.layout = new FormatLayout(4, BLOCK_SIZE, FormatLayout.ElementEncoding.CODE_BOOK_4BIT,
                FormatLayout.Packing.TWO_PER_BYTE_HIGH_NIBBLE_FIRST,
                doubleQuantized ? FormatLayout.ScaleType.U8_NESTED : FormatLayout.ScaleType.F32, ABSMAX,
                doubleQuantized, true, parts, codeBook.toArray());
    }

    @Override
    public String name() {
        return codeBook.quantType() + (doubleQuantized ? "-dq" : "");
    }

    /** The code book that gives the 4-bit codes their values. */
    public FourBitCodeBook codeBook() {
        return codeBook;
    }

    /** Whether the block absmax values are stored as nested 8-bit codes. */
    public boolean isDoubleQuantized() {
        return doubleQuantized;
    }

    @Override
    public FormatLayout layout() {
        return layout;
    }

    /** Bytes of packed codes for n elements: ceil(n/2). */
    public static long packedBytes(long n) {
        return (n + 1) / 2;
    }

    /** Number of 64-element blocks for n elements: ceil(n/64). */
    public static long blockCount(long n) {
        return (n + BLOCK_SIZE - 1) / BLOCK_SIZE;
    }

    /** Number of nested 256-block groups for nb blocks: ceil(nb/256). */
    public static long nestedBlockCount(long blocks) {
        return (blocks + NESTED_BLOCK_SIZE - 1) / NESTED_BLOCK_SIZE;
    }

    /** The 4-bit code of element {@code index} of the flattened tensor (even index: high nibble). */
    public static int code(MemorySegment data, long index) {
        int b = data.get(Le.I8, index >>> 1) & 0xFF;
        return (index & 1) == 0 ? b >>> 4 : b & 0x0F;
    }

    @Override
    public long byteSize(Shape shape) {
        long n = shape.elementCount();
        long nb = blockCount(n);
        return doubleQuantized ? packedBytes(n) + nb + nestedBlockCount(nb) * 4 + 256 * 4
                : packedBytes(n) + nb * 4;
    }

    @Override
    public void validate(HostWeight w) {
        FourBitValidation.validate(this, w);
    }

    @Override
    public void dequantizeRow(HostWeight w, long row, float[] dst, int offset) {
        int cols = Math.toIntExact(w.shape().lastDim());
        MemorySegment data = w.part(DATA);
        float[] table = codeBook.table();
        long start = row * cols;
        long block = -1;
        float absmax = 0;
        for (int c = 0; c < cols; c++) {
            long i = start + c;
            long b = i / BLOCK_SIZE;
            if (b != block) { // a row may begin or end inside a block
                block = b;
                absmax = blockAbsmax(w, b);
            }
            dst[offset + c] = table[code(data, i)] * absmax;
        }
    }

    /** The effective float32 absmax of block {@code b}: double quantisation as the SPI defines it ({@link NestedScales}). */
    private float blockAbsmax(HostWeight w, long b) {
        return doubleQuantized ? NestedScales.scale(w, b) : w.part(ABSMAX).get(Le.F32, b * 4);
    }

    /**
     * The effective float32 absmax of every block of a weight in a 4-bit format: the {@code absmax} part for a
     * single-quantised weight, or for a double-quantised one
     * {@code f32(f32(nested_quant_map[code] * nested_absmax[b / 256]) + offset)}, exactly as bitsandbytes.
     *
     * @throws IllegalArgumentException if {@code w} is not in a 4-bit format
     */
    public static float[] effectiveAbsmax(HostWeight w) {
        FourBitFormat f = of(w);
        int nb = Math.toIntExact(blockCount(w.shape().elementCount()));
        if (f.doubleQuantized) {
            return NestedScales.resolve(w, nb);
        }
        float[] out = new float[nb];
        for (int b = 0; b < nb; b++) {
            out[b] = f.blockAbsmax(w, b);
        }
        return out;
    }

    /**
     * The single-quantised equivalent of a 4-bit weight: for {@code nf4-dq} an {@code nf4} weight (for
     * {@code fp4-dq} an {@code fp4} one) sharing the {@code data} part, with the {@link #effectiveAbsmax}
     * allocated in {@code arena}. It dequantises to the same bits, so a backend needs only the single-quantised
     * kernel. A single-quantised weight is returned as it is.
     *
     * @throws IllegalArgumentException if {@code w} is not in a 4-bit format
     */
    public static HostWeight toSingleQuantized(HostWeight w, Arena arena) {
        FourBitFormat f = of(w);
        if (!f.doubleQuantized) {
            return w;
        }
        float[] absmax = effectiveAbsmax(w);
        MemorySegment seg = arena.allocate(absmax.length * 4L, 64);
        for (int b = 0; b < absmax.length; b++) {
            seg.set(Le.F32, b * 4L, absmax[b]);
        }
        FourBitFormat single = f.codeBook == FourBitCodeBook.NF4 ? new Nf4Format() : new Fp4Format();
        return new HostWeight(w.name(), w.shape(), single, Map.of(DATA, w.part(DATA), ABSMAX, seg), Map.of());
    }

    private static FourBitFormat of(HostWeight w) {
        if (w.format() instanceof FourBitFormat f) {
            return f;
        }
        throw new IllegalArgumentException("weight '" + w.name() + "' is in format " + w.format().name()
                + ", not a 4-bit format (nf4, nf4-dq, fp4, fp4-dq)");
    }

    /**
     * Quantises as bitsandbytes' {@code quantize_4bit} does, bit for bit: absmax per 64-block of the flattened
     * tensor, {@code x * f32(1/absmax)}, the code by {@link FourBitCodeBook#quantize}; then, for the
     * double-quantised formats, the absmax values as its {@code compress_statistics} does (offset = mean,
     * nearest entry of the dynamic map per 256-block). bitsandbytes quantises what it is given: transformers
     * casts to {@code torch_dtype} (float16) first, so feed float16-rounded values to reproduce a checkpoint.
     *
     * @throws InvalidWeightException naming the element if a value is not finite
     */
    @Override
    public HostWeight quantize(String name, Shape shape, RowSource source, Arena arena) {
        return FourBitQuantizer.quantize(this, name, shape, source, arena);
    }

    /** Formats are equal when they have the same name (every instance of a class behaves identically). */
    @Override
    public boolean equals(Object o) {
        return o != null && o.getClass() == getClass();
    }

    @Override
    public int hashCode() {
        return name().hashCode();
    }

    @Override
    public String toString() {
        return name();
    }
}
