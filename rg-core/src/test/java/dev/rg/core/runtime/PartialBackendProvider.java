package dev.rg.core.runtime;

import dev.rg.api.backend.Availability;
import dev.rg.api.backend.Backend;
import dev.rg.api.backend.BackendOptions;
import dev.rg.api.backend.BackendProvider;
import dev.rg.api.backend.Capabilities;
import dev.rg.api.backend.Kernels;
import dev.rg.api.backend.SeqBatch;
import dev.rg.api.format.WeightFormats;
import dev.rg.api.tensor.HostWeight;
import dev.rg.api.tensor.Tensor;
import dev.rg.api.tensor.Weight;
import dev.rg.core.reference.ReferenceBackend;
import dev.rg.core.reference.ReferenceKernels;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A test backend written against an older SPI, as a third party would have: its kernels implement only matmul,
 * rmsNorm, add and conv1d (on host memory), and inherit {@link Kernels}' default body for every other op, although
 * its capabilities claim every op. The runtime must run those on the reference kernels.
 */
public final class PartialBackendProvider implements BackendProvider {
    /** Calls of the ops the partial kernels implement themselves. */
    public static final AtomicLong NATIVE_CALLS = new AtomicLong();

    @Override
    public String name() {
        return "partial";
    }

    @Override
    public String description() {
        return "test backend implementing only some ops";
    }

    @Override
    public int priority() {
        return -2;
    }

    @Override
    public Availability probe() {
        return Availability.available("test");
    }

    @Override
    public Capabilities capabilities() {
        return Capabilities.allOps(WeightFormats.all().keySet());
    }

    @Override
    public Backend create(BackendOptions options) {
        return new PartialBackend();
    }

    /** The kernels: four ops, the rest left to the SPI's defaults. */
    public static final class PartialKernels implements Kernels {
        private final ReferenceKernels ref = new ReferenceKernels();

        @Override
        public void matmul(Tensor x, Weight w, Weight bias, Tensor out) {
            NATIVE_CALLS.incrementAndGet();
            ref.matmul(x, w, bias, out);
        }

        @Override
        public void rmsNorm(Tensor x, Weight scale, float eps, Tensor out) {
            NATIVE_CALLS.incrementAndGet();
            ref.rmsNorm(x, scale, eps, out);
        }

        @Override
        public void add(Tensor a, Tensor b, Tensor out) {
            NATIVE_CALLS.incrementAndGet();
            ref.add(a, b, out);
        }

        @Override
        public void conv1d(Tensor x, SeqBatch seq, Weight kernel, Weight bias, Tensor state, Tensor out) {
            NATIVE_CALLS.incrementAndGet();
            ref.conv1d(x, seq, kernel, bias, state, out);
        }
    }

    /** Host memory as the reference backend has it, with the partial kernels. */
    static final class PartialBackend implements Backend {
        private final ReferenceBackend host = new ReferenceBackend();
        private final PartialKernels kernels = new PartialKernels();

        @Override
        public String name() {
            return "partial";
        }

        @Override
        public Capabilities capabilities() {
            return Capabilities.allOps(WeightFormats.all().keySet());
        }

        @Override
        public Kernels kernels() {
            return kernels;
        }

        @Override
        public Weight loadWeight(HostWeight w) {
            return host.loadWeight(w);
        }

        @Override
        public Tensor allocate(int rows, int cols) {
            return host.allocate(rows, cols);
        }

        @Override
        public void upload(float[] src, Tensor dst) {
            host.upload(src, dst);
        }

        @Override
        public void download(Tensor src, float[] dst) {
            host.download(src, dst);
        }

        @Override
        public void close() {
            host.close();
        }
    }
}
