package dev.rg.core.reference;

import dev.rg.api.backend.Availability;
import dev.rg.api.backend.Backend;
import dev.rg.api.backend.BackendOptions;
import dev.rg.api.backend.BackendProvider;
import dev.rg.api.backend.Capabilities;
import dev.rg.api.format.WeightFormats;

/**
 * The plain-Java reference backend: readable scalar code, always available, lowest priority (0). It is the
 * oracle every other backend is tested against, and the per-op fallback for kernels a backend lacks.
 */
public final class ReferenceBackendProvider implements BackendProvider {
    /** Its name for {@code --backend}. */
    public static final String NAME = "reference";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String description() {
        return "plain Java, scalar, single-threaded: the oracle (every weight format via its reference dequantisation)";
    }

    @Override
    public int priority() {
        return 0;
    }

    @Override
    public Availability probe() {
        return Availability.available("pure Java, runs everywhere");
    }

    @Override
    public Capabilities capabilities() {
        return Capabilities.allOps(WeightFormats.all().keySet());
    }

    @Override
    public Backend create(BackendOptions options) {
        return new ReferenceBackend();
    }
}
