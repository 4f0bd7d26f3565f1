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
    /** Embedding, and the first layer's temporal norm (later ones are fused into the residual add before them). */
    static final int PROLOGUE = 2;
    /**
     * linear_y + linear_x (one grouped matvec), conv1d, RG-LRU gates and scan (2), gelu(y)·x + linear_out (one matvec),
     * residual add + channel norm, gate + up (one grouped matvec), gelu·mul + down (one matvec), residual add + next
     * temporal norm.
     */
    static final int RECURRENT_LAYER = 9;
    /**
     * q + k + v (one grouped matvec), RoPE of q and k (one launch), attention over key slices + their merge, which also
     * writes the KV ring (2), o, residual add + channel norm, gate + up, gelu·mul + down, residual add + next temporal
     * norm.
     */
    static final int ATTENTION_LAYER = 9;
    /** Final norm, LM head, soft cap (the copy of the last row before them is a device copy, not a launch). */
    static final int HEAD = 3;
    /** Greedy sampling on the device. */
    static final int ARGMAX = 1;

    /** Kernel launches of one greedy decode step of batch 1 to 8 (one matvec pass) for a model of {@code c}'s layers. */
    static long launchesPerDecodeStep(ModelConfig c) {
        return PROLOGUE + (long) RECURRENT_LAYER * c.count(BlockType.RECURRENT)
                + (long) ATTENTION_LAYER * c.count(BlockType.ATTENTION) + HEAD + ARGMAX;
    }

    @Test
    void aDecodeStepLaunchesWhatTheFormulaSays() {
        var provider = new OpenClSimBackendProvider();
        Assumptions.assumeTrue(provider.probe().available(), () -> "skipped: no OpenCL device (" + provider.probe().reason() + ")");
        ModelConfig c = ModelConfig.presetTiny().withLayers(5); // recurrent, recurrent, attention, recurrent, recurrent
        try (Model m = Model.random(c, "bf16", 20261205, LoadOptions.defaults().withBackend(OpenClSimBackendProvider.NAME),
                LoadProgress.NONE); ModelState s = m.newState(1)) {
            Griffin g = m.griffin();
            KernelLauncher launcher = ((DeviceBackend) m.backend()).launcher();
            int[] next = new int[1];
            g.kernels().argmax(g.forward(s, new int[] {2, 1017, 311, 4000}, 4, Outputs.LAST), next); // prefill
            for (int step = 0; step < 2; step++) {
                long before = launcher.launches();
                Tensor logits = g.forward(s, next, 1, Outputs.LAST);
                g.kernels().argmax(logits, next);
                assertEquals(launchesPerDecodeStep(c), launcher.launches() - before, "kernel launches of decode step " + step
                        + " (" + c.count(BlockType.RECURRENT) + " recurrent and " + c.count(BlockType.ATTENTION)
                        + " attention layers)");
            }
        }
    }

    /**
     * The figures the README gives: 2B (18 recurrent and 8 attention layers) 240, down from 292 (and 378 before that);
     * 9B (26 + 12) 348, down from 424.
     */
    @Test
    void modelFigures() {
        assertEquals(240, launchesPerDecodeStep(ModelConfig.preset2b()));
        assertEquals(348, launchesPerDecodeStep(ModelConfig.preset9b()));
    }
}
