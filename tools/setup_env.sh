#!/usr/bin/env bash
# Install salbox and everything it needs into the current Python, then build the C++ extension.
# Usage: bash tools/setup_env.sh            (runtime + test dependencies)
#        PYTHON=/path/to/python bash tools/setup_env.sh
# torch goes first, pinned, so that pip takes the CPU wheel instead of a multi-GB CUDA build;
# the extension is built with --no-build-isolation so the build sees that torch.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
PIP="$PY -m pip install --disable-pip-version-check --no-input -q"
TORCH_SPEC=${SALBOX_TORCH:-torch==2.13.0}

if ! $PY -c "import torch" 2>/dev/null; then
  echo "[setup] installing $TORCH_SPEC"
  $PIP "$TORCH_SPEC"
fi
echo "[setup] installing runtime and test requirements"
$PIP -r requirements/runtime.txt -r requirements/tests.txt
echo "[setup] building salbox and its C++ extension (about a minute)"
$PIP --no-build-isolation -e .
$PY - <<'PY'
import salbox, torch, mmengine
from salbox.ops import extension_available
print(f'[setup] salbox {salbox.__version__}, torch {torch.__version__}, '
      f'mmengine {mmengine.__version__}, C++ extension: '
      f'{"yes" if extension_available() else "no (pure-PyTorch fallback)"}')
PY
# Optional ONNX deployment packages (tools/deployment, docs/deployment.md); CI installs them so
# the export tests run (they are skipped where onnx/onnxruntime are missing).
echo "[setup] installing optional deployment requirements (onnx, onnxruntime)"
$PIP -r requirements/deploy.txt
