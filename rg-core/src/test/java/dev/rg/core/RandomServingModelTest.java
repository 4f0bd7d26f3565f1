package dev.rg.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rg.core.config.ModelConfig;
import dev.rg.core.model.LoadOptions;
import dev.rg.core.model.LoadProgress;
import dev.rg.core.tokenizer.GemmaTokenizer;
import org.junit.jupiter.api.Test;

/** A random model of a preset's shapes behind a real tokenizer ({@code rg serve --preset}). */
class RandomServingModelTest {
    private static final LoadOptions REF = LoadOptions.defaults().withBackend("reference").withThreads(1);

    @Test
    void servesTextWithTheTokenizersVocabulary() {
        GemmaTokenizer tok = GemmaTokenizer.load(TestFiles.austen());
        ModelConfig c = ModelConfig.presetTiny().withVocab(tok.vocabSize());
        assertEquals(tok.vocabSize(), c.vocabSize());
        assertEquals(ModelConfig.presetTiny().hiddenSize(), c.hiddenSize());
        try (RecurrentGemma rg = RecurrentGemma.random(c, null, 3, REF, LoadProgress.NONE, tok)) {
            assertTrue(rg.hasTokenizer());
            assertTrue(rg.tokenize("Emma").length > 0);
        }
    }

    @Test
    void refusesATokenizerLargerThanTheVocabulary() {
        GemmaTokenizer tok = GemmaTokenizer.load(TestFiles.austen());
        ModelConfig small = ModelConfig.presetTiny().withVocab(tok.vocabSize() - 1);
        String m = assertThrows(IllegalArgumentException.class,
                () -> RecurrentGemma.random(small, null, 3, REF, LoadProgress.NONE, tok)).getMessage();
        assertTrue(m.contains("the tokenizer has " + tok.vocabSize() + " pieces but the model only " + (tok.vocabSize() - 1)
                + " embeddings"), m);
    }
}
