package dev.rg.cli;

import dev.rg.core.io.AtomicFiles;
import dev.rg.core.model.Model;
import dev.rg.core.model.ModelState;
import dev.rg.core.model.Outputs;
import dev.rg.core.model.SavedState;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * What resuming a saved conversation costs ({@code rg chat --session}, {@code --prompt-cache}, {@code rg serve
 * --state-cache-dir}) next to the prefill it replaces: the state after a prompt of {@code p} random tokens is written
 * to a temporary file and read back into a fresh state, repeatedly. The read comes from the page cache (the file was
 * just written), as when a conversation resumes soon after it was saved; from a cold disk it is bound by the disk.
 */
final class ResumeBenchmark {
    /** Save and restore times in milliseconds, and the file's size. */
    record Result(EndToEndBenchmark.Stats saveMs, EndToEndBenchmark.Stats restoreMs, long fileBytes) {}

    private ResumeBenchmark() {}

    static Result run(Model model, int prompt, int repetitions) {
        int[] ids = EndToEndBenchmark.randomPrompt(model, prompt, new SplittableRandom(99));
        Path dir;
        try {
            dir = Files.createTempDirectory("rg-resume-bench");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a temporary directory for the resume benchmark: " + e.getMessage(), e);
        }
        try (ModelState state = model.newState(1)) {
            model.griffin().forward(state, ids, prompt, Outputs.LAST);
            Path file = dir.resolve("state.rgstate");
            model.identity(); // computed once per model (it samples a checkpoint's tensors), not per save
            double[] save = new double[repetitions + 1];
            double[] restore = new double[repetitions + 1];
            // one unmeasured round first: JIT compilation
            for (int r = 0; r <= repetitions; r++) {
                long t0 = System.nanoTime();
                SavedState.write(file, model, state, 0, ids, -1, null, Map.of());
                save[r] = (System.nanoTime() - t0) / 1e6;
                try (ModelState resumed = model.newState(1)) {
                    long t1 = System.nanoTime();
                    SavedState.read(file, model).restoreInto(model, resumed, 0);
                    restore[r] = (System.nanoTime() - t1) / 1e6;
                }
            }
            long bytes = Files.size(file);
            return new Result(EndToEndBenchmark.Stats.of(Arrays.copyOfRange(save, 1, save.length)),
                    EndToEndBenchmark.Stats.of(Arrays.copyOfRange(restore, 1, restore.length)), bytes);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            AtomicFiles.deleteTree(dir);
        }
    }
}
