package dev.rg.backend.cuda.device;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A {@link KernelLauncher} over host memory that records launches instead of running them: for testing the
 * checks and the launch logic without any GPU API.
 */
public final class HostLauncher extends KernelLauncher {
    /** One recorded launch. */
    public record Recorded(Kernel kernel, Launch geometry, long[] values) {}

    private final Arena arena = Arena.ofShared();
    private final Map<Long, MemorySegment> memory = new HashMap<>();
    public final List<Recorded> launches = new ArrayList<>();
    private long next = 0x1000;
    /** Host-to-device copies so far. */
    public int writes;

    @Override
    public String device() {
        return "host test launcher";
    }

    @Override
    protected long rawAllocate(long bytes) {
        long h = next;
        next += bytes + 0x1000;
        memory.put(h, arena.allocate(bytes, 16));
        return h;
    }

    @Override
    protected void rawFree(long handle) {
        if (memory.remove(handle) == null) {
            throw new IllegalStateException("double free");
        }
    }

    @Override
    protected void rawWrite(MemorySegment src, long dst, long dstOffset) {
        writes++;
        MemorySegment.copy(src, 0, memory.get(dst), dstOffset, src.byteSize());
    }

    @Override
    protected void rawRead(long src, long srcOffset, MemorySegment dst) {
        MemorySegment.copy(memory.get(src), srcOffset, dst, 0, dst.byteSize());
    }

    @Override
    protected void rawCopy(long src, long srcOffset, long dst, long dstOffset, long bytes) {
        MemorySegment.copy(memory.get(src), srcOffset, memory.get(dst), dstOffset, bytes);
    }

    @Override
    protected void rawFill32(long handle, int pattern, long words) {
        MemorySegment m = memory.get(handle);
        for (long i = 0; i < words; i++) {
            m.set(java.lang.foreign.ValueLayout.JAVA_INT, i * 4, pattern);
        }
    }

    @Override
    protected void rawLaunch(Kernel kernel, Launch geometry, String signature, long[] values) {
        launches.add(new Recorded(kernel, geometry, values.clone()));
    }

    @Override
    protected void rawSynchronize() {}

    @Override
    protected void rawClose() {
        arena.close();
    }

    /** Live raw allocations (to check that close() frees everything). */
    public int liveAllocations() {
        return memory.size();
    }

    /** A device backend over a host launcher. */
    public static DeviceBackend backend(HostLauncher l) {
        return new DeviceBackend("host-test", l) {};
    }
}
