package dev.rg.core.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.rg.core.TestFiles;
import dev.rg.core.model.LoadOptions;
import dev.rg.core.model.Model;
import dev.rg.core.tokenizer.ChatTemplate;
import dev.rg.core.tokenizer.GemmaTokenizer;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

class ConcurrencyAndChatTest {
    private static final GenerationConfig CFG = new GenerationConfig(16, SamplingParams.greedy(), List.of(), Set.of(), false);

    @Test
    void sessionsOnSeveralThreadsShareOneModel() throws Exception {
        try (Model m = Model.load(TestFiles.austen(), LoadOptions.defaults().withBackend("reference"))) {
            GemmaTokenizer tok = GemmaTokenizer.load(TestFiles.austen());
            String[] prompts = {"The", "Once upon a time", "In the beginning", "My dear"};
            int[][] alone = new int[prompts.length][];
            for (int i = 0; i < prompts.length; i++) {
                try (Session s = new Session(m, tok)) {
                    alone[i] = s.generate(prompts[i], CFG, TextSink.NONE).tokens();
                }
            }
            ExecutorService pool = Executors.newFixedThreadPool(4);
            try {
                List<Future<int[]>> fs = new ArrayList<>();
                for (int rep = 0; rep < 2; rep++) {
                    for (String p : prompts) {
                        fs.add(pool.submit(() -> {
                            try (Session s = new Session(m, tok)) {
                                return s.generate(p, CFG, TextSink.NONE).tokens();
                            }
                        }));
                    }
                }
                for (int i = 0; i < fs.size(); i++) {
                    assertArrayEquals(alone[i % prompts.length], fs.get(i).get(), "thread result " + i);
                }
            } finally {
                pool.shutdown();
            }
        }
    }

    @Test
    void chatCarriesStateInsteadOfReencoding() {
        try (Model m = Model.load(TestFiles.austen(), LoadOptions.defaults().withBackend("reference"))) {
            GemmaTokenizer tok = GemmaTokenizer.load(TestFiles.austen());
            GenerationConfig cfg = new GenerationConfig(12, SamplingParams.greedy(), List.of(), Set.of(), true);
            GenerationResult first;
            GenerationResult second;
            try (Chat chat = new Chat(m, tok)) {
                first = chat.send("Tell me about Emma.", cfg, TextSink.NONE);
                second = chat.send("And Mr. Knightley?", cfg, TextSink.NONE);
            }
            // the same conversation fed from scratch as ids must give the same second reply
            ChatTemplate t = new ChatTemplate(tok);
            int[] firstPrompt = t.encode(List.of(ChatTemplate.Message.user("Tell me about Emma.")), true);
            boolean ended = first.tokens()[first.tokens().length - 1] == t.endOfTurnId();
            int[] next = t.encodeNextUserTurn("And Mr. Knightley?", ended);
            // the reply's tokens include its closing <end_of_turn> when the model ended the turn
            int[] all = concat(firstPrompt, first.tokens(), next);
            try (Session s = new Session(m, tok)) {
                s.feed(all);
                assertArrayEquals(second.tokens(), s.generate(cfg, TextSink.NONE).tokens());
            }
            assertEquals(firstPrompt.length, first.promptTokens());
        }
    }

    private static int[] concat(int[]... parts) {
        int n = 0;
        for (int[] p : parts) {
            n += p.length;
        }
        int[] out = new int[n];
        int at = 0;
        for (int[] p : parts) {
            System.arraycopy(p, 0, out, at, p.length);
            at += p.length;
        }
        return out;
    }
}
