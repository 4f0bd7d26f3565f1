package dev.rg.bench.jmh;

import dev.rg.api.backend.Backend;
import dev.rg.api.backend.Kernels;
import dev.rg.api.tensor.Tensor;
import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;

/**
 * Common part of every benchmark state: the backend (a JMH parameter, so results are keyed by it), its
 * threads, the seeded data, the arena that holds host copies of weights, and a completion barrier.
 *
 * <p>Subclasses are the {@code @State} classes; each calls {@link #open()} first in its own trial setup and
 * {@link #close()} in its teardown (one setup method per state keeps the order obvious).
 */
@State(Scope.Benchmark)
public abstract class BackendFixture {
    /** Backend name, as {@code BackendProvider.name()}. */
    @Param("reference")
    public String backend;

    /** Worker threads the backend is created with (the runner passes the effective number, never 0). */
    @Param("1")
    public int threads;

    protected Backend be;
    protected Kernels k;
    protected Arena arena;
    protected final SeededData data = new SeededData(SeededData.SEED);
    private final List<AutoCloseable> owned = new ArrayList<>();
    private Tensor barrier;
    private final float[] one = new float[1];

    /** Creates the backend. */
    protected final void open() {
        be = Backends.create(backend, threads);
        k = be.kernels();
        // shared: a backend's worker threads read the weights
        arena = Arena.ofShared();
        barrier = own(be.allocate(1, 1));
    }

    /** Registers a tensor to close with the fixture and returns it. */
    protected final Tensor own(Tensor t) {
        owned.add(t);
        return t;
    }

    /**
     * Waits until the backend has finished the work issued so far, by downloading one float. Device backends run
     * their kernels in order on one stream, so the download returns only after the op; on CPU backends it costs
     * nanoseconds. Without it an asynchronous backend would be timed for launching, not for computing.
     */
    protected final float sync() {
        be.download(barrier, one);
        return one[0];
    }

    /** Releases tensors, the backend, then the host weights (a CPU backend may read them in place until closed). */
    protected final void close() {
        for (AutoCloseable c : owned) {
            try {
                c.close();
            } catch (Exception e) {
                // closing is best effort: the backend is closed below anyway
            }
        }
        owned.clear();
        if (be != null) {
            be.close();
            be = null;
        }
        if (arena != null) {
            arena.close();
            arena = null;
        }
    }
}
