#!/usr/bin/env bash
# How a /v1/batches batch and an interactive client share `rg serve`: starts a fresh server, measures one client with
# `rg bench-serve` alone, then starts a batch of greedy completions and measures the same client beside it, and prints
# the batch's own progress. Usage: scripts/bench-batch-beside-clients.sh [rg serve options, e.g. --batch-sequences 16]
# Environment: PORT (default 18090), REQUESTS in the batch (default 2000), TOKENS per request (default 64).
set -euo pipefail
RG_HOME="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PORT="${PORT:-18090}"
REQUESTS="${REQUESTS:-2000}"
TOKENS="${TOKENS:-64}"
URL="http://127.0.0.1:$PORT"
WORK="$(mktemp -d)"
trap 'kill "${SERVER:-}" 2>/dev/null || true; rm -rf "$WORK"' EXIT

python3 - "$WORK/batch.jsonl" "$REQUESTS" "$TOKENS" <<'PY'
import json, random, sys
random.seed(7)
words = "Elizabeth Darcy the house said was a fine morning Mr. Bennet sister letter Netherfield walk ball her mother and of".split()
with open(sys.argv[1], "w") as f:
    for i in range(int(sys.argv[2])):
        prompt = " ".join(random.choice(words) for _ in range(random.randint(6, 16)))
        body = {"model": "any", "prompt": prompt, "max_tokens": int(sys.argv[3]), "temperature": 0, "ignore_eos": True}
        f.write(json.dumps({"custom_id": f"r{i}", "method": "POST", "url": "/v1/completions", "body": body}) + "\n")
PY

"$RG_HOME/rg" serve --port "$PORT" "$@" >"$WORK/serve.log" 2>&1 &
SERVER=$!
for _ in $(seq 600); do curl -sf "$URL/health" >/dev/null && break; sleep 1; done
curl -sf "$URL/health" >/dev/null || { echo "the server did not start:"; cat "$WORK/serve.log"; exit 1; }

client() {
  "$RG_HOME/rg" bench-serve --url "$URL" --clients 1 --requests 16 --prompt-tokens 16 --max-tokens "$TOKENS" --json 2>/dev/null \
    | python3 -c 'import json,sys; d=json.load(sys.stdin); print("  output tok/s %.0f, TTFT p50 %.0f ms p95 %.0f ms, inter-token p50 %.2f ms p99 %.2f ms" % (d["output_tokens_per_second"], d["ttft_ms"]["p50"], d["ttft_ms"]["p95"], d["inter_token_latency_ms"]["p50"], d["inter_token_latency_ms"]["p99"]))'
}
echo "one client alone:"; client
FILE=$(curl -sf -F purpose=batch -F file=@"$WORK/batch.jsonl" "$URL/v1/files" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
BATCH=$(curl -sf -H 'Content-Type: application/json' \
  -d "{\"input_file_id\": \"$FILE\", \"endpoint\": \"/v1/completions\", \"completion_window\": \"24h\"}" "$URL/v1/batches" \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
sleep 5
echo "the same client beside the batch:"; client
curl -sf "$URL/v1/batches/$BATCH" | python3 -c 'import json,sys,time
b = json.load(sys.stdin); s = max(1, int(time.time()) - b["in_progress_at"])
print("batch: %s, %d of %d requests, %d output tokens in %d s = %.0f tok/s" % (b["status"], b["request_counts"]["completed"], b["request_counts"]["total"], b["usage"]["output_tokens"], s, b["usage"]["output_tokens"] / s))'
