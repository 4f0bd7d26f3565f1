package dev.rg.server;

import dev.rg.core.model.Model;
import dev.rg.core.model.ModelState;
import dev.rg.core.model.SavedState;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Kept conversation states, keyed by the token prefix each represents, least recently used first out, bounded
 * in bytes. A RecurrentGemma state is fixed-size, so a finished chat turn costs one state however long the
 * conversation was; the next turn resumes from it and prefills only its new tokens. Used by the scheduler
 * thread only.
 *
 * <p>With a directory ({@code --state-cache-dir}) the cache outlives the server: {@link #saveTo} writes every entry as a
 * {@link SavedState} file named after the model and the entry's tokens (least recently used first, their modification
 * times in that order), and removes this model's files of entries no longer cached; {@link #loadFrom} reads them back in
 * the same order, within the budget. Files of other models in the directory are left alone. While the server is idle,
 * {@link #persistStep} writes entries not yet on disk and removes files of evicted ones, one file per call, so that a
 * crash loses at most what was cached since the server was last idle.
 */
final class StateCache implements AutoCloseable {
    /**
     * A resumable state and the tokens it has processed; {@code shared}: a prefix that several requests are expected to
     * share (a system text, example turns), evicted only after every unshared entry.
     */
    record Entry(int[] key, ModelState state, boolean shared) {}

    /** The metadata key of a saved entry's {@link Entry#shared} flag. */
    private static final String SHARED_KEY = "shared_prefix";
    private final long maxBytes;
    private final LinkedHashMap<Key, Entry> entries = new LinkedHashMap<>(16, 0.75f, true);
    private long bytes;
    /** Bytes of the {@link Entry#shared} entries (within {@link #bytes}). */
    private long sharedBytes;
    /** Keys whose entry has a file in the directory (written by {@link #persistStep} or read by {@link #loadFrom}). */
    private final Set<Key> onDisk = new HashSet<>();
    /** Keys of entries evicted while they had a file: {@link #persistStep} removes those files. */
    private final Set<Key> stale = new LinkedHashSet<>();
    /** Files {@link #persistStep} wrote and removed, and the first problem it met (it then goes on with the rest). */
    private int written;
    private int removed;
    private String persistProblem;

    /**
     * Key lengths of the entries, with how many entries have each: {@link #longestPrefix} probes only these lengths, one
     * hash lookup each, instead of comparing the prompt with every entry (a small model's default cache holds about a
     * thousand states, and every request looked through all of them).
     */
    private final TreeMap<Integer, Integer> keyLengths = new TreeMap<>();

    /**
     * The first {@code length} ids of {@code ids}, hashed as {@link Arrays#hashCode(int[])} hashes them, so that the hashes
     * of all prefixes of a prompt come from one pass over it ({@link #longestPrefix}). Stored keys own their array
     * ({@code length == ids.length}); a probe views a prefix of the prompt without copying it.
     */
    private static final class Key {
        final int[] ids;
        private final int length;
        private final int hash;

        Key(int[] ids) {
            this(ids, ids.length, Arrays.hashCode(ids));
        }

        private Key(int[] ids, int length, int hash) {
            this.ids = ids;
            this.length = length;
            this.hash = hash;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Key k && Arrays.equals(ids, 0, length, k.ids, 0, k.length);
        }

        @Override
        public int hashCode() {
            return hash;
        }
    }

    StateCache(long maxBytes) {
        this.maxBytes = maxBytes;
    }

    boolean enabled() {
        return maxBytes > 0;
    }

    /**
     * The entry with the longest key that is a proper prefix of {@code prompt} (so one token at least is left to feed),
     * or null; it then counts as just used. One pass over the prompt hashes all its prefixes, then each key length held
     * below the prompt's, longest first, is one hash lookup.
     */
    Entry longestPrefix(int[] prompt) {
        if (keyLengths.isEmpty() || keyLengths.firstKey() >= prompt.length) {
            return null;
        }
        int[] prefixHash = new int[prompt.length];
        int h = 1;
        for (int n = 0; n < prompt.length; n++) {
            prefixHash[n] = h; // Arrays.hashCode of prompt[0, n)
            h = 31 * h + prompt[n];
        }
        for (int n : keyLengths.headMap(prompt.length, false).descendingKeySet()) {
            Entry e = entries.get(new Key(prompt, n, prefixHash[n])); // access order: a hit counts as used
            if (e != null) {
                return e;
            }
        }
        return null;
    }

    /** Adds ({@code +1}) or removes ({@code -1}) one entry's key from {@link #keyLengths}. */
    private void countLength(int[] key, int delta) {
        keyLengths.merge(key.length, delta, (a, b) -> a + b == 0 ? null : a + b);
    }

    /** Keeps {@code state} (taking ownership) as the state after {@code key}; evicts beyond the budget (see {@link #evict}). */
    void put(int[] key, ModelState state) {
        put(key, state, false);
    }

    /** {@link #put} for a prefix several requests are expected to share: evicted after every other entry. */
    void putShared(int[] key, ModelState state) {
        put(key, state, true);
    }

    private void put(int[] key, ModelState state, boolean shared) {
        long size = state.stateBytes();
        if (size > maxBytes) {
            state.close();
            return;
        }
        Key k = new Key(key.clone());
        Entry old = entries.remove(k);
        if (old != null) {
            countLength(old.key, -1);
            // a file of the old entry holds the state of the same tokens from the same model: it stays valid
            drop(old, false);
            shared |= old.shared;
        }
        if (stale.remove(k)) {
            onDisk.add(k); // re-cached before its file was removed: that file holds this state again
        }
        entries.put(k, new Entry(key.clone(), state, shared));
        countLength(key, +1);
        bytes += size;
        sharedBytes += shared ? size : 0;
        evict();
    }

    /**
     * Within the budget again. Shared prefixes beyond half the budget go first (least recently used first), so that
     * conversations keep at least half; then the least recently used unshared entries; shared prefixes within their half
     * only when no unshared entry is left. A shared prefix serves every request that starts with it, a conversation's
     * state only its next turn; and a prefix kept while several requests prefill it would otherwise be the oldest entry
     * once they finish.
     */
    private void evict() {
        evict(true, maxBytes / 2);
        evict(false, 0);
        evict(true, 0);
    }

    /** Evicts least recently used entries of one kind while over the budget and that kind holds more than {@code floor} bytes. */
    private void evict(boolean shared, long floor) {
        Iterator<Entry> it = entries.values().iterator();
        while (bytes > maxBytes && (shared ? sharedBytes : bytes - sharedBytes) > floor && it.hasNext()) {
            Entry e = it.next();
            if (e.shared == shared) {
                it.remove();
                countLength(e.key, -1);
                drop(e, true);
            }
        }
    }

    /** Frees an entry's state; {@code evicted}: it leaves the cache, so its file (if any) goes stale. */
    private void drop(Entry e, boolean evicted) {
        if (evicted) {
            Key k = new Key(e.key);
            if (onDisk.remove(k)) {
                stale.add(k);
            }
        }
        long size = e.state.stateBytes();
        bytes -= size;
        sharedBytes -= e.shared ? size : 0;
        e.state.close();
    }

    /** Whether a state for the first {@code length} ids of {@code prompt} is kept; it does not count as used. */
    boolean holds(int[] prompt, int length) {
        return length <= prompt.length && entries.containsKey(new Key(Arrays.copyOf(prompt, length)));
    }

    /** Whether a state for exactly {@code key} is kept (it then counts as just used). */
    boolean touch(int[] key) {
        return entries.get(new Key(key)) != null;
    }

    long bytes() {
        return bytes;
    }

    /** Whether {@link #persistStep} has work: an entry without a file, or a file of an evicted entry. */
    boolean persistPending() {
        return !stale.isEmpty() || onDisk.size() < entries.size();
    }

    /**
     * One step of keeping {@code dir} up to date while the server is idle: removes one file of an evicted entry, or else
     * writes the most recently used entry that has no file yet (through a temporary file, so a crash mid-write leaves no
     * partial file). Returns false when there was nothing to do. A file that cannot be written or removed is counted
     * as done and reported ({@link #persisted}), not retried on every idle step.
     */
    boolean persistStep(Path dir, Model model) {
        Iterator<Key> s = stale.iterator();
        if (s.hasNext()) {
            Key k = s.next();
            s.remove();
            Path file = dir.resolve(fileName(model, k.ids));
            try {
                Files.deleteIfExists(file);
                removed++;
            } catch (IOException ex) {
                problem(file + ": cannot delete: " + ex.getMessage());
            }
            return true;
        }
        Entry newest = null;
        for (Entry e : entries.values()) { // least recently used first
            if (!onDisk.contains(new Key(e.key))) {
                newest = e;
            }
        }
        if (newest == null) {
            return false;
        }
        onDisk.add(new Key(newest.key));
        try {
            write(dir.resolve(fileName(model, newest.key)), model, newest);
            written++;
        } catch (RuntimeException ex) {
            problem(String.valueOf(ex.getMessage()));
        }
        return true;
    }

    /** One entry as a state file (written whole or not at all), its shared flag in the metadata for {@link #loadFrom}. */
    private static void write(Path file, Model model, Entry e) {
        SavedState.write(file, model, e.state, 0, e.key, -1, null, Map.of(SHARED_KEY, Boolean.toString(e.shared)));
    }

    private void problem(String what) {
        persistProblem = persistProblem == null ? what : persistProblem;
    }

    /** What {@link #persistStep} did so far: files written and removed, and the first problem, if any. */
    String persisted() {
        String s = "wrote " + written + " state file" + (written == 1 ? "" : "s") + ", removed " + removed;
        return persistProblem == null ? s : s + "; first problem: " + persistProblem;
    }

    /** What {@link #saveTo} or {@link #loadFrom} did: entries and bytes, files skipped and why (the first reason). */
    record Persisted(int entries, long bytes, int skipped, String firstProblem) {
        String describe(String verb, Path dir) {
            String s = String.format("%s %d conversation state%s (%.1f MB) %s %s", verb, entries, entries == 1 ? "" : "s",
                    bytes / 1e6, verb.equals("kept") ? "in" : "from", dir);
            return skipped == 0 ? s : s + "; " + skipped + " skipped (" + firstProblem + ")";
        }
    }

    /** Files of this cache in {@code dir}: {@code state-MODEL-KEY.rgstate}. */
    private static String prefix(Model model) {
        return "state-" + model.identity().substring(0, 12) + "-";
    }

    private static String fileName(Model model, int[] key) {
        MessageDigest md;
        try {
            md = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        ByteBuffer b = ByteBuffer.allocate(key.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asIntBuffer().put(key);
        return prefix(model) + HexFormat.of().formatHex(md.digest(b.array()), 0, 12) + ".rgstate";
    }

    /**
     * Writes every entry to {@code dir} (an entry whose file is already there is not written again: it holds the state
     * of the same tokens, from this model) and deletes this model's files of entries no longer cached. A file that cannot be written is
     * skipped, not fatal: this runs while the server shuts down.
     */
    Persisted saveTo(Path dir, Model model) {
        List<Entry> lru = new ArrayList<>(entries.values()); // least recently used first
        Set<String> names = new HashSet<>();
        int saved = 0;
        int skipped = 0;
        long savedBytes = 0;
        String problem = null;
        long now = System.currentTimeMillis();
        for (int i = 0; i < lru.size(); i++) {
            Entry e = lru.get(i);
            String name = fileName(model, e.key);
            Path file = dir.resolve(name);
            try {
                if (!Files.exists(file)) {
                    write(file, model, e);
                }
                // the modification times keep the LRU order for loadFrom
                Files.setLastModifiedTime(file, FileTime.fromMillis(now - lru.size() + i));
                onDisk.add(new Key(e.key));
                names.add(name);
                saved++;
                savedBytes += e.state.stateBytes();
            } catch (IOException | RuntimeException ex) {
                skipped++;
                problem = problem == null ? String.valueOf(ex.getMessage()) : problem;
            }
        }
        for (Path old : listOwn(dir, model)) {
            if (!names.contains(old.getFileName().toString())) {
                try {
                    Files.deleteIfExists(old);
                } catch (IOException ex) {
                    problem = problem == null ? old + ": cannot delete: " + ex.getMessage() : problem;
                }
            }
        }
        stale.clear();
        return new Persisted(saved, savedBytes, skipped, problem);
    }

    /**
     * Reads this model's files from {@code dir} into the cache, oldest first (so the most recently used are kept when
     * they do not all fit). A file that does not read (damaged, another weight format) is skipped and reported.
     */
    Persisted loadFrom(Path dir, Model model) {
        List<Path> files = new ArrayList<>(listOwn(dir, model));
        files.sort(Comparator.comparing(StateCache::modified).thenComparing(Path::toString));
        int skipped = 0;
        String problem = null;
        for (Path f : files) {
            ModelState state = null;
            try {
                SavedState saved = SavedState.read(f, model);
                if (saved.pending() >= 0) {
                    throw new IllegalArgumentException(f + ": has a pending token; not a state cache entry");
                }
                state = model.newState(1);
                saved.restoreInto(model, state, 0);
                put(saved.tokens(), state, Boolean.parseBoolean(saved.extra().get(SHARED_KEY)));
                if (touch(saved.tokens())) { // within the budget: its file is its own
                    onDisk.add(new Key(saved.tokens()));
                }
            } catch (RuntimeException ex) {
                if (state != null) {
                    state.close();
                }
                skipped++;
                problem = problem == null ? String.valueOf(ex.getMessage()) : problem;
            }
        }
        return new Persisted(size(), bytes, skipped, problem);
    }

    private static FileTime modified(Path p) {
        try {
            return Files.getLastModifiedTime(p);
        } catch (IOException e) {
            return FileTime.fromMillis(0);
        }
    }

    private static List<Path> listOwn(Path dir, Model model) {
        List<Path> out = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, prefix(model) + "*.rgstate")) {
            for (Path p : ds) {
                if (Files.isRegularFile(p)) {
                    out.add(p);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(dir + ": cannot list: " + e.getMessage(), e);
        }
        return out;
    }

    int size() {
        return entries.size();
    }

    @Override
    public void close() {
        for (Entry e : entries.values()) {
            e.state.close();
        }
        entries.clear();
        keyLengths.clear();
        onDisk.clear();
        stale.clear();
        bytes = 0;
        sharedBytes = 0;
    }
}
