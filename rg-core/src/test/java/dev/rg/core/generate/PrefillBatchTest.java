package dev.rg.core.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rg.api.tensor.Tensor;
import dev.rg.core.TestFiles;
import dev.rg.core.model.LoadOptions;
import dev.rg.core.model.Model;
import dev.rg.core.model.ModelState;
import dev.rg.core.model.Outputs;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Prompts prefilled as rows of a {@link PrefillBatch}, joining and leaving in random order, some resumed mid-prompt
 * from a kept state, give exactly the logits and states of the same prompts prefilled alone in the same chunks.
 */
class PrefillBatchTest {

    @Test
    void rowsPrefilledTogetherMatchEachPromptPrefilledAlone() {
        try (Model m = Model.load(TestFiles.austen(), LoadOptions.defaults().withBackend("reference"))) {
            PrefillRowsCheck.run(m, new Random(1414), 11, 4);
        }
    }

    @Test
    void chunkStaysWithinTheBudgetAndTheShortestPrompt() {
        try (Model m = Model.load(TestFiles.austen(), LoadOptions.defaults().withBackend("reference"));
                PrefillBatch p = new PrefillBatch(m, 3)) {
            int bos = m.config().bosId();
            assertThrows(IllegalStateException.class, () -> p.chunk(16), "no rows");
            PrefillBatch.Row a = p.join(new int[] {bos, 400, 401, 402, 403, 404, 405, 406, 407});
            assertEquals(9, p.chunk(100), "one row: its whole prompt");
            assertEquals(4, p.chunk(4), "one row: the budget");
            p.join(new int[] {bos, 500, 501, 502, 503});
            assertEquals(5, p.chunk(100), "the shortest prompt bounds the chunk");
            assertEquals(3, p.chunk(7), "the budget is shared by the rows");
            assertEquals(1, p.chunk(1), "at least one token per row");
            assertThrows(IllegalArgumentException.class, () -> p.advance(6), "past the shortest prompt");
            p.advance(5);
            assertEquals(4, a.remaining());
            assertThrows(IllegalArgumentException.class, () -> p.join(new int[0]), "empty prompt");
            assertThrows(IllegalStateException.class, () -> p.handOver(a, new BatchDecoder(m, 1)), "not done");
            p.join(new int[] {bos});
            assertThrows(IllegalStateException.class, () -> p.join(new int[] {bos}), "full");
        }
    }

    /**
     * Marks ({@link PrefillBatch.Row#stopAt}) stop every row's round at the marked position, once; the state copied
     * out there is the state of the prompt's prefix prefilled alone.
     */
    @Test
    void roundsStopAtAMarkWhereTheStateIsThePrefixs() {
        try (Model m = Model.load(TestFiles.austen(), LoadOptions.defaults().withBackend("reference"));
                PrefillBatch p = new PrefillBatch(m, 2)) {
            int bos = m.config().bosId();
            int[] marked = {bos, 400, 401, 402, 403, 404, 405, 406, 407, 408, 409};
            PrefillBatch.Row a = p.join(marked);
            PrefillBatch.Row b = p.join(new int[] {bos, 500, 501, 502, 503, 504, 505, 506, 507, 508, 509, 510});
            a.stopAt(12, 0, 6, 3, 6); // outside (0, length) dropped, sorted, once each
            assertEquals(3, p.chunk(100), "both rows stop at a's first mark");
            p.advance(3);
            assertTrue(a.atMark() && !b.atMark());
            a.passMark();
            assertEquals(3, p.chunk(100), "to the next mark");
            p.advance(2); // a chunk that stops short of it
            assertTrue(!a.atMark());
            assertEquals(1, p.chunk(100));
            p.advance(1);
            assertTrue(a.atMark());
            try (ModelState copy = m.newState(1); ModelState alone = m.newState(1)) {
                p.copyOut(a, copy, 0);
                m.griffin().forward(alone, Arrays.copyOf(marked, 6), 6, Outputs.LAST);
                PrefillRowsCheck.assertStatesEqual(m, alone, copy, "the prefix of 6 tokens");
            }
            a.passMark();
            assertEquals(5, p.chunk(100), "no marks left: the shortest prompt");
            p.advance(2);
            a.stopAt(9); // a later mark
            assertEquals(1, p.chunk(100));
            p.advance(1);
            assertTrue(a.atMark());
            assertEquals(2, p.chunk(100), "a mark that is not passed is gone through");
            p.advance(2);
            assertTrue(a.done() && !a.atMark());
        }
    }

