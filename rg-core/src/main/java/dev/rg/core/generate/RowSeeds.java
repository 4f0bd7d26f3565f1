package dev.rg.core.generate;

import java.nio.charset.StandardCharsets;

/**
 * A row's sampling seed, from the job seed and the row's key alone: not from its partition, its position in a
 * batch or the task attempt, so retries, speculative copies and a different partitioning give identical rows. Shared
 * by the batch jobs (rg-spark, {@code rg batch}), so that the same key and job seed sample the same text in either.
 */
public final class RowSeeds {
    private RowSeeds() {}

    /** The seed for a row whose key is {@code key} (a number, a string, bytes; null keys share one seed). */
    public static long of(long jobSeed, Object key) {
        return mix(jobSeed ^ mix(keyHash(key)));
    }

    private static long keyHash(Object key) {
        return switch (key) {
            case null -> 0x9E3779B97F4A7C15L;
            case Long l -> l;
            case Integer i -> i;
            case Short s -> s;
            case Byte b -> b;
            case byte[] bytes -> fnv(bytes);
            case String s -> fnv(s.getBytes(StandardCharsets.UTF_8));
            // other key types (dates, decimals): their text is stable across JVMs, hashCode need not be
            default -> fnv(String.valueOf(key).getBytes(StandardCharsets.UTF_8));
        };
    }

    /** 64-bit FNV-1a. */
    private static long fnv(byte[] bytes) {
        long h = 0xcbf29ce484222325L;
        for (byte b : bytes) {
            h ^= b & 0xff;
            h *= 0x100000001b3L;
        }
        return h;
    }

    /** SplitMix64's finaliser: nearby keys get unrelated seeds. */
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }
}
