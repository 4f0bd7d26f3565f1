package dev.rg.quant;

import dev.rg.api.format.InvalidWeightException;
import dev.rg.api.format.RowSource;
import dev.rg.api.format.WeightFormat;
import dev.rg.api.tensor.HostWeight;
import dev.rg.api.tensor.Shape;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Map;

/**
 * Float32 to the bitsandbytes 4-bit formats, reproducing {@code bitsandbytes.functional.quantize_4bit} (and for
 * the double-quantised formats its {@code compress_statistics} step) bit for bit:
 * <ol>
 *   <li>absmax of each 64-element block of the flattened tensor (a partial last block uses its own);</li>
 *   <li>{@code scaled = x * f32(1 / absmax)}: a multiply by the float32 reciprocal, not a division;</li>
 *   <li>the code by {@link FourBitCodeBook#quantize} (bitsandbytes clamps to [-1, 1] first, which cannot
 *       change the code);</li>
 *   <li>double quantisation: {@code offset = mean(absmax)} (summed in double, rounded to float32),
 *       {@code nested_absmax} = max |absmax - offset| per 256 blocks, and each code the nearest entry of the
 *       dynamic map to {@code (absmax - offset) * f32(1 / nested_absmax)}.</li>
 * </ol>
 * bitsandbytes quantises what it is given: transformers casts the weights to {@code torch_dtype} (float16)
 * first, so to reproduce a checkpoint feed float16-rounded values. An all-zero 64-block scales to
 * {@code 0 * (1/0) = NaN}, which gives code 0 as in bitsandbytes (so it decodes to -0.0 with NF4). One case is
 * defined here rather than copied: a nested group whose absmax values all equal the offset (for instance a
 * weight of a single block) gets the dynamic map's zero code, where bitsandbytes would divide by zero. The
 * offset's last bit may differ from torch's float32 {@code mean()} reduction; it is stored, so dequantisation is
 * unaffected.
 */
final class FourBitQuantizer {
    private FourBitQuantizer() {}

    static HostWeight quantize(FourBitFormat f, String name, Shape shape, RowSource source, Arena arena) {
        long n = shape.elementCount();
        int cols = Math.toIntExact(shape.lastDim());
        long rows = shape.rows();
        int nb = Math.toIntExact(FourBitFormat.blockCount(n));
        MemorySegment data = arena.allocate(FourBitFormat.packedBytes(n), 64); // zeroed: padding nibble is 0
        float[] absmax = new float[nb];
        float[] block = new float[FourBitFormat.BLOCK_SIZE];
        float[] row = new float[cols];
        int fill = 0;
        int b = 0;
        for (long r = 0; r < rows; r++) {
            source.row(r, row);
            for (int c = 0; c < cols; c++) {
                float x = row[c];
                if (!Float.isFinite(x)) {
                    throw new InvalidWeightException("cannot quantise weight '" + name + "' " + shape + " to "
                            + f.name() + ": element [" + r + ", " + c + "] is " + x);
                }
                block[fill++] = x;
                if (fill == block.length) { // blocks run over the flattened tensor, across row ends
                    absmax[b] = encodeBlock(f.codeBook(), block, fill, (long) b * block.length, data);
                    b++;
                    fill = 0;
                }
            }
        }
        if (fill > 0) {
            absmax[b] = encodeBlock(f.codeBook(), block, fill, (long) b * block.length, data);
        }
        return f.isDoubleQuantized() ? doubleQuantize(f, name, shape, data, absmax, arena)
                : new HostWeight(name, shape, f, Map.of(WeightFormat.DATA, data,
                        FourBitFormat.ABSMAX, floats(absmax, arena)), Map.of());
    }

    /** Packs the codes of one block starting at flattened index {@code first}; returns its absmax. */
    private static float encodeBlock(FourBitCodeBook cb, float[] block, int len, long first, MemorySegment data) {
        float amax = 0;
        for (int j = 0; j < len; j++) {
            amax = Math.max(amax, Math.abs(block[j]));
        }
        float inv = 1.0f / amax;
        // blocks start at even flattened indices (64 each), so code pairs fill whole bytes, the even one high
        int j = 0;
        for (; j + 1 < len; j += 2) {
            int hi = cb.quantize(block[j] * inv);
            int lo = cb.quantize(block[j + 1] * inv);
            data.set(Le.I8, (first + j) >>> 1, (byte) (hi << 4 | lo));
        }
        if (j < len) { // the tensor's odd last element: the low nibble stays the zero of the padding
            data.set(Le.I8, (first + j) >>> 1, (byte) (cb.quantize(block[j] * inv) << 4));
        }
        return amax;
    }

    private static HostWeight doubleQuantize(FourBitFormat f, String name, Shape shape, MemorySegment data,
            float[] absmax, Arena arena) {
        int nb = absmax.length;
        double sum = 0;
        for (float a : absmax) {
            sum += a;
        }
        float offset = nb == 0 ? 0f : (float) (sum / nb);
        int groups = Math.toIntExact(FourBitFormat.nestedBlockCount(nb));
        float[] nested = new float[groups];
        MemorySegment codes = arena.allocate(nb, 64);
        for (int g = 0; g < groups; g++) {
            int from = g * FourBitFormat.NESTED_BLOCK_SIZE;
            int to = Math.min(nb, from + FourBitFormat.NESTED_BLOCK_SIZE);
            float amax = 0;
            for (int b = from; b < to; b++) {
                amax = Math.max(amax, Math.abs(absmax[b] - offset));
            }
            nested[g] = amax;
            float inv = 1.0f / amax;
            for (int b = from; b < to; b++) {
                int q = amax == 0 ? DynamicMap.ZERO_CODE
                        : DynamicMap.nearest(Math.clamp((absmax[b] - offset) * inv, -1f, 1f));
                codes.set(Le.I8, b, (byte) q);
            }
        }
        Map<String, MemorySegment> parts = Map.of(WeightFormat.DATA, data, FourBitFormat.ABSMAX, codes,
                FourBitFormat.NESTED_ABSMAX, floats(nested, arena),
                FourBitFormat.NESTED_QUANT_MAP, floats(DynamicMap.values(), arena));
        return new HostWeight(name, shape, f, parts, Map.of(FourBitFormat.OFFSET, (double) offset));
    }

    private static MemorySegment floats(float[] values, Arena arena) {
        MemorySegment s = arena.allocate(values.length * 4L, 64);
        for (int i = 0; i < values.length; i++) {
            s.set(Le.F32, i * 4L, values[i]);
        }
        return s;
    }
}
