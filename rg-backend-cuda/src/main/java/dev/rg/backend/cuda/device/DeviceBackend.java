package dev.rg.backend.cuda.device;

import dev.rg.api.backend.Backend;
import dev.rg.api.backend.BackendOptions;
import dev.rg.api.backend.BackendUnavailableException;
import dev.rg.api.backend.Capabilities;
import dev.rg.api.backend.Kernels;
import dev.rg.api.format.WeightFormat;
import dev.rg.api.tensor.HostWeight;
import dev.rg.api.tensor.Tensor;
import dev.rg.api.tensor.Weight;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Objects;
import java.util.OptionalDouble;

/**
 * A {@link Backend} whose tensors and weights live in device memory behind a {@link KernelLauncher}. The CUDA
 * backend is this over the CUDA driver; the tests run the very same class over OpenCL. Weights are uploaded once
 * by {@link #loadWeight}; activations and state are allocated on the device and never leave it except through
 * {@link #download} (and the ids of argmax/top-k).
 */
public class DeviceBackend implements Backend {
    private final String name;
    private final KernelLauncher launcher;
    private final Capabilities capabilities;
    private final DeviceKernels kernels;
    /** Blocks of the read probe: enough to fill any current GPU several times over. */
    private static final int READ_PROBE_BLOCKS = 4096;

    /**
     * Setting that records the groups of ops a forward pass marks (a layer, the LM head) and replays them as device
     * graphs: {@code graphs=on}; {@code off} (the default) launches every kernel as it comes. Off by default until a
     * GPU run has confirmed it (the device check runs decode both ways); its replay logic is tested on OpenCL.
     */
    public static final String GRAPHS = "graphs";

    /** Where the CLI passes no backend settings: {@code -Drg.cuda.graphs=on} (e.g. through RG_JAVA_OPTS). */
    public static final String GRAPHS_PROPERTY = "rg.cuda.graphs";

    /**
     * The {@link #GRAPHS} setting of {@code options}, else the {@value #GRAPHS_PROPERTY} system property: true for on,
     * false for off or absent.
     */
    public static boolean graphsSetting(BackendOptions options) {
        return onOff(options, GRAPHS, GRAPHS_PROPERTY, false);
    }

    /**
     * Setting that chooses the forward pass's sequence of ops between blocks ({@code Kernels.fusesNormsIntoMatmuls}):
     * {@code fused-norms=on} (the default) adds each output projection into the residual stream in its epilogue and
     * lets the next matvec group apply the norm while it stages its input, 7 launches per decode layer;
     * {@code off} runs the residual add and the norm as one kernel of their own, 9 launches, for comparisons. Both
     * compute the same values (the norm's reduction is the same code).
     */
    public static final String FUSED_NORMS = "fused-norms";

    /** Where the CLI passes no backend settings: {@code -Drg.cuda.fusedNorms=off}. */
    public static final String FUSED_NORMS_PROPERTY = "rg.cuda.fusedNorms";

    /** The {@link #FUSED_NORMS} setting of {@code options}, else its system property: false for off, true for on or absent. */
    public static boolean fusedNormsSetting(BackendOptions options) {
        return onOff(options, FUSED_NORMS, FUSED_NORMS_PROPERTY, true);
    }

    private static boolean onOff(BackendOptions options, String setting, String property, boolean absent) {
        String v = options.settings().get(setting);
        if (v == null) {
            v = System.getProperty(property);
        }
        if (v == null || v.isBlank()) {
            return absent;
        }
        return switch (v.strip()) {
            case "on" -> true;
            case "off" -> false;
            default -> throw new BackendUnavailableException("setting " + setting + "=" + v + " is neither on nor off");
        };
    }

