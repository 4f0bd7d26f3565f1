package dev.rg.server;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.function.Function;

/** OpenAI's cursor pages for list endpoints: {@code limit}, {@code after} (an id) and {@code {"object": "list", ...}}. */
final class ListPages {
    private ListPages() {}

    /** The {@code limit} query parameter: its default when absent, 400 unless in [1, max]. */
    static int limit(String value, int byDefault, int max) {
        if (value == null) {
            return byDefault;
        }
        try {
            int n = Integer.parseInt(value);
            if (n >= 1 && n <= max) {
                return n;
            }
        } catch (NumberFormatException e) {
            // answered below
        }
        throw ApiException.badRequest("limit", "'limit' must be a whole number in [1, " + max + "], got \"" + value + "\"");
    }

    /** At most {@code limit} items of {@code all} after the one whose id is {@code after} (from the first when null). */
    static <T> List<T> after(List<T> all, Function<T, String> id, String after, int limit) {
        int from = 0;
        if (after != null) {
            from = -1;
            for (int i = 0; i < all.size(); i++) {
                if (id.apply(all.get(i)).equals(after)) {
                    from = i + 1;
                    break;
                }
            }
            if (from < 0) {
                throw ApiException.badRequest("after", "'after' must be the id of a listed item, got \"" + after + "\"");
            }
        }
        return all.subList(from, Math.min(all.size(), from + limit));
    }

    /** The list body: {@code data}, the page's first and last ids and whether {@code all} has more after it. */
    static <T> ObjectNode body(ObjectMapper json, ArrayNode data, List<T> page, Function<T, String> id, List<T> all) {
        ObjectNode o = json.createObjectNode();
        o.put("object", "list");
        o.set("data", data);
        o.put("first_id", page.isEmpty() ? null : id.apply(page.get(0)));
        o.put("last_id", page.isEmpty() ? null : id.apply(page.get(page.size() - 1)));
        o.put("has_more", !page.isEmpty() && all.indexOf(page.get(page.size() - 1)) < all.size() - 1);
        return o;
    }
}
