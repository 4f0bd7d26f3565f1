package dev.rg.core.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.rg.core.TestFiles;
import dev.rg.core.config.ConfigException;
import dev.rg.core.config.ConfigReader;
import dev.rg.core.generate.Session;
import dev.rg.core.model.LoadOptions;
import dev.rg.core.model.Model;
import dev.rg.core.safetensors.Checkpoint;
import dev.rg.core.safetensors.SafetensorsException;
import dev.rg.core.tokenizer.GemmaTokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Special files, links out of the model directory and a tokenizer that does not fit are refused at load. */
class ModelFilesTest {
    @TempDir
    Path tmp;

    private static final Path TINY = TestFiles.modelFixture("tiny-f32");

    private Path modelDir(String name) throws IOException {
        Path dir = Files.createDirectories(tmp.resolve(name));
        Files.copy(TINY.resolve("config.json"), dir.resolve("config.json"));
        return dir;
    }

    private static void mkfifo(Path p) throws IOException, InterruptedException {
        Process pr;
        try {
            pr = new ProcessBuilder("mkfifo", p.toString()).start();
        } catch (IOException e) {
            assumeTrue(false, "no mkfifo here");
            return;
        }
        assumeTrue(pr.waitFor() == 0, "mkfifo failed");
    }

    @Test
    void aFifoIsRefusedNotReadForever() throws Exception {
        Path dir = modelDir("fifo");
        mkfifo(dir.resolve("model.safetensors"));
        // the timeout only bounds the failure mode of the old code (a blocked open); the new code answers at once
        String m = assertTimeoutPreemptively(Duration.ofSeconds(30),
                () -> assertThrows(SafetensorsException.class, () -> Checkpoint.open(dir)).getMessage());
        assertEquals(dir.resolve("model.safetensors") + ": not a regular file (a named pipe)", m);
        Path cfg = tmp.resolve("cfg");
        Files.createDirectory(cfg);
        mkfifo(cfg.resolve("config.json"));
        m = assertTimeoutPreemptively(Duration.ofSeconds(30), () -> assertThrows(ConfigException.class, () -> ConfigReader.read(cfg)).getMessage());
        assertTrue(m.endsWith("not a regular file (a named pipe)"), m);
    }

    @Test
    void aShardLinkedOutsideTheDirectoryIsRefused() throws IOException {
        Path elsewhere = Files.createDirectories(tmp.resolve("elsewhere"));
        Files.copy(TINY.resolve("model.safetensors"), elsewhere.resolve("secret.safetensors"));
        Path dir = modelDir("linked");
        Files.createSymbolicLink(dir.resolve("model.safetensors"), elsewhere.resolve("secret.safetensors"));
        String m = assertThrows(SafetensorsException.class, () -> Checkpoint.open(dir)).getMessage();
        assertTrue(m.contains("outside the model directory"), m);
        // a link inside the directory is fine
        Path inside = modelDir("inside");
        Files.copy(TINY.resolve("model.safetensors"), inside.resolve("real.bin"));
        Files.createSymbolicLink(inside.resolve("model.safetensors"), inside.resolve("real.bin"));
        Checkpoint.open(inside).close();
    }

    @Test
    void theHuggingFaceCacheLayoutStillLoads() throws IOException {
        Path repo = tmp.resolve("hub/models--google--tiny");
        Path blobs = Files.createDirectories(repo.resolve("blobs"));
        Files.copy(TINY.resolve("model.safetensors"), blobs.resolve("3f2a9c"));
        Path snap = Files.createDirectories(repo.resolve("snapshots/0123abcd"));
        Files.copy(TINY.resolve("config.json"), snap.resolve("config.json"));
        Files.createSymbolicLink(snap.resolve("model.safetensors"), Path.of("../../blobs/3f2a9c"));
        Checkpoint.open(snap).close();
    }

    @Test
    void aTokenizerLargerThanTheVocabularyIsRefusedAtLoad() {
        Path austen = TestFiles.austen();
        GemmaTokenizer big = GemmaTokenizer.load(austen); // 4096 pieces
        try (Model m = Model.load(TINY, LoadOptions.defaults().withBackend("reference"))) {
            String msg = assertThrows(IllegalArgumentException.class, () -> new Session(m, big)).getMessage();
            assertTrue(msg.contains("the tokenizer has 4096 pieces but the model only " + m.config().vocabSize()), msg);
        }
    }
}
