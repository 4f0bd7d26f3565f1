package dev.rg.core.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * {@link JsonPrefix} against Jackson as the oracle: random JSON objects (nested, with escapes, unicode and every number
 * form, random whitespace) are accepted byte by byte and complete exactly at their last brace; and for thousands of
 * one-byte mutations of them, the automaton accepts every byte and ends complete exactly when Jackson parses the
 * mutated text as one JSON object that does not start with whitespace (the automaton wants the brace first; the
 * mutations never make a whitespace run longer than {@link JsonPrefix#MAX_BLANK}).
 */
class JsonPrefixTest {
    private static final ObjectMapper STRICT = new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
    private static final String MUTATIONS = "{}[]:,\"\\ \t\n0123456789.eE+-truefalsnlx/'u";

    @Test
    void randomObjectsAreAcceptedAndCompleteAtTheirLastBrace() throws IOException {
        Random r = new Random(2024);
        for (int i = 0; i < 300; i++) {
            byte[] doc = spaced(r, STRICT.writeValueAsString(object(r, 0)));
            JsonPrefix p = new JsonPrefix();
            int last = lastBrace(doc);
            for (int b = 0; b < doc.length; b++) {
                assertTrue(p.feed(doc[b] & 0xFF), "byte " + b + " of " + new String(doc, StandardCharsets.UTF_8));
                assertEquals(b >= last, p.complete(), "complete after byte " + b);
            }
        }
    }

    @Test
    void mutatedObjectsAreAcceptedExactlyWhenJacksonParsesThem() throws IOException {
        Random r = new Random(77);
        int valid = 0;
        int invalid = 0;
        for (int i = 0; i < 400; i++) {
            byte[] doc = spaced(r, STRICT.writeValueAsString(object(r, 0)));
            for (int m = 0; m < 15; m++) {
                byte[] mutated = mutate(r, doc);
                if (!utf8(mutated)) {
                    continue; // the automaton does not validate UTF-8 (a byte in the middle of a character), Jackson does
                }
                boolean jackson = parsesAsObject(mutated) && !whitespace(mutated[0]);
                JsonPrefix p = new JsonPrefix();
                boolean ours = p.feed(mutated) && p.complete();
                assertEquals(jackson, ours, new String(mutated, StandardCharsets.UTF_8));
                if (jackson) {
                    valid++;
                } else {
                    invalid++;
                }
            }
        }
        assertTrue(valid > 300 && invalid > 3000, valid + " valid, " + invalid + " invalid mutations");
    }

    @Test
    void edgeCases() {
        for (String ok : new String[] {"{}", "{ \"a\":[]}", "{\"a\":-0.5e+3}", "{\"\\u00e9\\n\":null}", "{\"a\":[true,false,{}]}"}) {
            JsonPrefix p = new JsonPrefix();
            assertTrue(p.feed(ok.getBytes(StandardCharsets.UTF_8)) && p.complete(), ok);
        }
        for (String bad : new String[] {"[", "{\"a\":01}", "{\"a\":1.}", "{,}", "{\"a\":1,}", "{\"a\"\u0001", "{} {", "{'a':1}", " {}", "{" + " ".repeat(JsonPrefix.MAX_BLANK + 1) + "}"}) {
            JsonPrefix p = new JsonPrefix();
            assertFalse(p.feed(bad.getBytes(StandardCharsets.UTF_8)) && p.complete(), bad);
        }
        JsonPrefix deep = new JsonPrefix();
        assertTrue(deep.feed("{\"a\":".getBytes(StandardCharsets.UTF_8)));
        for (int d = 1; d < JsonPrefix.MAX_DEPTH; d++) {
            assertTrue(deep.feed('['), "depth " + d);
        }
        assertFalse(deep.feed('['), "nesting is bounded");
    }

    private static boolean whitespace(byte b) {
        return b == ' ' || b == '\t' || b == '\n' || b == '\r';
    }

    private static boolean utf8(byte[] text) {
        try {
            StandardCharsets.UTF_8.newDecoder().decode(java.nio.ByteBuffer.wrap(text));
            return true;
        } catch (java.nio.charset.CharacterCodingException e) {
            return false;
        }
    }

    private static boolean parsesAsObject(byte[] text) {
        try {
            JsonNode n = STRICT.readTree(text);
            return n != null && n.isObject();
        } catch (IOException e) {
            return false;
        }
    }

    private static byte[] mutate(Random r, byte[] doc) {
        int at = r.nextInt(doc.length + 1);
        byte c = (byte) MUTATIONS.charAt(r.nextInt(MUTATIONS.length()));
        switch (r.nextInt(3)) {
            case 0: { // replace
                byte[] out = doc.clone();
                out[Math.min(at, doc.length - 1)] = c;
                return out;
            }
            case 1: { // insert
                byte[] out = new byte[doc.length + 1];
                System.arraycopy(doc, 0, out, 0, at);
                out[at] = c;
                System.arraycopy(doc, at, out, at + 1, doc.length - at);
                return out;
            }
            default: { // delete
                int d = Math.min(at, doc.length - 1);
                byte[] out = new byte[doc.length - 1];
                System.arraycopy(doc, 0, out, 0, d);
                System.arraycopy(doc, d + 1, out, d, doc.length - d - 1);
                return out;
            }
        }
    }

    /** Random whitespace before the structural characters and strings of Jackson's compact output (never in a number). */
    private static byte[] spaced(Random r, String compact) {
        StringBuilder sb = new StringBuilder();
        boolean inString = false;
        boolean escaped = false;
        for (char ch : compact.toCharArray()) {
            if (!inString && "{}[]:,\"".indexOf(ch) >= 0 && r.nextInt(3) == 0) {
                sb.append(" \n\t\r".charAt(r.nextInt(4)));
            }
            sb.append(ch);
            if (inString) {
                if (escaped) {
                    escaped = false;
                } else if (ch == '\\') {
                    escaped = true;
                } else if (ch == '"') {
                    inString = false;
                }
            } else if (ch == '"') {
                inString = true;
            }
        }
        if (r.nextBoolean()) {
            sb.append(' ');
        }
        return sb.toString().strip().getBytes(StandardCharsets.UTF_8); // the automaton wants the brace first
    }

    private static int lastBrace(byte[] doc) {
        int i = doc.length - 1;
        while (doc[i] != '}') {
            i--;
        }
        return i;
    }

    private static ObjectNode object(Random r, int depth) {
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        for (int k = r.nextInt(depth == 0 ? 5 : 4); k > 0; k--) {
            o.set(string(r), value(r, depth + 1));
        }
        return o;
    }

    private static JsonNode value(Random r, int depth) {
        JsonNodeFactory f = JsonNodeFactory.instance;
        switch (r.nextInt(depth < 4 ? 8 : 6)) {
            case 0: return f.textNode(string(r));
            case 1: return f.numberNode(r.nextInt(2001) - 1000);
            case 2: return f.numberNode((r.nextDouble() - 0.5) * Math.pow(10, r.nextInt(40) - 20));
            case 3: return f.booleanNode(r.nextBoolean());
            case 4: return f.nullNode();
            case 5: return f.numberNode(0);
            case 6: return object(r, depth);
            default: {
                ArrayNode a = f.arrayNode();
                for (int k = r.nextInt(4); k > 0; k--) {
                    a.add(value(r, depth + 1));
                }
                return a;
            }
        }
    }

    private static String string(Random r) {
        char[] pool = "abc XYZ09\"\\/\n\t\u00e9\u4e2d\u0001\ud83d\ude00".toCharArray();
        char[] s = new char[r.nextInt(6)];
        for (int i = 0; i < s.length; i++) {
            s[i] = pool[r.nextInt(pool.length)];
            if (Character.isHighSurrogate(s[i]) || Character.isLowSurrogate(s[i])) {
                s[i] = 'q'; // keep strings valid UTF-16 (surrogate pairs are in the pool only as halves)
            }
        }
        return new String(s) + (r.nextInt(8) == 0 ? "\ud83d\ude00" : "");
    }

    @Test
    void theGeneratorCoversEveryNumberForm() throws IOException {
        Random r = new Random(5);
        StringBuilder all = new StringBuilder();
        for (int i = 0; i < 200; i++) {
            all.append(STRICT.writeValueAsString(object(r, 0)));
        }
        String s = all.toString();
        for (String form : new String[] {"E-", "E", ".", "-", ":0", "\\u0001", "\\\"", "\\\\"}) {
            assertTrue(s.contains(form), form);
        }
    }
}
