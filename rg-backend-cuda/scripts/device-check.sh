#!/usr/bin/env bash
# The cuda backend's GPU check in one command, for a machine with an NVIDIA driver but no JDK or Maven: unpacks the
# runtime made by scripts/pack-runtime.sh, then runs the conformance kit, the embedded model, the benchmarks of
# issue 12 (2B bf16 decode at batch 1/8/16/64, prefill 128/1024, int8 and nf4 decode, 9B bf16 decode) and a
# per-kernel profile of one decode step with Nsight Compute when ncu is there. Prints one table at the end; logs
# and JSON go to $OUT (default ./device-check-out). About 5 minutes on an H200.
#   rg-backend-cuda/scripts/device-check.sh [.device/rg-runtime.tar.xz]
# Env: QUICK=1 skips the 9B model, NO_PROFILE=1 the ncu profile; RG_RUNTIME_DIR reuses an unpacked runtime.
set -uo pipefail
ARCHIVE="${1:-.device/rg-runtime.tar.xz}"
OUT="${OUT:-$PWD/device-check-out}"
mkdir -p "$OUT"
RT="${RG_RUNTIME_DIR:-/tmp/rg-device-check}"
# shellcheck source=../../scripts/device-runtime.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../scripts/device-runtime.sh"
unpack_runtime "$ARCHIVE" "$RT" rg-runtime

step "GPU"
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.mem --format=csv 2>&1 | tee "$OUT/gpu.txt"
step "backends"
"$RG" backends 2>&1 | tee "$OUT/backends.txt"

step "conformance kit on cuda"
if [ -d "$SHARED/fixtures" ]; then
  timeout 300 "$RG" check --backend cuda --fixtures "$SHARED" >"$OUT/check.txt" 2>&1; echo "check exit $?" | tee -a "$OUT/check.txt"
  tail -n 5 "$OUT/check.txt"
else
  echo "no fixtures packed: skipped" | tee "$OUT/check.txt"
fi

step "embedded model: cuda and vector must print the same greedy text"
for b in cuda vector; do
  "$RG" generate --backend "$b" --prompt "It is a truth universally acknowledged" -n 48 >"$OUT/generate-$b.txt" 2>"$OUT/generate-$b.err"
done
if cmp -s "$OUT/generate-cuda.txt" "$OUT/generate-vector.txt"; then echo "same text"; else echo "TEXT DIFFERS"; fi | tee "$OUT/generate-compare.txt"
tail -n 1 "$OUT/generate-cuda.err"

bench() { # name, args...
  local name="$1"; shift
  step "bench $name: $*"
  timeout 240 "$RG" bench --backend cuda --json "$@" >"$OUT/bench-$name.json" 2>"$OUT/bench-$name.err" || { echo "bench $name failed:"; tail -n 3 "$OUT/bench-$name.err"; }
}
bench 2b-bf16 --preset 2b -p 128,1024 -n 64 -b 1,8,16,64 -r 3
# the same decode with the decode step's layers and head replayed as recorded CUDA graphs (off by default until
# this run shows the same text and a faster step)
bench 2b-bf16-graphs --backend-option graphs=on --preset 2b -p 0 -n 64 -b 1,8,16,64 -r 3
"$RG" generate --backend cuda --backend-option graphs=on --prompt "It is a truth universally acknowledged" -n 48 >"$OUT/generate-cuda-graphs.txt" 2>"$OUT/generate-cuda-graphs.err"
if cmp -s "$OUT/generate-cuda-graphs.txt" "$OUT/generate-vector.txt"; then echo "graphs: same text"; else echo "graphs: TEXT DIFFERS"; tail -n 3 "$OUT/generate-cuda-graphs.err"; fi | tee "$OUT/generate-graphs-compare.txt"
# the residual adds and norms as launches of their own (240 per 2B step instead of 187): what the fusion gains
bench 2b-bf16-unfused-norms --backend-option fused-norms=off --preset 2b -p 0 -n 64 -b 1,8 -r 3
# a server iteration with a prompt arriving: 16 prompt tokens beside each decode step, one pass vs two (where a pass is
# bound by reading the weights, one pass should approach 2x)
bench 2b-bf16-beside-prefill --preset 2b -p 0 -n 32 -b 1,16 --beside-prefill 16 -r 3
# decode that samples from the top 40 (what chat and serve do) instead of argmax: the cost of rg_topk per step
bench 2b-bf16-topk40 --preset 2b -p 0 -n 64 -b 1,8 --top-k 40 -r 3
bench 2b-int8 --preset 2b --format int8 -p 128,1024 -n 64 -b 1,8 -r 3   # prefill: rg_matmul_mma_i8
bench 2b-nf4 --preset 2b --format nf4 -p 128,1024 -n 64 -b 1,8 -r 3    # prefill: rg_matmul_mma_q4
if [ -z "${QUICK:-}" ]; then
  bench 9b-bf16 --preset 9b -p 0 -n 32 -r 3
