#!/usr/bin/env bash
# UMM paper, Table 8: CIFAR-10-LT (long-tailed training set, imbalance ratio 100 by default), with and without UMM.
# The test set stays balanced.
source "$(dirname "$0")/common.sh"
OUT="${OUT:-runs/table8}"
RATIO="${RATIO:-100}"
METHOD="${METHOD:-simclr}"
umm4j pretrain --method "$METHOD" $DATA --long-tail "$RATIO" $NET --epochs "$PRE_EPOCHS" --batch-size "$BATCH" --out "$OUT/pre"
umm4j umm --checkpoint "$OUT/pre" --epochs "$UMM_EPOCHS" --out "$OUT/umm"
for v in pre umm; do
  umm4j eval --run "$OUT/$v" --probe-epochs "$PROBE_EPOCHS"
  echo "$v: $(last_row "$OUT/$v" pool)"
done
