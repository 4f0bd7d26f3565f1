package dev.rg.core.model;

import dev.rg.api.backend.Backend;
import dev.rg.api.tensor.Tensor;
import dev.rg.core.config.ModelConfig;
import java.util.ArrayList;
import java.util.List;

/** Activation buffers for one row count, reused by every forward call of that size (no per-token allocation). */
final class Workspace implements AutoCloseable {
    final int rows;
    final Tensor x;
    final Tensor normed;
    final Tensor block;
    final Tensor y;
    final Tensor xb;
    final Tensor conv;
    final Tensor q;
    final Tensor k;
    final Tensor v;
    final Tensor attn;
    final Tensor gate;
    final Tensor up;
    /** Outputs of the matmul groups ({@link dev.rg.api.backend.Kernels#matmulGroup}), in the order of their weights. */
    final Tensor[] linearYX;
    final Tensor[] qkv;
    final Tensor[] gateUp;
    private final List<Tensor> all = new ArrayList<>();

    Workspace(Backend backend, ModelConfig c, int rows) {
        this.rows = rows;
        int h = c.hiddenSize();
        int r = c.lruWidth();
        int m = c.mlpWidth();
        x = add(backend.allocate(rows, h));
        normed = add(backend.allocate(rows, h));
        block = add(backend.allocate(rows, h));
        y = add(backend.allocate(rows, r));
        xb = add(backend.allocate(rows, r));
        conv = add(backend.allocate(rows, r));
        q = add(backend.allocate(rows, c.heads() * c.headDim()));
        k = add(backend.allocate(rows, c.kvHeads() * c.headDim()));
        v = add(backend.allocate(rows, c.kvHeads() * c.headDim()));
        attn = add(backend.allocate(rows, c.heads() * c.headDim()));
        gate = add(backend.allocate(rows, m));
        up = add(backend.allocate(rows, m));
        linearYX = new Tensor[] {y, xb};
        qkv = new Tensor[] {q, k, v};
        gateUp = new Tensor[] {gate, up};
    }

    private Tensor add(Tensor t) {
        all.add(t);
        return t;
    }

    @Override
    public void close() {
        all.forEach(Tensor::close);
    }
}
