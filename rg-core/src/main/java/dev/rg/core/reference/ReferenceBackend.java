package dev.rg.core.reference;

import dev.rg.api.backend.Backend;
import dev.rg.api.backend.Capabilities;
import dev.rg.api.backend.Kernels;
import dev.rg.api.format.WeightFormats;
import dev.rg.api.tensor.HostTensor;
import dev.rg.api.tensor.HostWeight;
import dev.rg.api.tensor.Tensor;
import dev.rg.api.tensor.Weight;

/** A live reference backend: host tensors, weights used in place through their format's reference dequantisation. */
public final class ReferenceBackend implements Backend {
    private final ReferenceKernels kernels = new ReferenceKernels();

    @Override
    public String name() {
        return ReferenceBackendProvider.NAME;
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
        w.format().validate(w);
        return w;
    }

    @Override
    public Tensor allocate(int rows, int cols) {
        return new HostTensor(rows, cols);
    }

    @Override
    public void upload(float[] src, Tensor dst) {
        float[] d = HostTensor.of(dst).data();
        if (src.length != d.length) {
            throw new IllegalArgumentException("upload of " + src.length + " floats into a tensor of " + d.length);
        }
        System.arraycopy(src, 0, d, 0, d.length);
    }

    @Override
    public void download(Tensor src, float[] dst) {
        float[] s = HostTensor.of(src).data();
        if (dst.length < s.length) {
            throw new IllegalArgumentException("download of a tensor of " + s.length + " floats into " + dst.length);
        }
        System.arraycopy(s, 0, dst, 0, s.length);
    }

    @Override
    public void close() {}
}
