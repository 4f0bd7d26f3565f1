package dev.rg.backend.tornado;

import dev.rg.api.backend.Availability;
import dev.rg.api.backend.Backend;
import dev.rg.api.backend.BackendOptions;
import dev.rg.api.backend.BackendProvider;
import dev.rg.api.backend.BackendUnavailableException;
import dev.rg.api.backend.Capabilities;
import dev.rg.api.backend.DeviceClass;
import dev.rg.api.backend.Op;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.stream.Stream;

/**
 * The TornadoVM backend (priority 200): every kernel as TornadoVM Java, JIT-compiled for an OpenCL device (GPU, or
 * a CPU through PoCL) or, with a PTX build of TornadoVM, an NVIDIA GPU.
 *
 * <p>TornadoVM is not on Maven Central: it comes as an SDK ({@code TORNADOVM_HOME}) whose modules, native libraries
 * and JVM flags the rg launcher adds when {@code TORNADOVM_HOME} is set. This class never touches a TornadoVM type:
 * {@link #probe()} only looks at the module layer, system properties and files, and {@link #create} starts
 * TornadoVM.
 */
public final class TornadoBackendProvider implements BackendProvider {
    /** Its name for {@code --backend}. */
    public static final String NAME = "tornado";

    /**
     * Every op natively; the discovered weight formats whose layout the matmul and embedding kernels decode
     * ({@link WeightEncoding}: no TornadoVM type there either).
     */
    static final Capabilities CAPABILITIES = new Capabilities(EnumSet.allOf(Op.class), WeightEncoding.FORMATS);

    private volatile Availability cached;

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String description() {
        return "TornadoVM: kernels JIT-compiled from Java for OpenCL devices (GPU, or CPU via PoCL) and PTX; "
                + "weights f32/bf16/f16/int8/nf4 decoded on the device";
    }

    @Override
    public int priority() {
        return 200;
    }

    @Override
    public Capabilities capabilities() {
        return CAPABILITIES;
    }

    @Override
    public Availability probe() {
        Availability a = cached;
        if (a == null) {
            a = check();
            cached = a;
        }
        return a;
    }

    private static Optional<Module> module(String name) {
        ModuleLayer layer = TornadoBackendProvider.class.getModule().getLayer();
        Optional<Module> m = layer == null ? Optional.empty() : layer.findModule(name);
        return m.isPresent() ? m : ModuleLayer.boot().findModule(name);
    }

    private static Availability check() {
        String home = System.getenv("TORNADOVM_HOME");
        boolean homeSet = home != null && !home.isBlank();
        Optional<Module> api = module("tornado.api");
        if (api.isEmpty()) {
            if (!homeSet) {
                return Availability.unavailable("TornadoVM SDK not found (set TORNADOVM_HOME and run through the rg launcher)");
            }
            if (!Files.isDirectory(Path.of(home, "share", "java", "tornado"))) {
                return Availability.unavailable("TORNADOVM_HOME=" + home + " is not a TornadoVM SDK (no share/java/tornado)");
            }
            return Availability.unavailable("TornadoVM SDK at " + home + " but its modules are not on the module path: "
                    + "run through the rg launcher, which adds them when TORNADOVM_HOME is set");
        }
        if (module("tornado.runtime").isEmpty() || System.getProperty("tornado.load.runtime.implementation") == null) {
            return Availability.unavailable("TornadoVM's modules are present but the JVM was started without TornadoVM's "
                    + "flags (JVMCI, tornado.load.*, export lists): run through the rg launcher with TORNADOVM_HOME set");
        }
        List<String> backends = sdkBackends(homeSet ? home : null);
        boolean opencl = backends.isEmpty() || backends.contains("opencl");
        String lib = opencl ? "tornado-opencl" : "tornado-" + backends.getFirst();
        if (!onLibraryPath(System.mapLibraryName(lib))) {
            return Availability.unavailable(System.mapLibraryName(lib) + " not found in java.library.path ("
                    + System.getProperty("java.library.path") + "): the launcher must pass -Djava.library.path=$TORNADOVM_HOME/lib");
        }
        String drivers = "";
        List<String> icds = opencl ? openclDrivers() : List.of();
        if (opencl) {
            if (icds.isEmpty() && !backends.contains("ptx") && !backends.contains("cuda")) {
                return Availability.unavailable("no OpenCL device: no OpenCL driver (ICD) in " + icdDir()
                        + " (install the GPU vendor's OpenCL driver, or pocl-opencl-icd to run on the CPU)");
            }
            drivers = icds.isEmpty() ? "" : ", OpenCL drivers " + String.join(", ", icds);
        }
        DeviceClass device = deviceClass(icds, backends.contains("ptx") || backends.contains("cuda"),
                Files.exists(Path.of("/dev/nvidiactl")));
        String version = api.get().getDescriptor().rawVersion().orElse("?");
        return Availability.available("TornadoVM " + version + " (" + (backends.isEmpty() ? "opencl" : String.join(",", backends))
                + ")" + (homeSet ? " from " + home : "") + drivers + "; " + deviceNote(device)
                + "; the device is opened when the backend starts", device);
    }

