package dev.rg.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.rg.api.backend.BackendOptions;
import dev.rg.api.backend.BackendUnavailableException;
import dev.rg.backend.cuda.device.DeviceBackend;
import dev.rg.core.model.Model;
import dev.rg.core.model.ModelState;
import dev.rg.core.model.Outputs;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The kernels' two sequences of ops between blocks (backend setting {@code fused-norms}) give the same logits bit for
 * bit on the OpenCL double: the epilogue's add rounds as the add kernel does, and the group's norm staging reduces
 * exactly as the norm kernel. Prefill (more rows than a matvec takes: the tensor-core and tiled kernels' epilogue),
 * a batch of 11 (two matvec passes) and single steps.
 */
class FusedNormsTest {
    private static List<float[]> run(Model m) {
        List<float[]> out = new ArrayList<>();
        SplittableRandom r = new SplittableRandom(5);
        int v = m.config().vocabSize();
        int batch = 11;
        try (ModelState s = m.newState(batch)) {
            int prompt = 20;
            int[] ids = new int[batch * prompt];
            for (int i = 0; i < ids.length; i++) {
                ids[i] = 1 + r.nextInt(v - 1);
            }
            float[] logits = new float[batch * v];
            m.backend().download(m.griffin().forward(s, ids, prompt, Outputs.LAST), logits);
            out.add(logits.clone());
            for (int step = 0; step < 3; step++) {
                int[] next = new int[batch];
                for (int b = 0; b < batch; b++) {
                    next[b] = 1 + r.nextInt(v - 1);
                }
                m.backend().download(m.griffin().forward(s, next, 1, Outputs.LAST), logits);
                out.add(logits.clone());
            }
        }
        return out;
    }

    @Test
    void bothSequencesGiveTheSameLogitsBitForBit() {
        List<float[]> fused;
        List<float[]> unfused;
        try (Model m = DecodeLaunchCountTest.model(true)) {
            assertTrue(m.griffin().kernels().fusesNormsIntoMatmuls());
            fused = run(m);
        }
        try (Model m = DecodeLaunchCountTest.model(false)) {
            assertFalse(m.griffin().kernels().fusesNormsIntoMatmuls());
            unfused = run(m);
        }
        for (int pass = 0; pass < fused.size(); pass++) {
            float[] a = unfused.get(pass);
            float[] b = fused.get(pass);
            assertEquals(a.length, b.length);
            for (int i = 0; i < a.length; i++) {
                if (Float.floatToRawIntBits(a[i]) != Float.floatToRawIntBits(b[i])) {
                    fail("pass " + pass + " (" + (pass == 0 ? "prefill" : "decode") + "): logit " + i + " is " + b[i]
                            + " fused, " + a[i] + " unfused");
                }
            }
        }
    }

    @Test
    void theSettingIsOnByDefaultAndRejectsOtherValues() {
        assertTrue(DeviceBackend.fusedNormsSetting(new BackendOptions(1, Map.of())));
        assertFalse(DeviceBackend.fusedNormsSetting(new BackendOptions(1, Map.of(DeviceBackend.FUSED_NORMS, "off"))));
        assertTrue(DeviceBackend.fusedNormsSetting(new BackendOptions(1, Map.of(DeviceBackend.FUSED_NORMS, " on "))));
        BackendUnavailableException e = org.junit.jupiter.api.Assertions.assertThrows(BackendUnavailableException.class,
                () -> DeviceBackend.fusedNormsSetting(new BackendOptions(1, Map.of(DeviceBackend.FUSED_NORMS, "yes"))));
        assertTrue(e.getMessage().contains("fused-norms=yes is neither on nor off"), e.getMessage());
    }
}
