package dev.rg.core.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rg.core.TestFiles;
import dev.rg.core.tokenizer.GemmaTokenizer;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The trie walk that masks tokens outside strings gives exactly the mask of testing every token against the automaton,
 * at every cut point of JSON texts that visit every state, on the embedded model's vocabulary and on a synthetic one
 * with long shared prefixes and duplicate tokens; ids past the tokenizer's vocabulary are always masked.
 */
class JsonConstraintTest {
    private static final String[] TEXTS = {
        "{\"name\": \"Mr. Darcy\", \"income\": 10000, \"ratio\": -0.5e+3, \"ok\": true, \"no\": false, \"x\": null,"
                + " \"list\": [1, {\"a\": []}, \"s\\\"\\\\\\u00e9\"], \"nested\": {\"deep\": [[0.25]]}}",
        "{\n  \"a\" : [ ]\n}",
    };

    @Test
    void theTrieMaskEqualsTestingEveryTokenOnTheEmbeddedVocabulary() {
        GemmaTokenizer t = GemmaTokenizer.load(TestFiles.austen());
        checkEveryCut(new JsonTokens(t), t.vocabSize() + 7, new Random(3));
    }

    @Test
    void theTrieMaskEqualsTestingEveryTokenOnAVocabularyOfSharedPrefixes() {
        Random r = new Random(11);
        String alphabet = "{}[]:,\" \n\\u0123456789.eE+-truefalsnlxyz";
        byte[][] tokens = new byte[3000][];
        for (int i = 0; i < tokens.length; i++) {
            if (i % 97 == 0) {
                continue; // a piece without text
            }
            if (i % 50 == 1 && i > 1) {
                tokens[i] = tokens[i - 1] == null ? null : tokens[i - 1].clone(); // the same bytes as another token
                continue;
            }
            StringBuilder sb = new StringBuilder(i < 256 ? String.valueOf(alphabet.charAt(i % alphabet.length())) : "");
            for (int k = r.nextInt(i < 256 ? 1 : 9); k > 0; k--) {
                sb.append(alphabet.charAt(r.nextInt(alphabet.length())));
            }
            tokens[i] = sb.toString().getBytes(StandardCharsets.UTF_8);
        }
        JsonTokens vocab = new JsonTokens(tokens);
        assertTrue(vocab.trieNodes() < 3000 * 5, "prefixes shared: " + vocab.trieNodes() + " nodes");
        checkEveryCut(vocab, tokens.length, r);
    }

    @Test
    void aClosedObjectAllowsNothing() {
        JsonTokens vocab = new JsonTokens(new byte[][] {"{".getBytes(StandardCharsets.UTF_8), "}".getBytes(StandardCharsets.UTF_8)});
        JsonConstraint c = new JsonConstraint(vocab);
        c.accept(0);
        c.accept(1);
        assertTrue(c.complete());
        assertThrows(IllegalStateException.class, () -> c.mask(new float[2], 0, 2));
        assertThrows(IllegalArgumentException.class, () -> c.accept(1));
    }

    /** At every cut of every text: the state is reached by feeding the text's bytes as one-byte pieces of the vocabulary. */
    private static void checkEveryCut(JsonTokens vocab, int vocabRow, Random r) {
        for (String text : TEXTS) {
            byte[] b = text.getBytes(StandardCharsets.UTF_8);
            for (int cut = 0; cut <= b.length; cut++) {
                JsonConstraint fast = new JsonConstraint(vocab);
                JsonConstraint slow = new JsonConstraint(vocab);
                JsonPrefix reached = new JsonPrefix();
                assertTrue(reached.feed(java.util.Arrays.copyOf(b, cut)));
                setState(fast, b, cut);
                setState(slow, b, cut);
                float[] row = new float[vocabRow];
                for (int i = 0; i < row.length; i++) {
                    row[i] = (float) r.nextGaussian();
                }
                float[] a = row.clone();
                float[] e = row.clone();
                boolean none = !maskEach(slow, e, vocabRow);
                if (none) {
                    assertThrows(IllegalStateException.class, () -> fast.mask(a, 0, vocabRow), "cut " + cut);
                } else {
                    fast.mask(a, 0, vocabRow);
                    assertArrayEquals(e, a, "cut " + cut + " of " + text);
                    for (int id = vocab.size(); id < vocabRow; id++) {
                        assertEquals(JsonConstraint.MASKED, a[id], "an id past the tokenizer's vocabulary");
                    }
                }
            }
        }
    }

    /** The reference: {@code logits} masked by testing every token with {@link JsonConstraint#allows}; false if none may come. */
    private static boolean maskEach(JsonConstraint c, float[] logits, int vocab) {
        boolean any = false;
        for (int t = 0; t < vocab; t++) {
            if (c.allows(t)) {
                any = true;
            } else {
                logits[t] = JsonConstraint.MASKED;
            }
        }
        return any;
    }

    /** Feeds the first {@code cut} bytes through the automaton of {@code c} directly (the vocabulary may lack them). */
    private static void setState(JsonConstraint c, byte[] text, int cut) {
        assertTrue(c.feedForTest(java.util.Arrays.copyOf(text, cut)));
    }
}
