#!/usr/bin/env bash
# UMM paper, Table 11 and Figures 1-2: dR (label and label-free instance membership) against accuracy over the
# checkpoints of a pretraining run, early vs last layer, with the Pearson correlations (paper: 0.92 to 0.98).
source "$(dirname "$0")/common.sh"
OUT="${OUT:-runs/table11}"
METHOD="${METHOD:-simclr}"
umm4j pretrain --method "$METHOD" $DATA $NET --epochs "$PRE_EPOCHS" --batch-size "$BATCH" --save-every 1 --out "$OUT"
umm4j eval --run "$OUT" --probe-epochs "$PROBE_EPOCHS"
umm4j report --run "$OUT"
cat "$OUT/eval/pearson.csv"
echo "plots: $OUT/eval/accuracy.png $OUT/eval/dr.png, page: $OUT/report/index.html"
