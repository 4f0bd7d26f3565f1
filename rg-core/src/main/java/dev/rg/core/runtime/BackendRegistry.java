package dev.rg.core.runtime;

import dev.rg.api.backend.Availability;
import dev.rg.api.backend.BackendProvider;
import dev.rg.api.backend.BackendUnavailableException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;

/**
 * Discovers backends with {@link ServiceLoader} and picks one. The choice, in order: an explicit name
 * (e.g. {@code --backend vector}), the system property {@code rg.backend}, the environment variable
 * {@code RG_BACKEND}, else {@code auto}: the available provider with the highest priority.
 */
public final class BackendRegistry {
    /** System property that names a backend. */
    public static final String PROPERTY = "rg.backend";
    /** Environment variable that names a backend. */
    public static final String ENVIRONMENT = "RG_BACKEND";

    /** A discovered provider with its probe result, or a provider that failed to load. */
    public record Entry(String name, BackendProvider provider, Availability availability) {}

    private BackendRegistry() {}

    /** Every discovered provider (highest priority first), probed. A provider that fails to load is listed unavailable. */
    public static List<Entry> discover() {
        List<Entry> out = new ArrayList<>();
        Iterator<BackendProvider> it = ServiceLoader.load(BackendProvider.class, BackendRegistry.class.getClassLoader()).iterator();
        while (true) {
            BackendProvider p;
            try {
                if (!it.hasNext()) {
                    break;
                }
                p = it.next();
            } catch (ServiceConfigurationError e) {
                out.add(new Entry("(broken provider)", null, Availability.unavailable(e.getMessage())));
                continue;
            }
            Availability a;
            try {
                a = p.probe();
            } catch (RuntimeException | LinkageError e) {
                a = Availability.unavailable("probe failed: " + e);
            }
            out.add(new Entry(p.name(), p, a));
        }
        out.sort(Comparator.comparingInt((Entry e) -> e.provider() == null ? Integer.MIN_VALUE : e.provider().priority())
                .reversed());
        return out;
    }

    /** The requested name after applying the property and environment overrides ({@code "auto"} if none). */
    public static String requested(String explicit) {
        if (explicit != null && !explicit.isBlank() && !explicit.equals("auto")) {
            return explicit.toLowerCase(Locale.ROOT);
        }
        String prop = System.getProperty(PROPERTY);
        if (prop != null && !prop.isBlank()) {
            return prop.toLowerCase(Locale.ROOT);
        }
        String env = System.getenv(ENVIRONMENT);
        if (env != null && !env.isBlank()) {
            return env.toLowerCase(Locale.ROOT);
        }
        return "auto";
    }

    /**
     * The provider to use.
     *
     * @throws BackendUnavailableException when the named backend is unknown or cannot run here (with the reason)
     */
    public static BackendProvider select(String explicit) {
        String name = requested(explicit);
        List<Entry> all = discover();
        if (name.equals("auto")) {
            for (Entry e : all) {
                if (e.provider() != null && e.availability().available()) {
                    return e.provider();
                }
            }
            throw new BackendUnavailableException("no backend is available: " + describe(all));
        }
        for (Entry e : all) {
            if (e.name().equals(name)) {
                if (!e.availability().available()) {
                    throw new BackendUnavailableException("backend '" + name + "' is not available: " + e.availability().reason());
                }
                return e.provider();
            }
        }
        throw new BackendUnavailableException("unknown backend '" + name + "'; discovered: " + describe(all));
    }

    private static String describe(List<Entry> all) {
        StringBuilder sb = new StringBuilder();
        for (Entry e : all) {
            if (!sb.isEmpty()) {
                sb.append("; ");
            }
            sb.append(e.name()).append(" (").append(e.availability().available() ? "available" : "unavailable: "
                    + e.availability().reason()).append(')');
        }
        return sb.isEmpty() ? "none" : sb.toString();
    }
}