    protected DeviceBackend(String name, KernelLauncher launcher) {
        this.name = Objects.requireNonNull(name);
        this.launcher = Objects.requireNonNull(launcher);
        this.capabilities = Capabilities.allOps(WeightCodec.supportedFormats());
        this.kernels = new DeviceKernels(this);
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public Capabilities capabilities() {
        return capabilities;
    }

        /** Chooses the sequence of ops between blocks (see {@link #FUSED_NORMS}). */
    public void fuseNormsIntoMatmuls(boolean on) {
        kernels.fuseNormsIntoMatmuls(on);
    }

    @Override
    public Kernels kernels() {
        return kernels;
    }

    /** The launcher every kernel of this backend goes through. */
    public KernelLauncher launcher() {
        return launcher;
    }

    @Override
    public Weight loadWeight(HostWeight w) {
        WeightFormat format = w.format();
        WeightCodec codec = WeightCodec.of(format).orElseThrow(() -> new IllegalArgumentException("weight '" + w.name()
                + "' is in format " + format.name() + ", which the " + name + " backend has no kernel for (it runs "
                + capabilities.weightFormats() + ")"));
        format.validate(w);
        if (w.shape().elementCount() == 0) {
            throw new IllegalArgumentException("weight '" + w.name() + "' is empty: " + w.shape());
        }
        DeviceBuffer data = null;
        DeviceBuffer aux = null;
        DeviceBuffer book = null;
        try {
            data = upload(w.part(WeightFormat.DATA));
            if (codec.auxPart() != null) {
                try (Arena scratch = Arena.ofConfined()) { // resolved nested scales live only until the copy
                    aux = upload(codec.scalesForKernels(w, scratch));
                }
            }
            if (codec.codebook() != null) {
                book = upload(MemorySegment.ofArray(codec.codebook()));
            }
        } catch (RuntimeException e) {
            for (DeviceBuffer b : new DeviceBuffer[] {data, aux, book}) {
                if (b != null) {
                    launcher.free(b);
                }
            }
            throw e;
        }
        checkWeightBytes(w, codec, data, aux);
        return new DeviceWeight(this, w.name(), w.shape(), format, w.byteSize(), codec, data, aux, book);
    }

    /** The uploaded parts must hold what the kernels will read (the format's validate() said so; this says it again). */
    private static void checkWeightBytes(HostWeight w, WeightCodec c, DeviceBuffer data, DeviceBuffer aux) {
        long n = w.shape().elementCount();
        long rows = w.shape().rows();
        long cols = w.shape().lastDim();
        long needData = switch (c.fmt()) {
            case WeightCodec.F32 -> n * 4;
            case WeightCodec.BF16, WeightCodec.F16 -> n * 2;
            case WeightCodec.I8 -> n;
            default -> (n + 1) / 2;
        };
        long needAux = switch (c.fmt()) {
            case WeightCodec.I8 -> rows * ((cols + c.blockSize() - 1) / c.blockSize()) * (c.auxFmt() == WeightCodec.F16 ? 2 : 4);
            case WeightCodec.Q4 -> (n + c.blockSize() - 1) / c.blockSize() * 4;
            default -> 0;
        };
        if (data.bytes() < needData || (needAux > 0 && (aux == null || aux.bytes() < needAux))) {
            throw new IllegalArgumentException("weight '" + w.name() + "' " + w.shape() + " in " + w.format().name()
                    + ": parts too small for the kernels (data " + data.bytes() + " of " + needData + " bytes, scales "
                    + (aux == null ? 0 : aux.bytes()) + " of " + needAux + ")");
        }
    }

    private DeviceBuffer upload(MemorySegment part) {
        DeviceBuffer b = launcher.allocate(Math.max(16, part.byteSize()));
        launcher.write(part, b, 0);
        return b;
    }

    @Override
    public Tensor allocate(int rows, int cols) {
        if (rows < 0 || cols < 0) {
            throw new IllegalArgumentException("negative tensor size " + rows + "x" + cols);
        }
        long bytes = Math.multiplyExact((long) rows * cols, 4L);
        DeviceBuffer b = launcher.allocate(Math.max(16, bytes));
        launcher.fill32(b, 0);
        return new DeviceTensor(this, rows, cols, b);
    }

    @Override
    public void upload(float[] src, Tensor dst) {
        DeviceTensor t = tensor(dst);
        if (src.length != t.size()) {
            throw new IllegalArgumentException("upload of " + src.length + " floats into a tensor of " + t.size());
        }
        launcher.write(MemorySegment.ofArray(src), t.buffer(), 0);
    }

    @Override
    public void download(Tensor src, float[] dst) {
        DeviceTensor t = tensor(src);
        if (dst.length < t.size()) {
            throw new IllegalArgumentException("download of a tensor of " + t.size() + " floats into " + dst.length);
        }
        launcher.read(t.buffer(), 0, MemorySegment.ofArray(dst).asSlice(0, t.bytes()));
    }

    /** Casts to a tensor of this backend, with a clear error otherwise. */
    DeviceTensor tensor(Tensor t) {
        if (t instanceof DeviceTensor d && d.owner() == this) {
            return d;
        }
        throw new IllegalArgumentException("expected a tensor of the " + name + " backend but got "
                + (t == null ? "null" : t.getClass().getName() + " " + t));
    }

    /** Casts to a weight of this backend, with a clear error otherwise. */
    DeviceWeight weight(Weight w) {
        if (w instanceof DeviceWeight d && d.owner() == this) {
            return d;
        }
        throw new IllegalArgumentException("weight '" + (w == null ? "null" : w.name()) + "' was not loaded on the " + name
                + " backend (" + (w == null ? "null" : w.getClass().getName()) + ")");
    }

    /**
     * Device read bandwidth: a grid-stride read kernel ({@code rg_read_probe}, 16-byte loads, four in flight per
     * thread, as the matvecs) over a device buffer of {@code bytes}, launched ten times between two
     * synchronisations; the best of five such rounds. Host-side timing around a synchronised queue adds a few
     * microseconds to rounds of milliseconds, under 1%.
     */
    @Override
    public OptionalDouble measureReadBandwidth(long bytes) {
        long words = Math.max(1, bytes / 16);
        DeviceBuffer buf = launcher.allocate(words * 16);
        DeviceBuffer sink = launcher.allocate(READ_PROBE_BLOCKS * 4L);
        try {
            launcher.fill32(buf, 0x3f3f3f3f);
            Launch g = Launch.gridStride(words, 256, READ_PROBE_BLOCKS);
            Span in = new Span(buf, words * 16);
            Span out = new Span(sink, READ_PROBE_BLOCKS * 4L);
            launcher.launch(Kernel.READ_PROBE, g, in, words, out);
            launcher.synchronize();
            double best = 0;
            for (int round = 0; round < 5; round++) {
                long t0 = System.nanoTime();
                for (int i = 0; i < 10; i++) {
                    launcher.launch(Kernel.READ_PROBE, g, in, words, out);
                }
                launcher.synchronize();
                long ns = System.nanoTime() - t0;
                best = Math.max(best, 10.0 * words * 16 / Math.max(1, ns));
            }
            return OptionalDouble.of(best);
        } finally {
            launcher.free(buf);
            launcher.free(sink);
        }
    }

    @Override
    public void close() {
        kernels.close();
        launcher.close();
    }

    @Override
    public String toString() {
        return name + " on " + launcher.device();
    }
}