    /**
     * The device class the backend will run on, from the drivers alone (no TornadoVM class is loaded by the probe):
     * a GPU when an NVIDIA driver serves the PTX/CUDA backend or an OpenCL driver other than PoCL is installed (the
     * backend then prefers a GPU device, see {@code TornadoBackend.pickDevice}); a CPU when PoCL is the only OpenCL
     * driver. PoCL's Debian ICD runs on the CPU.
     */
    static DeviceClass deviceClass(List<String> icds, boolean nvidiaBackend, boolean nvidiaDriver) {
        if (nvidiaBackend && nvidiaDriver) {
            return DeviceClass.GPU;
        }
        for (String icd : icds) {
            if (!icd.toLowerCase(java.util.Locale.ROOT).contains("pocl")) {
                return DeviceClass.GPU;
            }
        }
        return DeviceClass.CPU;
    }

    private static String deviceNote(DeviceClass device) {
        return device == DeviceClass.CPU
                ? "the only OpenCL device is a CPU (PoCL): ranked below the host backends (vector) in automatic selection"
                : "a GPU driver is installed";
    }

    /** The backends the SDK was built with ({@code etc/tornado.backend}), e.g. [opencl]. */
    private static List<String> sdkBackends(String home) {
        List<String> out = new ArrayList<>();
        if (home == null) {
            return out;
        }
        Path f = Path.of(home, "etc", "tornado.backend");
        if (Files.isRegularFile(f)) {
            Properties p = new Properties();
            try (var in = Files.newInputStream(f)) {
                p.load(in);
            } catch (IOException e) {
                return out;
            }
            for (String b : p.getProperty("tornado.backends", "").split(",")) {
                String name = b.trim().replace("-backend", "");
                if (!name.isEmpty()) {
                    out.add(name);
                }
            }
        }
        return out;
    }

    private static boolean onLibraryPath(String file) {
        String path = System.getProperty("java.library.path", "");
        for (String dir : path.split(File.pathSeparator)) {
            if (!dir.isEmpty() && Files.isRegularFile(Path.of(dir, file))) {
                return true;
            }
        }
        return false;
    }

    private static Path icdDir() {
        String vendors = System.getenv("OCL_ICD_VENDORS");
        return Path.of(vendors != null && !vendors.isBlank() ? vendors : "/etc/OpenCL/vendors");
    }

    /** The installed OpenCL ICDs (one per driver), by file name. */
    private static List<String> openclDrivers() {
        Path dir = icdDir();
        if (Files.isRegularFile(dir)) {
            return List.of(dir.getFileName().toString());
        }
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".icd")).sorted().toList();
        } catch (IOException e) {
            return List.of();
        }
    }

    @Override
    public Backend create(BackendOptions options) {
        Availability a = probe();
        if (!a.available()) {
            throw new BackendUnavailableException(a.reason());
        }
        if (System.getProperty("tornado.recover.bailout") == null) {
            // without it, a kernel that fails to compile silently runs as plain Java (and KernelContext code then
            // computes wrong numbers): fail instead
            System.setProperty("tornado.recover.bailout", "false");
        }
        if (System.getProperty("tornado.device.memory") == null) {
            // TornadoVM budgets device allocations to 4GB by default, less than a 2B model in bf16: let the device's own
            // limits decide (set -Dtornado.device.memory to cap it)
            System.setProperty("tornado.device.memory", "1TB");
        }
        try {
            return TornadoStart.create(options);
        } catch (BackendUnavailableException | IllegalArgumentException e) {
            throw e;
        } catch (RuntimeException | LinkageError e) {
            throw new BackendUnavailableException("TornadoVM failed to start: " + e, e);
        }
    }
}
