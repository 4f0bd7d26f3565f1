package dev.rg.api.backend;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The memory the operating system can give this process now, for loaders and backends that must not ask for more
 * (an allocation beyond it is not refused: the pages are promised, and the kernel's OOM killer ends the JVM, without a
 * message, when they are first written).
 */
public final class HostMemory {
    private static final Path MEMINFO = Path.of("/proc/meminfo");

    private HostMemory() {}

    /**
     * {@code MemAvailable} of {@code /proc/meminfo} in bytes (free memory plus the page cache the kernel can reclaim,
     * such as the pages of a memory-mapped checkpoint), or -1 where it cannot be read (not Linux).
     */
    public static long availableBytes() {
        try {
            return parseMemAvailable(Files.readString(MEMINFO));
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /** The {@code MemAvailable:   N kB} line of a {@code /proc/meminfo} text in bytes, or -1 if absent or malformed. */
    public static long parseMemAvailable(String meminfo) {
        for (String line : meminfo.split("\n")) {
            if (line.startsWith("MemAvailable:")) {
                String[] parts = line.substring("MemAvailable:".length()).trim().split("\\s+");
                if (parts.length != 2 || !parts[1].equals("kB")) {
                    return -1;
                }
                try {
                    long kb = Long.parseLong(parts[0]);
                    return kb < 0 || kb > Long.MAX_VALUE >> 10 ? -1 : kb << 10;
                } catch (NumberFormatException e) {
                    return -1;
                }
            }
        }
        return -1;
    }
}
