package dev.rg.backend.vector;

import dev.rg.api.backend.Availability;
import dev.rg.api.backend.Backend;
import dev.rg.api.backend.BackendOptions;
import dev.rg.api.backend.BackendProvider;
import dev.rg.api.backend.BackendUnavailableException;
import dev.rg.api.backend.Capabilities;

/**
 * The JDK Vector API backend: SIMD kernels on all cores, weights read in place (f32, bf16, f16, and the quantised
 * int8, nf4, fp4, nf4-dq, fp4-dq). Priority 100.
 *
 * <p>This class touches no {@code jdk.incubator.vector} type, so it loads (and {@link #probe()} answers) even
 * when the module is missing, e.g. on the class path without {@code --add-modules jdk.incubator.vector}.
 */
public final class VectorBackendProvider implements BackendProvider {
    /** Its name for {@code --backend}. */
    public static final String NAME = "vector";
    /** The incubator module the kernels need. */
    static final String MODULE = "jdk.incubator.vector";
    /**
     * Every op natively (MATMUL and EMBED included), for the discovered formats whose layout the kernels read
     * ({@link VectorFormats}: no Vector API type there, nor here).
     */
    static final Capabilities CAPABILITIES = Capabilities.allOps(VectorFormats.supported());

    private volatile Availability probed;

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String description() {
        return "JDK Vector API (SIMD), multi-threaded CPU kernels; f32/f16/int8/nf4/fp4 weights read in place from the"
                + " mapped checkpoint, bf16 matrices copied into panels while memory allows";
    }

    @Override
    public int priority() {
        return 100;
    }

    /** Cheap: a module lookup, then the species width (cached). */
    @Override
    public Availability probe() {
        Availability a = probed;
        if (a == null) {
            a = doProbe();
            probed = a;
        }
        return a;
    }

    static boolean moduleResolved() {
        if (ModuleLayer.boot().findModule(MODULE).isPresent()) {
            return true;
        }
        ModuleLayer own = VectorBackendProvider.class.getModule().getLayer();
        return own != null && own.findModule(MODULE).isPresent();
    }

    private static Availability doProbe() {
        if (!moduleResolved()) {
            return Availability.unavailable("the JDK module " + MODULE + " is not resolved: run java with --add-modules "
                    + MODULE);
        }
        try {
            String reason = "Vector API, " + VectorSupport.speciesDescription();
            String warning = VectorSupport.check().orElse(null);
            return Availability.available(warning == null ? reason : reason + "; WARNING: " + warning);
        } catch (LinkageError e) {
            return Availability.unavailable("the Vector API cannot be used: " + e);
        }
    }

    @Override
    public Capabilities capabilities() {
        return CAPABILITIES;
    }

    @Override
    public Backend create(BackendOptions options) {
        Availability a = probe();
        if (!a.available()) {
            throw new BackendUnavailableException("backend '" + NAME + "' is not available: " + a.reason());
        }
        VectorSupport.check().ifPresent(w -> System.getLogger(VectorBackend.class.getName()).log(System.Logger.Level.WARNING, w));
        return new VectorBackend(options);
    }
}