    /**
     * A row handed to the decoder before its prompt is fed (one fresh, one part-way) and fed the rest one token per
     * step beside another sequence: the step after its last prompt token gives the logits of the prompt prefilled alone,
     * bit for bit on the reference backend.
     */
    @Test
    void aRowHandedOverUnfinishedFinishesItsPromptThroughDecodeSteps() {
        try (Model m = Model.load(TestFiles.austen(), LoadOptions.defaults().withBackend("reference"));
                PrefillBatch p = new PrefillBatch(m, 3);
                BatchDecoder d = new BatchDecoder(m, 3)) {
            int bos = m.config().bosId();
            int vocab = m.config().vocabSize();
            int[] fresh = {bos, 611, 37, 1204, 88};
            int[] partWay = {bos, 905, 12, 3310, 47, 520, 61};
            int[] other = {bos, 700, 701};
            PrefillBatch.Row b = p.join(partWay);
            PrefillBatch.Row c = p.join(other);
            p.advance(3); // b: 3 of 7 tokens in; c: done
            PrefillBatch.Row a = p.join(fresh);
            BatchDecoder.Slot sc = p.handOver(c, d);
            int[] restB = b.remainingTokens();
            int[] restA = a.remainingTokens();
            assertArrayEquals(Arrays.copyOfRange(partWay, 3, 7), restB);
            assertArrayEquals(fresh, restA);
            BatchDecoder.Slot sb = p.handOverUnfinished(b, d);
            BatchDecoder.Slot sa = p.handOverUnfinished(a, d);
            assertEquals(0, p.size());
            assertEquals(3, sb.position());
            assertEquals(0, sa.position());
            float[] wantA = soloLogits(m, fresh);
            float[] wantB = soloLogits(m, partWay);
            int checked = 0;
            for (int step = 0; step < restA.length; step++) {
                sc.next(702 + step);
                if (step < restB.length) {
                    sb.next(restB[step]);
                } else {
                    sb.next(800 + step);
                }
                sa.next(restA[step]);
                float[] logits = d.step();
                if (step == restB.length - 1) {
                    assertArrayEquals(wantB, Arrays.copyOfRange(logits, sb.row() * vocab, (sb.row() + 1) * vocab), "part-way prompt");
                    checked++;
                }
                if (step == restA.length - 1) {
                    assertArrayEquals(wantA, Arrays.copyOfRange(logits, sa.row() * vocab, (sa.row() + 1) * vocab), "fresh prompt");
                    checked++;
                }
            }
            assertEquals(2, checked);
        }
    }

    /**
     * A prompt's prefilled row forked twice into the decoder and then handed over: the three members continue from the
     * same state, so fed the same token they give the same logits, and fed different tokens each gives that prompt plus
     * its token decoded alone, bit for bit on the reference backend. Forking an unfinished row is refused.
     */
    @Test
    void aForkedRowDecodesLikeThePromptDecodedAlone() {
        try (Model m = Model.load(TestFiles.austen(), LoadOptions.defaults().withBackend("reference"));
                PrefillBatch p = new PrefillBatch(m, 2);
                BatchDecoder d = new BatchDecoder(m, 3)) {
            int bos = m.config().bosId();
            int vocab = m.config().vocabSize();
            int[] prompt = {bos, 1207, 33, 905, 71, 3402};
            PrefillBatch.Row row = p.join(prompt);
            PrefillBatch.Row longer = p.join(new int[] {bos, 5, 6, 7, 8, 9, 10, 11});
            p.advance(6);
            assertThrows(IllegalStateException.class, () -> p.fork(longer, d), "not done");
            BatchDecoder.Slot first = p.fork(row, d);
            BatchDecoder.Slot second = p.fork(row, d);
            BatchDecoder.Slot third = p.handOver(row, d);
            assertEquals(1, p.size(), "forking keeps the row; handing over removes it");
            assertEquals(prompt.length, second.position());
            int[] next = {618, 618, 2950};
            first.next(next[0]);
            second.next(next[1]);
            third.next(next[2]);
            float[] logits = d.step();
            BatchDecoder.Slot[] slots = {first, second, third};
            for (int i = 0; i < 3; i++) {
                int[] alone = Arrays.copyOf(prompt, prompt.length + 1);
                alone[prompt.length] = next[i];
                assertArrayEquals(soloLogits(m, alone),
                        Arrays.copyOfRange(logits, slots[i].row() * vocab, (slots[i].row() + 1) * vocab), "member " + i);
            }
        }
    }

    private static float[] soloLogits(Model m, int[] prompt) {
        float[] out = new float[m.config().vocabSize()];
        try (ModelState st = m.newState(1)) {
            m.backend().download(m.griffin().forward(st, prompt, prompt.length, Outputs.LAST), out);
        }
        return out;
    }

    /** The check itself. */
    static final class PrefillRowsCheck {
        private PrefillRowsCheck() {}

