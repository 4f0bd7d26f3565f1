#!/usr/bin/env bash
# Regenerates the PTX shipped in the jar (src/main/resources/dev/rg/backend/cuda/rg_kernels.ptx) from
# src/main/cuda with nvcc, and checks it with ptxas for sm_80 and sm_90. Run it after editing a kernel; commit the
# result. A build without nvcc uses the committed PTX unchanged.
source "$(dirname "${BASH_SOURCE[0]}")/ptx-common.sh"
compile_ptx "$PTX_RESOURCE"
for arch in sm_80 sm_90; do
    "$PTXAS" -arch="$arch" -o /dev/null "$PTX_RESOURCE"
done
echo "wrote $PTX_RESOURCE ($(grep -c '^\.visible \.entry' "$PTX_RESOURCE") kernels, PTX ISA $PTX_ISA, $VIRTUAL_ARCH)"
