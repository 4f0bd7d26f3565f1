package dev.rg.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * Runs {@code scripts/check-ptx.sh}: every kernel compiled with nvcc and assembled by ptxas for sm_80 and sm_90,
 * and the shipped PTX checked against the sources. Skipped (with the reason) where nvcc is not on the PATH.
 */
class CudaPtxToolchainTest {
    static boolean onPath(String tool) {
        String path = System.getenv("PATH");
        if (path == null) {
            return false;
        }
        for (String dir : path.split(File.pathSeparator)) {
            if (Files.isExecutable(Path.of(dir, tool))) {
                return true;
            }
        }
        return false;
    }

    @Test
    void kernelsCompileAndAssembleForSm80AndSm90() throws Exception {
        Assumptions.assumeTrue(onPath("nvcc") && onPath("ptxas"),
                "skipped: nvcc/ptxas not on the PATH (the CUDA toolkit is needed to recompile the kernels; the jar ships"
                        + " the committed PTX)");
        Path script = Path.of("scripts/check-ptx.sh").toAbsolutePath();
        assertTrue(Files.isExecutable(script), script + " missing");
        Process p = new ProcessBuilder("bash", script.toString()).redirectErrorStream(true).start();
        boolean done = p.waitFor(5, TimeUnit.MINUTES);
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        System.out.println(out);
        assertTrue(done, "check-ptx.sh timed out");
        assertEquals(0, p.exitValue(), out);
        assertTrue(out.contains("ptxas -arch=sm_80: ") && out.contains("ptxas -arch=sm_90: ") && out.strip().endsWith("OK"), out);
    }
}
