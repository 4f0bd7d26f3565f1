package dev.rg.core.safetensors;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rg.core.io.ModelFiles;
import dev.rg.core.io.StrictJson;
import dev.rg.api.format.RawTensor;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongConsumer;

/**
 * The tensors of a Hugging Face model directory: {@code model.safetensors}, or the shards listed by
 * {@code model.safetensors.index.json}. Every shard is mapped into one shared arena that lives until
 * {@link #close()}.
 */
public final class Checkpoint implements AutoCloseable {
    private static final String INDEX = "model.safetensors.index.json";

    private final Path dir;
    private final Arena arena;
    private final List<SafetensorsFile> files;
    private final Map<String, RawTensor> tensors;

    private Checkpoint(Path dir, Arena arena, List<SafetensorsFile> files, Map<String, RawTensor> tensors) {
        this.dir = dir;
        this.arena = arena;
        this.files = files;
        this.tensors = tensors;
    }

    /** Opens the checkpoint in {@code dir}, reporting bytes mapped and checked to {@code progress}. */
    public static Checkpoint open(Path dir, LongConsumer progress) {
        List<Path> shardPaths = shards(dir);
        Arena arena = Arena.ofShared();
        try {
            List<SafetensorsFile> files = new ArrayList<>();
            Map<String, RawTensor> tensors = new LinkedHashMap<>();
            long done = 0;
            for (Path p : shardPaths) {
                SafetensorsFile f = SafetensorsFile.open(p, arena);
                files.add(f);
                for (RawTensor t : f.tensors().values()) {
                    RawTensor prev = tensors.putIfAbsent(t.name(), t);
                    if (prev != null) {
                        throw new SafetensorsException("tensor '" + t.name() + "' appears in both " + prev.file() + " and " + p);
                    }
                }
                done += Files.size(p);
                progress.accept(done);
            }
            return new Checkpoint(dir, arena, List.copyOf(files), Collections.unmodifiableMap(tensors));
        } catch (IOException e) {
            arena.close();
            throw new SafetensorsException(dir + ": cannot read: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    /** Opens without progress reporting. */
    public static Checkpoint open(Path dir) {
        return open(dir, b -> {});
    }

    /**
     * The shard files of a model directory, in order: regular files (no FIFO or device) whose real path lies in the
     * directory (or, in a Hugging Face cache snapshot, in the repository's blobs).
     */
    public static List<Path> shards(Path dir) {
        List<Path> shards = listShards(dir);
        for (Path p : shards) {
            ModelFiles.requireInside(dir, p, SafetensorsException::new);
            ModelFiles.requireRegularFile(p, SafetensorsException::new);
        }
        return shards;
    }

    private static List<Path> listShards(Path dir) {
        if (!Files.isDirectory(dir)) {
            throw new SafetensorsException(dir + " is not a directory");
        }
        Path index = dir.resolve(INDEX);
        if (Files.exists(index)) {
            ModelFiles.requireInside(dir, index, SafetensorsException::new);
            ModelFiles.requireRegularFile(index, SafetensorsException::new);
            return indexShards(dir, index);
        }
        Path single = dir.resolve("model.safetensors");
        if (Files.exists(single)) {
            return List.of(single);
        }
        List<Path> found = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, "*.safetensors")) {
            ds.forEach(found::add);
        } catch (IOException e) {
            throw new SafetensorsException(dir + ": cannot list: " + e.getMessage(), e);
        }
        if (found.size() == 1) {
            return found;
        }
        throw new SafetensorsException(dir + ": no model.safetensors or " + INDEX + (found.isEmpty() ? "" : " (and "
                + found.size() + " other .safetensors files, which is ambiguous)"));
    }

    private static List<Path> indexShards(Path dir, Path index) {
        try {
            if (Files.size(index) > SafetensorsFile.MAX_HEADER_BYTES) {
                throw new SafetensorsException(index + ": implausibly large index");
            }
            return indexShards(dir, index, Files.readAllBytes(index));
        } catch (IOException e) {
            throw new SafetensorsException(index + ": cannot read: " + e.getMessage(), e);
        }
    }

    /** The shards named by the bytes of a {@code model.safetensors.index.json} (for tests and fuzzing). */
    static List<Path> indexShards(Path dir, Path index, byte[] json) {
        JsonNode root = StrictJson.read(json, index.toString(), SafetensorsException::new);
        JsonNode map = root == null ? null : root.get("weight_map");
        if (map == null || !map.isObject()) {
            throw new SafetensorsException(index + ": missing object 'weight_map'");
        }
        List<Path> out = new ArrayList<>();
        for (Iterator<JsonNode> it = map.elements(); it.hasNext(); ) {
            JsonNode v = it.next();
            if (!v.isTextual()) {
                throw new SafetensorsException(index + ": weight_map values must be file names");
            }
            Path p = dir.resolve(v.textValue()).normalize();
            if (!p.startsWith(dir.normalize())) {
                throw new SafetensorsException(index + ": shard '" + v.textValue() + "' lies outside the model directory");
            }
            if (!out.contains(p)) {
                if (!Files.exists(p)) {
                    throw new SafetensorsException(index + ": shard '" + v.textValue() + "' does not exist");
                }
                out.add(p);
            }
        }
        return out;
    }

    public Path dir() {
        return dir;
    }

    /** All tensors by name, across shards. */
    public Map<String, RawTensor> tensors() {
        return tensors;
    }

    /** The tensor, or null. */
    public RawTensor find(String name) {
        return tensors.get(name);
    }

    public List<SafetensorsFile> files() {
        return files;
    }

    /** Total bytes of all shard files. */
    public long totalBytes() {
        long n = 0;
        for (SafetensorsFile f : files) {
            try {
                n += Files.size(f.path());
            } catch (IOException e) {
                throw new SafetensorsException(f.path() + ": " + e.getMessage(), e);
            }
        }
        return n;
    }

    /** The arena of the mappings (weights derived from them must not outlive it). */
    public Arena arena() {
        return arena;
    }

    /** Unmaps every shard. */
    @Override
    public void close() {
        arena.close();
    }
}
