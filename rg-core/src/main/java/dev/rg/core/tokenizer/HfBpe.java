package dev.rg.core.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * The Hugging Face {@code tokenizers} BPE model ({@code models/bpe}, {@code Word::merge_all}) for one
 * pre-tokenized word: characters become vocabulary ids (or byte-fallback pieces, or {@code <unk>}), then the
 * adjacent pair with the lowest merge rank is merged repeatedly, leftmost on ties. Unlike SentencePiece this is
 * driven by the merge list's order, not by piece scores, and merges may produce any vocabulary id, including
 * ids of added tokens.
 */
final class HfBpe {
    private final Map<String, Integer> vocab;
    private final Map<Long, Long> merges;
    private final int[] byteIds;
    private final int unkId;
    private final boolean fuseUnk;
    private final boolean ignoreMerges;

    /**
     * @param merges (left id, right id) packed as {@code left << 32 | right} to {@code rank << 32 | newId}
     * @param byteIds the id of {@code <0xHH>} for every byte, or {@code null} without byte fallback
     * @param unkId the unknown token's id, or -1 to drop characters that cannot be encoded (as HF does)
     */
    HfBpe(Map<String, Integer> vocab, Map<Long, Long> merges, int[] byteIds, int unkId, boolean fuseUnk,
            boolean ignoreMerges) {
        this.vocab = vocab;
        this.merges = merges;
        this.byteIds = byteIds;
        this.unkId = unkId;
        this.fuseUnk = fuseUnk;
        this.ignoreMerges = ignoreMerges;
    }

    static long pairKey(int left, int right) {
        return (long) left << 32 | (right & 0xFFFFFFFFL);
    }

    void encodeWord(String word, IntBuffer out) {
        if (word.isEmpty()) {
            return;
        }
        if (ignoreMerges) {
            Integer whole = vocab.get(word);
            if (whole != null) {
                out.add(whole);
                return;
            }
        }
        IntBuffer symbols = new IntBuffer(word.length());
        boolean lastWasUnk = false;
        for (int i = 0; i < word.length(); ) {
            int cp = word.codePointAt(i);
            String ch = word.substring(i, i + Character.charCount(cp));
            i += ch.length();
            Integer id = vocab.get(ch);
            if (id != null) {
                symbols.add(id);
                lastWasUnk = false;
                continue;
            }
            if (byteIds != null) {
                byte[] utf8 = ch.getBytes(StandardCharsets.UTF_8);
                boolean all = true;
                for (byte b : utf8) {
                    all &= byteIds[b & 0xFF] >= 0;
                }
                if (all) {
                    for (byte b : utf8) {
                        symbols.add(byteIds[b & 0xFF]);
                    }
                    lastWasUnk = false;
                    continue;
                }
            }
            if (unkId >= 0 && !(fuseUnk && lastWasUnk)) {
                symbols.add(unkId);
            }
            lastWasUnk = unkId >= 0;
        }
        mergeAll(symbols, out);
    }

    /** {@code Word::merge_all}: a queue ordered by (rank, position) with lazy deletion of stale entries. */
    private void mergeAll(IntBuffer symbols, IntBuffer out) {
        int n = symbols.size();
        int[] c = symbols.toArray();
        int[] prev = new int[n];
        int[] next = new int[n];
        boolean[] removed = new boolean[n];
        for (int i = 0; i < n; i++) {
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
        }
        // MergeQueue pops the highest score first, leftmost on ties; a score of -rank gives lowest rank first.
        // Ranks are below 2^24 (checked at load), so they are exact as floats. `right` carries the new id.
        MergeQueue queue = new MergeQueue(n);
        for (int i = 0; i + 1 < n; i++) {
            offer(queue, c, i, i + 1);
        }
        while (!queue.isEmpty()) {
            int pos = queue.topLeft();
            int newId = queue.topRight();
            queue.pop();
            if (removed[pos] || next[pos] < 0) {
                continue;
            }
            int right = next[pos];
            Long merge = merges.get(pairKey(c[pos], c[right]));
            if (merge == null || (int) merge.longValue() != newId) {
                continue; // stale: the pair at pos changed since this entry was queued
            }
            c[pos] = newId;
            removed[right] = true;
            next[pos] = next[right];
            if (next[right] >= 0) {
                prev[next[right]] = pos;
            }
            if (prev[pos] >= 0) {
                offer(queue, c, prev[pos], pos);
            }
            if (next[pos] >= 0) {
                offer(queue, c, pos, next[pos]);
            }
        }
        for (int i = 0; i != -1 && n > 0; i = next[i]) {
            out.add(c[i]);
        }
    }

    private void offer(MergeQueue queue, int[] c, int left, int right) {
        Long merge = merges.get(pairKey(c[left], c[right]));
        if (merge != null) {
            queue.push(-(float) (merge >>> 32), left, (int) merge.longValue(), 0);
        }
    }
}
