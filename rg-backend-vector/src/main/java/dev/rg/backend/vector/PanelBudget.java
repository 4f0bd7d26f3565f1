package dev.rg.backend.vector;

import dev.rg.api.backend.HostMemory;
import java.util.Optional;
import java.util.function.LongSupplier;

/**
 * Whether one more bf16 matrix may be copied into {@link Bf16Panels panels} without running the machine out of memory
 * ({@code bf16-layout=auto}, the default). The copy is anonymous memory, zeroed and written at once: where RAM holds the
 * memory-mapped checkpoint but not a second copy of it (RecurrentGemma-9B in bf16, 17 GB, on a 16 GB laptop) the
 * kernel's OOM killer would end the JVM part way through loading, with no message at all. So a matrix is packed only
 * while its copy fits in the memory the kernel reports available now ({@code MemAvailable}: free memory plus the page
 * cache it can reclaim, which includes the mapped checkpoint's pages, not read again once packed), less the heap the
 * JVM may still grow into and a margin for everything else. The matrices that do not fit stay row-major (the same
 * results within the kernel tolerance; batches and prefill slower on them), and {@link #warning} says so once. Where
 * the available memory cannot be read (not Linux), every matrix is packed, as with {@code bf16-layout=panels}.
 */
final class PanelBudget {
    /** Kept free beside the heap's headroom: code, thread stacks, the JVM's own structures, the OS. */
    static final long MARGIN_BYTES = 512L << 20;

    private final LongSupplier available;
    private final LongSupplier heapHeadroom;
    private int packed;
    private int refused;
    private long refusedBytes;
    private long availableWhenRefused = -1;

    /** The budget of this machine: {@link HostMemory#availableBytes}, the heap's headroom from the JVM. */
    static PanelBudget ofThisMachine() {
        return new PanelBudget(HostMemory::availableBytes, () -> {
            Runtime rt = Runtime.getRuntime();
            return Math.max(0, rt.maxMemory() - rt.totalMemory());
        });
    }

    /** {@code available}: bytes the OS can give now, or -1 when unknown; {@code heapHeadroom}: bytes the heap may still take. */
    PanelBudget(LongSupplier available, LongSupplier heapHeadroom) {
        this.available = available;
        this.heapHeadroom = heapHeadroom;
    }

    /** Whether a panel copy of {@code bytes} may be made now; a refusal is counted for {@link #warning}. */
    synchronized boolean admit(long bytes) {
        long now = available.getAsLong();
        if (now < 0 || bytes + heapHeadroom.getAsLong() + MARGIN_BYTES <= now) {
            packed++;
            return true;
        }
        refused++;
        refusedBytes += bytes;
        if (availableWhenRefused < 0) {
            availableWhenRefused = now;
        }
        return false;
    }

    /** One line for the user when some matrices stayed row-major, else empty. */
    synchronized Optional<String> warning() {
        if (refused == 0) {
            return Optional.empty();
        }
        return Optional.of(String.format("vector backend: %d of %d bf16 matrices (%.1f GB) stay row-major: their panel copy"
                + " would not fit in the memory available (%.1f GB when the first was refused, less the Java heap's"
                + " headroom and %d MB), so batches and prefill run slower on them; --format int8 or nf4 needs no copy and"
                + " fewer bytes, --backend-option bf16-layout=rows copies no matrix, bf16-layout=panels copies every one",
                refused, packed + refused, refusedBytes / 1e9, availableWhenRefused / 1e9, MARGIN_BYTES >> 20));
    }
}
