package dev.rg.core.tokenizer;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * A minimal protobuf wire-format reader over one message of a byte array.
 *
 * <p>Every length is checked against the bytes left in the enclosing message before anything is read or
 * allocated, so a corrupt file fails with a {@link TokenizerException} instead of an exception from deep in
 * the JDK, a huge allocation or a loop. Offsets in messages are absolute file offsets.
 */
final class ProtoReader {
    static final int WIRE_VARINT = 0;
    static final int WIRE_FIXED64 = 1;
    static final int WIRE_LEN = 2;
    static final int WIRE_FIXED32 = 5;

    private static final int MAX_FIELD_NUMBER = (1 << 29) - 1;

    private final byte[] buf;
    private final int limit;
    private final String source;
    private final String context;
    private int pos;

    private ProtoReader(byte[] buf, int start, int limit, String source, String context) {
        this.buf = buf;
        this.pos = start;
        this.limit = limit;
        this.source = source;
        this.context = context;
    }

    /** A reader over all of {@code data}; {@code source} (a file name) and {@code message} name it in errors. */
    static ProtoReader of(byte[] data, String source, String message) {
        return new ProtoReader(data, 0, data.length, source, message);
    }

    boolean hasRemaining() {
        return pos < limit;
    }

    /** Reads a tag and returns it whole ({@code field << 3 | wireType}); rejects field 0 and group/bad types. */
    int readTag() {
        int at = pos;
        long tag = readVarint();
        long field = tag >>> 3;
        int wire = (int) (tag & 7);
        if (field < 1 || field > MAX_FIELD_NUMBER) {
            throw errorAt(at, "invalid field number " + field + " (corrupt data?)");
        }
        if (wire == 3 || wire == 4) {
            throw errorAt(at, "field " + field + " uses the deprecated group wire type " + wire
                    + ", which a SentencePiece model never contains");
        }
        if (wire != WIRE_VARINT && wire != WIRE_FIXED64 && wire != WIRE_LEN && wire != WIRE_FIXED32) {
            throw errorAt(at, "field " + field + " has invalid wire type " + wire);
        }
        return (int) tag;
    }

    static int fieldOf(int tag) {
        return tag >>> 3;
    }

    static int wireOf(int tag) {
        return tag & 7;
    }

    /** Fails unless {@code tag} carries {@code expectedWire}; {@code name} is the field's proto name. */
    void expectWire(int tag, int expectedWire, String name) {
        if (wireOf(tag) != expectedWire) {
            throw error("field " + name + " (" + fieldOf(tag) + ") must have wire type " + expectedWire + " ("
                    + wireName(expectedWire) + ") but has " + wireOf(tag) + " (" + wireName(wireOf(tag)) + ")");
        }
    }

    /** Reads a base-128 varint of at most 10 bytes. */
    long readVarint() {
        int at = pos;
        long result = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (pos >= limit) {
                throw errorAt(at, "truncated varint");
            }
            byte b = buf[pos++];
            result |= (long) (b & 0x7F) << shift;
            if (b >= 0) {
                return result;
            }
        }
        throw errorAt(at, "malformed varint (more than 10 bytes)");
    }

    /**
     * Reads an {@code int32} field. Negative values are written as 10-byte sign-extended varints; like the
     * C++ runtime, keep the low 32 bits.
     */
    int readInt32() {
        return (int) readVarint();
    }

    boolean readBool() {
        return readVarint() != 0;
    }

    /** Reads a little-endian {@code float} (wire type 5). */
    float readFloat() {
        require(4, "float");
        int bits = (buf[pos] & 0xFF) | (buf[pos + 1] & 0xFF) << 8 | (buf[pos + 2] & 0xFF) << 16
                | (buf[pos + 3] & 0xFF) << 24;
        pos += 4;
        return Float.intBitsToFloat(bits);
    }

    /** A reader over the embedded message that follows; this reader skips past it. */
    ProtoReader readMessage(String message) {
        int length = readLength(message);
        ProtoReader sub = new ProtoReader(buf, pos, pos + length, source, context + "." + message);
        pos += length;
        return sub;
    }

    /** Reads a {@code string} field, which must be valid UTF-8. */
    String readString(String name) {
        int at = pos;
        int length = readLength(name);
        try {
            String s = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(buf, pos, length))
                    .toString();
            pos += length;
            return s;
        } catch (CharacterCodingException e) {
            throw errorAt(at, "field " + name + " is not valid UTF-8");
        }
    }

    /** Skips a length-delimited field and returns its length ({@code bytes} fields we only measure). */
    int skipBytes(String name) {
        int length = readLength(name);
        pos += length;
        return length;
    }

    /** Skips one field value of the given wire type (an unknown field). */
    void skip(int tag) {
        switch (wireOf(tag)) {
            case WIRE_VARINT -> readVarint();
            case WIRE_FIXED64 -> {
                require(8, "fixed64");
                pos += 8;
            }
            case WIRE_LEN -> skipBytes("field " + fieldOf(tag));
            case WIRE_FIXED32 -> {
                require(4, "fixed32");
                pos += 4;
            }
            default -> throw error("cannot skip wire type " + wireOf(tag));
        }
    }

    TokenizerException error(String what) {
        return errorAt(pos, what);
    }

    private int readLength(String name) {
        int at = pos;
        long length = readVarint();
        if (length < 0 || length > limit - pos) {
            throw errorAt(at, "length " + Long.toUnsignedString(length) + " of " + name + " exceeds the "
                    + (limit - pos) + " bytes left in " + context + " (truncated or corrupt file)");
        }
        return (int) length;
    }

    private void require(int n, String what) {
        if (limit - pos < n) {
            throw error("truncated " + what + ": needs " + n + " bytes, " + (limit - pos) + " left");
        }
    }

    private TokenizerException errorAt(int offset, String what) {
        return new TokenizerException(source + ": not a valid SentencePiece model (malformed protobuf in "
                + context + " at byte " + offset + "): " + what);
    }

    private static String wireName(int wire) {
        return switch (wire) {
            case WIRE_VARINT -> "varint";
            case WIRE_FIXED64 -> "fixed64";
            case WIRE_LEN -> "length-delimited";
            case WIRE_FIXED32 -> "fixed32";
            default -> "invalid";
        };
    }
}
