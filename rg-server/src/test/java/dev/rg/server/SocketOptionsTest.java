package dev.rg.server;

import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * Connections run with Nagle's algorithm off. Helidon leaves it on, and then each streamed token, a small write,
 * waited for the client's delayed ACK of the previous one: one client's time to first token was 47 ms (p50, `rg
 * bench-serve --clients 1 --requests 300 --prompt-tokens 16 --max-tokens 64`), 6.8 ms with it off.
 */
class SocketOptionsTest extends OneServerTest {
    @Test
    void streamedTokensDoNotWaitForAcknowledgements() {
        assertTrue(server.sendsSmallWritesAtOnce(), "TCP_NODELAY on the server's connections");
    }
}
