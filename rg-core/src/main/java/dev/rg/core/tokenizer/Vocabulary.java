package dev.rg.core.tokenizer;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.OptionalInt;

/**
 * The id-indexed vocabulary shared by the encoders and the decoder: piece strings, types, scores, the two
 * lookup maps SentencePiece keeps, byte pieces and the special ids.
 *
 * <p>SentencePiece keeps two maps: {@code pieces_} for NORMAL, USER_DEFINED and UNUSED pieces (the only
 * possible merge results) and {@code reserved_id_map_} for CONTROL, UNKNOWN and BYTE. A string may appear once
 * in each map, so {@code <bos>} could in principle be both a CONTROL and a NORMAL piece; lookups try the
 * reserved map first, as {@code ModelInterface::PieceToId} does.
 */
final class Vocabulary {
    private final String source;
    private final String[] pieces;
    private final PieceType[] types;
    private final float[] scores;
    private final int[] byteOfId;
    private final int[] idOfByte = new int[256];
    private final Map<String, Integer> mergeable;
    private final Map<String, Integer> reserved;
    private final int unkId;
    private final int bosId;
    private final int eosId;
    private final int padId;
    private final String unkSurface;

    /**
     * Builds the maps and checks what SentencePiece checks on load: no empty piece, no duplicate within the
     * mergeable or within the reserved group, one byte value per BYTE piece. {@code byteOfId} holds each BYTE
     * piece's byte (else -1); {@code unkId}, {@code bosId}, {@code eosId} and {@code padId} are -1 when absent.
     */
    Vocabulary(String source, String[] pieces, PieceType[] types, float[] scores, int[] byteOfId, int unkId, int bosId,
            int eosId, int padId, String unkSurface) {
        int n = pieces.length;
        if (types.length != n || scores.length != n || byteOfId.length != n) {
            throw new IllegalArgumentException("array lengths differ");
        }
        this.source = source;
        this.pieces = pieces;
        this.types = types;
        this.scores = scores;
        this.byteOfId = byteOfId;
        this.unkId = unkId;
        this.bosId = bosId;
        this.eosId = eosId;
        this.padId = padId;
        this.unkSurface = unkSurface;
        this.mergeable = HashMap.newHashMap(n);
        this.reserved = HashMap.newHashMap(Math.min(n, 1024));
        Arrays.fill(idOfByte, -1);
        for (int id = 0; id < n; id++) {
            if (pieces[id] == null || pieces[id].isEmpty()) {
                throw new TokenizerException(source + ": piece " + id + " is empty; every piece needs a string");
            }
            Map<String, Integer> map = types[id].isMergeable() ? mergeable : reserved;
            Integer previous = map.putIfAbsent(pieces[id], id);
            if (previous != null) {
                throw new TokenizerException(source + ": piece '" + printable(pieces[id]) + "' is defined twice (ids "
                        + previous + " and " + id + "); SentencePiece refuses such a model");
            }
            if (types[id] == PieceType.BYTE) {
                int b = byteOfId[id];
                if (b < 0 || b > 255) {
                    throw new TokenizerException(source + ": byte piece " + id + " '" + printable(pieces[id])
                            + "' is not of the form <0xHH>");
                }
                if (idOfByte[b] >= 0) {
                    throw new TokenizerException(source + ": byte " + b + " has two pieces (ids " + idOfByte[b]
                            + " and " + id + ")");
                }
                idOfByte[b] = id;
            } else if (byteOfId[id] != -1) {
                throw new IllegalArgumentException("byte value given for a non-BYTE piece " + id);
            }
        }
    }

    String source() {
        return source;
    }

    int size() {
        return pieces.length;
    }

    String piece(int id) {
        return pieces[id];
    }

    PieceType type(int id) {
        return types[id];
    }

    float score(int id) {
        return scores[id];
    }

    /** The byte of a BYTE piece, or -1 for any other piece. */
    int byteOf(int id) {
        return byteOfId[id];
    }

    /** The id of the byte piece for {@code b} (0..255), or -1 when the model lacks it. */
    int idOfByte(int b) {
        return idOfByte[b];
    }

    /** SentencePiece's {@code PieceToId}: reserved pieces first, then mergeable ones, else the unknown id. */
    int pieceToId(String piece) {
        Integer id = reserved.get(piece);
        if (id != null) {
            return id;
        }
        id = mergeable.get(piece);
        return id != null ? id : unkId;
    }

    OptionalInt idOf(String piece) {
        Integer id = reserved.get(piece);
        if (id == null) {
            id = mergeable.get(piece);
        }
        return id == null ? OptionalInt.empty() : OptionalInt.of(id);
    }

    int unkId() {
        return unkId;
    }

    int bosId() {
        return bosId;
    }

    int eosId() {
        return eosId;
    }

    int padId() {
        return padId;
    }

    String unkSurface() {
        return unkSurface;
    }

    /** Fails with an {@link IllegalArgumentException} naming the id when it is not in the vocabulary. */
    void checkId(int id) {
        if (id < 0 || id >= pieces.length) {
            throw new IllegalArgumentException("token id " + id + " is out of range: the vocabulary of " + source
                    + " has ids 0.." + (pieces.length - 1));
        }
    }

    /** The byte value of a piece named exactly {@code <0xHH>} (uppercase hex, SentencePiece's form), else -1. */
    static int byteOfPieceName(String piece) {
        if (piece.length() != 6 || !piece.startsWith("<0x") || piece.charAt(5) != '>') {
            return -1;
        }
        int hi = upperHexDigit(piece.charAt(3));
        int lo = upperHexDigit(piece.charAt(4));
        return hi < 0 || lo < 0 ? -1 : hi << 4 | lo;
    }

    private static int upperHexDigit(char c) {
        if (c >= '0' && c <= '9') {
            return c - '0';
        }
        return c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
    }

    /** A piece shown in an error message, with control characters escaped. */
    static String printable(String piece) {
        StringBuilder sb = new StringBuilder();
        piece.codePoints().forEach(cp -> {
            if (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp < 0xA0)) {
                sb.append(String.format("\\u%04X", cp));
            } else {
                sb.appendCodePoint(cp);
            }
        });
        return sb.toString();
    }
}
