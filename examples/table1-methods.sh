#!/usr/bin/env bash
# UMM paper, Table 1: unsupervised linear-probe and 5-NN accuracy of each SSL method, with and without UMM.
# For each method and seed: pretrain, UMM fine-tuning from the last checkpoint, layer-wise evaluation of both;
# writes $OUT/table1.csv (method, seed, variant, knn5, probe, dR_instance of the last layer).
source "$(dirname "$0")/common.sh"
OUT="${OUT:-runs/table1}"
METHODS="${METHODS:-simclr byol barlow vicreg}"
mkdir -p "$OUT"
echo "method,seed,variant,knn5_top1,probe_top1,dR_instance" > "$OUT/table1.csv"
for m in $METHODS; do
  for s in $SEEDS; do
    run="$OUT/$m-s$s"
    umm4j pretrain --method "$m" $DATA $NET --epochs "$PRE_EPOCHS" --batch-size "$BATCH" --seed "$s" --out "$run/pre"
    umm4j umm --checkpoint "$run/pre" --epochs "$UMM_EPOCHS" --seed "$s" --out "$run/umm"
    for v in pre umm; do
      umm4j eval --run "$run/$v" --probe-epochs "$PROBE_EPOCHS" --seed "$s"
      last_row "$run/$v" pool | awk -F, -v m="$m" -v s="$s" -v v="$v" '{print m "," s "," v "," $3 "," $5 "," $8}' >> "$OUT/table1.csv"
    done
  done
done
cat "$OUT/table1.csv"
