package dev.rg.api.backend;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.OptionalLong;

/**
 * The memory the operating system can give this process now, for loaders and backends that must not ask for more
 * (an allocation beyond it is not refused: the pages are promised, and the kernel's OOM killer ends the JVM, without a
 * message, when they are first written).
 *
 * <p>Two limits, the smaller wins: the machine's ({@code MemAvailable} in {@code /proc/meminfo}) and, inside a container
 * or any control group with a memory limit, the group's (its limit less what it uses, page cache it can drop not
 * counted). {@code /proc/meminfo} shows the whole host even inside a container, so without the second a server in a
 * pod limited to 16 GB on a 256 GB node would see 250 GB free. Limits set on parent groups only are not looked at.
 */
public final class HostMemory {
    private static final Path MEMINFO = Path.of("/proc/meminfo");
    private static final Path PROC_SELF_CGROUP = Path.of("/proc/self/cgroup");
    private static final Path CGROUP_ROOT = Path.of("/sys/fs/cgroup");
    /** cgroup v1 writes "no limit" as a huge page-aligned number (2^63 rounded down to a page). */
    private static final long V1_UNLIMITED = 1L << 62;

    private HostMemory() {}

    /**
     * Bytes this process can still get: the smaller of {@code MemAvailable} (free memory plus the page cache the kernel
     * can reclaim, such as the pages of a memory-mapped checkpoint) and its control group's room; -1 where neither can be
     * read (not Linux).
     */
    public static long availableBytes() {
        long host;
        try {
            host = parseMemAvailable(Files.readString(MEMINFO));
        } catch (IOException | RuntimeException e) {
            host = -1;
        }
        OptionalLong group;
        try {
            group = cgroupAvailable(CGROUP_ROOT, Files.readString(PROC_SELF_CGROUP));
        } catch (IOException | RuntimeException e) {
            group = OptionalLong.empty();
        }
        if (group.isEmpty()) {
            return host;
        }
        return host < 0 ? group.getAsLong() : Math.min(host, group.getAsLong());
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

    /**
     * The room left under the memory limit of the control group that {@code procSelfCgroup} (the text of
     * {@code /proc/self/cgroup}) names, with the cgroup file systems mounted at {@code root}: limit less usage, the
     * group's inactive page cache counted as free (the kernel drops it before it fails an allocation). Empty when the
     * group has no limit or its files cannot be read. cgroup v2 ({@code 0::/path}: {@code memory.max},
     * {@code memory.current}, {@code inactive_file}) and v1 (the {@code memory} controller's line:
     * {@code memory.limit_in_bytes}, {@code memory.usage_in_bytes}, {@code total_inactive_file}). Inside a container the
     * group's path is often not mounted where it says (a private cgroup namespace shows {@code /}); then the mount's
     * root is the group.
     */
    public static OptionalLong cgroupAvailable(Path root, String procSelfCgroup) {
        for (String line : procSelfCgroup.split("\n")) {
            String[] f = line.split(":", 3);
            if (f.length != 3) {
                continue;
            }
            boolean v2 = f[0].equals("0") && f[1].isEmpty();
            boolean v1 = !v2 && Arrays.asList(f[1].split(",")).contains("memory");
            if (!v1 && !v2) {
                continue;
            }
            Path mount = v2 ? root : root.resolve("memory");
            Path dir = mount.resolve(f[2].replaceFirst("^/+", ""));
            if (!Files.isDirectory(dir)) {
                dir = mount;
            }
            OptionalLong room = v2 ? room(dir, "memory.max", "memory.current", "inactive_file")
                    : room(dir, "memory.limit_in_bytes", "memory.usage_in_bytes", "total_inactive_file");
            if (room.isPresent()) {
                return room;
            }
        }
        return OptionalLong.empty();
    }

    /** Limit less usage plus inactive page cache, from the files of one group; empty without a limit or on any doubt. */
    private static OptionalLong room(Path dir, String limitFile, String usageFile, String inactiveKey) {
        try {
            String limitText = Files.readString(dir.resolve(limitFile)).trim();
            if (limitText.equals("max")) {
                return OptionalLong.empty();
            }
            long limit = Long.parseLong(limitText);
            if (limit <= 0 || limit >= V1_UNLIMITED) {
                return OptionalLong.empty();
            }
            long usage = Long.parseLong(Files.readString(dir.resolve(usageFile)).trim());
            long inactive = 0;
            for (String line : Files.readString(dir.resolve("memory.stat")).split("\n")) {
                String[] kv = line.trim().split("\\s+");
                if (kv.length == 2 && kv[0].equals(inactiveKey)) {
                    inactive = Long.parseLong(kv[1]);
                }
            }
            return OptionalLong.of(Math.max(0, limit - Math.max(0, usage - inactive)));
        } catch (IOException | RuntimeException e) {
            return OptionalLong.empty();
        }
    }
}
