package dev.rg.core.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;

import dev.rg.core.config.ModelConfig;
import dev.rg.core.reference.ReferenceBackend;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The LM head's buffers: kept for the few batch sizes a server's batch moves among, never for a big prompt's logits. */
class WorkspacesTest {
    @Test
    void headBuffersOfTheLastThreeBatchSizesAreKept() {
        try (ReferenceBackend b = new ReferenceBackend(); Workspaces w = new Workspaces(b, ModelConfig.presetTiny())) {
            Workspaces.HeadBuffers four = w.head(4);
            w.head(2);
            assertSame(four, w.head(4), "batch 4 again: the same buffers (a device keeps their addresses)");
            assertEquals(List.of(4, 2), w.headRows());
            w.head(1);
            w.head(3);
            assertEquals(List.of(3, 1, 4), w.headRows(), "the least recently used (2) made room");
            assertSame(four, w.head(4));
            assertEquals(List.of(4, 3, 1), w.headRows());
        }
    }

    @Test
    void aLargeHeadSetIsDroppedWhenAFarSmallerOneIsInUse() {
        try (ReferenceBackend b = new ReferenceBackend(); Workspaces w = new Workspaces(b, ModelConfig.presetTiny())) {
            w.head(4);
            w.head(2);
            Workspaces.HeadBuffers all = w.head(256);
            assertEquals(List.of(256, 2, 4), w.headRows(), "small sets may stay beside a prompt's every-token logits");
            assertSame(all, w.head(256));
            Workspaces.HeadBuffers two = w.head(2);
            assertEquals(List.of(2, 4), w.headRows(), "256 rows are far above 2: dropped at once");
            assertNotSame(all, two);
        }
    }

    @Test
    void aServersDecodeBatchAndItsSharedPassesKeepEachOther() {
        try (ReferenceBackend b = new ReferenceBackend(); Workspaces w = new Workspaces(b, ModelConfig.presetTiny())) {
            Workspaces.HeadBuffers decode = w.head(64);
            Workspaces.HeadBuffers shared = w.head(64 + 20);
            for (int i = 0; i < 3; i++) {
                assertSame(decode, w.head(64), "decode step " + i);
                assertSame(shared, w.head(84), "shared pass " + i);
            }
            assertEquals(List.of(84, 64), w.headRows());
            w.head(4);
            assertEquals(List.of(4), w.headRows(), "a batch of 4 keeps at most " + Workspaces.headRowsKeptBeside(4) + " rows beside");
            assertEquals(24, Workspaces.headRowsKeptBeside(4));
        }
    }
}
