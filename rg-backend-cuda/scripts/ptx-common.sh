# Shared by gen-ptx.sh and check-ptx.sh (sourced, not run).
# The shipped PTX is compiled for the virtual architecture compute_80 and then declared as PTX ISA $PTX_ISA, the
# oldest ISA that holds every instruction the kernels use (ptxas checks this: it refuses an instruction newer than
# the declared ISA). A driver JIT-compiles PTX of any ISA it knows, so an older declared ISA lets older drivers
# (CUDA 11.0 = R450 and later) load the module; nvcc 13 itself would write ISA 9.0 (driver 580+).
set -euo pipefail
MODULE_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SRC_DIR="$MODULE_DIR/src/main/cuda"
PTX_RESOURCE="$MODULE_DIR/src/main/resources/dev/rg/backend/cuda/rg_kernels.ptx"
PTX_ISA=7.0
VIRTUAL_ARCH=compute_80
NVCC="${NVCC:-nvcc}"
PTXAS="${PTXAS:-ptxas}"

# compile_ptx OUT: nvcc -> PTX, then the declared ISA lowered to $PTX_ISA.
compile_ptx() {
    local out="$1" raw
    raw="$(mktemp --suffix=.ptx)"
    # no --use_fast_math: the kernels must keep IEEE division/sqrt and the accurate expf/tanhf/cosf.
    "$NVCC" -ptx -arch="$VIRTUAL_ARCH" -std=c++14 -O3 -I"$SRC_DIR" \
        -o "$raw" "$SRC_DIR/rg_kernels.cu"
    sed -E "s/^\.version [0-9]+\.[0-9]+\$/.version $PTX_ISA/" "$raw" > "$out"
    rm -f "$raw"
    grep -q "^\.version $PTX_ISA\$" "$out" || { echo "could not set the PTX ISA version in $out" >&2; exit 1; }
}
