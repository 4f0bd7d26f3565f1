package dev.rg.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The bounded, strict line reader under {@code rg batch}. */
class JsonlLinesTest {
    @Test
    void linesAreNumberedBlankOnesSkippedAndLineEndsAnyOfLfCrlfOrNone() {
        JsonlLines lines = lines("a\r\n\n  \t\nb\nc".getBytes(StandardCharsets.UTF_8));
        assertEquals(new JsonlLines.Line(1, "a", null), lines.next());
        assertEquals(new JsonlLines.Line(4, "b", null), lines.next());
        assertEquals(new JsonlLines.Line(5, "c", null), lines.next());
        assertNull(lines.next());
    }

    @Test
    void aBadLineIsThatLinesErrorAndTheNextIsReadAsUsual() {
        byte[] tooLong = new byte[JsonlLines.MAX_LINE_BYTES + 10];
        java.util.Arrays.fill(tooLong, (byte) 'x');
        InputStream in = new java.io.SequenceInputStream(java.util.Collections.enumeration(java.util.List.of(
                new ByteArrayInputStream(new byte[] {'o', 'k', '\n', 'c', 'a', 'f', (byte) 0xE9, '\n'}),
                new ByteArrayInputStream(tooLong), new ByteArrayInputStream("\nlast\n".getBytes(StandardCharsets.UTF_8)))));
        JsonlLines lines = new JsonlLines(in, "test");
        assertEquals("ok", lines.next().text());
        assertEquals(new JsonlLines.Line(2, null, "line 2 is not UTF-8 (invalid byte at offset 3)"), lines.next());
        assertEquals(new JsonlLines.Line(3, null, "line 3 is longer than 16 MiB"), lines.next());
        assertEquals(new JsonlLines.Line(4, "last", null), lines.next());
        assertNull(lines.next());
    }

    @Test
    void peekShowsTheNextLineWithoutTakingIt() {
        JsonlLines lines = lines("\nfirst\nsecond".getBytes(StandardCharsets.UTF_8));
        assertEquals(new JsonlLines.Line(2, "first", null), lines.peek());
        assertEquals(new JsonlLines.Line(2, "first", null), lines.peek(), "twice: the same line");
        assertEquals(new JsonlLines.Line(2, "first", null), lines.next());
        assertEquals(new JsonlLines.Line(3, "second", null), lines.next());
        assertNull(lines.peek());
        assertNull(lines.next());
    }

    private static JsonlLines lines(byte[] bytes) {
        return new JsonlLines(new ByteArrayInputStream(bytes), "test");
    }
}
