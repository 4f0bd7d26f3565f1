package dev.rg.core.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rg.api.backend.Kernels;
import dev.rg.core.config.ModelConfig;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The forward pass's second sequence of ops between blocks ({@link Kernels#fusesNormsIntoMatmuls}: output projections
 * that add into the residual stream, groups that apply the norm) computes exactly what the first computes, and is
 * the one the model runs when its kernels ask for it.
 */
class NormsInMatmulsFlowTest {
    /** The model's own kernels, answering true to the choice and counting the calls of each op. */
    private static Kernels fusing(Kernels inner, Map<String, Integer> calls) {
        return (Kernels) Proxy.newProxyInstance(Kernels.class.getClassLoader(), new Class<?>[] {Kernels.class},
                (proxy, method, args) -> {
                    calls.merge(method.getName(), 1, Integer::sum);
                    if (method.getName().equals("fusesNormsIntoMatmuls")) {
                        return true;
                    }
                    try {
                        return method.invoke(inner, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
    }

    /** Logits of a 2-sequence prefill (sequences at different lengths of history) and then three decode steps. */
    private static float[] run(Model m, Griffin g) {
        SplittableRandom r = new SplittableRandom(42);
        int v = m.config().vocabSize();
        int batch = 2;
        int prompt = 6;
        float[] all = new float[(1 + 3) * batch * v];
        try (ModelState s = g.newState(batch)) {
            int[] ids = new int[batch * prompt];
            for (int i = 0; i < ids.length; i++) {
                ids[i] = 1 + r.nextInt(v - 1);
            }
            float[] step = new float[batch * v];
            m.backend().download(g.forward(s, ids, prompt, Outputs.LAST), step);
            System.arraycopy(step, 0, all, 0, step.length);
            for (int t = 1; t <= 3; t++) {
                int[] next = {1 + r.nextInt(v - 1), 1 + r.nextInt(v - 1)};
                m.backend().download(g.forward(s, next, 1, Outputs.LAST), step);
                System.arraycopy(step, 0, all, t * step.length, step.length);
            }
        }
        return all;
    }

    @Test
    void bothSequencesGiveTheSameLogitsBitForBit() {
        ModelConfig c = ModelConfig.presetTiny().withLayers(3); // recurrent, recurrent, attention
        for (String format : new String[] {"f32", "bf16"}) {
            try (Model m = Model.random(c, format, 20261206, LoadOptions.defaults().withBackend("reference"),
                    LoadProgress.NONE)) {
                Griffin plain = m.griffin();
                Map<String, Integer> calls = new HashMap<>();
                Griffin fused = new Griffin(c, m.backend(), fusing(plain.kernels(), calls), plain.weights());
                assertArrayEquals(run(m, plain), run(m, fused), format + ": logits of prefill and decode steps");
                // 4 forward passes of 3 layers: each layer's two groups and two output projections are fused ops
                assertEquals(4 * 3 * 2, calls.getOrDefault("rmsNormMatmulGroup", 0), format + ": " + calls);
                assertEquals(4 * 3 * 2 - 4, calls.getOrDefault("geluMulMatmulAdd", 0), format + ": " + calls); // 2 of 3 layers recurrent
                assertEquals(4, calls.getOrDefault("matmulAdd", 0), format + ": " + calls); // the attention layer's o
                assertFalse(calls.containsKey("addRmsNorm"), format + ": " + calls);
                assertFalse(calls.containsKey("matmulGroup"), format + ": " + calls);
                assertFalse(calls.containsKey("add"), format + ": " + calls);
                assertEquals(4, calls.getOrDefault("rmsNorm", 0), format + ": only the final norm, once per pass: " + calls);
            }
        }
    }

    /** A checked model's probes read the normed activations, so it keeps the first sequence whatever the kernels say. */
    @Test
    void aCheckedModelKeepsTheUnfusedSequence() {
        ModelConfig c = ModelConfig.presetTiny().withLayers(3);
        try (Model m = Model.random(c, "f32", 7, LoadOptions.defaults().withBackend("reference"), LoadProgress.NONE)) {
            Griffin plain = m.griffin();
            Map<String, Integer> calls = new HashMap<>();
            Griffin fused = new Griffin(c, m.backend(), fusing(plain.kernels(), calls), plain.weights());
            assertArrayEquals(run(m, plain), run(m, fused.checked()));
            assertTrue(calls.getOrDefault("addRmsNorm", 0) > 0, calls.toString());
            assertFalse(calls.containsKey("rmsNormMatmulGroup"), calls.toString());
            assertFalse(calls.containsKey("matmulAdd"), calls.toString());
        }
    }
}
