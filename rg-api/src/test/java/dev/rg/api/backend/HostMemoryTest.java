package dev.rg.api.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code MemAvailable} read from {@code /proc/meminfo} text, and the room under a control group's memory limit (cgroup v1
 * and v2, inside and outside a cgroup namespace) read from a file tree shaped like {@code /sys/fs/cgroup}.
 */
class HostMemoryTest {
    private static final long GB = 1L << 30;

    @Test
    void readsMemAvailableInBytesAndNothingElse() {
        String meminfo = "MemTotal:       24576000 kB\nMemFree:         1000000 kB\nMemAvailable:   20971520 kB\nBuffers: 1 kB\n";
        assertEquals(20971520L * 1024, HostMemory.parseMemAvailable(meminfo));
        assertEquals(-1, HostMemory.parseMemAvailable("MemTotal: 1 kB\nMemFree: 1 kB\n"), "no such line (an old kernel)");
        assertEquals(-1, HostMemory.parseMemAvailable("MemAvailable: lots kB\n"));
        assertEquals(-1, HostMemory.parseMemAvailable("MemAvailable: 12 MB\n"));
        assertEquals(-1, HostMemory.parseMemAvailable("MemAvailable: -5 kB\n"));
        assertEquals(-1, HostMemory.parseMemAvailable("MemAvailable: 99999999999999999999 kB\n"));
        long here = HostMemory.availableBytes();
        assertTrue(here == -1 || here > 0, "this machine's MemAvailable: " + here);
    }

    @Test
    void cgroupV2LimitLessUsageWithInactivePageCacheCountedFree(@TempDir Path root) throws IOException {
        Path group = Files.createDirectories(root.resolve("kubepods/pod1/ctr"));
        write(group, "memory.max", 16 * GB + "\n");
        write(group, "memory.current", 10 * GB + "\n");
        write(group, "memory.stat", "anon 7000000000\nfile 3000000000\ninactive_file " + 2 * GB + "\nactive_file 1000\n");
        assertEquals(OptionalLong.of(8 * GB), HostMemory.cgroupAvailable(root, "0::/kubepods/pod1/ctr\n"));

        write(group, "memory.max", "max\n"); // no limit: the machine's figure decides
        assertEquals(OptionalLong.empty(), HostMemory.cgroupAvailable(root, "0::/kubepods/pod1/ctr\n"));
    }

    @Test
    void insideANamespaceTheMountRootIsTheGroup(@TempDir Path root) throws IOException {
        write(root, "memory.max", 4 * GB + "\n");
        write(root, "memory.current", 5 * GB + "\n"); // over the limit (reclaim pending): no room, not negative
        write(root, "memory.stat", "inactive_file 0\n");
        assertEquals(OptionalLong.of(0), HostMemory.cgroupAvailable(root, "0::/\n"));
        assertEquals(OptionalLong.of(0), HostMemory.cgroupAvailable(root, "0::/not/mounted/here\n"));
    }

    @Test
    void cgroupV1MemoryControllerAndItsUnlimitedValue(@TempDir Path root) throws IOException {
        Path group = Files.createDirectories(root.resolve("memory/docker/abc"));
        write(group, "memory.limit_in_bytes", 8 * GB + "\n");
        write(group, "memory.usage_in_bytes", 3 * GB + "\n");
        write(group, "memory.stat", "cache 100\ninactive_file 5\ntotal_inactive_file " + GB + "\n");
        String procSelf = "12:pids:/docker/abc\n4:memory:/docker/abc\n1:name=systemd:/docker/abc\n0::/\n";
        assertEquals(OptionalLong.of(6 * GB), HostMemory.cgroupAvailable(root, procSelf));

        write(group, "memory.limit_in_bytes", "9223372036854771712\n"); // v1's "no limit"
        assertEquals(OptionalLong.empty(), HostMemory.cgroupAvailable(root, procSelf));
    }

    @Test
    void missingOrMalformedFilesGiveNoLimit(@TempDir Path root) throws IOException {
        assertEquals(OptionalLong.empty(), HostMemory.cgroupAvailable(root, "0::/\n"), "no files at all");
        write(root, "memory.max", "lots\n");
        assertEquals(OptionalLong.empty(), HostMemory.cgroupAvailable(root, "0::/\n"));
        assertEquals(OptionalLong.empty(), HostMemory.cgroupAvailable(root, "garbage\n\n3:cpu:/\n"));
    }

    private static void write(Path dir, String name, String text) throws IOException {
        Files.writeString(dir.resolve(name), text);
    }
}
