#!/usr/bin/env bash
# Compiles every kernel with nvcc to PTX and assembles it with ptxas for sm_80 (A100) and sm_90 (H100), with
# resource usage (-v); then checks that the PTX shipped in the jar is what these sources compile to (when this nvcc
# is the one that wrote it) and that the shipped PTX itself assembles for both targets.
# Exit status 0 only if all of that holds. Needs nvcc and ptxas on PATH (or NVCC / PTXAS set); no GPU.
source "$(dirname "${BASH_SOURCE[0]}")/ptx-common.sh"
command -v "$NVCC" >/dev/null || { echo "nvcc not found" >&2; exit 2; }
command -v "$PTXAS" >/dev/null || { echo "ptxas not found" >&2; exit 2; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
fresh="$work/rg_kernels.ptx"
compile_ptx "$fresh"
kernels=$(grep -c '^\.visible \.entry' "$fresh")
echo "nvcc: $("$NVCC" --version | tail -1)"
echo "compiled $kernels kernels to PTX ISA $PTX_ISA for $VIRTUAL_ARCH"
for arch in sm_80 sm_90; do
    "$PTXAS" -arch="$arch" -v -Werror -o "$work/rg_$arch.cubin" "$fresh" 2> "$work/ptxas_$arch.log" || {
        cat "$work/ptxas_$arch.log" >&2; echo "ptxas -arch=$arch failed" >&2; exit 1; }
    entries=$(grep -c "Compiling entry function" "$work/ptxas_$arch.log")
    spills=$(grep -Eo "[0-9]+ bytes spill stores" "$work/ptxas_$arch.log" | awk '{s+=$1} END {print s+0}')
    echo "ptxas -arch=$arch: $entries kernels assembled, $spills bytes of spill stores"
    [ "$entries" -eq "$kernels" ] || { echo "ptxas assembled $entries of $kernels kernels" >&2; exit 1; }
done
if [ ! -f "$PTX_RESOURCE" ]; then
    echo "the shipped PTX $PTX_RESOURCE is missing: run scripts/gen-ptx.sh" >&2; exit 1
fi
for arch in sm_80 sm_90; do
    "$PTXAS" -arch="$arch" -o /dev/null "$PTX_RESOURCE" || { echo "shipped PTX does not assemble for $arch" >&2; exit 1; }
done
shipped_by=$(grep -m1 "Cuda compilation tools" "$PTX_RESOURCE" || true)
this_nvcc=$(grep -m1 "Cuda compilation tools" "$fresh" || true)
if [ "$shipped_by" = "$this_nvcc" ]; then
    if ! cmp -s "$fresh" "$PTX_RESOURCE"; then
        diff "$PTX_RESOURCE" "$fresh" | head -20 >&2
        echo "the shipped PTX is stale: the sources compile to something else; run scripts/gen-ptx.sh" >&2
        exit 1
    fi
    echo "shipped PTX is up to date with the sources"
else
    echo "shipped PTX was written by another nvcc (${shipped_by#// }); compared only by assembling it"
fi
echo "OK"
