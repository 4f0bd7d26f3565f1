package dev.rg.backend.tornado;

import dev.rg.api.backend.Backend;
import dev.rg.api.backend.BackendOptions;
import dev.rg.api.backend.BackendUnavailableException;
import dev.rg.api.backend.Capabilities;
import dev.rg.api.backend.Kernels;
import dev.rg.api.tensor.HostWeight;
import dev.rg.api.tensor.Tensor;
import dev.rg.api.tensor.Weight;
import dev.rg.backend.tornado.kernels.RgKernels;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import uk.ac.manchester.tornado.api.TornadoDeviceMap;
import uk.ac.manchester.tornado.api.TornadoExecutionPlan;
import uk.ac.manchester.tornado.api.common.TornadoDevice;
import uk.ac.manchester.tornado.api.enums.TornadoDeviceType;

/**
 * A live tornado backend: one TornadoVM device, its arena of activations and state, its weight buffers and the
 * execution plan of the kernels (see {@link DeviceSession}).
 *
 * <p>Settings ({@link BackendOptions#settings()}): {@code device=B:D} (TornadoVM backend and device index, as
 * {@code tornado --devices} and {@link TornadoDevices} list them; also {@code -Drg.tornado.device=B:D}; default: the
 * first GPU, else TornadoVM's default device), {@code local=N} (work-group size,
 * a power of two up to 256; default 64), {@code arenaMB=N} (initial arena size; default 64, grows as needed),
 * {@code weightSlack=N} (spare elements per weight buffer for weights loaded after the first kernel; default 2^20),
 * {@code groupElements=N} (elements per weight buffer, default and maximum 2^30; smaller values split the weights
 * over more buffers, which the tests use to exercise that path), {@code fuse=false} (or {@code -Drg.tornado.fuse=false}:
 * launch every kernel alone instead of replaying recurring groups of launches as fused graphs, see {@link Launcher}),
 * {@code kernels=cpu|gpu} (or {@code -Drg.tornado.kernels}: the matmul and RG-LRU kernels laid out for a CPU or a GPU;
 * default by the device's type, see {@link TornadoKernels}).
 */
final class TornadoBackend implements Backend {
    private final DeviceSession dev;
    private final TornadoKernels kernels;
    private final List<String> warnings = new ArrayList<>();
    private final String description;

    TornadoBackend(BackendOptions options) {
        TornadoDevice device = pickDevice(options.settings().getOrDefault("device", System.getProperty("rg.tornado.device")));
        int local = intSetting(options, "local", 64);
        if (local < 1 || local > RgKernels.MAX_LOCAL || Integer.bitCount(local) != 1) {
            throw new IllegalArgumentException("tornado: local=" + local + " must be a power of two up to "
                    + RgKernels.MAX_LOCAL);
        }
        long arenaFloats = (long) (doubleSetting(options, "arenaMB", 64) * (1 << 20) / 4);
        int slack = intSetting(options, "weightSlack", WeightStore.WEIGHT_SLACK);
        this.dev = new DeviceSession(device, local, (int) Math.max(1024, Math.min(arenaFloats, Integer.MAX_VALUE - 64L)),
                Math.max(0, slack), Math.min(WeightStore.GROUP_MAX, Math.max(1024, intSetting(options, "groupElements",
                        (int) WeightStore.GROUP_MAX))), !"false".equals(options.settings().getOrDefault("fuse",
                                System.getProperty("rg.tornado.fuse", "true")).trim()), cpuKernels(options, device));
        this.kernels = new TornadoKernels(this, dev);
        this.description = device.getPhysicalDevice().getDeviceName() + " (" + device.getTornadoVMBackend() + ", "
                + device.getDeviceType() + ")";
        if (device.getDeviceType() == TornadoDeviceType.CPU) {
            warnings.add("the TornadoVM device is a CPU (" + device.getPhysicalDevice().getDeviceName()
                    + "): OpenCL on a CPU is verified but the vector backend is usually faster there");
        }
        synchronized (dev) {
            SelfCheck.run(dev);
        }
    }

    /**
     * Setting {@code kernels=cpu|gpu} (or {@code -Drg.tornado.kernels}): which layout the matmul and RG-LRU kernels
     * take. Default: {@code cpu} when the device is a CPU (PoCL), else {@code gpu}.
     */
    private static boolean cpuKernels(BackendOptions options, TornadoDevice device) {
        String v = options.settings().getOrDefault("kernels", System.getProperty("rg.tornado.kernels"));
        if (v == null || v.isBlank()) {
            return device.getDeviceType() == TornadoDeviceType.CPU;
        }
        return switch (v.trim()) {
            case "cpu" -> true;
            case "gpu" -> false;
            default -> throw new IllegalArgumentException("tornado: kernels=" + v + " must be cpu or gpu");
        };
    }

