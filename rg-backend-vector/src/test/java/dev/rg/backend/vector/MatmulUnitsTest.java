package dev.rg.backend.vector;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** How {@link Matmul} cuts a matrix's rows into units: whole tiles, and units that split evenly over the threads. */
class MatmulUnitsTest {
    @Test
    void unitsOfWholeTilesSplitEvenlyOverTheThreads() {
        // 2560 rows in 128-row tiles at two threads: the balanced 320 rounds up to 384 (7 units, 4 + 3); 256 gives 10 (5 + 5)
        assertEquals(256, Matmul.evenSplit(2560, 128, 1, 3, 2));
        // 7680 rows: 1024 (8 units, the last half full) and 896 (9) split worse than 768 (10)
        assertEquals(768, Matmul.evenSplit(7680, 128, 1, 8, 2));
        // already even: kept (on a tie the larger unit)
        assertEquals(320, Matmul.evenSplit(2560, 4, 1, 80, 2));
        assertEquals(512, Matmul.evenSplit(1024, 128, 1, 4, 2));
        // never below the least unit, nor below half the balanced one
        assertEquals(384, Matmul.evenSplit(2560, 128, 3, 3, 2));
        // 17 tiles: 5 + 5 on one thread, 5 + 2 on the other beats 8 + 8 + 1 and 4 x 4 + 1
        assertEquals(128 * 5, Matmul.evenSplit(128 * 17, 128, 1, 8, 2));
    }

    @Test
    void aMatmulOfPanelsSplitsEvenly() {
        try (WorkerPool pool = new WorkerPool(2, 0, "t")) {
            Matmul m = new Matmul(pool, 0);
            // bf16 panels (tiles of 128 rows): 2560 x 2560 bf16 decode, one activation row
            assertEquals(256, m.chunkRows(5120, 1, 2560, 128, 0));
            // a matrix smaller than one unit stays one unit
            assertEquals(100, m.chunkRows(5120, 1, 100, 128, 0));
        }
    }
}
