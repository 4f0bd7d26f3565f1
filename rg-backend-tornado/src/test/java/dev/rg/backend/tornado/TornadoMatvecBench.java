package dev.rg.backend.tornado;

import dev.rg.api.backend.Backend;
import dev.rg.api.backend.BackendOptions;
import dev.rg.api.backend.BackendProvider;
import dev.rg.api.format.WeightFormat;
import dev.rg.api.format.WeightFormats;
import dev.rg.api.tensor.HostWeight;
import dev.rg.api.tensor.Shape;
import dev.rg.api.tensor.Tensor;
import dev.rg.api.tensor.Weight;
import java.lang.foreign.Arena;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.SplittableRandom;

/**
 * Times a {@code rows x cols} matvec ({@code out = x @ W^T}, N tokens) on each named backend, like {@code rg bench}
 * does for one layer: {@code java <TornadoVM flags> -cp <test class path> dev.rg.backend.tornado.TornadoMatvecBench
 * [backends=tornado,reference] [format=bf16] [rows=2560] [cols=2560] [n=1] [iters=100] [local=64]}. Prints
 * milliseconds per call and the weight bytes streamed per second; the result of every backend is checked against
 * the first one.
 */
public final class TornadoMatvecBench {
    private TornadoMatvecBench() {}

    public static void main(String[] args) {
        Map<String, String> a = new HashMap<>();
        for (String s : args) {
            int eq = s.indexOf('=');
            a.put(s.substring(0, eq), s.substring(eq + 1));
        }
        String[] backends = a.getOrDefault("backends", "tornado,reference").split(",");
        WeightFormat format = WeightFormats.byName(a.getOrDefault("format", "bf16"));
        int rows = Integer.parseInt(a.getOrDefault("rows", "2560"));
        int cols = Integer.parseInt(a.getOrDefault("cols", "2560"));
        int n = Integer.parseInt(a.getOrDefault("n", "1"));
        int iters = Integer.parseInt(a.getOrDefault("iters", "100"));
        Map<String, String> settings = new HashMap<>();
        if (a.containsKey("local")) {
            settings.put("local", a.get("local"));
        }
        SplittableRandom random = new SplittableRandom(42);
        float[] w = new float[rows * cols];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) (random.nextDouble(-1, 1) / Math.sqrt(cols));
        }
        float[] x = new float[n * cols];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) random.nextDouble(-1, 1);
        }
        float[] first = null;
        try (Arena arena = Arena.ofConfined()) {
            HostWeight hw = format.quantize("bench", Shape.matrix(rows, cols),
                    (r, dst) -> System.arraycopy(w, Math.toIntExact(r * cols), dst, 0, cols), arena);
            System.out.printf(Locale.ROOT, "matvec %dx%d %s, %d token(s), weight %.1f MB%n", rows, cols, format.name(), n,
                    hw.byteSize() / 1e6);
            for (String name : backends) {
                BackendProvider p = ServiceLoader.load(BackendProvider.class).stream().map(ServiceLoader.Provider::get)
                        .filter(b -> b.name().equals(name)).findFirst()
                        .orElseThrow(() -> new IllegalArgumentException("no backend " + name + " on the class path"));
                if (!p.probe().available()) {
                    System.out.println(name + ": unavailable: " + p.probe().reason());
                    continue;
                }
                long c0 = System.nanoTime();
                try (Backend b = p.create(new BackendOptions(Runtime.getRuntime().availableProcessors(), settings))) {
                    Weight dw = b.loadWeight(hw);
                    Tensor tx = b.allocate(n, cols);
                    Tensor ty = b.allocate(n, rows);
                    b.upload(x, tx);
                    b.kernels().matmul(tx, dw, null, ty); // first call: builds the plan, compiles the kernel
                    long c1 = System.nanoTime();
                    int warm = Math.max(2, Math.min(20, iters / 5));
                    for (int i = 0; i < warm; i++) {
                        b.kernels().matmul(tx, dw, null, ty);
                    }
                    int runs = name.equals("reference") ? Math.max(3, iters / 20) : iters;
                    long t0 = System.nanoTime();
                    for (int i = 0; i < runs; i++) {
                        b.kernels().matmul(tx, dw, null, ty);
                    }
                    float[] y = new float[n * rows];
                    b.download(ty, y); // also waits for the device
                    long t1 = System.nanoTime();
                    double ms = (t1 - t0) / 1e6 / runs;
                    String check = "";
                    if (first == null) {
                        first = y;
                    } else {
                        double worst = 0;
                        for (int i = 0; i < y.length; i++) {
                            worst = Math.max(worst, Math.abs(y[i] - first[i]));
                        }
                        check = String.format(Locale.ROOT, ", max |diff| vs %s %.2e", backends[0], worst);
                    }
                    System.out.printf(Locale.ROOT, "%-10s %8.3f ms/call  %7.2f GB/s of weights  %7.2f GFLOP/s  (first call %.0f ms%s)%n",
                            name, ms, hw.byteSize() / ms / 1e6, 2.0 * rows * cols * n / ms / 1e6, (c1 - c0) / 1e6, check);
                    long e0 = System.nanoTime();
                    for (int i = 0; i < runs; i++) {
                        b.kernels().add(tx, tx, tx); // a tiny op: the fixed cost of one kernel launch
                    }
                    b.download(tx, new float[n * cols]);
                    long e1 = System.nanoTime();
                    System.out.printf(Locale.ROOT, "           a %d-float add: %.3f ms/call (launch overhead)%n", n * cols,
                            (e1 - e0) / 1e6 / runs);
                    if (b instanceof TornadoBackend tb) {
                        System.out.println("           device: " + tb.description() + ", work-group " + tb.session().local());
                    }
                }
            }
        }
    }
}
