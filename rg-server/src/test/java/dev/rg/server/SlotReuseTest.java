package dev.rg.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.models.completions.Completion;
import com.openai.models.completions.CompletionCreateParams;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
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
            List<Completion> alone = new ArrayList<>();
            for (CompletionCreateParams r : requests) {
                alone.add(client.completions().create(r));
            }
            TestServers.sendAtOnceAndCompare(client, requests, alone, "slots " + slots);
            double maxBatch = TestServers.metric(TestServers.metrics(server), "rg_batch_size_max");
            assertTrue(maxBatch >= 2 && maxBatch <= slots, "sequences shared the " + slots + " slots; largest batch " + maxBatch);
        } finally {
            server.close();
        }
    }
}
