#!/usr/bin/env bash
# Distributed training through torchrun (docs/distributed.md):
#   bash tools/dist_train.sh CONFIG NPROC_PER_NODE [train.py options]
# NPROC_PER_NODE: processes on this machine (one per GPU; on CPUs, e.g. 2). Several machines:
# run the same command on each with NNODES, NODE_RANK (0..NNODES-1), MASTER_ADDR (the address
# of node 0, reachable from all) and PORT (free on node 0) set. The backend follows the device
# (nccl with GPUs, gloo on CPUs; env_cfg.dist_cfg.backend='auto').
if [ $# -lt 2 ]; then
    echo "usage: bash $0 CONFIG NPROC_PER_NODE [train.py options]" >&2
    exit 2
fi
CONFIG=$1
GPUS=$2
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-"127.0.0.1"}
PYTHON=${PYTHON:-python3}
PYTHONPATH="$(dirname "$0")/..":$PYTHONPATH \
OMP_NUM_THREADS=${OMP_NUM_THREADS:-1} \
"$PYTHON" -m torch.distributed.run --nnodes="$NNODES" --node_rank="$NODE_RANK" \
    --master_addr="$MASTER_ADDR" --nproc_per_node="$GPUS" --master_port="$PORT" \
    "$(dirname "$0")/train.py" "$CONFIG" --launcher pytorch "${@:3}"