fi

if [ -z "${NO_PROFILE:-}" ] && command -v ncu >/dev/null; then
  step "per-kernel profile of bf16 decode steps (ncu)"
  # skip the warm-up and the first steps; profile exactly two decode steps' launches (a 2B step is 187 launches,
  # DecodeLaunchCountTest's formula), so each kernel's count below is twice its launches per step
  timeout 240 ncu --clock-control none --metrics gpu__time_duration.sum -k regex:rg_ --launch-skip 3000 --launch-count 374 \
      --csv "$RG" bench --backend cuda --preset 2b -p 0 -n 16 -r 1 >"$OUT/ncu.csv" 2>"$OUT/ncu.err" || tail -n 3 "$OUT/ncu.err"
fi

step "summary"
python3 - "$OUT" <<'PY'
import json, sys, os, csv, collections
out = sys.argv[1]
def load(name):
    p = os.path.join(out, f"bench-{name}.json")
    try:
        d = json.load(open(p))
        return d if isinstance(d, list) else [d]
    except Exception:
        return []
rows = []
for name in ["2b-bf16", "2b-bf16-graphs", "2b-bf16-unfused-norms", "2b-bf16-beside-prefill", "2b-bf16-topk40", "2b-int8",
             "2b-nf4", "9b-bf16"]:
    for o in load(name):
        if "decode_tokens_per_s_apart_min_median_max" in o:
            rows.append((name, f"b{o['batch']}+pp{o['beside_prefill_tokens']} shared", o["decode_tokens_per_s_min_median_max"], "", ""))
            rows.append((name, f"b{o['batch']}+pp{o['beside_prefill_tokens']} apart", o["decode_tokens_per_s_apart_min_median_max"],
                         f"shared/apart {o['shared_over_apart']:.2f}x", ""))
            continue
        if o["prompt_tokens"] > 0:
            rows.append((name, f"prefill {o['prompt_tokens']}", o["prefill_tokens_per_s_min_median_max"], "", ""))
        if o["gen_tokens"] > 0:
            rows.append((name, f"decode batch {o['batch']}", o["decode_tokens_per_s_min_median_max"],
                         f"{o['decode_weight_gb_per_s']:.0f} GB/s", f"{o['decode_percent_of_bandwidth']:.0f}% of {o['measured_read_gb_per_s']:.0f} GB/s"))
print(f"{'model':22} {'test':16} {'min':>9} {'median':>9} {'max':>9}  weights read")
for name, test, v, gbs, pct in rows:
    print(f"{name:22} {test:16} {v[0]:9.1f} {v[1]:9.1f} {v[2]:9.1f}  {gbs} {pct}")
p = os.path.join(out, "ncu.csv")
if os.path.exists(p):
    tot = collections.defaultdict(float); cnt = collections.Counter()
    lines = [l for l in open(p) if l.startswith('"')]
    for r in csv.DictReader(lines):
        if r.get("Metric Name") == "gpu__time_duration.sum":
            v = float(r["Metric Value"].replace(",", ""))
            unit = r.get("Metric Unit", "ns")
            v = v / 1000 if unit == "ns" else (v if unit == "us" else v * 1000)
            k = r["Kernel Name"].split("(")[0]
            tot[k] += v; cnt[k] += 1
    s = sum(tot.values())
    if s:
        print(f"\nncu: {sum(cnt.values())} kernels (two decode steps of 187 launches), {s:.0f} us of kernel time"
              f" = {s / 2:.0f} us per step")
        for k, v in sorted(tot.items(), key=lambda kv: -kv[1])[:14]:
            print(f"  {k:22} {cnt[k]:5d} launches {v:9.1f} us {100*v/s:5.1f}%  mean {v/cnt[k]:7.2f} us")
PY
