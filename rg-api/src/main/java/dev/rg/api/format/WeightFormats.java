package dev.rg.api.format;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.ServiceLoader;
import java.util.TreeMap;

/** Discovers {@link WeightFormat}s with {@link ServiceLoader} and looks them up by name. */
public final class WeightFormats {
    private static volatile Map<String, WeightFormat> cache;

    private WeightFormats() {}

    /** Every discovered format by name (the dense formats are always present). */
    public static Map<String, WeightFormat> all() {
        Map<String, WeightFormat> m = cache;
        if (m == null) {
            TreeMap<String, WeightFormat> found = new TreeMap<>();
            for (WeightFormat f : List.of(new DenseFormat.F32Format(), new DenseFormat.BF16Format(),
                    new DenseFormat.F16Format())) {
                found.put(f.name(), f);
            }
            for (WeightFormat f : ServiceLoader.load(WeightFormat.class, WeightFormats.class.getClassLoader())) {
                found.putIfAbsent(f.name(), f);
            }
            m = Map.copyOf(found);
            cache = m;
        }
        return m;
    }

    /** The format with this name, if one was discovered. */
    public static Optional<WeightFormat> find(String name) {
        return Optional.ofNullable(all().get(name.toLowerCase(Locale.ROOT)));
    }

    /** The format with this name, or an exception listing the known ones. */
    public static WeightFormat byName(String name) {
        return find(name).orElseThrow(() -> new IllegalArgumentException(
                "unknown weight format '" + name + "'; known formats: " + new TreeMap<>(all()).keySet()));
    }

    /** The built-in f32 format. */
    public static DenseFormat f32() {
        return (DenseFormat) byName("f32");
    }

    /** The built-in bf16 format. */
    public static DenseFormat bf16() {
        return (DenseFormat) byName("bf16");
    }

    /** The built-in f16 format. */
    public static DenseFormat f16() {
        return (DenseFormat) byName("f16");
    }
}
