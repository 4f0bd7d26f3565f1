package dev.rg.backend.vector;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * A fixed set of persistent worker threads that run the units of one parallel kernel at a time, with the
 * calling thread working as worker 0.
 *
 * <p>Why not an {@code ExecutorService}: a decode step issues a few hundred parallel kernels of 0.05-1 ms
 * each. Submitting futures allocates per call and costs a park/unpark round trip per task. Here a dispatch is
 * a few atomic writes; the threads claim units from one counter (dynamic balancing: on a shared machine one
 * core may be busy with something else, and then the others take its share); and an idle worker spins for a
 * short while before it parks, so back-to-back kernels find it awake. The caller waits only for units that
 * were claimed, never for a worker that has not woken up yet. Nothing is allocated per dispatch.
 *
 * <p>Not re-entrant and not thread-safe by itself: the caller holds the backend's kernel lock.
 */
final class WorkerPool implements AutoCloseable {

    /** The body of a parallel kernel: one call per unit; {@code worker} (0 = the caller) indexes per-worker scratch. */
    interface Task {
        void run(int unit, int worker);
    }

    private final Thread[] workers;
    private final long spinNanos;
    /** (dispatch generation << 32) | next unclaimed unit: a claim is valid only within its own dispatch. */
    private final AtomicLong claim = new AtomicLong();
    private final AtomicInteger done = new AtomicInteger();
    private final AtomicInteger parked = new AtomicInteger();
    private volatile int generation;
    private volatile boolean closed;
    private volatile Throwable failure;
    // written before the volatile write of generation, read after reading it
    private Task task;
    private int units;
    private Thread caller;

    /**
     * @param threads   total compute threads including the caller ({@code threads - 1} are started)
     * @param spinNanos how long an idle worker (or the waiting caller) spins before it parks
     * @param name      thread name prefix
     */
    WorkerPool(int threads, long spinNanos, String name) {
        if (threads < 1 || threads > MAX_THREADS) {
            throw new IllegalArgumentException("the vector backend runs 1 to " + MAX_THREADS + " threads, asked for " + threads);
        }
        this.spinNanos = spinNanos;
        this.workers = new Thread[threads - 1];
        for (int i = 0; i < workers.length; i++) {
            int id = i + 1;
            Thread t = new Thread(() -> loop(id), name + "-" + id);
            t.setDaemon(true);
            workers[i] = t;
        }
        for (Thread t : workers) {
            t.start();
        }
    }

    /** The most threads a pool accepts: far above any useful count, low enough that a typo cannot exhaust memory. */
    static final int MAX_THREADS = 1024;

    /**
     * The idle spin for {@code threads} on {@code cores} processors: {@code spinNanos} when every thread has a core,
     * else 0. An oversubscribed pool must park at once: a spinning idle thread would take the core from a thread
     * that still has work (16 spinning threads on 2 cores decoded 10x slower, 10000 never finished a step).
     */
    static long spinFor(int threads, int cores, long spinNanos) {
        return threads > cores ? 0 : spinNanos;
    }

    /** How long an idle worker spins before it parks. */
    long spinNanos() {
        return spinNanos;
    }

    /** Compute threads including the caller. */
    int threads() {
        return workers.length + 1;
    }

    /** One of the background workers, or null when there are none. */
    Thread anyWorker() {
        return workers.length == 0 ? null : workers[0];
    }

    /** Thread ids of the background workers (for allocation accounting in tests). */
    long[] workerThreadIds() {
        long[] ids = new long[workers.length];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = workers[i].threadId();
        }
        return ids;
    }

    /**
     * Runs {@code t} for every unit in {@code [0, n)} on the caller and the workers and returns when all are
     * done. Units are claimed in increasing order. The first exception thrown by a unit is rethrown here.
     */
    void run(Task t, int n) {
        if (n <= 0) {
            return;
        }
        if (workers.length == 0 || n == 1) {
            for (int u = 0; u < n; u++) {
                t.run(u, 0);
            }
            return;
        }
        if (closed) {
            throw new IllegalStateException("the vector backend is closed");
        }
        int gen = generation + 1;
        // first retag the claim counter: a late worker still holding the previous generation can no longer
        // claim anything, whatever it reads from the fields below while they are being rewritten
        claim.set((long) gen << 32);
        task = t;
        units = n;
        caller = Thread.currentThread();
        done.set(0);
        generation = gen; // publishes everything above
        if (parked.get() > 0) {
            for (Thread w : workers) {
                LockSupport.unpark(w);
            }
        }
        work(gen, t, n, 0);
        awaitDone(n);
        task = null;
        Throwable f = failure;
        if (f != null) {
            failure = null;
            if (f instanceof RuntimeException re) {
                throw re;
            }
            if (f instanceof Error e) {
                throw e;
            }
            throw new IllegalStateException(f);
        }
    }

    private int claimUnit(int gen, int n) {
        while (true) {
            long v = claim.get();
            if ((int) (v >>> 32) != gen || (int) v >= n) {
                return -1;
            }
            if (claim.compareAndSet(v, v + 1)) {
                return (int) v;
            }
        }
    }

    private void work(int gen, Task t, int n, int worker) {
        for (int u = claimUnit(gen, n); u >= 0; u = claimUnit(gen, n)) {
            try {
                t.run(u, worker);
            } catch (Throwable e) {
                if (failure == null) {
                    failure = e;
                }
            }
            if (done.incrementAndGet() == n && worker != 0) {
                LockSupport.unpark(caller);
            }
        }
    }

    private void awaitDone(int n) {
        long start = System.nanoTime();
        while (done.get() < n) {
            if (System.nanoTime() - start > spinNanos) {
                // the unit left is on a descheduled thread: give the core away (the finishing worker unparks us)
                LockSupport.parkNanos(this, 100_000);
            } else {
                Thread.onSpinWait();
            }
        }
    }

    private void loop(int id) {
        int seen = 0;
        while (true) {
            int gen = generation;
            if (gen == seen) {
                long start = System.nanoTime();
                while ((gen = generation) == seen && !closed) {
                    if (System.nanoTime() - start < spinNanos) {
                        Thread.onSpinWait();
                    } else {
                        parked.incrementAndGet();
                        // re-check after announcing: either the dispatcher sees parked > 0 or we see the new generation
                        if (generation == seen && !closed) {
                            LockSupport.park(this);
                        }
                        parked.decrementAndGet();
                        start = System.nanoTime();
                    }
                }
                if (closed) {
                    return;
                }
            }
            seen = gen;
            work(gen, task, units, id);
        }
    }

    @Override
    public void close() {
        closed = true;
        for (Thread w : workers) {
            LockSupport.unpark(w);
        }
        for (Thread w : workers) {
            try {
                w.join(1000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }
}
