#!/usr/bin/env bash
# UMM paper, Figure 7: the learning-rate schedulers (warm-up + cosine, cosine, exponential decay, constant) and
# the dR monitor under each; writes $OUT/<schedule>/ runs and prints each run's dR_monitor curve.
source "$(dirname "$0")/common.sh"
OUT="${OUT:-runs/fig7}"
for sched in warmup-cosine cosine exponential constant; do
  umm4j pretrain --method simclr $DATA $NET --epochs "$PRE_EPOCHS" --batch-size "$BATCH" --schedule "$sched" --out "$OUT/$sched"
  umm4j eval --run "$OUT/$sched" --probe-epochs "$PROBE_EPOCHS"
  umm4j monitor --run "$OUT/$sched"
done
