package dev.rg.backend.cuda.device;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.MemorySegment;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The launcher's groups on a host launcher (no GPU API): what is held, recorded, replayed or enqueued eagerly. The
 * model-level check (replayed logits bitwise equal to eager ones) is {@code GraphReplayTest}.
 */
class GroupRecordingTest {
    private final HostLauncher l = new HostLauncher();
    private final Random random = new Random(20261205);
    private final DeviceBuffer a = l.allocate(4096);
    private final DeviceBuffer b = l.allocate(4096);

    @AfterEach
    void close() {
        l.close();
    }

    /** Three fills with random values: a group of three launches. */
    private void group(float[] values) {
        l.beginGroup();
        l.launch(Kernel.FILL, new Launch(1, 1, 256), new Span(a, 4096), 1024L, values[0]);
        l.launch(Kernel.FILL, new Launch(2, 1, 256), new Span(b, 4096), 512L, values[1]);
        l.launch(Kernel.FILL, new Launch(1, 1, 256), new Span(a, 4096), 256L, values[2]);
        l.endGroup();
    }

    private float[] values() {
        return new float[] {random.nextFloat(), random.nextFloat(), random.nextFloat()};
    }

    @Test
    void withoutGraphsAGroupIsItsLaunches() {
        float[] v = values();
        for (int i = 0; i < 3; i++) {
            long before = l.submissions();
            group(v);
            assertEquals(3, l.submissions() - before);
        }
        assertEquals(0, l.graphLaunches());
        assertEquals(9, l.launches.size());
    }

    @Test
    void aListSeenTwiceIsRecordedAndThenReplayedAsOneSubmission() {
        l.useGraphs(true);
        float[] v = values();
        long[] cost = new long[4];
        for (int i = 0; i < cost.length; i++) {
            long before = l.submissions();
            group(v);
            cost[i] = l.submissions() - before;
        }
        assertEquals(3, cost[0], "first sight: eager");
        assertEquals(1, cost[1], "second sight: recorded and launched as one graph");
        assertEquals(1, cost[2]);
        assertEquals(1, cost[3]);
        assertEquals(3, l.graphLaunches());
        assertEquals(1, l.recordedGraphs());
        // the host launcher's "graph" launches the recorded list: every time the same three launches, in order
        assertEquals(12, l.launches.size());
        for (int i = 0; i < 12; i++) {
            assertEquals(l.launches.get(i % 3).kernel(), l.launches.get(i).kernel());
            assertEquals(l.launches.get(i % 3).geometry(), l.launches.get(i).geometry());
            assertEquals(java.util.Arrays.toString(l.launches.get(i % 3).values()),
                    java.util.Arrays.toString(l.launches.get(i).values()));
        }
    }

    @Test
    void aScalarThatChangesMakesANewList() {
        l.useGraphs(true);
        for (int i = 0; i < 4; i++) {
            long before = l.submissions();
            group(values());
            assertEquals(3, l.submissions() - before, "step " + i);
        }
        assertEquals(0, l.graphLaunches());
    }

    @Test
    void aHostTransferAfterALaunchEnqueuesWhatIsHeldAndTheGroupIsNotRecorded() {
        l.useGraphs(true);
        for (int i = 0; i < 3; i++) {
            int launched = l.launches.size();
            l.beginGroup();
            l.launch(Kernel.FILL, new Launch(1, 1, 256), new Span(a, 4096), 1024L, 0.25f);
            assertEquals(launched, l.launches.size(), "held");
            l.write(MemorySegment.ofArray(new float[] {random.nextFloat()}), b, 0);
            assertEquals(launched + 1, l.launches.size(), "enqueued before the write");
            l.launch(Kernel.FILL, new Launch(1, 1, 256), new Span(b, 4096), 1024L, 0.5f);
            l.endGroup();
            assertEquals(launched + 2, l.launches.size());
        }
        assertEquals(0, l.graphLaunches());
    }

    @Test
    void aHostTransferBeforeTheFirstLaunchLeavesTheGroupWhole() {
        l.useGraphs(true);
        float[] v = values();
        for (int i = 0; i < 3; i++) {
            l.beginGroup();
            l.write(MemorySegment.ofArray(new float[] {random.nextFloat()}), b, 0);
            l.launch(Kernel.FILL, new Launch(1, 1, 256), new Span(a, 4096), 1024L, v[0]);
            l.endGroup();
        }
        assertEquals(2, l.graphLaunches());
    }

    @Test
    void anAbandonedGroupEnqueuesWhatItHeld() {
        l.useGraphs(true);
        l.beginGroup();
        l.launch(Kernel.FILL, new Launch(1, 1, 256), new Span(a, 4096), 1024L, 0.75f);
        l.abandonGroup();
        assertEquals(1, l.launches.size());
        l.endGroup(); // nothing held any more
        assertEquals(1, l.launches.size());
        assertEquals(0, l.graphLaunches());
    }

    @Test
    void turningGraphsOffDropsTheRecordedOnes() {
        l.useGraphs(true);
        float[] v = values();
        group(v);
        group(v);
        assertEquals(1, l.recordedGraphs());
        l.useGraphs(false);
        assertEquals(0, l.recordedGraphs());
        long before = l.submissions();
        group(v);
        assertEquals(3, l.submissions() - before);
    }
}
