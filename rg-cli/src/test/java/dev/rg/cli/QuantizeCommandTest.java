package dev.rg.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** An ahead-of-time quantised directory loads to exactly the model that quantising at load gives. */
class QuantizeCommandTest {
    private static final Path SHARED = Path.of(System.getProperty("rg.shared", "../../shared")).toAbsolutePath().normalize();

    private static JsonNode forward(Path tmp, String name, String... args) throws Exception {
        Path out = tmp.resolve(name + ".json");
        String[] all = new String[args.length + 4];
        System.arraycopy(args, 0, all, 0, args.length);
        all[args.length] = "--ids";
        all[args.length + 1] = "2,17,300,41,99,5";
        all[args.length + 2] = "--out";
        all[args.length + 3] = out.toString();
        String[] cmd = new String[all.length + 3];
        cmd[0] = "forward";
        cmd[1] = "--backend";
        cmd[2] = "reference";
        System.arraycopy(all, 0, cmd, 3, all.length);
        assertEquals(0, Main.run(cmd));
        return new ObjectMapper().readTree(out.toFile());
    }

    @Test
    void int8AndNf4DirectoriesMatchLoadTimeConversion(@TempDir Path tmp) throws Exception {
        Path src = SHARED.resolve("fixtures/model/tiny-f32");
        for (String format : new String[] {"int8", "nf4"}) {
            Path out = tmp.resolve("q-" + format);
            assertEquals(0, Main.run("quantize", "--model", src.toString(), "--format", format, "--out", out.toString()));
            JsonNode config = new ObjectMapper().readTree(out.resolve("config.json").toFile());
            assertEquals("rg", config.get("quantization_config").get("quant_method").asText());
            assertTrue(Files.size(out.resolve("model.safetensors")) < Files.size(src.resolve("model.safetensors")));
            JsonNode ahead = forward(tmp, format + "-ahead", "--model", out.toString());
            JsonNode atLoad = forward(tmp, format + "-load", "--model", src.toString(), "--format", format);
            assertEquals(atLoad.get("prefill_logits"), ahead.get("prefill_logits"), format + ": identical logits");
        }
    }

    @Test
    void refusesAnExistingNonEmptyOutput(@TempDir Path tmp) throws Exception {
        Files.writeString(tmp.resolve("x"), "x");
        assertEquals(2, Main.run("quantize", "--model", SHARED.resolve("fixtures/model/tiny-f32").toString(), "--format", "int8",
                "--out", tmp.toString()));
    }
}
