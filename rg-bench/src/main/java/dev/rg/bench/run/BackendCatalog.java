package dev.rg.bench.run;

import dev.rg.api.backend.Op;
import dev.rg.api.format.WeightFormat;
import dev.rg.api.format.WeightFormats;
import dev.rg.core.runtime.BackendRegistry;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeMap;

/**
 * The backends this JVM discovers, whether each can run here (and why not), and the weight formats each runs
 * natively: the formats a backend would only run through the per-op reference fallback are not benchmarked on
 * it, since that would time the reference, not the backend.
 */
public final class BackendCatalog {
    /**
     * One discovered backend.
     *
     * @param name      provider name
     * @param available whether it can run here
     * @param reason    the probe's reason
     * @param priority  selection priority (reference 0 ... cuda 300)
     * @param formats   weight formats it runs MATMUL on natively and that can be quantised to, in name order
     */
    public record Backend(String name, boolean available, String reason, int priority, List<String> formats) {}

    private BackendCatalog() {}

    /** Every discovered backend, highest priority first. */
    public static List<Backend> discover() {
        List<Backend> out = new ArrayList<>();
        for (BackendRegistry.Entry e : BackendRegistry.discover()) {
            if (e.provider() == null) {
                out.add(new Backend(e.name(), false, e.availability().reason(), Integer.MIN_VALUE, List.of()));
                continue;
            }
            List<String> formats = new ArrayList<>();
            for (WeightFormat f : new TreeMap<>(WeightFormats.all()).values()) {
                if (f.canQuantize() && e.provider().capabilities().supports(Op.MATMUL, f.name())) {
                    formats.add(f.name());
                }
            }
            out.add(new Backend(e.name(), e.availability().available(), e.availability().reason(), e.provider().priority(),
                    List.copyOf(formats)));
        }
        return out;
    }

    /** Formats of {@code b} kept by a filter (empty filter = all). */
    public static List<String> formats(Backend b, Set<String> filter) {
        return b.formats().stream().filter(f -> filter.isEmpty() || filter.contains(f)).toList();
    }
}
