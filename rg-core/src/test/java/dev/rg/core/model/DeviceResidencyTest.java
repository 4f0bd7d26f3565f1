package dev.rg.core.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rg.api.tensor.Tensor;
import dev.rg.core.TestFiles;
import dev.rg.core.generate.GenerationConfig;
import dev.rg.core.generate.Session;
import dev.rg.core.runtime.CountingBackendProvider;
import org.junit.jupiter.api.Test;

/**
 * The SPI keeps weights, activations and state on the backend: after loading, a decode step moves no weight
 * and no state, only the token id in (a kernel argument) and, when asked, the logits out.
 */
class DeviceResidencyTest {
    @Test
    void decodeStepsMoveOnlyTheLogits() {
        CountingBackendProvider.resetCounters();
        try (Model m = Model.load(TestFiles.modelFixture("tiny-f32"), LoadOptions.defaults().withBackend("counting"));
                ModelState state = m.newState(1)) {
            long weights = CountingBackendProvider.WEIGHT_BYTES.get();
            assertEquals(m.weightBytesPerToken(), weights, "every weight is uploaded exactly once at load");
            assertEquals(0, CountingBackendProvider.UPLOADED.get());
            int vocab = m.config().vocabSize();
            m.griffin().forward(state, new int[] {2, 17, 300, 41}, 4, Outputs.LAST);
            for (int step = 0; step < 20; step++) {
                CountingBackendProvider.resetCounters();
                Tensor logits = m.griffin().forward(state, new int[] {5 + step}, 1, Outputs.LAST);
                assertEquals(0, CountingBackendProvider.UPLOADED.get(), "nothing is uploaded in a decode step");
                assertEquals(0, CountingBackendProvider.DOWNLOADED.get(), "nothing is downloaded unless asked");
                assertEquals(0, CountingBackendProvider.WEIGHT_BYTES.get(), "no weight moves after loading");
                float[] row = new float[vocab];
                m.backend().download(logits, row);
                assertEquals(4L * vocab, CountingBackendProvider.DOWNLOADED.get(), "only the logits cross");
            }
        }
    }

    @Test
    void greedyGenerationDownloadsNothingPerToken() {
        try (Model m = Model.load(TestFiles.modelFixture("tiny-f32"), LoadOptions.defaults().withBackend("counting"));
                Session s = new Session(m, null)) {
            s.feed(new int[] {2, 17, 300, 41});
            CountingBackendProvider.resetCounters();
            int[] ids = s.generate(GenerationConfig.greedy(30), t -> true).tokens();
            assertEquals(30, ids.length);
            assertTrue(CountingBackendProvider.DOWNLOADED.get() == 0 && CountingBackendProvider.UPLOADED.get() == 0,
                    "greedy decoding picks the id on the backend (argmax): only ids cross");
        }
    }
}
