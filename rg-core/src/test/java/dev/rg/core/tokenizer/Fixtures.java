package dev.rg.core.tokenizer;

import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Locates the read-only shared fixtures through the {@code rg.shared} system property (the build sets it;
 * from rg-core's directory the default {@code ../../shared} works too) and reads their JSON.
 */
final class Fixtures {
    static final List<String> TOKENIZER_FIXTURES = List.of("gemma-layout-4k", "tiny-1k");
    private static final ObjectMapper JSON = new ObjectMapper();

    private Fixtures() {}

    static Path shared() {
        Path p = Path.of(System.getProperty("rg.shared", "../../shared")).toAbsolutePath().normalize();
        if (!Files.isDirectory(p.resolve("fixtures/tokenizer"))) {
            fail("shared fixtures not found at " + p + " (set -Drg.shared=/path/to/shared)");
        }
        return p;
    }

    static Path tokenizerDir(String name) {
        return shared().resolve("fixtures/tokenizer").resolve(name);
    }

    static Path austenDir() {
        return shared().resolve("models/austen-6m");
    }

    static JsonNode json(Path file) {
        try {
            return JSON.readTree(file.toFile());
        } catch (IOException e) {
            throw new AssertionError("cannot read " + file, e);
        }
    }

    static JsonNode golden(String fixture) {
        return json(tokenizerDir(fixture).resolve("golden.json"));
    }

    static int[] ints(JsonNode array) {
        int[] out = new int[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).asInt();
        }
        return out;
    }

    static List<String> strings(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }

    /** A short, printable label for a test case text. */
    static String label(String text) {
        if (text.isEmpty()) {
            return "(empty)";
        }
        String s = Vocabulary.printable(text);
        return s.length() > 40 ? s.substring(0, 40) + "…(" + text.length() + " chars)" : s;
    }
}
