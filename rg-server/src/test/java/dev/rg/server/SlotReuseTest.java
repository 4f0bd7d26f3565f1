package dev.rg.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.models.completions.CompletionCreateParams;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * More concurrent greedy clients than batch slots, with random prompts and lengths: sequences leave the batch
 * from any slot and later ones are prefilled (in small chunks, between decode steps) into the freed slots, while
 * the others keep decoding. Every client gets exactly the text it gets alone.
 */
class SlotReuseTest {

    @Test
    void sequencesJoiningFreedSlotsGetExactlyTheirTextAlone() throws Exception {
        int slots = 3;
        int n = 12;
        RgServer server = TestServers.start(TestServers.options().withLimits(slots, 64).withStateCacheBytes(0).withPrefillChunk(8));
        try {
            OpenAIClient client = OpenAIOkHttpClient.builder().baseUrl(TestServers.base(server) + "/v1").apiKey("unused")
                    .maxRetries(0).build();
            List<CompletionCreateParams> requests = TestServers.randomGreedyRequests(new Random(2014), n, 14, 3);
            List<String> alone = new ArrayList<>();
            for (CompletionCreateParams r : requests) {
                alone.add(client.completions().create(r).choices().getFirst().text());
            }
            ExecutorService pool = Executors.newFixedThreadPool(n);
            try {
                CountDownLatch go = new CountDownLatch(1);
                List<Future<String>> fs = new ArrayList<>();
                for (CompletionCreateParams r : requests) {
                    fs.add(pool.submit(() -> {
                        go.await();
                        return client.completions().create(r).choices().getFirst().text();
                    }));
                }
                go.countDown();
                for (int i = 0; i < n; i++) {
                    assertEquals(alone.get(i), fs.get(i).get(2, TimeUnit.MINUTES), "client " + i);
                }
            } finally {
                pool.shutdownNow();
            }
            double maxBatch = TestServers.metric(TestServers.metrics(server), "rg_batch_size_max");
            assertTrue(maxBatch >= 2 && maxBatch <= slots, "sequences shared the " + slots + " slots; largest batch " + maxBatch);
        } finally {
            server.close();
        }
    }
}
