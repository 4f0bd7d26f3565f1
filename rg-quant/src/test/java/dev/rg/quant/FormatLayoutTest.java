package dev.rg.quant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rg.api.format.FormatCodes;
import dev.rg.api.format.FormatLayout;
import dev.rg.api.format.FormatLayout.ElementEncoding;
import dev.rg.api.format.FormatLayout.Packing;
import dev.rg.api.format.FormatLayout.ScaleType;
import dev.rg.api.format.WeightFormat;
import dev.rg.api.format.WeightFormats;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The typed layout of the SPI: enums, codes, an immutable code book, and every registered format describing itself. */
class FormatLayoutTest {

    @Test
    void codesAreDistinctAndBelowTheBackendRange() {
        Set<Integer> codes = new HashSet<>();
        for (ElementEncoding e : ElementEncoding.values()) {
            assertTrue(codes.add(e.code()), "duplicate code " + e.code());
            assertTrue(e.code() >= 0 && e.code() < FormatCodes.FIRST_BACKEND_CODE, e + " " + e.code());
        }
        assertEquals(FormatCodes.INT8_SYMMETRIC, ElementEncoding.INT8_SYMMETRIC.code());
        assertEquals(FormatCodes.CODE_BOOK_4BIT, ElementEncoding.CODE_BOOK_4BIT.code());
    }

    @Test
    void theCodeBookIsCopiedInAndOut() {
        float[] book = randomBook(new SplittableRandom(11));
        FormatLayout l = fourBit(book);
        float first = book[0];
        book[0] = first + 1;
        assertEquals(first, l.codeBook()[0], "copied in");
        l.codeBook()[1] = 99;
        assertNotEquals(99f, l.codeBook()[1], "copied out");
        book[0] = first;
        assertEquals(fourBit(book), l);
        assertEquals(fourBit(book).hashCode(), l.hashCode());
        float[] other = book.clone();
        other[15] += 0.5f;
        assertNotEquals(fourBit(other), l);
    }

    @Test
    void aCodeBookGoesWithTheCodeBookEncodingOnly() {
        SplittableRandom r = new SplittableRandom(5);
        assertThrows(IllegalArgumentException.class, () -> fourBit(new float[15]));
        assertThrows(IllegalArgumentException.class, () -> fourBit(null));
        assertThrows(IllegalArgumentException.class, () -> new FormatLayout(8, 32, ElementEncoding.INT8_SYMMETRIC,
                Packing.ONE_PER_ELEMENT_LITTLE_ENDIAN, ScaleType.F16, "scale", false, false, List.of("data", "scale"),
                randomBook(r)));
        assertEquals(0, FormatLayout.dense(ElementEncoding.BF16).codeBook().length);
        assertThrows(IllegalArgumentException.class, () -> FormatLayout.dense(ElementEncoding.CODE_BOOK_4BIT));
    }

    @Test
    void everyRegisteredFormatDescribesItselfReadably() {
        for (WeightFormat f : WeightFormats.all().values()) {
            FormatLayout l = f.layout();
            String line = l.describe();
            assertTrue(line.contains(l.elementEncoding().description()), f.name() + ": " + line);
            assertEquals(l.elementEncoding() == ElementEncoding.CODE_BOOK_4BIT, l.hasCodeBook(), f.name());
            assertEquals(l.elementEncoding() == ElementEncoding.CODE_BOOK_4BIT,
                    l.packing() == Packing.TWO_PER_BYTE_HIGH_NIBBLE_FIRST, f.name());
        }
        assertEquals(ElementEncoding.F32, WeightFormats.byName("f32").layout().elementEncoding());
        assertEquals(ElementEncoding.BF16, WeightFormats.byName("bf16").layout().elementEncoding());
        assertEquals(ElementEncoding.F16, WeightFormats.byName("f16").layout().elementEncoding());
        assertArrayEquals(FourBitCodeBook.NF4.toArray(), WeightFormats.byName("nf4-dq").layout().codeBook());
    }

    private static FormatLayout fourBit(float[] book) {
        return new FormatLayout(4, 64, ElementEncoding.CODE_BOOK_4BIT, Packing.TWO_PER_BYTE_HIGH_NIBBLE_FIRST,
                ScaleType.F32, "absmax", false, true, List.of("data", "absmax"), book);
    }

    private static float[] randomBook(SplittableRandom r) {
        float[] b = new float[16];
        for (int i = 0; i < 16; i++) {
            b[i] = (float) (r.nextDouble() * 2 - 1);
        }
        return b;
    }
}
