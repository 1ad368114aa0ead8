#!/usr/bin/env bash
# salbox on a GPU, end to end, in one go (about 5 minutes on one H200):
#   1. build salbox._ext with CUDA for this GPU (in place, ninja, all cores);
#   2. the propagation op's CUDA tests (tests/ops/test_local_propagation_cuda.py: values and
#      gradients against the CPU kernel and the unfold formula, odd sizes, batch > 1, float64
#      gradcheck, bfloat16/float16, autocast) and the CUDA model paths
#      (tests/models/test_cuda_paths.py: every detector, DenseCRF, the MI promoter, TTA);
#   3. each method's synthetic config trained on CUDA with AmpOptimWrapper in bfloat16
#      (R3Net, R3Net-Lite0, ARN, DGRL RLN then BRN on it, MI promoter on a weak R3Net, U²-Netp),
#      all at once;
#   4. tools/test.py on each: DenseCRF and the MI promoter as post-processors, --tta;
#      tools/infer.py --device cuda --tta --cutout; pytorch2onnx.py --device cuda --verify
#      (a detector and the BRN refiner); tools/dist_train.sh with nccl on one GPU;
#   5. benchmarks/bench_gpu.py: op speed-up, R3Net ResNeXt-101 training images/s and memory at
#      batch 14 and 300x300, ARN fused against explicit attention.
#
#   bash tools/gpu_check.sh [OUT_DIR]        (default work_dirs/gpu_check/report)
#
# Writes OUT_DIR/report.md (a line per step: passed/FAILED, seconds; the benchmark tables; the
# metrics tables), OUT_DIR/bench_gpu.{md,json} and OUT_DIR/logs.tgz (every step's full log).
# Exits 1 when a step failed; every step runs all the same.
# GPU_CHECK_WHEELS=DIR installs salbox's dependencies from the wheels and sdists in DIR first. Work files go to $GPU_CHECK_WORK
# (default work_dirs/gpu_check). Without a GPU it runs the same steps on the CPU with a few
# iterations (no AMP, no CUDA build, no benchmark): a check of the script itself.
# Knobs: GPU_CHECK_ITERS (training iterations, default 200 on a GPU, 4 on the CPU),
# GPU_CHECK_TEST_IMAGES (test images per run, default all 100 on a GPU, 3 on the CPU),
# PYTHON (default python3), TORCH_CUDA_ARCH_LIST (default: this GPU's compute capability).
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
WORK=${GPU_CHECK_WORK:-work_dirs/gpu_check}
OUT_DIR=${1:-$WORK/report}
LOGS=$WORK/logs
rm -rf "$WORK/logs" "$WORK/runs"
mkdir -p "$OUT_DIR" "$LOGS" "$WORK/runs"
RUNS=$WORK/runs
REPORT=$OUT_DIR/report.md
export PYTHONUNBUFFERED=1 OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}

if $PY -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
  GPU=1; DEVICE=cuda; ITERS=${GPU_CHECK_ITERS:-200}; AMP=(--amp-dtype bfloat16)
  TEST_IMAGES=${GPU_CHECK_TEST_IMAGES:-100}
else
  GPU=0; DEVICE=cpu; ITERS=${GPU_CHECK_ITERS:-4}; AMP=()
  TEST_IMAGES=${GPU_CHECK_TEST_IMAGES:-3}
fi
WEAK_ITERS=$(( ITERS < 60 ? ITERS : 60 ))
STATUS=0

# step NAME COMMAND...: run it, log it, one report line (the end of the log when it failed).
step() {
  local name=$1; shift
  local start=$SECONDS
  if "$@" >"$LOGS/$name.log" 2>&1; then
    echo "| $name | passed | $((SECONDS - start)) |" >>"$REPORT.steps"
  else
    STATUS=1
    echo "| $name | **FAILED** | $((SECONDS - start)) |" >>"$REPORT.steps"
    { echo "### $name (FAILED): end of $name.log"; echo '```'; tail -n 25 "$LOGS/$name.log";
      echo '```'; } >>"$REPORT.failures"
  fi
}
# bg NAME COMMAND...: the same in the background (wait collects them).
bg() { step "$@" & }
ckpt() { echo "$RUNS/$1/iter_$2.pth"; }

rm -f "$REPORT.steps" "$REPORT.failures"
{
  echo "# salbox GPU check, $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo
  echo '```'
  if [ "$GPU" = 1 ]; then nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader; fi
  $PY -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda)'
  echo "device $DEVICE, $ITERS training iterations, commit $(git rev-parse --short HEAD 2>/dev/null)"
  echo '```'
} >"$REPORT" 2>&1

