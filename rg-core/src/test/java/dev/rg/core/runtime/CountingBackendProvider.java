package dev.rg.core.runtime;

import dev.rg.api.backend.AttentionSpec;
import dev.rg.api.backend.Availability;
import dev.rg.api.backend.Backend;
import dev.rg.api.backend.BackendOptions;
import dev.rg.api.backend.BackendProvider;
import dev.rg.api.backend.Capabilities;
import dev.rg.api.backend.Kernels;
import dev.rg.api.backend.RgLruWeights;
import dev.rg.api.backend.SeqBatch;
import dev.rg.api.format.WeightFormats;
import dev.rg.api.tensor.HostTensor;
import dev.rg.api.tensor.HostWeight;
import dev.rg.api.tensor.Shape;
import dev.rg.api.tensor.Tensor;
import dev.rg.api.tensor.Weight;
import dev.rg.api.format.WeightFormat;
import dev.rg.core.reference.ReferenceKernels;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A test backend that behaves like a device: its tensors and weights are opaque handles (not host types, so
 * nothing can read them without a counted transfer), and it counts every byte that crosses.
 */
public final class CountingBackendProvider implements BackendProvider {
    public static final AtomicLong UPLOADED = new AtomicLong();
    public static final AtomicLong DOWNLOADED = new AtomicLong();
    public static final AtomicLong WEIGHT_BYTES = new AtomicLong();

    public static void resetCounters() {
        UPLOADED.set(0);
        DOWNLOADED.set(0);
        WEIGHT_BYTES.set(0);
    }

    @Override
    public String name() {
        return "counting";
    }

    @Override
    public String description() {
        return "test backend counting host/device transfers";
    }

    @Override
    public int priority() {
        return -1;
    }

    @Override
    public Availability probe() {
        return Availability.available("test");
    }

    @Override
    public Capabilities capabilities() {
        return Capabilities.allOps(java.util.Set.of("f32", "bf16", "f16"));
    }

    @Override
    public Backend create(BackendOptions options) {
        return new CountingBackend();
    }

    /** A "device" tensor: the host array is private to this backend. */
    record DeviceTensor(HostTensor inner) implements Tensor {
        @Override
        public int rows() {
            return inner.rows();
        }

        @Override
        public int cols() {
            return inner.cols();
        }

        @Override
        public void close() {
            inner.close();
        }
    }

    /** A "device" weight. */
    record DeviceWeight(HostWeight inner) implements Weight {
        @Override
        public String name() {
            return inner.name();
        }

        @Override
        public Shape shape() {
            return inner.shape();
        }

        @Override
        public WeightFormat format() {
            return inner.format();
        }

        @Override
        public long byteSize() {
            return inner.byteSize();
        }
    }

    static final class CountingBackend implements Backend {
        private final Kernels kernels = new DeviceKernels();

        @Override
        public String name() {
            return "counting";
        }

        @Override
        public Capabilities capabilities() {
            return Capabilities.allOps(java.util.Set.of("f32", "bf16", "f16"));
        }

        @Override
        public Kernels kernels() {
            return kernels;
        }

        @Override
        public Weight loadWeight(HostWeight w) {
            WEIGHT_BYTES.addAndGet(w.byteSize());
            return new DeviceWeight(w);
        }

        @Override
        public Tensor allocate(int rows, int cols) {
            return new DeviceTensor(new HostTensor(rows, cols));
        }

        @Override
        public void upload(float[] src, Tensor dst) {
            UPLOADED.addAndGet(4L * src.length);
            System.arraycopy(src, 0, t(dst).data(), 0, src.length);
        }

        @Override
        public void download(Tensor src, float[] dst) {
            DOWNLOADED.addAndGet(4L * src.size());
            System.arraycopy(t(src).data(), 0, dst, 0, (int) src.size());
        }

        @Override
        public void close() {}
    }

    static HostTensor t(Tensor x) {
        if (x instanceof DeviceTensor d) {
            return d.inner();
        }
        throw new IllegalArgumentException("not a device tensor: " + x);
    }

    static HostWeight w(Weight x) {
        if (x == null) {
            return null;
        }
        if (x instanceof DeviceWeight d) {
            return d.inner();
        }
        throw new IllegalArgumentException("not a device weight: " + x.name());
    }

    /** Runs the reference kernels on the private host arrays: computing on the "device" moves nothing. */
    static final class DeviceKernels implements Kernels {
        private final ReferenceKernels ref = new ReferenceKernels();

        @Override
        public void embed(int[] ids, Weight table, float scale, Tensor out) {
            ref.embed(ids, w(table), scale, t(out));
        }

        @Override
        public void matmul(Tensor x, Weight wt, Weight bias, Tensor out) {
            ref.matmul(t(x), w(wt), w(bias), t(out));
        }

        @Override
        public void rmsNorm(Tensor x, Weight scale, float eps, Tensor out) {
            ref.rmsNorm(t(x), w(scale), eps, t(out));
        }

        @Override
        public void gelu(Tensor x, Tensor out) {
            ref.gelu(t(x), t(out));
        }

        @Override
        public void geluMul(Tensor gate, Tensor up, Tensor out) {
            ref.geluMul(t(gate), t(up), t(out));
        }

        @Override
        public void mul(Tensor a, Tensor b, Tensor out) {
            ref.mul(t(a), t(b), t(out));
        }

        @Override
        public void add(Tensor a, Tensor b, Tensor out) {
            ref.add(t(a), t(b), t(out));
        }

        @Override
        public void conv1d(Tensor x, SeqBatch seq, Weight kernel, Weight bias, Tensor state, Tensor out) {
            ref.conv1d(t(x), seq, w(kernel), w(bias), t(state), t(out));
        }

        @Override
        public void rgLru(Tensor x, SeqBatch seq, RgLruWeights lw, Tensor state, Tensor out) {
            ref.rgLru(t(x), seq, new RgLruWeights(w(lw.inputGateWeight()), w(lw.inputGateBias()), w(lw.recurrentGateWeight()),
                    w(lw.recurrentGateBias()), w(lw.softplusLambda()), lw.blocks()), t(state), t(out));
        }

        @Override
        public void rope(Tensor x, SeqBatch seq, int heads, int headDim, int rotaryDim, float theta) {
            ref.rope(t(x), seq, heads, headDim, rotaryDim, theta);
        }

        @Override
        public void localAttention(Tensor q, Tensor k, Tensor v, SeqBatch seq, AttentionSpec spec, Tensor kc, Tensor vc,
                Tensor out) {
            ref.localAttention(t(q), t(k), t(v), seq, spec, t(kc), t(vc), t(out));
        }

        @Override
        public void softCap(Tensor x, float cap) {
            ref.softCap(t(x), cap);
        }

        @Override
        public void copyRows(Tensor src, int srcRow, Tensor dst, int dstRow, int rows) {
            ref.copyRows(t(src), srcRow, t(dst), dstRow, rows);
        }

        @Override
        public void argmax(Tensor x, int[] dst) {
            ref.argmax(t(x), dst);
        }

        @Override
        public void topK(Tensor x, int k, int[] ids, float[] values) {
            ref.topK(t(x), k, ids, values);
        }

        @Override
        public void fill(Tensor x, float value) {
            ref.fill(t(x), value);
        }
    }
}
