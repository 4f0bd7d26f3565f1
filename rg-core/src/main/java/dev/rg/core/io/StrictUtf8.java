package dev.rg.core.io;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * UTF-8 that refuses what is not: input read from files or columns (a prompt file, a JSON Lines row, a Spark binary
 * prompt) is decoded strictly, so text in another encoding is reported with the offset of its first bad byte instead
 * of becoming U+FFFDs.
 */
public final class StrictUtf8 {
    /** The text, or (text null) the offset of the first byte that is not valid UTF-8. */
    public record Decoded(String text, int badOffset) {}

    private StrictUtf8() {}

    /** The first {@code length} bytes of {@code bytes}, decoded. */
    public static Decoded decode(byte[] bytes, int length) {
        ByteBuffer in = ByteBuffer.wrap(bytes, 0, length);
        CharBuffer out = CharBuffer.allocate(length); // UTF-8 never gives more chars than bytes
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        CoderResult result = decoder.decode(in, out, true);
        if (!result.isError()) {
            result = decoder.flush(out);
        }
        return result.isError() ? new Decoded(null, in.position()) : new Decoded(out.flip().toString(), -1);
    }
}
