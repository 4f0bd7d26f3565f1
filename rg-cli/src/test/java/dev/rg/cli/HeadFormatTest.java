package dev.rg.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.rg.api.format.WeightFormat;
import dev.rg.api.format.WeightFormats;
import dev.rg.core.model.HeadFormat;
import dev.rg.core.model.LoadOptions;
import dev.rg.core.model.Model;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The LM head's format: the default per body format, the explicit choices, and that loading and quantising follow it. */
class HeadFormatTest {
    private static final Path SHARED = Path.of(System.getProperty("rg.shared", "../../shared")).toAbsolutePath().normalize();

    private static String resolved(String body, boolean quantizeHead, String head) {
        WeightFormat f = HeadFormat.resolve(body == null ? null : WeightFormats.byName(body), quantizeHead, head);
        return f == null ? "stored" : f.name();
    }

    @Test
    void quantisedBodiesGetAnInt8HeadByDefault() {
        assertEquals("int8", resolved("int8", false, null));
        assertEquals("int8", resolved("nf4", false, null));
        assertEquals("int8", resolved("fp4", false, null));
        assertEquals("stored", resolved("bf16", false, null));
        assertEquals("stored", resolved("f16", false, null));
        assertEquals("stored", resolved(null, false, null));
    }

    @Test
    void explicitChoicesWin() {
        assertEquals("nf4", resolved("nf4", true, null), "--quantize-head: the body's format");
        assertEquals("stored", resolved("nf4", false, "stored"));
        assertEquals("f16", resolved("int8", true, "f16"), "--head-format beats --quantize-head");
        assertEquals("int8", resolved(null, false, "int8"), "a head can be converted alone");
        String m = assertThrows(IllegalArgumentException.class, () -> resolved("int8", false, "q7")).getMessage();
        assertTrue(m.startsWith("head format: unknown weight format 'q7'") && m.endsWith("or stored"), m);
    }

    @Test
    void loadedModelsReportTheirHead() {
        Path austen = SHARED.resolve("models/austen-6m");
        LoadOptions ref = LoadOptions.defaults().withBackend("reference").withThreads(1);
        try (Model m = Model.load(austen, ref.withFormat("nf4", false))) {
            assertEquals("nf4", m.linearFormat());
            assertEquals("int8", m.headFormat());
        }
        try (Model m = Model.load(austen, ref.withFormat("nf4", false).withHeadFormat(HeadFormat.STORED))) {
            assertEquals("bf16", m.headFormat());
        }
        try (Model m = Model.load(austen, ref)) {
            assertEquals("bf16", m.headFormat());
        }
    }

    @Test
    void quantiseWritesTheHeadItChose(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("q");
        assertEquals(0, Main.run("quantize", "--model", SHARED.resolve("fixtures/model/tiny-f32").toString(), "--format", "nf4",
                "--out", out.toString()));
        JsonNode q = new ObjectMapper().readTree(out.resolve("config.json").toFile()).get("quantization_config");
        assertEquals("int8", q.get("head_format").asText());
        assertEquals("int8", q.get("formats").get("model.embed_tokens.weight").asText());
    }
}
