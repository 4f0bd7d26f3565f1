package dev.rg.cli;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.lang.EvaluationResult;
import dev.rg.api.format.FormatLayout;
import dev.rg.api.format.WeightFormat;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@link FormatNameMatching} catches the ways backends used to recognise formats, and lets messages through. */
class FormatNameMatchingTest {

    /** Deliberately bad: each method recognises a format by its name. */
    static final class MatchesNames {
        static boolean isNf4(WeightFormat f) {
            return f.name().startsWith("nf4");
        }

        static int code(WeightFormat f) {
            return switch (f.name()) {
                case "f32" -> 0;
                case "bf16" -> 1;
                default -> -1;
            };
        }

        static Object kernel(Map<String, Object> kernels, WeightFormat f) {
            return kernels.get(f.name());
        }
    }

    /** Fine: decides from the layout, and names the format only in a message. */
    static final class DecidesFromTheLayout {
        static int bits(WeightFormat f) {
            FormatLayout l = f.layout();
            if (l.elementEncoding() == FormatLayout.ElementEncoding.CODE_BOOK_4BIT) {
                return 4;
            }
            throw new IllegalArgumentException("format '" + f.name() + "' is not a 4-bit format");
        }
    }

    @Test
    void theRuleFailsOnNameMatchingAndPassesOnLayoutDecisions() {
        JavaClasses bad = new ClassFileImporter().importClasses(MatchesNames.class, WeightFormat.class, Map.class);
        EvaluationResult result = FormatNameMatching.rule("dev.rg.cli..").evaluate(bad);
        assertTrue(result.hasViolation());
        String report = result.getFailureReport().toString();
        for (String method : new String[] {"isNf4", "code", "kernel"}) {
            assertTrue(report.contains("MatchesNames." + method), method + " not reported: " + report);
        }
        JavaClasses good = new ClassFileImporter().importClasses(DecidesFromTheLayout.class, WeightFormat.class);
        assertFalse(FormatNameMatching.rule("dev.rg.cli..").evaluate(good).hasViolation());
    }
}
