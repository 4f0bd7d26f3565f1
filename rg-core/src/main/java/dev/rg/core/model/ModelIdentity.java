package dev.rg.core.model;

import dev.rg.api.format.RawTensor;
import dev.rg.core.config.ModelConfig;
import dev.rg.core.safetensors.Checkpoint;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.TreeMap;

/**
 * A short digest that tells one model's weights from another's, so that a saved state ({@link SavedState}) is never
 * resumed on weights that did not compute it: the same architecture with other weights (a fine-tune, the -it model
 * next to the base one) would continue from it without an error, into silent garbage.
 *
 * <p>A checkpoint's identity hashes the parsed config and, per tensor in name order, its name, dtype, shape and
 * 64 KB of its bytes (the whole tensor when smaller, else 16 windows of 4 KB spread over it). Reading every byte
 * would cost seconds on a 5 GB checkpoint; two checkpoints that agree on every header and on a sample of every
 * tensor are, in practice, the same weights. A random model's identity is its config, formats and seed.
 */
final class ModelIdentity {
    private static final int WHOLE_BELOW = 64 << 10;
    private static final int WINDOWS = 16;
    private static final int WINDOW_BYTES = 4 << 10;

    private ModelIdentity() {}

    static String ofCheckpoint(ModelConfig config, Checkpoint checkpoint) {
        MessageDigest md = sha256();
        update(md, "rg-checkpoint-v1\n" + config + "\n");
        Map<String, RawTensor> sorted = new TreeMap<>(checkpoint.tensors());
        for (RawTensor t : sorted.values()) {
            MemorySegment data = t.data();
            long size = data.byteSize();
            update(md, t.name() + " " + t.dtype() + " " + t.shape() + " " + size + "\n");
            if (size <= WHOLE_BELOW) {
                md.update(data.toArray(ValueLayout.JAVA_BYTE));
            } else {
                for (int i = 0; i < WINDOWS; i++) {
                    long off = (size - WINDOW_BYTES) * i / (WINDOWS - 1);
                    md.update(data.asSlice(off, WINDOW_BYTES).toArray(ValueLayout.JAVA_BYTE));
                }
            }
        }
        return hex(md);
    }

    static String ofRandom(ModelConfig config, String linearFormat, String headFormat, long seed) {
        MessageDigest md = sha256();
        update(md, "rg-random-v1\n" + config + "\n" + linearFormat + " " + headFormat + " " + seed + "\n");
        return hex(md);
    }

    private static void update(MessageDigest md, String s) {
        md.update(s.getBytes(StandardCharsets.UTF_8));
    }

    /** The first 16 bytes, in hex: enough to tell models apart, short enough to print in an error line. */
    private static String hex(MessageDigest md) {
        byte[] d = md.digest();
        return HexFormat.of().formatHex(d, 0, 16);
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("this JDK has no SHA-256", e); // every Java SE runtime must have it
        }
    }
}
