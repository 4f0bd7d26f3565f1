package dev.rg.core.generate;

/**
 * How the next token is chosen. Applied in Hugging Face's order: repetition penalty, temperature, top-k,
 * top-p, min-p. {@code temperature == 0} means greedy (argmax on the backend; the other settings are then
 * irrelevant). The same seed and settings give the same tokens.
 *
 * @param temperature       0 for greedy, else &gt; 0 (at most 100)
 * @param topK              keep the k most likely tokens (0 = off)
 * @param topP              keep the smallest set with cumulative probability &gt;= p (1 = off), in (0, 1]
 * @param minP              drop tokens below minP x the top probability (0 = off), in [0, 1)
 * @param repetitionPenalty divide positive / multiply negative logits of tokens already seen (1 = off), in (0, 100]
 * @param seed              random seed
 */
public record SamplingParams(float temperature, int topK, float topP, float minP, float repetitionPenalty, long seed) {
    public SamplingParams {
        check(Float.isFinite(temperature) && temperature >= 0 && temperature <= 100, "temperature", temperature,
                "0 (greedy) or a positive number up to 100");
        check(topK >= 0, "top-k", topK, ">= 0 (0 turns it off)");
        check(topP > 0 && topP <= 1, "top-p", topP, "in (0, 1] (1 turns it off)");
        check(minP >= 0 && minP < 1, "min-p", minP, "in [0, 1) (0 turns it off)");
        check(repetitionPenalty > 0 && repetitionPenalty <= 100, "repetition penalty", repetitionPenalty,
                "in (0, 100] (1 turns it off)");
    }

    private static void check(boolean ok, String name, Object value, String expected) {
        if (!ok) {
            throw new IllegalArgumentException(name + " must be " + expected + ", got " + value);
        }
    }

    /** Greedy decoding. */
    public static SamplingParams greedy() {
        return new SamplingParams(0, 0, 1, 0, 1, 0);
    }

    /** Whether this is greedy decoding. */
    public boolean isGreedy() {
        return temperature == 0 && repetitionPenalty == 1;
    }
}
