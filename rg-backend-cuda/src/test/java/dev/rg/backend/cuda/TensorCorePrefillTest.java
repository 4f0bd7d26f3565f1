package dev.rg.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rg.api.tensor.Tensor;
import dev.rg.backend.cuda.opencl.OpenClSimBackendProvider;
import dev.rg.conformance.CheckResult;
import dev.rg.conformance.Tolerance;
import dev.rg.core.model.LoadOptions;
import dev.rg.core.model.LoadProgress;
import dev.rg.core.model.Model;
import dev.rg.core.model.ModelState;
import dev.rg.core.model.Outputs;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * A whole prompt through the tensor-core kernels of every weight format they take, against the reference backend on
 * the same random weights: a 40-token prefill of a five-layer model of the tiny preset's shapes (every matmul above
 * 16 rows, K a multiple of 64), last-position logits within the fixtures' logit tolerance. The op kit checks each
 * kernel on one matrix; this checks them chained through norms, the recurrence, attention and the soft cap.
 */
class TensorCorePrefillTest {
    private static float[] prefillLogits(String backend, String format) {
        try (Model m = Model.random(DecodeLaunchCountTest.CONFIG, format, 20261208,
                new LoadOptions(backend, 1, format, false, Map.of()), LoadProgress.NONE); ModelState s = m.newState(1)) {
            SplittableRandom r = new SplittableRandom(3);
            int[] ids = new int[40];
            for (int i = 0; i < ids.length; i++) {
                ids[i] = 3 + r.nextInt(m.config().vocabSize() - 3);
            }
            Tensor logits = m.griffin().forward(s, ids, ids.length, Outputs.LAST);
            float[] out = new float[m.config().vocabSize()];
            m.backend().download(logits, out);
            return out;
        }
    }

    @Test
    void quantisedPrefillMatchesTheReference() {
        var provider = new OpenClSimBackendProvider();
        Assumptions.assumeTrue(provider.probe().available(), () -> "skipped: no OpenCL device (" + provider.probe().reason() + ")");
        for (String format : new String[] {"f32", "f16", "int8", "nf4", "fp4"}) {
            float[] device = prefillLogits(OpenClSimBackendProvider.NAME, format);
            float[] reference = prefillLogits("reference", format);
            CheckResult c = Tolerance.LOGITS.compare(format + " prefill logits", device, reference, device.length);
            System.out.println(c);
            assertTrue(c.passed(), c.toString());
        }
    }
}
