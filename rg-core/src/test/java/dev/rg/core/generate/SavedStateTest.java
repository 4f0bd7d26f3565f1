package dev.rg.core.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rg.api.format.RawTensor;
import dev.rg.api.tensor.DType;
import dev.rg.api.tensor.Shape;
import dev.rg.core.TestFiles;
import dev.rg.core.model.LoadOptions;
import dev.rg.core.model.Model;
import dev.rg.core.model.ModelState;
import dev.rg.core.model.Outputs;
import dev.rg.core.model.SavedState;
import dev.rg.core.model.StateFileException;
import dev.rg.core.safetensors.SafetensorsFile;
import dev.rg.core.safetensors.SafetensorsWriter;
import dev.rg.core.tokenizer.GemmaTokenizer;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A session or chat saved to a file ({@link SavedState}) and restored in another session continues exactly as the
 * original would have, before and after the attention rings wrap (the embedded model's window is 256 tokens), with
 * a pending token or with saved logits; a file that does not fit the model is refused with a line naming it.
 */
class SavedStateTest {
    private static Model model;
    private static GemmaTokenizer tok;

    @TempDir
    Path dir;

    @BeforeAll
    static void load() {
        model = Model.load(TestFiles.austen(), LoadOptions.defaults().withBackend("reference"));
        tok = GemmaTokenizer.load(TestFiles.austen());
    }

    @AfterAll
    static void close() {
        model.close();
    }

    /** A prompt of {@code tokens} ids: held-out text, so the rings hold real keys. */
    private static int[] prompt(int tokens) throws IOException {
        String text = Files.readString(TestFiles.austen().resolve("heldout.txt"));
        int[] ids = TestPrompts.withBos(model, tok, text);
        assertTrue(ids.length >= tokens, "held-out text too short");
        return Arrays.copyOf(ids, tokens);
    }

    @Test
    void aRestoredSessionContinuesBitForBitBeforeAndAfterTheRingsWrap() throws IOException {
        int window = model.config().window();
        long shortSize = 0;
        for (int length : new int[] {9, window + 37}) {
            int[] ids = prompt(length);
            Path file = dir.resolve("s" + length + ".rgstate");
            GenerationConfig greedy = GenerationConfig.greedy(24);
            try (Session original = new Session(model, tok); Session resumed = new Session(model, tok)) {
                original.feed(ids);
                original.save(file, Map.of());
                float[] logits = original.lastLogits();
                GenerationResult first = original.generate(greedy, TextSink.NONE);

                SavedState saved = resumed.restore(file);
                assertArrayEquals(ids, saved.tokens());
                assertEquals(-1, saved.pending());
                assertEquals(length, resumed.position());
                assertArrayEquals(logits, resumed.lastLogits(), "saved logits, bit for bit");
                GenerationResult again = resumed.generate(greedy, TextSink.NONE);
                assertArrayEquals(first.tokens(), again.tokens(), length + " tokens, then 24 greedy");
                assertEquals(first.text(), again.text());

                // saved with a pending token (the last generated one), then a new prompt fed after it
                Path second = dir.resolve("p" + length + ".rgstate");
                original.save(second, Map.of("note", "after generation"));
                try (Session third = new Session(model, tok)) {
                    SavedState s2 = third.restore(second);
                    assertEquals(first.tokens()[first.tokens().length - 1], s2.pending());
                    assertEquals("after generation", s2.extra().get("note"));
                    assertEquals(original.position(), third.position());
                    int[] more = tok.encode(" Mr. Knightley said");
                    original.feed(more);
                    third.feed(more);
                    assertArrayEquals(original.lastLogits(), third.lastLogits(), "fed after a restored pending token");
                    GenerationConfig sampled = new GenerationConfig(16, new SamplingParams(0.9f, 40, 0.95f, 0, 1.2f, 11),
                            List.of(), java.util.Set.of(), true);
                    assertArrayEquals(original.generate(sampled, TextSink.NONE).tokens(), third.generate(sampled, TextSink.NONE).tokens(),
                            "sampling with a repetition penalty sees the same context");
                }
            }
            if (length < window) {
                shortSize = Files.size(file);
            } else {
                assertTrue(shortSize * 4 < Files.size(file), "only written ring slots are stored: " + shortSize + " vs "
                        + Files.size(file) + " bytes");
            }
        }
    }

    @Test
    void aStateRestoredIntoARowOfABatchIsTheSameState() throws IOException {
        int[] ids = prompt(40);
        Path file = dir.resolve("one.rgstate");
        Path again = dir.resolve("again.rgstate");
        try (Session s = new Session(model, tok)) {
            s.feed(ids);
            s.save(file, Map.of());
        }
        SavedState saved = SavedState.read(file, model);
        try (ModelState batch = model.newState(3)) {
            batch.useFirst(3);
            model.griffin().forward(batch, new int[] {5, 6, 7}, 1, Outputs.LAST); // other rows hold other sequences
            saved.restoreInto(model, batch, 2);
            assertEquals(ids.length, batch.position(2));
            assertEquals(1, batch.position(1));
            SavedState.write(again, model, batch, 2, saved.tokens(), -1, saved.logits(), Map.of());
        }
        assertArrayEquals(Files.readAllBytes(file), Files.readAllBytes(again), "row 2 of a batch written back gives the same bytes");
    }

    @Test
    void aSavedChatResumesWithItsNextTurn() {
        GenerationConfig greedy = GenerationConfig.greedy(20);
        Path file = dir.resolve("chat.rgstate");
        try (Chat chat = new Chat(model, tok); Chat resumed = new Chat(model, tok)) {
            chat.send("Tell me about Emma.", greedy, TextSink.NONE);
            chat.send("And her father?", greedy, TextSink.NONE);
            chat.save(file);
            resumed.resume(file);
            assertEquals(2, resumed.turns());
            assertEquals(chat.position(), resumed.position());
            String original = chat.send("Who is Harriet?", greedy, TextSink.NONE).text();
            assertEquals(original, resumed.send("Who is Harriet?", greedy, TextSink.NONE).text());
        }
        Path prompt = dir.resolve("prompt.rgstate");
        try (Session s = new Session(model, tok); Chat chat = new Chat(model, tok)) {
            s.feed(TestPrompts.withBos(model, tok, "Emma"));
            s.save(prompt, Map.of());
            StateFileException e = assertThrows(StateFileException.class, () -> chat.resume(prompt));
            assertTrue(e.getMessage().startsWith(prompt + ": a saved state but not a chat"), e.getMessage());
            assertThrows(IllegalStateException.class, () -> chat.save(dir.resolve("empty.rgstate")));
        }
    }

    @Test
    void filesThatDoNotFitTheModelAreRefusedNamingTheFile() throws IOException {
        Path good = dir.resolve("good.rgstate");
        try (Session s = new Session(model, tok)) {
            s.feed(TestPrompts.withBos(model, tok, "Emma Woodhouse"));
            s.generate(GenerationConfig.greedy(3), TextSink.NONE);
            s.save(good, Map.of());
        }
        // another model, and the same weights in another format
        try (Model other = Model.load(TestFiles.modelFixture("tiny-f32"), LoadOptions.defaults().withBackend("reference"))) {
            assertRefused(good, other, "saved by another model");
        }
        try (Model f32 = Model.load(TestFiles.austen(), LoadOptions.defaults().withBackend("reference").withFormat("f32", false))) {
            assertRefused(good, f32, "saved with bf16 weights (head bf16); this model runs f32");
        }
        // not state files
        Path random = dir.resolve("random.bin");
        byte[] noise = new byte[4096];
        new SplittableRandom(3).nextBytes(noise);
        Files.write(random, noise);
        assertRefused(random, model, "header length");
        assertRefused(TestFiles.austen().resolve("model.safetensors"), model, "not an rg state file");
        assertRefused(dir.resolve("missing.rgstate"), model, "");

        // damaged copies of the good file
        assertRefused(rewrite(good, "v2", m -> put(m, "version", "2"), null), model, "rg state version 2");
        assertRefused(rewrite(good, "pos", m -> put(m, "position", "x"), null), model, "metadata \"position\" must be an integer");
        assertRefused(rewrite(good, "pending", m -> put(m, "pending", "99999"), null), model, "metadata \"pending\" must be");
        assertRefused(rewrite(good, "nan", m -> m, (name, a) -> name.equals("layers.0.lru") ? set(a, 7, Float.NaN) : a),
                model, "tensor 'layers.0.lru' holds NaN at element 7");
        assertRefused(rewrite(good, "id", m -> m, (name, a) -> a), model, null); // an unchanged copy reads
        assertRefused(rewriteTokens(good, "badid", 5000), model, "token id 5000 at index 1 is outside the vocabulary (0..4095)");
        assertRefused(dropTensor(good, "layers.2.keys"), model, "tensor 'layers.2.keys' is missing");
    }

    private static Map<String, String> put(Map<String, String> m, String k, String v) {
        m.put(k, v);
        return m;
    }

    private static float[] set(float[] a, int i, float v) {
        a[i] = v;
        return a;
    }

    private static void assertRefused(Path file, Model m, String expected) {
        if (expected == null) {
            SavedState.read(file, m);
            return;
        }
        RuntimeException e = assertThrows(RuntimeException.class, () -> SavedState.read(file, m));
        assertTrue(e.getMessage().startsWith(file.toString()), e.getMessage());
        assertTrue(e.getMessage().contains(expected), e.getMessage());
        assertTrue(!e.getMessage().contains("\n"), "one line: " + e.getMessage());
    }

    private interface FloatEdit {
        float[] apply(String name, float[] values);
    }

    /** A copy of {@code file} with its metadata and float tensors passed through the edits. */
    private Path rewrite(Path file, String tag, UnaryOperator<Map<String, String>> meta, FloatEdit floats) {
        return copy(file, tag, meta, (t, arena) -> {
            if (floats == null || t.dtype() != DType.F32) {
                return t;
            }
            float[] a = floats.apply(t.name(), t.data().toArray(F32));
            MemorySegment seg = arena.allocate(4L * a.length, 4);
            MemorySegment.copy(a, 0, seg, F32, 0, a.length);
            return new RawTensor(t.name(), t.dtype(), t.shape(), seg, null);
        });
    }

    private Path rewriteTokens(Path file, String tag, int id) {
        return copy(file, tag, m -> m, (t, arena) -> {
            if (!t.name().equals("tokens")) {
                return t;
            }
            int[] a = t.data().toArray(I32);
            a[1] = id;
            MemorySegment seg = arena.allocate(4L * a.length, 4);
            MemorySegment.copy(a, 0, seg, I32, 0, a.length);
            return new RawTensor(t.name(), t.dtype(), Shape.of(a.length), seg, null);
        });
    }

    private Path dropTensor(Path file, String name) {
        return copy(file, "drop", m -> m, (t, arena) -> t.name().equals(name) ? null : t);
    }

    private interface TensorEdit {
        RawTensor apply(RawTensor t, Arena arena);
    }

    private Path copy(Path file, String tag, UnaryOperator<Map<String, String>> meta, TensorEdit edit) {
        Path out = dir.resolve(tag + ".rgstate");
        try (Arena arena = Arena.ofConfined()) {
            SafetensorsFile f = SafetensorsFile.open(file, arena);
            List<RawTensor> tensors = new ArrayList<>();
            for (RawTensor t : f.tensors().values()) {
                RawTensor e = edit.apply(t, arena);
                if (e != null) {
                    tensors.add(e);
                }
            }
            SafetensorsWriter.write(out, tensors, meta.apply(new HashMap<>(f.metadata())), b -> {});
        }
        return out;
    }

    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
}
