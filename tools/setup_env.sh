#!/usr/bin/env bash
# Install salbox and everything it needs into the current Python, then build the C++ extension.
# Usage: bash tools/setup_env.sh            (runtime + test + serve dependencies)
#        PYTHON=/path/to/python bash tools/setup_env.sh
# torch goes first, pinned, so that pip takes the CPU wheel instead of a multi-GB CUDA build;
# the extension is built with --no-build-isolation so the build sees that torch.
# One cv2: opencv-contrib-python-headless (it has cv2.saliency). mmengine, mmcv-lite and
# pysodmetrics each require another cv2 distribution, so they are installed with --no-deps
# (requirements/nodeps.txt) and their other dependencies are listed in requirements/*.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
PIP="$PY -m pip install --disable-pip-version-check --no-input -q"
TORCH_SPEC=${SALBOX_TORCH:-torch==2.13.0}
CV2_DIST=$(grep -h '^opencv-contrib-python-headless' requirements/runtime.txt)

if ! $PY -c "import torch" 2>/dev/null; then
  echo "[setup] installing $TORCH_SPEC"
  $PIP "$TORCH_SPEC"
fi
# Other cv2 distributions share the cv2/ folder: remove them, then (re)install the one we use.
# Run before and after the requirements, in case one of them brought another cv2 along.
one_cv2() {
  local other
  other=$($PY - <<'PY'
from importlib import metadata
names = {(d.metadata['Name'] or '').lower() for d in metadata.distributions()}
print(' '.join(sorted(n for n in names if n.startswith('opencv')
                      and n != 'opencv-contrib-python-headless')))
PY
)
  if [ -n "$other" ]; then
    echo "[setup] removing other cv2 distributions: $other"
    $PY -m pip uninstall -y -q $other
    $PIP --force-reinstall --no-deps "$CV2_DIST"
  fi
}
one_cv2
echo "[setup] installing runtime and test requirements"
$PIP "setuptools>=64" wheel
$PIP -r requirements/runtime.txt -r requirements/tests.txt -r requirements/serve.txt
$PIP --no-deps -r requirements/nodeps.txt
one_cv2
echo "[setup] building salbox and its C++ extension (about a minute)"
$PIP --no-build-isolation --no-deps -e .
$PY - <<'PY'
import sys
from importlib import metadata

import mmengine
import torch

import salbox
from salbox.ops import extension_available

cv2_dists = sorted({(d.metadata['Name'] or '').lower() for d in metadata.distributions()
                    if (d.metadata['Name'] or '').lower().startswith('opencv')})
if cv2_dists != ['opencv-contrib-python-headless']:
    sys.exit(f'[setup] error: expected one cv2 distribution (opencv-contrib-python-headless), '
             f'found {cv2_dists}')
if not extension_available():
    sys.exit('[setup] error: the C++ extension salbox._ext did not build or does not import '
             '(see the pip output above; `python -c "import salbox._ext"` shows why)')
print(f'[setup] salbox {salbox.__version__}, torch {torch.__version__}, '
      f'mmengine {mmengine.__version__}, C++ extension: yes, cv2: {cv2_dists[0]}')
PY
# Optional ONNX deployment packages (tools/deployment, docs/deployment.md); CI installs them so
# the export tests run (they are skipped where onnx/onnxruntime are missing).
echo "[setup] installing optional deployment requirements (onnx, onnxruntime)"
$PIP -r requirements/deploy.txt
