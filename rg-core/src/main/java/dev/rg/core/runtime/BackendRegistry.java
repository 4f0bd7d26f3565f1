package dev.rg.core.runtime;

import dev.rg.api.backend.Availability;
import dev.rg.api.backend.BackendProvider;
import dev.rg.api.backend.BackendUnavailableException;
import dev.rg.api.backend.DeviceClass;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;

/**
 * Discovers backends with {@link ServiceLoader} and picks one. The choice, in order: an explicit name
 * (e.g. {@code --backend vector}), the system property {@code rg.backend}, the environment variable
 * {@code RG_BACKEND}, else {@code auto}: the first available provider in {@link #SELECTION_ORDER}: device class
 * tier first (a GPU or accelerator above the host CPU, the host above a device API's CPU device such as OpenCL on
 * PoCL), then priority.
 */
public final class BackendRegistry {
    /** System property that names a backend. */
    public static final String PROPERTY = "rg.backend";
    /** Environment variable that names a backend. */
    public static final String ENVIRONMENT = "RG_BACKEND";

    /** A discovered provider with its probe result, or a provider that failed to load. */
    public record Entry(String name, BackendProvider provider, Availability availability) {
        /** Priority, or {@link Integer#MIN_VALUE} for a provider that failed to load. */
        public int priority() {
            return provider == null ? Integer.MIN_VALUE : provider.priority();
        }
    }

    /**
     * The order of automatic selection (and of listings): available first, then the tier of the reported device
     * class ({@link DeviceClass#selectionTier()}), then priority, highest first.
     */
    public static final Comparator<Entry> SELECTION_ORDER = Comparator
            .comparing((Entry e) -> e.provider() != null && e.availability().available())
            .thenComparingInt(e -> e.availability().device().selectionTier())
            .thenComparingInt(Entry::priority)
            .reversed();

    private BackendRegistry() {}

    /**
     * Every discovered provider, probed, in {@link #SELECTION_ORDER} (the first available one is what {@code auto}
     * picks). A provider that fails to load is listed unavailable.
     */
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
        out.sort(SELECTION_ORDER);
        return out;
    }

    /** The provider {@code auto} picks among {@code entries}, if any is available. */
    public static Optional<Entry> auto(List<Entry> entries) {
        return entries.stream().filter(e -> e.provider() != null && e.availability().available()).min(SELECTION_ORDER);
    }

    /**
     * Why an available provider ranks below others of higher priority (its device class is of a lower tier), for
     * {@code rg backends}; empty when the priority alone explains its place.
     */
    public static Optional<String> rankingNote(Entry e, List<Entry> entries) {
        if (e.provider() == null || !e.availability().available()) {
            return Optional.empty();
        }
        List<String> above = new ArrayList<>();
        for (Entry o : entries) {
            if (o != e && o.provider() != null && o.availability().available() && o.priority() < e.priority()
                    && SELECTION_ORDER.compare(o, e) < 0) {
                above.add(o.name());
            }
        }
        if (above.isEmpty()) {
            return Optional.empty();
        }
        DeviceClass d = e.availability().device();
        String what = d == DeviceClass.CPU ? "its device is a CPU" : "its device class is " + d;
        return Optional.of(what + ": ranked below " + String.join(", ", above) + " despite the higher priority");
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
            return auto(all).map(Entry::provider)
                    .orElseThrow(() -> new BackendUnavailableException("no backend is available: " + describe(all)));
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
