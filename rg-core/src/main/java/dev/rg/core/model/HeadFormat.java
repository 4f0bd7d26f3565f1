package dev.rg.core.model;

import dev.rg.api.format.WeightFormat;
import dev.rg.api.format.WeightFormats;

/**
 * The format of the tied embedding / LM head. It is the largest single weight (2B: 256000 x 2560, 1.31 GB in
 * bf16, a third of the bytes a bf16 decode step reads) and decode reads all of it every token, so its format sets
 * much of the speed of a quantised model.
 *
 * <p>Default: when the linear layers are converted to a format of at most 8 bits per element (int8, nf4, fp4),
 * the head becomes int8, which halves its bytes at no measured cost in quality (embedded model, held-out
 * perplexity: int8 body 76.140 with a bf16 head, 76.148 with an int8 head; nf4 body 76.887 with a bf16 head, 76.894
 * with an int8 head; f32 76.190; see README "Accuracy per format"). A 4-bit head is not the default: it costs
 * NF4 2.5x the perplexity of the body alone (+2.24% vs +0.91%). Otherwise the head stays as stored.
 */
public final class HeadFormat {
    /** The {@code --head-format} value that keeps the head as stored. */
    public static final String STORED = "stored";

    private HeadFormat() {}

    /**
     * The format to convert the head to, or null to keep it as stored.
     *
     * @param body         the linear layers' target format, or null (as stored)
     * @param quantizeHead whether the head takes the body's format ({@code --quantize-head})
     * @param head         an explicit head format name, {@link #STORED}, or null for the default
     */
    public static WeightFormat resolve(WeightFormat body, boolean quantizeHead, String head) {
        if (head != null) {
            if (head.equals(STORED)) {
                return null;
            }
            WeightFormat f;
            try {
                f = WeightFormats.byName(head);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("head format: " + e.getMessage() + ", or " + STORED);
            }
            if (!f.canQuantize()) {
                throw new IllegalArgumentException("head format '" + head + "' cannot be produced by quantisation (use one of "
                        + "f32, bf16, f16, int8, nf4, fp4, or " + STORED + ")");
            }
            return f;
        }
        if (body == null) {
            return null;
        }
        if (quantizeHead) {
            return body;
        }
        // without an int8 format installed (rg-quant) there is nothing to choose: the head stays as stored
        return body.layout().bitsPerElement() <= 8 ? WeightFormats.find("int8").orElse(null) : null;
    }
}
