package dev.rg.core.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rg.core.TestFiles;
import dev.rg.core.model.LoadOptions;
import dev.rg.core.model.Model;
import dev.rg.core.model.ModelState;
import dev.rg.core.model.Outputs;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Sequences that join and leave a {@link BatchDecoder} at different steps decode exactly as they do alone. */
class BatchDecoderTest {
    private static final int TOKENS = 12;

    @Test
    void joiningAndLeavingAtDifferentStepsMatchesDecodingAlone() {
        try (Model m = Model.load(TestFiles.austen(), LoadOptions.defaults().withBackend("reference"))) {
            Random rnd = new Random(14);
            int vocab = m.config().vocabSize();
            int n = 5;
            int[][] prompts = new int[n][];
            int[] lengths = new int[n];
            int[] joinAt = new int[n];
            for (int i = 0; i < n; i++) {
                prompts[i] = new int[3 + rnd.nextInt(20)];
                prompts[i][0] = m.config().bosId();
                for (int t = 1; t < prompts[i].length; t++) {
                    prompts[i][t] = 200 + rnd.nextInt(vocab - 200);
                }
                lengths[i] = 3 + rnd.nextInt(TOKENS - 2);
                joinAt[i] = i == 0 ? 0 : rnd.nextInt(10);
            }
            int[][] alone = new int[n][];
            for (int i = 0; i < n; i++) {
                alone[i] = greedyAlone(m, prompts[i], lengths[i]);
            }

            int[][] got = new int[n][];
            int[] count = new int[n];
            BatchDecoder.Slot[] slots = new BatchDecoder.Slot[n];
            float[] row = new float[vocab];
            int maxBatch = 0;
            try (BatchDecoder d = new BatchDecoder(m, 4)) {
                for (int step = 0; step < 100 && !allDone(count, lengths); step++) {
                    for (int i = 0; i < n; i++) {
                        if (slots[i] == null && joinAt[i] <= step && d.hasRoom()) {
                            ModelState s = prefill(m, prompts[i], row);
                            got[i] = new int[lengths[i]];
                            got[i][count[i]++] = argmax(row, 0, vocab);
                            slots[i] = d.join(s);
                            slots[i].next(got[i][0]);
                        }
                    }
                    for (int i = 0; i < n; i++) {
                        if (slots[i] != null && !slots[i].left() && count[i] == lengths[i]) {
                            d.leave(slots[i]);
                        }
                    }
                    if (d.size() == 0) {
                        continue;
                    }
                    maxBatch = Math.max(maxBatch, d.size());
                    float[] logits = d.step();
                    for (int i = 0; i < n; i++) {
                        BatchDecoder.Slot s = slots[i];
                        if (s != null && !s.left()) {
                            int tok = argmax(logits, s.row() * vocab, vocab);
                            got[i][count[i]++] = tok;
                            s.next(tok);
                            assertEquals(prompts[i].length + count[i] - 1, s.position());
                        }
                    }
                }
            }
            for (int i = 0; i < n; i++) {
                assertArrayEquals(alone[i], got[i], "sequence " + i + " (joined at step " + joinAt[i] + ")");
            }
            assertTrue(maxBatch > 1, "sequences were decoded together");
        }
    }

    /**
     * Slot reuse: many more sequences than rows pass through a small decoder, leaving from any row (the last
     * member moves into the freed row) and joining the freed rows. Each member is shadowed by a solo state fed the
     * same tokens; after every join and leave, every member's state in the batch equals its solo state exactly
     * (nobody else's state is disturbed by a move), and every sequence's text equals its solo text.
     */
    @Test
    void rowsFreedByLeavingAreReusedWithoutDisturbingTheOthers() {
        try (Model m = Model.load(TestFiles.austen(), LoadOptions.defaults().withBackend("reference"))) {
            Random rnd = new Random(1414);
            int vocab = m.config().vocabSize();
            int n = 9;
            int capacity = 3;
            float[] row = new float[vocab];
            int[][] prompts = new int[n][];
            int[] lengths = new int[n];
            int[][] alone = new int[n][];
            for (int i = 0; i < n; i++) {
                prompts[i] = new int[2 + rnd.nextInt(12)];
                prompts[i][0] = m.config().bosId();
                for (int t = 1; t < prompts[i].length; t++) {
                    prompts[i][t] = 200 + rnd.nextInt(vocab - 200);
                }
                lengths[i] = 2 + rnd.nextInt(10);
                alone[i] = greedyAlone(m, prompts[i], lengths[i]);
            }
            int[][] got = new int[n][];
            int[] count = new int[n];
            BatchDecoder.Slot[] slots = new BatchDecoder.Slot[n];
            ModelState[] solo = new ModelState[n];
            int nextToJoin = 0;
            int moves = 0;
            try (BatchDecoder d = new BatchDecoder(m, capacity)) {
                for (int step = 0; step < 200 && (nextToJoin < n || d.size() > 0); step++) {
                    // leave in random order (so rows other than the last are freed), then fill the free rows
                    List<Integer> order = new ArrayList<>();
                    for (int i = 0; i < n; i++) {
                        order.add(i);
                    }
                    java.util.Collections.shuffle(order, rnd);
                    for (int i : order) {
                        if (slots[i] != null && !slots[i].left() && count[i] == lengths[i]) {
                            moves += slots[i].row() != d.size() - 1 ? 1 : 0;
                            d.leave(slots[i]);
                            solo[i].close();
                            assertMembersMatchSolo(m, d, slots, solo);
                        }
                    }
                    while (nextToJoin < n && d.hasRoom() && rnd.nextInt(3) > 0) {
                        int i = nextToJoin++;
                        solo[i] = prefill(m, prompts[i], row);
                        ModelState s = m.newState(1);
                        s.copySequence(solo[i], 0, 0);
                        got[i] = new int[lengths[i]];
                        got[i][count[i]++] = argmax(row, 0, vocab);
                        slots[i] = d.join(s);
                        slots[i].next(got[i][0]);
                        assertMembersMatchSolo(m, d, slots, solo);
                    }
                    if (d.size() == 0) {
                        continue;
                    }
                    int[] fed = new int[n];
                    for (int i = 0; i < n; i++) {
                        if (slots[i] != null && !slots[i].left()) {
                            fed[i] = got[i][count[i] - 1];
                        }
                    }
                    float[] logits = d.step();
                    for (int i = 0; i < n; i++) {
                        BatchDecoder.Slot s = slots[i];
                        if (s != null && !s.left()) {
                            m.griffin().forward(solo[i], new int[] {fed[i]}, 1, Outputs.NONE);
                            int tok = argmax(logits, s.row() * vocab, vocab); // a finished one leaves before the next step
                            got[i][count[i]++] = tok;
                            s.next(tok);
                        }
                    }
                    assertMembersMatchSolo(m, d, slots, solo);
                }
            }
            for (int i = 0; i < n; i++) {
                assertArrayEquals(alone[i], got[i], "sequence " + i);
            }
            assertTrue(moves > 0, "some sequence left from a row other than the last");
        }
    }

