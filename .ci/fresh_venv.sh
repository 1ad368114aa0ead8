#!/usr/bin/env bash
# A fresh virtual environment (no system packages) with only torch, then
# `pip install --no-build-isolation -e .`: salbox._ext must be built and importable, and
# tools/train.py must train a synthetic config (a few tiny iterations). A few minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd)
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
python3 -m venv "$TMP/venv"
PY="$TMP/venv/bin/python"
PIP="$PY -m pip install --disable-pip-version-check --no-input -q"
echo "[fresh venv] torch, then pip install --no-build-isolation -e ."
$PIP "${SALBOX_TORCH:-torch==2.13.0}" "setuptools>=64" wheel
$PIP --no-build-isolation -e "$REPO"
"$PY" - <<'PY'
import sys
from salbox.ops import extension_available
if not extension_available():
    sys.exit('[fresh venv] error: salbox._ext is not importable after '
             '`pip install --no-build-isolation -e .`')
print('[fresh venv] C++ extension: yes')
PY
cd "$TMP"
"$PY" "$REPO/tools/train.py" "$REPO/configs/r3net/r3net_resnet18_synthetic.py" \
  --work-dir "$TMP/work" --cfg-options \
  "train_dataloader.dataset.data_root=$TMP/data" "test_dataloader.dataset.data_root=$TMP/data" \
  train_dataloader.dataset.num_images=8 test_dataloader.dataset.num_images=4 \
  'train_dataloader.dataset.img_size=[64,64]' 'test_dataloader.dataset.img_size=[64,64]' \
  train_dataloader.dataset.pipeline.2.size=56 train_dataloader.batch_size=2 \
  train_cfg.max_iters=3 param_scheduler.0.end=3 default_hooks.checkpoint.interval=3 \
  > "$TMP/train.log" 2>&1 || { tail -20 "$TMP/train.log"; echo '[fresh venv] error: tools/train.py failed'; exit 1; }
test -f "$TMP/work/iter_3.pth" || { echo '[fresh venv] error: no checkpoint written'; exit 1; }
echo "[fresh venv] tools/train.py trained 3 iterations: ok"
