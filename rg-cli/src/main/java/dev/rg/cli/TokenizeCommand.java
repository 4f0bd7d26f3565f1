package dev.rg.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rg.core.tokenizer.GemmaTokenizer;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code rg tokenize}: text to ids with the model's tokenizer (no BOS). */
@Command(name = "tokenize", mixinStandardHelpOptions = true,
        description = "Encode text with the model's tokenizer (SentencePiece-exact, no BOS added). A directory holding only tokenizer files is enough.")
final class TokenizeCommand implements Callable<Integer> {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Option(names = {"-m", "--model"}, paramLabel = "DIR", description = "Directory with tokenizer.model or tokenizer.json (default: the embedded model).")
    Path model;

    @Option(names = "--json", description = "Print {\"ids\": [...], \"pieces\": [...]}.")
    boolean json;

    @Option(names = "--jsonl", description = "Batch mode: one JSON string per line on stdin, one JSON array of ids per line on stdout.")
    boolean jsonl;

    @Parameters(arity = "0..1", paramLabel = "TEXT", description = "The text (not with --jsonl).")
    String text;

    @Override
    public Integer call() throws IOException {
        GemmaTokenizer tok = GemmaTokenizer.load(model != null ? model : EmbeddedModel.dir());
        if (jsonl) {
            if (text != null) {
                throw new IllegalArgumentException("--jsonl reads stdin; do not also give TEXT");
            }
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            String line;
            int n = 0;
            while ((line = in.readLine()) != null) {
                n++;
                if (line.isBlank()) {
                    continue;
                }
                String s;
                try {
                    s = JSON.readValue(line, String.class);
                } catch (IOException e) {
                    throw new IllegalArgumentException("stdin line " + n + ": expected a JSON string, got: "
                            + (line.length() > 60 ? line.substring(0, 60) + "..." : line));
                }
                if (!Output.write(JSON.writeValueAsString(tok.encode(Prompts.cleanAllowEmpty(s))) + "\n")) {
                    return 0;
                }
            }
            return 0;
        }
        if (text == null) {
            throw new IllegalArgumentException("give TEXT to tokenize (or --jsonl for stdin)");
        }
        int[] ids = tok.encode(Prompts.cleanAllowEmpty(text));
        if (json) {
            ObjectNode o = JSON.createObjectNode();
            ArrayNode a = o.putArray("ids");
            ArrayNode p = o.putArray("pieces");
            for (int id : ids) {
                a.add(id);
                p.add(tok.piece(id));
            }
            Output.write(JSON.writeValueAsString(o) + "\n");
        } else {
            StringBuilder sb = new StringBuilder();
            for (int id : ids) {
                sb.append(sb.isEmpty() ? "" : " ").append(id);
            }
            Output.write(sb + "\n");
        }
        return 0;
    }
}
