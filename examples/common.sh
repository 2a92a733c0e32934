#!/usr/bin/env bash
# Shared helpers of the example runners. Source it; do not run it.
#   FULL=1      the paper's configuration (full-width ResNet-18, paper heads, long schedules): for GPUs or big CPUs
#   DATA_DIR    CIFAR-10 binary folder (default: ../shared/datasets/cifar10-subset, the 5,170-image subset)
#   OUT         output root (default: runs/<script name>)
#   SEEDS       seeds to repeat over (default: "1")
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
DATA_DIR="${DATA_DIR:-../shared/datasets/cifar10-subset}"
SEEDS="${SEEDS:-1}"
FULL="${FULL:-0}"
mvn -q -B compile >/dev/null

# Runs one umm4j command in a fresh JVM.
umm4j() {
  echo "+ umm4j $*" >&2
  mvn -q -B exec:java -Dexec.args="$*"
}

# Small CPU-sized settings, or the paper's with FULL=1.
if [ "$FULL" = 1 ]; then
  NET="--width 1 --head-scale 1"
  PRE_EPOCHS="${PRE_EPOCHS:-500}"; UMM_EPOCHS="${UMM_EPOCHS:-200}"; BATCH="${BATCH:-256}"
  LIMITS=""; PROBE_EPOCHS="${PROBE_EPOCHS:-500}"
else
  NET="--width 0.125 --head-scale 0.0625"
  PRE_EPOCHS="${PRE_EPOCHS:-10}"; UMM_EPOCHS="${UMM_EPOCHS:-1}"; BATCH="${BATCH:-64}"
  LIMITS="--train-limit ${TRAIN_LIMIT:-1280} --test-limit ${TEST_LIMIT:-500}"; PROBE_EPOCHS="${PROBE_EPOCHS:-50}"
fi
DATA="--dataset cifar10 --data-dir $DATA_DIR $LIMITS"

# Prints the last checkpoint's row of a run's layer-wise evaluation for a tap: epoch,tap,knn5,knn200,probe1,probe5,dR_label,dR_instance
last_row() {
  grep ",$2," "$1/eval/layerwise.csv" | tail -1
}