# ---------------------------------------------------------------- 1. build, data, benchmarks
build_extension() {
  local arch
  arch=${TORCH_CUDA_ARCH_LIST:-$($PY -c 'import torch; print("%d.%d" % torch.cuda.get_device_capability())')}
  local ninja=0  # parallel compilation when the ninja command exists
  command -v ninja >/dev/null && ninja=1
  TORCH_CUDA_ARCH_LIST=$arch SALBOX_USE_NINJA=$ninja MAX_JOBS=$(nproc) \
    $PY setup.py build_ext --inplace &&
  $PY -c 'import torch; from salbox.ops import extension_available as ok; import sys; \
sys.exit(0 if ok(torch.device("cuda")) else "salbox._ext has no CUDA kernels")'
}
make_data() {
  $PY - <<'PY'
from mmengine.config import Config
from mmengine.registry import init_default_scope

import salbox.datasets  # noqa: F401
from salbox.registry import DATASETS

init_default_scope('salbox')
cfg = Config.fromfile('configs/r3net/r3net_resnet18_synthetic.py')
for loader in ('train_dataloader', 'test_dataloader'):
    print(loader, len(DATASETS.build(cfg[loader].dataset)), 'samples')
PY
}
# GPU_CHECK_WHEELS=DIR: a machine without a package index (a lent GPU box) takes salbox's
# dependencies from DIR: its wheels, then its sdists (pydensecrf2) built in the background.
install_sdists() {
  $PY -m pip install -q --no-index --no-deps --no-build-isolation --target "$SITE" \
    "$GPU_CHECK_WHEELS"/*.tar.gz
}
if [ -n "${GPU_CHECK_WHEELS:-}" ]; then
  SITE=${GPU_CHECK_SITE:-/tmp/salbox_site}
  step install_wheels $PY -m pip install -q --no-index --no-deps --no-compile --upgrade \
    --target "$SITE" "$GPU_CHECK_WHEELS"/*.whl
  export PYTHONPATH=$SITE${PYTHONPATH:+:$PYTHONPATH}
  if compgen -G "$GPU_CHECK_WHEELS/*.tar.gz" >/dev/null; then bg install_sdists install_sdists; fi
fi
if [ "$GPU" = 1 ]; then bg build_cuda_extension build_extension; fi
step synthetic_data make_data
if [ "$GPU" = 1 ]; then
  step bench_models $PY benchmarks/bench_gpu.py --parts r3net arn --out "$WORK/bench_models"
fi
wait  # the build (and the sdists)

# ---------------------------------------------------------------- 2. CUDA tests
step pytest_cuda $PY -m pytest -q -p no:cacheprovider -rs tests/ops/test_local_propagation_cuda.py \
  tests/ops/test_local_propagation.py tests/models/test_cuda_paths.py
if [ "$GPU" = 1 ]; then  # alone on the GPU, before the training runs share it
  step bench_propagation $PY benchmarks/bench_gpu.py --parts propagation --out "$WORK/bench_op"
fi

# ---------------------------------------------------------------- 3. training, all at once
train() {  # train NAME CONFIG [train.py options]
  local name=$1 config=$2; shift 2
  $PY tools/train.py "$config" --work-dir "$RUNS/$name" "${AMP[@]}" "$@"
}
R3=configs/r3net/r3net_resnet18_synthetic.py
RLN=configs/dgrl/dgrl_rln_r18_synthetic.py
BRN=configs/dgrl/dgrl_rln_r18_brn_synthetic.py
ARN=configs/arn/arn_vgg16_synthetic.py
LITE=configs/r3net/r3net_efficientnet-lite0_synthetic.py
MIP=configs/mi_promoter/mi_promoter_mobilenetv2_synthetic.py
U2P=configs/u2net/u2netp_synthetic.py
MIP_R3=configs/mi_promoter/r3net_resnet18_mi-promoter_densecrf_synthetic.py
WEAK_OPTS=(model.first_stage.checkpoint="$(ckpt r3net_weak "$WEAK_ITERS")")
chain_dgrl() {
  train rln $RLN --cfg-options train_cfg.max_iters="$ITERS" &&
  train brn $BRN --cfg-options train_cfg.max_iters="$ITERS" \
    model.first_stage_checkpoint="$(ckpt rln "$ITERS")"
}
chain_promoter() {
  train r3net_weak $R3 --cfg-options train_cfg.max_iters="$WEAK_ITERS" model.postprocessors=[] &&
  train promoter $MIP --cfg-options train_cfg.max_iters="$ITERS" "${WEAK_OPTS[@]}"
}
bg train_r3net train r3net $R3 --cfg-options train_cfg.max_iters="$ITERS"
bg train_r3net_lite0 train lite0 $LITE --cfg-options train_cfg.max_iters="$ITERS"
bg train_arn train arn $ARN --cfg-options train_cfg.max_iters="$ITERS"
bg train_u2netp train u2netp $U2P --cfg-options train_cfg.max_iters="$ITERS"
bg train_dgrl_rln_then_brn chain_dgrl
bg train_mi_promoter_on_weak_r3net chain_promoter
wait

# ---------------------------------------------------------------- 4. test, infer, export, dist
test_run() {  # test_run NAME CONFIG CHECKPOINT --tta|--no-tta [KEY=VALUE config options]
  local name=$1 config=$2 checkpoint=$3 tta=$4; shift 4
  $PY tools/test.py "$config" "$checkpoint" --work-dir "$RUNS/test_$name" \
    --out "$RUNS/test_$name/maps" $([ "$tta" = --tta ] && echo --tta) \
    --cfg-options test_dataloader.dataset.indices="$TEST_IMAGES" "$@"
}
bg test_r3net_densecrf_tta test_run r3net_tta $R3 "$(ckpt r3net "$ITERS")" --tta
bg test_r3net_mi_promoter_densecrf_tta test_run r3net_mip $MIP_R3 "$(ckpt r3net "$ITERS")" --tta \
  model.postprocessors.0.checkpoint="$(ckpt promoter "$ITERS")"
bg test_mi_promoter test_run promoter $MIP "$(ckpt promoter "$ITERS")" --no-tta "${WEAK_OPTS[@]}"
bg test_dgrl_brn_tta test_run brn $BRN "$(ckpt brn "$ITERS")" --tta \
  model.first_stage_checkpoint="$(ckpt rln "$ITERS")"
bg test_dgrl_rln test_run rln $RLN "$(ckpt rln "$ITERS")" --no-tta
bg test_arn_tta test_run arn $ARN "$(ckpt arn "$ITERS")" --tta
bg test_r3net_lite0 test_run lite0 $LITE "$(ckpt lite0 "$ITERS")" --no-tta
bg test_u2netp_tta test_run u2netp $U2P "$(ckpt u2netp "$ITERS")" --tta
mkdir -p "$RUNS/photos"
find data/synthetic/test/images -type f | sort | head -n "$TEST_IMAGES" \
  | xargs -I{} cp {} "$RUNS/photos/"
bg infer_r3net_tta_cutout $PY tools/infer.py $R3 "$(ckpt r3net "$ITERS")" \
  "$RUNS/photos" --out-dir "$RUNS/infer" --device "$DEVICE" --tta --cutout
bg export_r3net_onnx $PY tools/deployment/pytorch2onnx.py $R3 "$(ckpt r3net "$ITERS")" \
  --out "$RUNS/r3net.onnx" --device "$DEVICE" --dynamic --verify --cfg-options model.postprocessors=[]
bg export_brn_onnx $PY tools/deployment/pytorch2onnx.py $BRN "$(ckpt brn "$ITERS")" \
  --out "$RUNS/brn.onnx" --device "$DEVICE" --verify
bg dist_train_one_process env PORT=29531 bash tools/dist_train.sh $R3 1 --work-dir "$RUNS/dist" \
  "${AMP[@]}" --cfg-options train_cfg.max_iters=20
wait

# ---------------------------------------------------------------- 5. report
{
  echo
  echo '| step | result | seconds |'
  echo '|---|---|---|'
  cat "$REPORT.steps"
  for bench in "$WORK/bench_op" "$WORK/bench_models"; do
    if [ -f "$bench/bench_gpu.md" ]; then echo; cat "$bench/bench_gpu.md"; fi
  done
  echo
  echo '## Metrics (tools/test.py, synthetic test split)'
  for table in "$RUNS"/test_*/results/*.md; do
    [ -f "$table" ] && { echo; echo "$(basename "$(dirname "$(dirname "$table")")"):"; cat "$table"; }
  done
  if [ -f "$REPORT.failures" ]; then echo; echo '## Failures'; cat "$REPORT.failures"; fi
} >>"$REPORT"
grep -q FAILED "$REPORT.steps" && STATUS=1  # steps run in the background report here
rm -f "$REPORT.steps" "$REPORT.failures"
$PY - "$WORK" "$OUT_DIR" <<'PY'
import json, os, sys
work, out = sys.argv[1:]
merged = {}
for part in ('bench_op', 'bench_models'):
    path = os.path.join(work, part, 'bench_gpu.json')
    if os.path.exists(path):
        merged.update(json.load(open(path)))
if merged:
    json.dump(merged, open(os.path.join(out, 'bench_gpu.json'), 'w'), indent=1)
PY
tar -czf "$OUT_DIR/logs.tgz" -C "$WORK" logs
cat "$REPORT"
exit "$STATUS"
