package dev.rg.core.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rg.api.tensor.Tensor;
import dev.rg.core.TestFiles;
import dev.rg.core.model.Griffin;
import dev.rg.core.model.LoadOptions;
import dev.rg.core.model.Model;
import dev.rg.core.model.ModelState;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * A decode step and a prefill chunk run as one pass ({@link SharedPass}) give every sequence exactly the logits and
 * the state of the two run apart, bit for bit on the reference backend: over many passes with prompts of random
 * lengths, chunks of random sizes, members joining from the prefill batch and leaving, at different positions.
 */
class SharedPassTest {

    /** One decoder and one prefill batch, driven identically by {@link #run}. */
    private record Server(BatchDecoder decoder, PrefillBatch prefills, List<BatchDecoder.Slot> slots,
            List<PrefillBatch.Row> rows) implements AutoCloseable {
        Server(Model m, int capacity) {
            this(new BatchDecoder(m, capacity), new PrefillBatch(m, capacity), new ArrayList<>(), new ArrayList<>());
        }

        @Override
        public void close() {
            decoder.close();
            prefills.close();
        }
    }

    @Test
    void aSharedPassGivesEverySequenceWhatTheTwoPassesApartGive() {
        try (Model m = Model.load(TestFiles.austen(), LoadOptions.defaults().withBackend("reference"));
                Server shared = new Server(m, 4);
                Server apart = new Server(m, 4)) {
            int vocab = m.config().vocabSize();
            Random rnd = new Random(2718);
            float[] a = new float[0];
            float[] b = new float[0];
            int sharedPasses = 0;
            for (int pass = 0; pass < 24; pass++) {
                // joins: a prompt of 1..20 tokens while there is room in both halves
                while (shared.prefills().hasRoom() && shared.rows().size() + shared.slots().size() < 4 && rnd.nextInt(3) > 0) {
                    int[] prompt = new int[1 + rnd.nextInt(20)];
                    prompt[0] = m.config().bosId();
                    for (int t = 1; t < prompt.length; t++) {
                        prompt[t] = 200 + rnd.nextInt(vocab - 200);
                    }
                    shared.rows().add(shared.prefills().join(prompt));
                    apart.rows().add(apart.prefills().join(prompt));
                }
                boolean prefilling = shared.prefills().size() > 0;
                boolean decoding = shared.decoder().size() > 0;
                if (!prefilling && !decoding) {
                    continue;
                }
                int length = prefilling ? shared.prefills().chunk(1 + rnd.nextInt(12)) : 0;
                Tensor sharedLogits;
                float[] decodeApart = null;
                float[] prefillApart = null;
                if (prefilling && decoding) {
                    sharedLogits = SharedPass.stepAndPrefill(shared.decoder(), shared.prefills(), length);
                    sharedPasses++;
                    prefillApart = download(m, apart.prefills().advance(length), b);
                    b = prefillApart;
                    decodeApart = apart.decoder().step().clone();
                } else if (prefilling) {
                    sharedLogits = shared.prefills().advance(length);
                    prefillApart = download(m, apart.prefills().advance(length), b);
                    b = prefillApart;
                } else {
                    sharedLogits = shared.decoder().stepOnBackend();
                    decodeApart = apart.decoder().step().clone();
                }
                a = download(m, sharedLogits, a);
                // every decoding member: its row, and the next token is its argmax
                for (int i = 0; i < shared.slots().size(); i++) {
                    BatchDecoder.Slot s = shared.slots().get(i);
                    BatchDecoder.Slot t = apart.slots().get(i);
                    if (s.row() < 0) {
                        continue;
                    }
                    float[] got = Arrays.copyOfRange(a, s.row() * vocab, (s.row() + 1) * vocab);
                    assertArrayEquals(Arrays.copyOfRange(decodeApart, t.row() * vocab, (t.row() + 1) * vocab), got,
                            "pass " + pass + ", decoding member " + i);
                }
                // prompts whose last token was fed: the same first logits; they join the decoders
                for (int i = shared.rows().size() - 1; i >= 0; i--) {
                    PrefillBatch.Row r = shared.rows().get(i);
                    PrefillBatch.Row q = apart.rows().get(i);
                    assertArrayEquals(Arrays.copyOfRange(prefillApart, q.row() * vocab, (q.row() + 1) * vocab),
                            Arrays.copyOfRange(a, r.row() * vocab, (r.row() + 1) * vocab), "pass " + pass + ", prompt " + i);
                    if (r.done()) {
                        shared.rows().remove(i);
                        apart.rows().remove(i);
                        shared.slots().add(shared.prefills().handOver(r, shared.decoder()));
                        apart.slots().add(apart.prefills().handOver(q, apart.decoder()));
                    }
                }
                // members: the next token (argmax of the last logits, or a fixed one for a member that just joined);
                // one in five leaves, its state first compared
                for (int i = shared.slots().size() - 1; i >= 0; i--) {
                    BatchDecoder.Slot s = shared.slots().get(i);
                    BatchDecoder.Slot t = apart.slots().get(i);
                    assertEquals(t.position(), s.position());
                    if (s.row() >= 0 && rnd.nextInt(5) == 0) {
                        assertArrayEquals(state(m, apart.decoder(), t), state(m, shared.decoder(), s), "state of member " + i);
                        shared.decoder().leave(s);
                        apart.decoder().leave(t);
                        shared.slots().remove(i);
                        apart.slots().remove(i);
                        continue;
                    }
                    int next = s.row() >= 0 ? argmax(a, s.row() * vocab, vocab) : 300 + i;
                    s.next(next);
                    t.next(next);
                }
            }
            assertTrue(sharedPasses >= 8, "the test ran " + sharedPasses + " shared passes");
            for (int i = 0; i < shared.slots().size(); i++) {
                assertArrayEquals(state(m, apart.decoder(), apart.slots().get(i)), state(m, shared.decoder(), shared.slots().get(i)));
            }
        }
    }

