package dev.rg.backend.cuda.device;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import dev.rg.api.format.FormatCodes;
import dev.rg.api.format.FormatLayout.ElementEncoding;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The CUDA C kernels name the weight formats with {@code #define RG_FMT_*} in {@code rg_port.h}; Java passes the
 * SPI's {@link FormatCodes}. This reads the header and checks that every encoding has its define with the same value,
 * so the two cannot drift apart.
 */
class FormatCodesInHeaderTest {
    private static final Pattern DEFINE = Pattern.compile("(?m)^\\s*#define\\s+(RG_FMT_\\w+)\\s+(-?\\d+)\\s*$");

    /** The header's name for each encoding (the kernels' short names). */
    private static String headerName(ElementEncoding e) {
        return switch (e) {
            case F32 -> "RG_FMT_F32";
            case BF16 -> "RG_FMT_BF16";
            case F16 -> "RG_FMT_F16";
            case INT8_SYMMETRIC -> "RG_FMT_I8";
            case CODE_BOOK_4BIT -> "RG_FMT_Q4";
        };
    }

    @Test
    void everyEncodingHasItsDefineWithTheApiCode() throws IOException {
        Map<String, Integer> defines = defines();
        assertEquals(ElementEncoding.values().length, defines.size(), "RG_FMT_* defines in rg_port.h: " + defines);
        for (ElementEncoding e : ElementEncoding.values()) {
            Integer value = defines.get(headerName(e));
            assertNotNull(value, "rg_port.h has no #define " + headerName(e) + " for " + e + "; it has " + defines);
            assertEquals(e.code(), value, "rg_port.h " + headerName(e) + " vs FormatCodes for " + e);
        }
        assertEquals(WeightCodec.I8, defines.get("RG_FMT_I8"));
        assertEquals(WeightCodec.Q4, defines.get("RG_FMT_Q4"));
    }

    private static Map<String, Integer> defines() throws IOException {
        try (InputStream in = FormatCodesInHeaderTest.class.getResourceAsStream("/dev/rg/backend/cuda/rg_port.h")) {
            assertNotNull(in, "rg_port.h is not on the test class path");
            Matcher m = DEFINE.matcher(new String(in.readAllBytes(), StandardCharsets.US_ASCII));
            Map<String, Integer> out = new TreeMap<>();
            while (m.find()) {
                out.put(m.group(1), Integer.valueOf(m.group(2)));
            }
            return out;
        }
    }
}
