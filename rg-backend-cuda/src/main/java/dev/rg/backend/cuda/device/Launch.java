package dev.rg.backend.cuda.device;

/**
 * The geometry of one launch: a grid of {@code gridX x gridY} blocks of {@code block} threads (CUDA), i.e. an
 * NDRange of global size {@code (gridX*block, gridY)} with local size {@code (block, 1)} (OpenCL).
 */
public record Launch(int gridX, int gridY, int block) {
    /** Most threads per block any kernel is launched with (CUDA's limit; PoCL allows more). */
    public static final int MAX_BLOCK = 1024;

    public Launch {
        if (gridX < 1 || gridY < 1 || gridX > Integer.MAX_VALUE / MAX_BLOCK || gridY > 65535) {
            throw new IllegalArgumentException("invalid grid " + gridX + "x" + gridY);
        }
        if (block < 1 || block > MAX_BLOCK || block % 32 != 0) {
            throw new IllegalArgumentException("invalid block size " + block + " (a multiple of 32 up to " + MAX_BLOCK + ")");
        }
    }

    /** A 1-D launch covering {@code n} items with {@code block} threads per block. */
    public static Launch cover(long n, int block) {
        long blocks = Math.max(1, (n + block - 1) / block);
        return new Launch(Math.toIntExact(blocks), 1, block);
    }

    /** A grid-stride launch over {@code n} items: at most {@code maxBlocks} blocks. */
    public static Launch gridStride(long n, int block, int maxBlocks) {
        long blocks = Math.max(1, Math.min(maxBlocks, (n + block - 1) / block));
        return new Launch((int) blocks, 1, block);
    }
}
