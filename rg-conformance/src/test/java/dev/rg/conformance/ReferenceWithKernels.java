package dev.rg.conformance;

import dev.rg.api.backend.Backend;
import dev.rg.api.backend.Capabilities;
import dev.rg.api.backend.Kernels;
import dev.rg.api.tensor.HostWeight;
import dev.rg.api.tensor.Tensor;
import dev.rg.api.tensor.Weight;
import dev.rg.core.reference.ReferenceBackend;
import java.util.Set;

/**
 * The reference backend with other kernels (the tests' broken ones): its tensors and weights, and the ops those
 * kernels implement as its capabilities (f32 weights only), so the kit runs every other op on the reference.
 */
final class ReferenceWithKernels implements Backend {
    private final ReferenceBackend ref;
    private final Kernels kernels;
    private final String name;

    ReferenceWithKernels(String name, ReferenceBackend ref, Kernels kernels) {
        this.name = name;
        this.ref = ref;
        this.kernels = kernels;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public Capabilities capabilities() {
        return Capabilities.implementedBy(kernels.getClass(), Set.of("f32"));
    }

    @Override
    public Kernels kernels() {
        return kernels;
    }

    @Override
    public Weight loadWeight(HostWeight w) {
        return ref.loadWeight(w);
    }

    @Override
    public Tensor allocate(int rows, int cols) {
        return ref.allocate(rows, cols);
    }

    @Override
    public void upload(float[] src, Tensor dst) {
        ref.upload(src, dst);
    }

    @Override
    public void download(Tensor src, float[] dst) {
        ref.download(src, dst);
    }

    @Override
    public void close() {
        ref.close();
    }
}
