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
    void aLargeHeadSetIsKeptOnlyUntilAnotherRowCountIsAskedFor() {
        try (ReferenceBackend b = new ReferenceBackend(); Workspaces w = new Workspaces(b, ModelConfig.presetTiny())) {
            w.head(4);
            w.head(2);
            int large = Workspaces.HEAD_KEPT_ROWS + 1;
            Workspaces.HeadBuffers all = w.head(large);
            assertEquals(List.of(large), w.headRows(), "a prompt's every-token logits stand alone");
            assertSame(all, w.head(large));
            Workspaces.HeadBuffers two = w.head(2);
            assertEquals(List.of(2), w.headRows());
            assertNotSame(all, two);
        }
    }
}
