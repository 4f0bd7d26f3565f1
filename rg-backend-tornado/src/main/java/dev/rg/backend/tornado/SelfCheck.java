package dev.rg.backend.tornado;

import dev.rg.api.backend.BackendUnavailableException;
import dev.rg.backend.tornado.kernels.RgKernels;

/**
 * Runs a tiny kernel when the backend starts and checks its result, so a kernel that TornadoVM did not compile
 * (and, without {@code -Dtornado.recover.bailout=false}, silently ran as plain Java) fails loudly here.
 */
final class SelfCheck {
    private SelfCheck() {}

    static void run(DeviceSession dev) {
        int off = dev.allocate(64);
        try {
            float[] in = new float[64];
            for (int i = 0; i < 64; i++) {
                in[i] = (i - 32) * 0.125f;
            }
            dev.upload(in, off);
            OpGraph ew = dev.graphs().ew;
            ew.p.set(0, RgKernels.EW_GELU);
            ew.p.set(1, 64);
            ew.p.set(2, off);
            ew.p.set(3, off);
            ew.p.set(4, off);
            dev.launcher().run(ew, 64);
            float[] out = new float[64];
            dev.download(off, out, 64);
            for (int i = 0; i < 64; i++) {
                double x = in[i];
                double want = 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
                if (!(Math.abs(out[i] - want) <= 1e-5 + 1e-4 * Math.abs(want))) {
                    throw new BackendUnavailableException("TornadoVM self-check failed on " + dev.deviceName() + ": gelu("
                            + x + ") gave " + out[i] + ", expected " + want + " (was -Dtornado.recover.bailout=false "
                            + "set? a kernel that does not compile otherwise silently runs as plain Java)");
                }
            }
        } finally {
            dev.free(off, 64);
        }
    }
}