    /** Every member's state in the decoder equals, tensor by tensor, its solo state. */
    private static void assertMembersMatchSolo(Model m, BatchDecoder d, BatchDecoder.Slot[] slots, ModelState[] solo) {
        for (int i = 0; i < slots.length; i++) {
            if (slots[i] == null || slots[i].left()) {
                continue;
            }
            try (ModelState copy = m.newState(1)) {
                d.copyOut(slots[i], copy, 0);
                assertEquals(solo[i].position(0), copy.position(0), "position of sequence " + i);
                List<dev.rg.api.tensor.Tensor> mine = copy.all();
                List<dev.rg.api.tensor.Tensor> theirs = solo[i].all();
                for (int t = 0; t < mine.size(); t++) {
                    float[] a = new float[Math.toIntExact(mine.get(t).size())];
                    float[] b = new float[a.length];
                    m.backend().download(mine.get(t), a);
                    m.backend().download(theirs.get(t), b);
                    assertArrayEquals(b, a, "state tensor " + t + " of sequence " + i);
                }
            }
        }
    }

    @Test
    void copyOutGivesTheMembersStateAndFullOrMisuseIsRefused() {
        try (Model m = Model.load(TestFiles.austen(), LoadOptions.defaults().withBackend("reference"));
                BatchDecoder d = new BatchDecoder(m, 1)) {
            int vocab = m.config().vocabSize();
            float[] row = new float[vocab];
            int[] prompt = {m.config().bosId(), 400, 512, 777};
            BatchDecoder.Slot s = d.join(prefill(m, prompt, row));
            assertThrows(IllegalStateException.class, () -> d.join(m.newState(1)), "full");
            assertThrows(IllegalStateException.class, d::step, "no next token");
            int first = argmax(row, 0, vocab);
            s.next(first);
            float[] logits = d.step();
            try (ModelState copy = m.newState(1)) {
                d.copyOut(s, copy, 0);
                assertEquals(prompt.length + 1, copy.position(0));
                int second = argmax(logits, s.row() * vocab, vocab);
                m.backend().download(m.griffin().forward(copy, new int[] {second}, 1, Outputs.LAST), row);
                int[] expected = greedyAlone(m, prompt, 3);
                assertEquals(expected[1], second);
                assertEquals(expected[2], argmax(row, 0, vocab), "decoding continues from the copied state");
            }
            d.leave(s);
            assertEquals(0, d.size());
            assertThrows(IllegalStateException.class, () -> d.copyOut(s, m.newState(1), 0));
        }
    }

    private static ModelState prefill(Model m, int[] prompt, float[] row) {
        ModelState s = m.newState(1);
        int chunk = 5;
        for (int off = 0; off < prompt.length; off += chunk) {
            int len = Math.min(chunk, prompt.length - off);
            var out = m.griffin().forward(s, Arrays.copyOfRange(prompt, off, off + len), len, Outputs.LAST);
            m.backend().download(out, row);
        }
        return s;
    }

    private static int[] greedyAlone(Model m, int[] prompt, int tokens) {
        int vocab = m.config().vocabSize();
        float[] row = new float[vocab];
        List<Integer> out = new ArrayList<>();
        try (ModelState s = m.newState(1)) {
            m.backend().download(m.griffin().forward(s, prompt, prompt.length, Outputs.LAST), row);
            for (int i = 0; i < tokens; i++) {
                int t = argmax(row, 0, vocab);
                out.add(t);
                m.backend().download(m.griffin().forward(s, new int[] {t}, 1, Outputs.LAST), row);
            }
        }
        return out.stream().mapToInt(Integer::intValue).toArray();
    }

    private static boolean allDone(int[] count, int[] lengths) {
        for (int i = 0; i < count.length; i++) {
            if (count[i] < lengths[i]) {
                return false;
            }
        }
        return true;
    }

    private static int argmax(float[] x, int off, int n) {
        int best = 0;
        for (int i = 1; i < n; i++) {
            if (x[off + i] > x[off + best]) {
                best = i;
            }
        }
        return best;
    }
}
