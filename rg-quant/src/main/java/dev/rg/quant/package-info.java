/**
 * Quantised weight formats. Each has an exact scalar reference {@code dequantizeRow}, the definition that
 * every backend kernel is tested against, and a {@code quantize} from float32 rows.
 *
 * <ul>
 *   <li>{@link dev.rg.quant.Int8Format} ({@code int8}): rg's own weight-only int8 format;</li>
 *   <li>{@link dev.rg.quant.FourBitFormat} and its four concrete formats ({@code nf4}, {@code nf4-dq},
 *       {@code fp4}, {@code fp4-dq}): bitsandbytes' 4-bit formats, bit-exact with bitsandbytes;</li>
 *   <li>{@link dev.rg.quant.FourBitCodeBook}: the NF4 and FP4 code books and their rounding rules.</li>
 * </ul>
 */
package dev.rg.quant;
