#!/usr/bin/env bash
# SimCLR on the CIFAR-10 subset with a narrow ResNet-18, then k-NN (k = 5, majority) of the pooled features:
# pretrained vs randomly initialised network of the same shape. Results: examples/README.md.
#
# usage: examples/simclr-cifar10-subset.sh [DATA_DIR] [OUT_DIR]    (run from the repository root)
# env:   EPOCHS (20), TRAIN_LIMIT (1280 images, class-balanced), WIDTH (0.125), BATCH (128)
set -euo pipefail
DATA_DIR=${1:-../shared/datasets/cifar10-subset}
OUT=${2:-runs/simclr-cifar10-subset}
EPOCHS=${EPOCHS:-20}
TRAIN_LIMIT=${TRAIN_LIMIT:-1280}
WIDTH=${WIDTH:-0.125}
BATCH=${BATCH:-128}
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}

umm4j() {
  mvn -o -q -B exec:java -Dexec.mainClass=org.umm4j.cli.Umm4j -Dexec.args="$*"
}

mvn -o -q -B compile
RESUME=""
if [ -f "$OUT/manifest.json" ]; then RESUME="--resume"; fi
umm4j pretrain --method simclr --dataset cifar10 --data-dir "$DATA_DIR" --train-limit "$TRAIN_LIMIT" \
  --width "$WIDTH" --batch-size "$BATCH" --epochs "$EPOCHS" --optimizer adam --lr 1e-3 \
  --schedule warmup-cosine --warmup-epochs 2 --seed 42 --keep-last 2 --log-every 5 --out "$OUT" $RESUME
umm4j knn-eval --run "$OUT"
umm4j knn-eval --run "$OUT" --random
