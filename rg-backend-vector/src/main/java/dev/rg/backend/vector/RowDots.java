package dev.rg.backend.vector;

import dev.rg.api.format.FormatLayout;
import dev.rg.api.format.WeightFormat;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The {@link RowDot} of a weight, chosen by an exhaustive {@code switch} over its format's element encoding
 * ({@link VectorFormats} has already said the layout is one the kernels read). Adding an encoding means one more
 * {@link RowDot} class and one more case here.
 *
 * <p>The 4-bit encodings have three kernels per code book (taken from the layout): on 512-bit shapes, for weights whose
 * rows are whole 128-element chunks, a decode kernel that reads codes as 32-bit words ({@link Nf4WordRowDot}, which
 * hands batches and prefill to the next); the vectorised one for weights whose rows are whole 64-blocks; the general
 * one for any other shape ({@link Nf4RowDot}). Double-quantised weights are
 * converted to single quantisation at load ({@link VectorBackend#loadWeight}), so they run the same kernels.
 */
final class RowDots {
    private RowDots() {}

    private static final F32RowDot F32 = new F32RowDot();
    private static final Bf16RowDot BF16 = new Bf16RowDot();
    /** The kernel of bf16 matrices repacked into panels at load ({@link VectorBackend#loadWeight}). */
    static final Bf16PanelDot BF16_PANELS = new Bf16PanelDot();
    private static final F16RowDot F16 = new F16RowDot();
    private static final Int8RowDot INT8 = new Int8RowDot();
    /** The 4-bit kernels (32-bit words, vectorised, general) of each code book seen. */
    private static final Map<List<Float>, RowDot[]> FOUR_BIT = new ConcurrentHashMap<>();

    /** The kernel of {@code format} for a weight of {@code cols} columns. */
    static RowDot forWeight(WeightFormat format, int cols) {
        FormatLayout l = format.layout();
        return switch (l.elementEncoding()) {
            case F32 -> F32;
            case BF16 -> BF16;
            case F16 -> F16;
            case INT8_SYMMETRIC -> INT8;
            case CODE_BOOK_4BIT -> {
                float[] book = l.codeBook();
                RowDot[] kernels = FOUR_BIT.computeIfAbsent(boxed(book), k -> {
                    Nf4RowDot vectorised = Nf4RowDot.vectorised(book);
                    return new RowDot[] {new Nf4WordRowDot(book, vectorised), vectorised, Nf4RowDot.general(book)};
                });
                yield Nf4WordRowDot.applies(cols) ? kernels[0] : Nf4RowDot.vectorisable(cols) ? kernels[1] : kernels[2];
            }
        };
    }

    private static List<Float> boxed(float[] book) {
        Float[] b = new Float[book.length];
        Arrays.setAll(b, i -> book[i]);
        return List.of(b);
    }
}
