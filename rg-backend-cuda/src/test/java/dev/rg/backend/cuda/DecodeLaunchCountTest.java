package dev.rg.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.rg.api.tensor.Tensor;
import dev.rg.backend.cuda.device.DeviceBackend;
import dev.rg.backend.cuda.device.KernelLauncher;
import dev.rg.backend.cuda.opencl.OpenClSimBackendProvider;
import dev.rg.core.config.BlockType;
import dev.rg.core.config.ModelConfig;
import dev.rg.core.model.Griffin;
import dev.rg.core.model.LoadOptions;
import dev.rg.core.model.LoadProgress;
import dev.rg.core.model.Model;
import dev.rg.core.model.ModelState;
import dev.rg.core.model.Outputs;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * Kernel launches per decode step, counted by the launcher while a small random model of the 2B's structure (layers
 * recurrent, recurrent, attention; window 2048, so decode attention is split over key slices) decodes on the OpenCL
 * double of the CUDA backend. Once the matvecs stream at bandwidth, a launch costs about as much as a small layer's
 * arithmetic, so this count is pinned: a change that adds launches to the decode step fails here and has to update
 * the formula (and the README's figure) on purpose.
 */
class DecodeLaunchCountTest {
    /** The embedding (the first layer's temporal norm is applied by its first group). */
    static final int PROLOGUE = 1;
    /**
     * linear_y + linear_x with the temporal norm (one grouped matvec), conv1d, RG-LRU gates and scan (2),
     * gelu(y)·x + linear_out added into the residual (one matvec), gate + up with the channel norm (one grouped matvec),
     * gelu·mul + down added into the residual (one matvec).
     */
    static final int RECURRENT_LAYER = 7;
    /**
     * q + k + v with the temporal norm (one grouped matvec), RoPE of q and k (one launch), attention over key slices +
     * their merge, which also writes the KV ring (2), o added into the residual, gate + up with the channel norm,
     * gelu·mul + down added into the residual.
     */
    static final int ATTENTION_LAYER = 7;
    /** Final norm, LM head, soft cap (the copy of the last row before them is a device copy, not a launch). */
    static final int HEAD = 3;
    /** Greedy sampling on the device. */
    static final int ARGMAX = 1;
    /**
     * With {@code fused-norms=off}: the first temporal norm is a launch of its own, and each layer has two more, the
     * residual add + next norm after each block (the last layer's last one a plain add).
     */
    static final int UNFUSED_EXTRA_PROLOGUE = 1;
    static final int UNFUSED_EXTRA_PER_LAYER = 2;

    /** Kernel launches of one greedy decode step of batch 1 to 8 (one matvec pass) for a model of {@code c}'s layers. */
    static long launchesPerDecodeStep(ModelConfig c) {
        return PROLOGUE + (long) RECURRENT_LAYER * c.count(BlockType.RECURRENT)
                + (long) ATTENTION_LAYER * c.count(BlockType.ATTENTION) + HEAD + ARGMAX;
    }

    /** The same with {@code fused-norms=off}. */
    static long unfusedLaunchesPerDecodeStep(ModelConfig c) {
        return launchesPerDecodeStep(c) + UNFUSED_EXTRA_PROLOGUE + (long) UNFUSED_EXTRA_PER_LAYER * c.layers();
    }

    @Test
    void aDecodeStepLaunchesWhatTheFormulaSays() {
        assertLaunches(true, launchesPerDecodeStep(CONFIG));
    }

    @Test
    void withoutFusedNormsADecodeStepLaunchesTwoMorePerLayer() {
        assertLaunches(false, unfusedLaunchesPerDecodeStep(CONFIG));
    }

    /** A random model of the 2B's structure: recurrent, recurrent, attention, recurrent, recurrent. */
    static final ModelConfig CONFIG = ModelConfig.presetTiny().withLayers(5);

    /** The model on the OpenCL double with the backend setting {@code fused-norms} on or off. */
    static Model model(boolean fusedNorms) {
        var provider = new OpenClSimBackendProvider();
        Assumptions.assumeTrue(provider.probe().available(), () -> "skipped: no OpenCL device (" + provider.probe().reason() + ")");
        return Model.random(CONFIG, "bf16", 20261205, new LoadOptions(OpenClSimBackendProvider.NAME, 1, "bf16", false,
                Map.of(DeviceBackend.FUSED_NORMS, fusedNorms ? "on" : "off")), LoadProgress.NONE);
    }

    private static void assertLaunches(boolean fusedNorms, long expected) {
        try (Model m = model(fusedNorms); ModelState s = m.newState(1)) {
            Griffin g = m.griffin();
            KernelLauncher launcher = ((DeviceBackend) m.backend()).launcher();
            int[] next = new int[1];
            g.kernels().argmax(g.forward(s, new int[] {2, 1017, 311, 4000}, 4, Outputs.LAST), next); // prefill
            for (int step = 0; step < 2; step++) {
                long before = launcher.launches();
                Tensor logits = g.forward(s, next, 1, Outputs.LAST);
                g.kernels().argmax(logits, next);
                assertEquals(expected, launcher.launches() - before, "kernel launches of decode step " + step
                        + " (" + CONFIG.count(BlockType.RECURRENT) + " recurrent and " + CONFIG.count(BlockType.ATTENTION)
                        + " attention layers, fused-norms " + (fusedNorms ? "on" : "off") + ")");
            }
        }
    }

    /**
     * The figures the README gives: 2B (18 recurrent and 8 attention layers) 187, down from 240 with the residual adds
     * and norms as launches of their own (292 and 378 before that); 9B (26 + 12) 271, down from 348 (424, 550).
     */
    @Test
    void modelFigures() {
        assertEquals(187, launchesPerDecodeStep(ModelConfig.preset2b()));
        assertEquals(271, launchesPerDecodeStep(ModelConfig.preset9b()));
        assertEquals(240, unfusedLaunchesPerDecodeStep(ModelConfig.preset2b()));
        assertEquals(348, unfusedLaunchesPerDecodeStep(ModelConfig.preset9b()));
    }
}
