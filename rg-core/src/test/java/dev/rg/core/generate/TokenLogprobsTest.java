package dev.rg.core.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Comparator;
import java.util.Random;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** Log-probabilities of a logit row against a direct computation in double, on random rows with ties. */
class TokenLogprobsTest {
    @Test
    void matchesLogSoftmaxInDoubleAndOrdersTheTopLikeTopK() {
        Random r = new Random(20261206);
        for (int trial = 0; trial < 50; trial++) {
            int vocab = 1 + r.nextInt(3000);
            int offset = r.nextInt(5);
            float[] row = new float[offset + vocab + 3];
            for (int i = 0; i < row.length; i++) {
                // coarse values make ties; a large shift checks that the maximum is subtracted first
                row[i] = (r.nextInt(400) - 200) / 8f + (trial % 2 == 0 ? 0f : 3000f);
            }
            int token = r.nextInt(vocab);
            int top = r.nextInt(TokenLogprobs.MAX_TOP + 1);
            TokenLogprobs t = TokenLogprobs.of(row, offset, vocab, token, top);

            double max = Double.NEGATIVE_INFINITY;
            for (int i = 0; i < vocab; i++) {
                max = Math.max(max, row[offset + i]);
            }
            double sum = 0;
            for (int i = 0; i < vocab; i++) {
                sum += Math.exp(row[offset + i] - max);
            }
            double lse = max + Math.log(sum);
            String where = "trial " + trial;
            assertEquals(row[offset + token] - lse, t.logprob(), 1e-5, where);
            int[] expected = IntStream.range(0, vocab).boxed()
                    .sorted(Comparator.comparingDouble((Integer i) -> -row[offset + i]).thenComparingInt(i -> i))
                    .limit(top).mapToInt(Integer::intValue).toArray();
            assertArrayEquals(expected, t.topIds(), where + ": most likely first, lowest id first on ties");
            for (int i = 0; i < expected.length; i++) {
                assertEquals(row[offset + expected[i]] - lse, t.topLogprobs()[i], 1e-5, where);
            }
        }
    }

    @Test
    void refusesATokenOutsideTheRowAndTooManyAlternatives() {
        float[] row = {0.3f, -1.2f, 2.5f, 0.7f, 1.1f, -0.4f, 3.3f, 0.05f, -2.2f, 1.9f};
        assertThrows(IllegalArgumentException.class, () -> TokenLogprobs.of(row, 0, 10, 10, 1));
        assertThrows(IllegalArgumentException.class, () -> TokenLogprobs.of(row, 0, 10, -1, 1));
        assertThrows(IllegalArgumentException.class, () -> TokenLogprobs.of(row, 0, 10, 3, TokenLogprobs.MAX_TOP + 1));
        assertEquals(3, TokenLogprobs.of(row, 0, 3, 1, 20).topIds().length, "no more alternatives than tokens");
    }
}
