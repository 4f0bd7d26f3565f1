#!/usr/bin/env bash
# The tornado backend's GPU check in one command, for a machine with a GPU driver but no JDK, Maven or TornadoVM:
# unpacks the runtime made by rg-backend-tornado/scripts/pack-runtime.sh to /tmp (and its data archive, when it lies
# next to the runtime), then on each TornadoVM driver the SDK has (OpenCL, and PTX where the NVIDIA driver is present)
# runs the conformance kit and the embedded model (its greedy text must equal the vector backend's) -- both need the
# data archive -- and `rg bench --preset 2b` (bf16 decode and prefill), and prints one table. Logs and JSON go to
# $OUT (default ./tornado-device-check-out).
#   rg-backend-tornado/scripts/device-check.sh [.device/rg-tornado-runtime.tar.xz [DATA_ARCHIVE]]
#   (DATA_ARCHIVE default: rg-tornado-data.tar.xz next to the runtime archive; absent: kit and text are skipped)
# Env: QUICK=1 runs the bench with fewer tokens; PRESET=tiny benchmarks the tiny preset instead of 2b (for a dry run
# on a CPU through PoCL); RG_RUNTIME_DIR reuses an unpacked runtime; DRIVERS="opencl ptx"
# limits the drivers tried.
set -uo pipefail
ARCHIVE="${1:-.device/rg-tornado-runtime.tar.xz}"
OUT="${OUT:-$PWD/tornado-device-check-out}"
mkdir -p "$OUT"
RT="${RG_RUNTIME_DIR:-/tmp/rg-tornado-device-check}"
# shellcheck source=../../scripts/device-runtime.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../scripts/device-runtime.sh"
DATA_ARCHIVE="${2:-$(dirname "$ARCHIVE")/rg-tornado-data.tar.xz}"
unpack_runtime "$ARCHIVE" "$RT" rg-tornado-runtime
# the data archive unpacks into the same folder (models/, shared/fixtures/)
if [ ! -d "$RT/rg-tornado-runtime/models" ] && [ -f "$DATA_ARCHIVE" ]; then
  tar -xJf "$DATA_ARCHIVE" -C "$RT" 2>/dev/null \
    || python3 -c "import sys, tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2])" "$DATA_ARCHIVE" "$RT" 2>/dev/null \
    || { echo "device-check: cannot unpack $DATA_ARCHIVE" >&2; exit 2; }
fi
HAVE_MODEL=""; [ -d "$RT/rg-tornado-runtime/models" ] && HAVE_MODEL=1
[ -n "$HAVE_MODEL" ] || echo "device-check: no data archive ($DATA_ARCHIVE): the kit and the greedy-text check are skipped"

step "devices"
(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv 2>/dev/null || echo "no nvidia-smi") | tee "$OUT/gpu.txt"
(clinfo -l 2>/dev/null || echo "no clinfo") | tee -a "$OUT/gpu.txt"
"$RG" backends 2>&1 | tee "$OUT/backends.txt"

# TornadoVM numbers its drivers in the order it loads them: take each driver's first GPU (else first device)
"$RG" tornado-devices 2>&1 | tee "$OUT/tornado-devices.txt"
DEVICES="$(sed -n 's/^tornado device \([0-9]*:[0-9]*\) \([A-Za-z]*\) GPU .*/\2=\1/p' "$OUT/tornado-devices.txt" | tr a-z A-Z)"
[ -n "$DEVICES" ] || DEVICES="$(sed -n 's/^tornado device \([0-9]*:[0-9]*\) \([A-Za-z]*\) .*/\2=\1/p' "$OUT/tornado-devices.txt" | tr a-z A-Z)"
echo "$DEVICES" | tee "$OUT/devices.txt"
if [ -z "$DEVICES" ]; then
  # TornadoVM listed no device: run on its default device only (the runs will say why they fail)
  DEVICES="DEFAULT="
fi

summary=()
for d in ${DRIVERS:-opencl ptx}; do
  D="$(echo "$d" | tr a-z A-Z)"
  dev="$(echo "$DEVICES" | sed -n "s/^$D=//p" | head -n1)"
  if [ "$DEVICES" = "DEFAULT=" ]; then
    [ "$d" = opencl ] || continue
    dev=""
  elif [ -z "$dev" ]; then
    echo "no $d device: skipped" | tee "$OUT/$d-skipped.txt"; summary+=("$d: no device"); continue
  fi
  opts="${dev:+-Drg.tornado.device=$dev}"
  step "$d (${dev:-default device}): conformance kit"
  if [ -d "$SHARED/fixtures" ]; then
    RG_JAVA_OPTS="$opts" timeout 900 "$RG" check --backend tornado --fixtures "$SHARED" >"$OUT/check-$d.txt" 2>&1
    echo "check exit $?" | tee -a "$OUT/check-$d.txt"; tail -n 3 "$OUT/check-$d.txt"
  else
    echo "no fixtures (data archive): skipped" | tee "$OUT/check-$d.txt"
  fi
  step "$d: embedded model, same greedy text as vector"
  if [ -n "$HAVE_MODEL" ]; then
    RG_JAVA_OPTS="$opts" "$RG" generate --backend tornado --prompt "It is a truth universally acknowledged" -n 48 \
        >"$OUT/generate-$d.txt" 2>"$OUT/generate-$d.err"
    "$RG" generate --backend vector --prompt "It is a truth universally acknowledged" -n 48 >"$OUT/generate-vector.txt" 2>/dev/null
    if cmp -s "$OUT/generate-$d.txt" "$OUT/generate-vector.txt"; then echo "same text"; else echo "TEXT DIFFERS"; fi \
        | tee "$OUT/generate-$d-compare.txt"
  else
    echo "no model: skipped" | tee "$OUT/generate-$d-compare.txt"
  fi
  step "$d: rg bench --preset ${PRESET:-2b}"
  n=64; [ -n "${QUICK:-}" ] && n=16
  RG_JAVA_OPTS="$opts -Drg.tornado.stats=true" timeout 900 "$RG" bench --backend tornado --preset "${PRESET:-2b}" -p 128 -n "$n" -r 3 --json \
      >"$OUT/bench-$d.json" 2>"$OUT/bench-$d.err" || { echo "bench failed:"; tail -n 3 "$OUT/bench-$d.err"; }
  grep "tornado stats" "$OUT/bench-$d.err" || true
  summary+=("$d: kit $(grep -h "passed\|skipped" "$OUT/check-$d.txt" 2>/dev/null | tail -n 1), $(cat "$OUT/generate-$d-compare.txt")")
done

step "summary"
printf '%s\n' "${summary[@]}"
python3 - "$OUT" <<'PY'
import json, sys, os
out = sys.argv[1]
print(f"{'driver':8} {'test':12} {'min':>9} {'median':>9} {'max':>9}  tokens/s")
for d in ["opencl", "ptx"]:
    p = os.path.join(out, f"bench-{d}.json")
    try:
        o = json.load(open(p))
    except Exception:
        continue
    for o in (o if isinstance(o, list) else [o]):
        if o.get("prompt_tokens", 0) > 0:
            v = o["prefill_tokens_per_s_min_median_max"]; print(f"{d:8} {'prefill ' + str(o['prompt_tokens']):12} {v[0]:9.1f} {v[1]:9.1f} {v[2]:9.1f}")
        if o.get("gen_tokens", 0) > 0:
            v = o["decode_tokens_per_s_min_median_max"]; print(f"{d:8} {'decode':12} {v[0]:9.1f} {v[1]:9.1f} {v[2]:9.1f}")
PY
