package dev.rg.core.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

/**
 * SentencePiece's BPE encoder ({@code bpe_model.cc Model::SampleEncode} without sampling), for a model with
 * the identity normalizer, no dummy prefix, no whitespace removal, whitespace escaping and byte fallback.
 *
 * <ol>
 *   <li>Normalize: U+0020 becomes U+2581 and nothing else changes (no NFKC, no trimming).</li>
 *   <li>Initial symbols: at each position the longest USER_DEFINED piece, marked frozen; else one code point.</li>
 *   <li>Merge: repeatedly merge the adjacent non-frozen pair whose concatenation is a mergeable piece with the
 *       highest score, leftmost on ties. A priority queue with lazy deletion makes this O(n log n).</li>
 *   <li>Split UNUSED pieces back into the two halves they were merged from, recursively.</li>
 *   <li>Map to ids; a symbol with no piece becomes one BYTE piece per UTF-8 byte.</li>
 * </ol>
 *
 * <p>There is no pre-tokenization: BPE runs over the whole normalized string, and only user-defined pieces
 * are hard boundaries. Symbols are char ranges of the normalized string; a merged symbol is always a
 * contiguous range, so its text is a substring.
 */
final class SentencePieceBpe implements Encoder {
    private static final char SPACE_SYMBOL = '\u2581';

    private final Vocabulary vocab;
    private final LongestMatchTrie userDefined = new LongestMatchTrie();
    private final PieceTable mergeable;
    private final boolean hasUnused;

    SentencePieceBpe(Vocabulary vocab) {
        this.vocab = vocab;
        boolean unused = false;
        String[] pieces = new String[vocab.size()];
        boolean[] isMergeable = new boolean[vocab.size()];
        for (int id = 0; id < vocab.size(); id++) {
            if (vocab.type(id) == PieceType.USER_DEFINED) {
                userDefined.add(vocab.piece(id), id);
            }
            unused |= vocab.type(id) == PieceType.UNUSED;
            pieces[id] = vocab.piece(id);
            isMergeable[id] = vocab.type(id).isMergeable();
        }
        this.mergeable = new PieceTable(pieces, isMergeable);
        this.hasUnused = unused;
    }

    @Override
    public int[] encode(String text) {
        if (text.isEmpty()) {
            return new int[0];
        }
        // identity normalization with escape_whitespaces: only ' ' -> '▁'. A literal '▁' is thereafter a space.
        String norm = text.replace(' ', SPACE_SYMBOL);
        int n = norm.length();

        // Initial symbols. Arrays are indexed by symbol number; start/end are char offsets into norm.
        int[] start = new int[n];
        int[] end = new int[n];
        boolean[] frozen = new boolean[n];
        int count = 0;
        for (int i = 0; i < n; ) {
            long match = userDefined.isEmpty() ? -1 : userDefined.longestMatch(norm, i);
            int len = match >= 0 ? LongestMatchTrie.length(match) : Character.charCount(norm.codePointAt(i));
            start[count] = i;
            end[count] = i + len;
            frozen[count] = match >= 0;
            count++;
            i += len;
        }
        int[] prev = new int[count];
        int[] next = new int[count];
        for (int s = 0; s < count; s++) {
            prev[s] = s - 1;
            next[s] = s + 1 < count ? s + 1 : -1;
        }

        Symbols symbols = new Symbols(norm, start, end, prev, next, frozen);
        MergeQueue queue = new MergeQueue(count);
        Map<String, String[]> revMerge = hasUnused ? new HashMap<>() : null;
        for (int s = 0; s + 1 < count; s++) {
            offer(symbols, queue, revMerge, s, s + 1);
        }
        while (!queue.isEmpty()) {
            int l = queue.topLeft();
            int r = queue.topRight();
            int size = queue.topSize();
            queue.pop();
            // Stale entry: one side was merged away, or one side grew since the pair was pushed. SentencePiece
            // compares byte lengths; char lengths detect the same thing, since a symbol only ever grows.
            if (symbols.isEmpty(l) || symbols.isEmpty(r) || symbols.length(l) + symbols.length(r) != size) {
                continue;
            }
            end[l] = end[r];
            end[r] = start[r]; // empty
            next[l] = next[r];
            if (next[r] >= 0) {
                prev[next[r]] = l;
            }
            offer(symbols, queue, revMerge, prev[l], l);
            offer(symbols, queue, revMerge, l, next[l]);
        }

        IntBuffer out = new IntBuffer(count);
        for (int s = 0; s != -1; s = next[s]) {
            emit(norm.substring(start[s], end[s]), revMerge, out);
        }
        return out.toArray();
    }

    /** Pushes the pair (l, r) when both exist, neither is frozen and their concatenation is a piece. */
    private void offer(Symbols symbols, MergeQueue queue, Map<String, String[]> revMerge, int l, int r) {
        if (l < 0 || r < 0 || symbols.frozen[l] || symbols.frozen[r]) {
            return;
        }
        int from = symbols.start[l];
        int to = symbols.end[r];
        int id = mergeable.get(symbols.norm, from, to);
        if (id < 0) {
            return;
        }
        queue.push(vocab.score(id), l, r, to - from);
        if (revMerge != null && vocab.type(id) == PieceType.UNUSED) {
            // Remember how this UNUSED piece was formed; the last formation wins, as in SentencePiece.
            revMerge.put(symbols.norm.substring(from, to), new String[] {symbols.text(l), symbols.text(r)});
        }
    }

    /** Resegments UNUSED pieces, then maps to ids with byte fallback for unknown symbols. */
    private void emit(String piece, Map<String, String[]> revMerge, IntBuffer out) {
        int id = vocab.pieceToId(piece);
        if (id >= 0 && vocab.type(id) == PieceType.UNUSED && revMerge != null) {
            String[] halves = revMerge.get(piece);
            if (halves != null) {
                emit(halves[0], revMerge, out);
                emit(halves[1], revMerge, out);
                return;
            }
        }
        if (id >= 0 && vocab.type(id) == PieceType.UNKNOWN) {
            // Only a single character can be unknown; its bytes come out contiguous.
            for (byte b : piece.getBytes(StandardCharsets.UTF_8)) {
                out.add(vocab.idOfByte(b & 0xFF));
            }
            return;
        }
        out.add(id);
    }

    /** The symbol list of one encode call; plain arrays so the hot loop does not allocate. */
    private record Symbols(String norm, int[] start, int[] end, int[] prev, int[] next, boolean[] frozen) {
        boolean isEmpty(int s) {
            return end[s] == start[s];
        }

        int length(int s) {
            return end[s] - start[s];
        }

        String text(int s) {
            return norm.substring(start[s], end[s]);
        }
    }
}