    @Test
    void badPassesAreRefusedBeforeAnyTokenIsConsumed() {
        try (Model m = Model.load(TestFiles.austen(), LoadOptions.defaults().withBackend("reference"));
                Model other = Model.load(TestFiles.austen(), LoadOptions.defaults().withBackend("reference"));
                Server s = new Server(m, 2);
                PrefillBatch foreign = new PrefillBatch(other, 1)) {
            int bos = m.config().bosId();
            s.prefills().join(new int[] {bos, 400, 401});
            assertThrows(IllegalStateException.class, () -> SharedPass.stepAndPrefill(s.decoder(), s.prefills(), 1),
                    "nobody decoding");
            PrefillBatch.Row r = s.prefills().join(new int[] {bos});
            s.prefills().advance(1);
            BatchDecoder.Slot slot = s.prefills().handOver(r, s.decoder());
            slot.next(500);
            assertThrows(IllegalArgumentException.class, () -> SharedPass.stepAndPrefill(s.decoder(), s.prefills(), 3),
                    "a chunk past the prompt");
            foreign.join(new int[] {bos});
            assertThrows(IllegalArgumentException.class, () -> SharedPass.stepAndPrefill(s.decoder(), foreign, 1),
                    "another model");
            assertThrows(IllegalArgumentException.class,
                    () -> SharedPass.stepAndPrefill(s.decoder(), s.prefills(), Griffin.maxRowsTogether()), "too many rows");
            assertEquals(1, slot.position(), "no refused pass consumed the member's token");
            SharedPass.stepAndPrefill(s.decoder(), s.prefills(), 2);
            assertEquals(2, slot.position());
            assertTrue(SharedPass.fits(1, 1, Griffin.maxRowsTogether() - 1));
            assertTrue(!SharedPass.fits(2, 1, Griffin.maxRowsTogether() - 1));
        }
    }

    @Test
    void forwardTogetherRefusesAStateTwiceAndIdsThatDoNotMatch() {
        try (Model m = Model.load(TestFiles.austen(), LoadOptions.defaults().withBackend("reference"));
                ModelState one = m.newState(1);
                ModelState two = m.newState(2)) {
            Griffin g = m.griffin();
            int bos = m.config().bosId();
            IllegalArgumentException twice = assertThrows(IllegalArgumentException.class, () -> g.forwardTogether(
                    List.of(new Griffin.Part(one, new int[] {bos}, 1), new Griffin.Part(one, new int[] {bos}, 1))));
            assertTrue(twice.getMessage().contains("share a state"), twice.getMessage());
            IllegalArgumentException ids = assertThrows(IllegalArgumentException.class, () -> g.forwardTogether(
                    List.of(new Griffin.Part(one, new int[] {bos}, 1), new Griffin.Part(two, new int[] {bos, 5, 6}, 1))));
            assertTrue(ids.getMessage().contains("3 token ids for 2 sequences of 1"), ids.getMessage());
            assertThrows(IllegalArgumentException.class, () -> g.forwardTogether(List.of()));
            assertEquals(0, one.position(0), "nothing advanced");
            assertEquals(0, two.position(1), "nothing advanced");
        }
    }

    private static float[] download(Model m, Tensor t, float[] reuse) {
        float[] out = reuse.length == t.size() ? reuse : new float[Math.toIntExact(t.size())];
        m.backend().download(t, out);
        return out;
    }

    private static float[] state(Model m, BatchDecoder d, BatchDecoder.Slot s) {
        try (ModelState copy = m.newState(1)) {
            d.copyOut(s, copy, 0);
            List<float[]> parts = new ArrayList<>();
            int n = 0;
            for (Tensor t : copy.all()) {
                float[] v = new float[Math.toIntExact(t.size())];
                m.backend().download(t, v);
                parts.add(v);
                n += v.length;
            }
            float[] all = new float[n];
            int o = 0;
            for (float[] v : parts) {
                System.arraycopy(v, 0, all, o, v.length);
                o += v.length;
            }
            return all;
        }
    }

    private static int argmax(float[] v, int off, int n) {
        int best = 0;
        for (int i = 1; i < n; i++) {
            if (v[off + i] > v[off + best]) {
                best = i;
            }
        }
        return best;
    }
}