    private static int intSetting(BackendOptions options, String key, int dflt) {
        String v = options.settings().get(key);
        if (v == null) {
            return dflt;
        }
        try {
            return Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("tornado: setting " + key + "=" + v + " is not an integer");
        }
    }

    private static double doubleSetting(BackendOptions options, String key, double dflt) {
        String v = options.settings().get(key);
        if (v == null) {
            return dflt;
        }
        try {
            double d = Double.parseDouble(v.trim());
            if (!(d > 0)) {
                throw new NumberFormatException();
            }
            return d;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("tornado: setting " + key + "=" + v + " is not a positive number");
        }
    }

    private static TornadoDevice pickDevice(String setting) {
        TornadoDeviceMap map = TornadoExecutionPlan.getTornadoDeviceMap();
        int total = 0;
        for (uk.ac.manchester.tornado.api.TornadoBackend b : map.getAllBackends()) {
            total += b.getNumDevices();
        }
        if (total == 0) {
            throw new BackendUnavailableException("TornadoVM found no device (no OpenCL platform with a device; "
                    + "check `clinfo -l`, and install the GPU vendor's OpenCL driver or pocl-opencl-icd for the CPU)");
        }
        if (setting == null || setting.isBlank()) {
            // TornadoVM's default is the first device of the first driver, which can be PoCL's CPU next to a GPU:
            // prefer the first GPU (then accelerator), as the provider's probe assumes
            for (TornadoDeviceType wanted : new TornadoDeviceType[] {TornadoDeviceType.GPU, TornadoDeviceType.ACCELERATOR}) {
                for (int b = 0; b < map.getNumBackends(); b++) {
                    for (int d = 0; d < map.getAllBackends().get(b).getNumDevices(); d++) {
                        TornadoDevice dev = TornadoExecutionPlan.getDevice(b, d);
                        if (dev.getDeviceType() == wanted) {
                            return dev;
                        }
                    }
                }
            }
            return TornadoExecutionPlan.DEFAULT_DEVICE;
        }
        String[] parts = setting.trim().split(":");
        try {
            int b = parts.length == 2 ? Integer.parseInt(parts[0]) : 0;
            int d = Integer.parseInt(parts[parts.length - 1]);
            if (b < 0 || b >= map.getNumBackends() || d < 0 || d >= map.getAllBackends().get(b).getNumDevices()) {
                throw new IllegalArgumentException("tornado: no device " + setting + " (see `tornado --devices`)");
            }
            return TornadoExecutionPlan.getDevice(b, d);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("tornado: device=" + setting + " must be BACKEND:DEVICE, e.g. 0:0");
        }
    }

    String description() {
        return description;
    }

    DeviceSession session() {
        return dev;
    }

    @Override
    public String name() {
        return TornadoBackendProvider.NAME;
    }

    @Override
    public Capabilities capabilities() {
        return TornadoBackendProvider.CAPABILITIES;
    }

    @Override
    public Kernels kernels() {
        return kernels;
    }

    @Override
    public Weight loadWeight(HostWeight w) {
        synchronized (dev) {
            return dev.load(w).owned(this);
        }
    }

    @Override
    public Tensor allocate(int rows, int cols) {
        if (rows < 0 || cols < 0) {
            throw new IllegalArgumentException("negative tensor size " + rows + "x" + cols);
        }
        synchronized (dev) {
            return new DeviceTensor(this, dev.allocate((long) rows * cols), rows, cols);
        }
    }

    void release(int offset, long size) {
        synchronized (dev) {
            dev.free(offset, size);
        }
    }

    DeviceTensor tensor(Tensor t) {
        if (t instanceof DeviceTensor d && d.owner() == this) {
            return d;
        }
        throw new IllegalArgumentException("expected a tensor of this tornado backend but got " + t);
    }

    DeviceWeight weight(Weight w) {
        if (w instanceof DeviceWeight d && d.owner() == this) {
            return d;
        }
        throw new IllegalArgumentException("weight '" + w.name() + "' was not loaded on this tornado backend ("
                + w.getClass().getName() + ")");
    }

    @Override
    public void upload(float[] src, Tensor dst) {
        DeviceTensor d = tensor(dst);
        if (src.length != d.size()) {
            throw new IllegalArgumentException("upload of " + src.length + " floats into a tensor of " + d.size());
        }
        synchronized (dev) {
            dev.upload(src, d.offset());
        }
    }

    @Override
    public void download(Tensor src, float[] dst) {
        DeviceTensor d = tensor(src);
        if (dst.length < d.size()) {
            throw new IllegalArgumentException("download of a tensor of " + d.size() + " floats into " + dst.length);
        }
        synchronized (dev) {
            dev.download(d.offset(), dst, (int) d.size());
        }
    }

    @Override
    public List<String> warnings() {
        return List.copyOf(warnings);
    }

    @Override
    public void close() {
        synchronized (dev) {
            dev.close();
        }
    }

    @Override
    public String toString() {
        return "tornado on " + description.toLowerCase(Locale.ROOT);
    }
}
