#!/usr/bin/env bash
# Compile check of salbox's CUDA sources (csrc/**/*.cu) with nvcc, where nvcc exists.
#
# The machine's torch may be a CPU build, so the .cu files are compiled to objects only (-c, in
# a temporary directory): nothing is linked or run. Include paths are torch's
# (torch.utils.cpp_extension.include_paths()), csrc/ and the Python headers; the flags are
# torch's own nvcc flags (COMMON_NVCC_FLAGS) with -std=c++20 as torch 2.13's extensions use.
# CPU wheels of torch ship the ATen/c10 CUDA headers but not the CMake-generated
# c10/cuda/impl/cuda_cmake_macros.h, so -DC10_CUDA_NO_CMAKE_CONFIGURE_FILE skips that one
# generated file (torch's documented switch; it only defines an export macro). The .cu files
# include only c10/cuda headers, not ATen/cuda/CUDAContext.h, which needs cuSPARSE/cuBLAS
# headers that a minimal toolkit lacks.
#
# Exit 0 with "skipped: no nvcc" where nvcc is absent; non-zero when a file does not compile.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
NVCC="${NVCC:-$(command -v nvcc || true)}"
if [[ -z "${NVCC}" ]]; then
  echo "check_nvcc: skipped: no nvcc"
  exit 0
fi
PYTHON="${PYTHON:-python}"

mapfile -t SOURCES < <(cd "${ROOT}" && find csrc -name '*.cu' | sort)
if [[ ${#SOURCES[@]} -eq 0 ]]; then
  echo "check_nvcc: no .cu files under csrc/"
  exit 0
fi

mapfile -t INCLUDES < <("${PYTHON}" - <<'PY'
import sysconfig
from torch.utils.cpp_extension import include_paths
for path in include_paths() + [sysconfig.get_paths()['include']]:
    print('-I' + path)
PY
)
mapfile -t TORCH_FLAGS < <("${PYTHON}" -c \
  'from torch.utils.cpp_extension import COMMON_NVCC_FLAGS; print("\n".join(COMMON_NVCC_FLAGS))')

OUT="$(mktemp -d)"
trap 'rm -rf "${OUT}"' EXIT
echo "check_nvcc: $("${NVCC}" --version | tail -n 1)"
status=0
for source in "${SOURCES[@]}"; do
  object="${OUT}/$(basename "${source%.cu}").o"
  if (cd "${ROOT}" && "${NVCC}" -c "${source}" -o "${object}" -std=c++20 -O3 \
        -DWITH_CUDA -DC10_CUDA_NO_CMAKE_CONFIGURE_FILE -DTORCH_EXTENSION_NAME=_ext \
        "${TORCH_FLAGS[@]}" -Icsrc "${INCLUDES[@]}" -Xcompiler -fPIC); then
    echo "check_nvcc: ok ${source}"
  else
    echo "check_nvcc: FAILED ${source}"
    status=1
  fi
done
exit "${status}"
