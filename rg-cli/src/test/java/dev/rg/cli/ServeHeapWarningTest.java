package dev.rg.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Optional;
import org.junit.jupiter.api.Test;

/** {@code rg serve} warns when the state cache could take most of the heap. */
class ServeHeapWarningTest {
    @Test
    void warnsOnlyAboveHalfTheHeap() {
        long mb = 1L << 20;
        assertEquals(Optional.empty(), ServeCommand.heapWarning(256 * mb, 1024 * mb));
        assertEquals(Optional.empty(), ServeCommand.heapWarning(512 * mb, 1024 * mb));
        String w = ServeCommand.heapWarning(513 * mb, 1024 * mb).orElseThrow();
        assertTrue(w.contains("--state-cache-mb 513") && w.contains("(1024 MB)") && w.contains("RG_JAVA_OPTS=-Xmx"), w);
        assertEquals(Optional.empty(), ServeCommand.heapWarning(1L << 40, Long.MAX_VALUE), "no heap limit: nothing to warn about");
    }
}
