package dev.rg.quant;

/**
 * bitsandbytes' signed 8-bit "dynamic" code book, {@code create_dynamic_map(signed=True, max_exponent_bits=7,
 * total_bits=8)}: 256 sorted float32 values from -0.99296874 to 1.0 with entry 127 exactly 0. Double
 * quantisation stores the 4-bit formats' block scales as indices into it.
 *
 * <p>The values are given as float32 bits, copied from the {@code nested_quant_map} tensors that bitsandbytes
 * wrote (every such tensor in the test fixtures is identical): computing them again would mean reproducing
 * {@code torch.linspace}'s float32 rounding, which is not worth the risk. Dequantisation always uses the map
 * stored with a weight; this table is only what {@link FourBitFormat#quantize} writes.
 */
final class DynamicMap {
    /** Index of the entry 0.0. */
    static final int ZERO_CODE = 127;

    private static final int[] BITS = {
            0xbf7e3333, 0xbf7a9999, 0xbf770000, 0xbf736666, 0xbf6fcccc, 0xbf6c3333, 0xbf68999a, 0xbf650000,
            0xbf616666, 0xbf5dcccc, 0xbf5a3333, 0xbf569999, 0xbf530000, 0xbf4f6666, 0xbf4bcccc, 0xbf483333,
            0xbf44999a, 0xbf410000, 0xbf3d6667, 0xbf39cccd, 0xbf363334, 0xbf32999a, 0xbf2f0000, 0xbf2b6667,
            0xbf27cccd, 0xbf243333, 0xbf20999a, 0xbf1d0000, 0xbf196666, 0xbf15cccd, 0xbf123334, 0xbf0e999a,
            0xbf0b0000, 0xbf076666, 0xbf03cccd, 0xbf003333, 0xbef93334, 0xbef20000, 0xbeeacccc, 0xbee3999a,
            0xbedc6666, 0xbed53332, 0xbece0000, 0xbec6cccc, 0xbebf999a, 0xbeb86666, 0xbeb13332, 0xbeaa0000,
            0xbea2cccc, 0xbe9b999a, 0xbe946666, 0xbe8d3334, 0xbe860000, 0xbe7d999a, 0xbe6f3334, 0xbe60cccd,
            0xbe526666, 0xbe440000, 0xbe359999, 0xbe273333, 0xbe18cccd, 0xbe0a6666, 0xbdf80000, 0xbddb3334,
            0xbdc9eb85, 0xbdc428f5, 0xbdbe6667, 0xbdb8a3d7, 0xbdb2e148, 0xbdad1eb8, 0xbda75c28, 0xbda1999a,
            0xbd9bd70a, 0xbd96147b, 0xbd9051eb, 0xbd8a8f5d, 0xbd84cccd, 0xbd7e147a, 0xbd728f5d, 0xbd670a3d,
            0xbd5b851f, 0xbd500000, 0xbd447ae1, 0xbd38f5c3, 0xbd2d70a3, 0xbd21eb85, 0xbd166667, 0xbd0ae147,
            0xbcfeb852, 0xbce7ae13, 0xbcd0a3d7, 0xbcb9999a, 0xbca28f5c, 0xbc8b851f, 0xbc68f5c3, 0xbc3ae148,
            0xbc1f3b64, 0xbc160418, 0xbc0ccccd, 0xbc039581, 0xbbf4bc6a, 0xbbe24dd3, 0xbbcfdf3b, 0xbbbd70a4,
            0xbbab020d, 0xbb989374, 0xbb8624dd, 0xbb676c8a, 0xbb428f5c, 0xbb1db22d, 0xbaf1a9fc, 0xbaa7ef9d,
            0xba7765ff, 0xba59e83e, 0xba3c6a80, 0xba1eecc1, 0xba016f01, 0xb9c7e283, 0xb98ce705, 0xb923d70b,
            0xb8ba1f4b, 0xb88aefb3, 0xb8378034, 0xb7b24206, 0xb70205ff, 0xb65a1a94, 0xb513a3b7, 0x00000000,
            0x3513a3b7, 0x365a1a94, 0x370205ff, 0x37b24206, 0x38378034, 0x388aefb3, 0x38ba1f4b, 0x3923d70b,
            0x398ce705, 0x39c7e283, 0x3a016f01, 0x3a1eecc1, 0x3a3c6a80, 0x3a59e83e, 0x3a7765ff, 0x3aa7ef9d,
            0x3af1a9fc, 0x3b1db22d, 0x3b428f5c, 0x3b676c8a, 0x3b8624dd, 0x3b989374, 0x3bab020d, 0x3bbd70a4,
            0x3bcfdf3b, 0x3be24dd3, 0x3bf4bc6a, 0x3c039581, 0x3c0ccccd, 0x3c160418, 0x3c1f3b64, 0x3c3ae148,
            0x3c68f5c3, 0x3c8b851f, 0x3ca28f5c, 0x3cb9999a, 0x3cd0a3d7, 0x3ce7ae13, 0x3cfeb852, 0x3d0ae147,
            0x3d166667, 0x3d21eb85, 0x3d2d70a3, 0x3d38f5c3, 0x3d447ae1, 0x3d500000, 0x3d5b851f, 0x3d670a3d,
            0x3d728f5d, 0x3d7e147a, 0x3d84cccd, 0x3d8a8f5d, 0x3d9051eb, 0x3d96147b, 0x3d9bd70a, 0x3da1999a,
            0x3da75c28, 0x3dad1eb8, 0x3db2e148, 0x3db8a3d7, 0x3dbe6667, 0x3dc428f5, 0x3dc9eb85, 0x3ddb3334,
            0x3df80000, 0x3e0a6666, 0x3e18cccd, 0x3e273333, 0x3e359999, 0x3e440000, 0x3e526666, 0x3e60cccd,
            0x3e6f3334, 0x3e7d999a, 0x3e860000, 0x3e8d3334, 0x3e946666, 0x3e9b999a, 0x3ea2cccc, 0x3eaa0000,
            0x3eb13332, 0x3eb86666, 0x3ebf999a, 0x3ec6cccc, 0x3ece0000, 0x3ed53332, 0x3edc6666, 0x3ee3999a,
            0x3eeacccc, 0x3ef20000, 0x3ef93334, 0x3f003333, 0x3f03cccd, 0x3f076666, 0x3f0b0000, 0x3f0e999a,
            0x3f123334, 0x3f15cccd, 0x3f196666, 0x3f1d0000, 0x3f20999a, 0x3f243333, 0x3f27cccd, 0x3f2b6667,
            0x3f2f0000, 0x3f32999a, 0x3f363334, 0x3f39cccd, 0x3f3d6667, 0x3f410000, 0x3f44999a, 0x3f483333,
            0x3f4bcccc, 0x3f4f6666, 0x3f530000, 0x3f569999, 0x3f5a3333, 0x3f5dcccc, 0x3f616666, 0x3f650000,
            0x3f68999a, 0x3f6c3333, 0x3f6fcccc, 0x3f736666, 0x3f770000, 0x3f7a9999, 0x3f7e3333, 0x3f800000,    };

    private static final float[] VALUES = new float[256];
    /** Midpoints of neighbouring entries, in float32, the rounding thresholds of the nearest-entry search. */
    private static final float[] MIDPOINTS = new float[255];

    static {
        for (int i = 0; i < 256; i++) {
            VALUES[i] = Float.intBitsToFloat(BITS[i]);
        }
        for (int i = 0; i < 255; i++) {
            MIDPOINTS[i] = (VALUES[i] + VALUES[i + 1]) * 0.5f;
        }
    }

    private DynamicMap() {}

    /** A copy of the 256 values. */
    static float[] values() {
        return VALUES.clone();
    }

    /**
     * The index of the entry nearest to {@code x}, which is in [-1, 1]: the number of midpoints strictly below
     * {@code x}, as bitsandbytes' {@code torch.bucketize} on the midpoints (and its CUDA {@code dQuantize}
     * search) choose away from exact ties.
     */
    static int nearest(float x) {
        int lo = 0;
        int hi = MIDPOINTS.length;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (x > MIDPOINTS[mid]) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo;
    }
}
