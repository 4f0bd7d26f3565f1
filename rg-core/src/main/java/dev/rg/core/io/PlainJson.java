package dev.rg.core.io;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * JSON as plain Java values, for code that must not see Jackson (format plugins get it through
 * {@link dev.rg.api.format.CheckpointTensors#json}): objects become {@code Map<String, Object>} in file order, arrays
 * {@code List<Object>}, integers that fit a {@code long} become {@code Long}, every other number {@code Double}, and
 * strings, booleans and null themselves. Parsing is {@link StrictJson}'s.
 */
public final class PlainJson {
    private PlainJson() {}

    /**
     * Parses {@code utf8} (one JSON value) named {@code source} in errors.
     *
     * @throws IllegalArgumentException one line: {@code source}, where and what was wrong
     */
    public static Object parse(byte[] utf8, String source) {
        return plain(StrictJson.read(utf8, source, IllegalArgumentException::new));
    }

    /** {@code node} as plain Java values. */
    public static Object plain(JsonNode node) {
        if (node == null || node.isNull() || node.isMissingNode()) {
            return null;
        }
        if (node.isObject()) {
            Map<String, Object> m = new LinkedHashMap<>();
            node.properties().forEach(e -> m.put(e.getKey(), plain(e.getValue())));
            return Collections.unmodifiableMap(m);
        }
        if (node.isArray()) {
            List<Object> l = new ArrayList<>(node.size());
            node.forEach(e -> l.add(plain(e)));
            return Collections.unmodifiableList(l);
        }
        if (node.isIntegralNumber()) {
            return node.canConvertToLong() ? (Object) node.longValue() : (Object) node.doubleValue();
        }
        if (node.isNumber()) {
            return node.doubleValue();
        }
        if (node.isBoolean()) {
            return node.booleanValue();
        }
        return node.textValue();
    }
}
