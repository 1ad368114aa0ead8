#!/usr/bin/env bash
# The quick start: install salbox, generate a synthetic SOD data set, train R3Net (ResNet-18)
# on it on the CPU, test it, and write the saliency maps and a metrics table.
#   bash tools/quick_start.sh [WORK_DIR]         (default work_dirs/quick_start)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
WORK_DIR=${1:-work_dirs/quick_start}
CONFIG=configs/r3net/r3net_resnet18_synthetic.py

bash tools/setup_env.sh
echo "[quick start] training $CONFIG (a few minutes on 2 CPU cores; log in $WORK_DIR)"
$PY tools/train.py "$CONFIG" --work-dir "$WORK_DIR"
CHECKPOINT=$(cat "$WORK_DIR/last_checkpoint")
echo "[quick start] testing $CHECKPOINT"
$PY tools/test.py "$CONFIG" "$CHECKPOINT" --work-dir "$WORK_DIR" --out "$WORK_DIR/maps" \
    --show-dir "$WORK_DIR/panels"
echo "[quick start] saliency maps:          $WORK_DIR/maps/"
echo "[quick start] image|GT|prediction:    $WORK_DIR/panels/"
echo "[quick start] metrics tables:         $WORK_DIR/results/"
