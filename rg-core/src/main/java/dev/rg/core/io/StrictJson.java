package dev.rg.core.io;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.function.BiFunction;

/**
 * The one way rg reads the JSON of model files (config.json, safetensors headers, the shard index,
 * tokenizer.json): strict UTF-8, duplicate keys refused (a lenient reader silently keeps the last one),
 * nothing but whitespace after the value. Errors are one line: the file, line and column, and what was wrong,
 * without Jackson's internals.
 */
public final class StrictJson {
    private static final ObjectMapper MAPPER = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    private StrictJson() {}

    /**
     * Parses {@code utf8} (one JSON value) named {@code source} in errors; failures become {@code error.apply(message,
     * cause)}, so each format throws its own exception type.
     */
    public static <E extends RuntimeException> JsonNode read(byte[] utf8, String source, BiFunction<String, Throwable, E> error) {
        String text = decode(utf8, source, error);
        try {
            JsonNode root = MAPPER.readTree(text);
            if (root == null || root.isMissingNode()) {
                throw error.apply(source + ": empty, expected JSON", null);
            }
            return root;
        } catch (JsonProcessingException e) {
            throw error.apply(source + ": " + where(e.getLocation()) + "not valid JSON: " + reason(e), e);
        } catch (IOException e) {
            throw error.apply(source + ": cannot read: " + e.getMessage(), e);
        }
    }

    /** Strict UTF-8 decoding: malformed bytes are an error naming their offset. */
    public static <E extends RuntimeException> String decode(byte[] utf8, String source, BiFunction<String, Throwable, E> error) {
        CharsetDecoder d = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(utf8);
        try {
            return d.decode(in).toString();
        } catch (CharacterCodingException e) {
            throw error.apply(source + ": not UTF-8 (invalid byte sequence near byte " + firstInvalid(utf8) + ")", e);
        }
    }

    private static int firstInvalid(byte[] b) {
        CharsetDecoder d = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(b);
        java.nio.CharBuffer out = java.nio.CharBuffer.allocate(b.length + 1);
        d.decode(in, out, true);
        return in.position();
    }

    private static String where(JsonLocation l) {
        if (l == null || l.getLineNr() < 1) {
            return "";
        }
        return "line " + l.getLineNr() + ", column " + l.getColumnNr() + ": ";
    }

    /** Jackson's message reduced to what a user needs (no class names, feature names or source excerpts). */
    static String reason(JsonProcessingException e) {
        String m = e.getOriginalMessage();
        if (m == null) {
            return "malformed";
        }
        if (m.startsWith("Duplicate field ")) {
            return "duplicate key " + m.substring("Duplicate field ".length());
        }
        if (m.startsWith("Trailing token")) {
            return "unexpected content after the JSON value";
        }
        if (m.contains("end-of-input")) {
            return "unexpected end of input (truncated?)";
        }
        int cut = m.indexOf('\n');
        m = cut >= 0 ? m.substring(0, cut) : m;
        cut = m.indexOf(" at [Source");
        m = cut >= 0 ? m.substring(0, cut) : m;
        return m.length() > 160 ? m.substring(0, 160) + "..." : m;
    }
}
