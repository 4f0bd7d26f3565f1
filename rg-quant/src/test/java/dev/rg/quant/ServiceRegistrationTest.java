package dev.rg.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rg.api.format.CheckpointAdapter;
import dev.rg.api.format.WeightFormat;
import dev.rg.api.format.WeightFormats;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class ServiceRegistrationTest {
    @Test
    void formatsAreFoundByName() {
        for (String name : List.of("int8", "nf4", "nf4-dq", "fp4", "fp4-dq")) {
            WeightFormat f = WeightFormats.byName(name);
            assertEquals(name, f.name());
            assertTrue(f.canQuantize());
        }
        assertTrue(WeightFormats.find("f32").isPresent(), "the dense formats stay");
    }

    @Test
    void adapterIsFound() {
        List<String> names = new ArrayList<>();
        ServiceLoader.load(CheckpointAdapter.class).forEach(a -> names.add(a.name()));
        assertTrue(names.contains("bitsandbytes"), names.toString());
    }

    /** Tests run on the class path, so META-INF/services must say exactly what module-info provides. */
    @Test
    void serviceFilesMirrorModuleInfo() throws IOException {
        String moduleInfo = Files.readString(Path.of("src/main/java/module-info.java"));
        for (String service : List.of("dev.rg.api.format.WeightFormat", "dev.rg.api.format.CheckpointAdapter")) {
            Matcher m = Pattern.compile("provides\\s+" + Pattern.quote(service) + "\\s+with\\s+([^;]+);")
                    .matcher(moduleInfo);
            assertTrue(m.find(), service);
            List<String> provided = List.of(m.group(1).trim().split("\\s*,\\s*"));
            List<String> listed = Files.readAllLines(Path.of("src/main/resources/META-INF/services/" + service))
                    .stream().map(String::trim).filter(s -> !s.isEmpty() && !s.startsWith("#")).toList();
            assertEquals(provided, listed, service);
        }
    }
}