        /**
         * {@code n} random prompts through a batch of {@code capacity} rows: each round a random budget, a random
         * number of joins (a third resume from a solo state fed part of the prompt), one advance, then the finished
         * rows are handed to a decoder (or dropped) in random order. Every prompt is shadowed by a solo state fed the
         * same chunks: each advance's logits row and every member's state must equal the shadow's bit for bit.
         */
        static void run(Model m, Random rnd, int n, int capacity) {
            int vocab = m.config().vocabSize();
            int[][] prompts = new int[n][];
            for (int i = 0; i < n; i++) {
                prompts[i] = new int[1 + rnd.nextInt(30)];
                prompts[i][0] = m.config().bosId();
                for (int t = 1; t < prompts[i].length; t++) {
                    prompts[i][t] = 200 + rnd.nextInt(vocab - 200);
                }
            }
            PrefillBatch.Row[] rows = new PrefillBatch.Row[n];
            ModelState[] solo = new ModelState[n];
            int[] fed = new int[n];
            int nextToJoin = 0;
            int resumed = 0;
            int largest = 0;
            int moves = 0;
            float[] soloLogits = new float[vocab];
            try (PrefillBatch p = new PrefillBatch(m, capacity); BatchDecoder d = new BatchDecoder(m, n)) {
                for (int round = 0; round < 500 && (nextToJoin < n || p.size() > 0); round++) {
                    while (nextToJoin < n && p.hasRoom() && rnd.nextInt(4) > 0) {
                        int i = nextToJoin++;
                        solo[i] = m.newState(1);
                        if (prompts[i].length > 1 && rnd.nextInt(3) == 0) {
                            // a kept state covers a prefix: the row starts mid-prompt from a copy of it
                            fed[i] = 1 + rnd.nextInt(prompts[i].length - 1);
                            m.griffin().forward(solo[i], Arrays.copyOf(prompts[i], fed[i]), fed[i], Outputs.NONE);
                            rows[i] = p.join(Arrays.copyOfRange(prompts[i], fed[i], prompts[i].length), solo[i], 0);
                            resumed++;
                        } else {
                            rows[i] = p.join(prompts[i]);
                        }
                        assertMembersMatchSolo(m, p, rows, solo);
                    }
                    if (p.size() == 0) {
                        continue;
                    }
                    largest = Math.max(largest, p.size());
                    int c = p.chunk(1 + rnd.nextInt(24));
                    Tensor logits = p.advance(c);
                    float[] got = new float[p.size() * vocab];
                    m.backend().download(logits, got);
                    for (int i = 0; i < n; i++) {
                        if (rows[i] == null || rows[i].left()) {
                            continue;
                        }
                        int[] chunk = Arrays.copyOfRange(prompts[i], fed[i], fed[i] + c);
                        fed[i] += c;
                        m.backend().download(m.griffin().forward(solo[i], chunk, c, Outputs.LAST), soloLogits);
                        assertArrayEquals(soloLogits, Arrays.copyOfRange(got, rows[i].row() * vocab, (rows[i].row() + 1) * vocab),
                                "logits of prompt " + i + " after " + fed[i] + " tokens, " + p.size() + " rows of " + c);
                    }
                    assertMembersMatchSolo(m, p, rows, solo);
                    List<Integer> order = new ArrayList<>();
                    for (int i = 0; i < n; i++) {
                        order.add(i);
                    }
                    Collections.shuffle(order, rnd);
                    for (int i : order) {
                        if (rows[i] != null && !rows[i].left() && rows[i].done()) {
                            moves += rows[i].row() != p.size() - 1 ? 1 : 0;
                            if (rnd.nextInt(4) > 0) {
                                BatchDecoder.Slot s = p.handOver(rows[i], d);
                                try (ModelState copy = m.newState(1)) {
                                    d.copyOut(s, copy, 0);
                                    assertStatesEqual(m, solo[i], copy, "prompt " + i + " handed to the decoder");
                                }
                                d.leave(s);
                            } else {
                                p.leave(rows[i]); // cancelled
                            }
                            assertEquals(prompts[i].length, fed[i]);
                            solo[i].close();
                            assertMembersMatchSolo(m, p, rows, solo);
                        }
                    }
                }
            }
            assertEquals(n, nextToJoin, "every prompt was prefilled");
            assertTrue(largest > 1, "prompts were prefilled together");
            assertTrue(resumed > 0, "some prompts resumed mid-way");
            assertTrue(moves > 0, "some row left from a row other than the last");
        }

        private static void assertMembersMatchSolo(Model m, PrefillBatch p, PrefillBatch.Row[] rows, ModelState[] solo) {
            for (int i = 0; i < rows.length; i++) {
                if (rows[i] == null || rows[i].left()) {
                    continue;
                }
                try (ModelState copy = m.newState(1)) {
                    p.copyOut(rows[i], copy, 0);
                    assertStatesEqual(m, solo[i], copy, "prompt " + i);
                }
            }
        }

        private static void assertStatesEqual(Model m, ModelState expected, ModelState actual, String what) {
            assertEquals(expected.position(0), actual.position(0), "position of " + what);
            List<Tensor> mine = actual.all();
            List<Tensor> theirs = expected.all();
            for (int t = 0; t < mine.size(); t++) {
                float[] a = new float[Math.toIntExact(mine.get(t).size())];
                float[] b = new float[a.length];
                m.backend().download(mine.get(t), a);
                m.backend().download(theirs.get(t), b);
                assertArrayEquals(b, a, "state tensor " + t + " of " + what);
            }
        }
    }
}
