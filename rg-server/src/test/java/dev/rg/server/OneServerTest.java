package dev.rg.server;

import com.openai.client.OpenAIClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * A test class that runs all its tests against one server on the embedded model with the default options, and one
 * OpenAI SDK client of it: started before the class's first test, closed after its last (test classes run one at a
 * time, so the static fields belong to the running class).
 */
abstract class OneServerTest {
    static RgServer server;
    static OpenAIClient client;

    @BeforeAll
    static void startServer() {
        server = TestServers.start(TestServers.options());
        client = TestServers.client(server);
    }

    @AfterAll
    static void stopServer() {
        client.close();
        server.close();
    }
}
