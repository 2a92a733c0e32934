#!/usr/bin/env bash
# UMM paper, Tables 1 and 10: the ablations "*" (lambda = 0: JS term only), "**" (beta = 0: CRR term only), the
# joint mode "SSL & UMM", full UMM, and the control (plain SSL training of the same layers for the same steps),
# all from the same pretrained checkpoint; writes $OUT/ablations.csv.
source "$(dirname "$0")/common.sh"
OUT="${OUT:-runs/table10}"
METHOD="${METHOD:-simclr}"
mkdir -p "$OUT"
echo "variant,seed,knn5_top1,probe_top1,dR_instance" > "$OUT/ablations.csv"
for s in $SEEDS; do
  pre="$OUT/pre-s$s"
  umm4j pretrain --method "$METHOD" $DATA $NET --epochs "$PRE_EPOCHS" --batch-size "$BATCH" --seed "$s" --out "$pre"
  declare -A variants=(
    [umm]=""
    [star-lambda0]="--lambda 0"
    [starstar-beta0]="--beta 0"
    [ssl-and-umm]="--joint"
    [control]="--control"
  )
  for v in "${!variants[@]}"; do
    umm4j umm --checkpoint "$pre" --epochs "$UMM_EPOCHS" --seed "$s" ${variants[$v]} --out "$OUT/$v-s$s"
    umm4j eval --run "$OUT/$v-s$s" --probe-epochs "$PROBE_EPOCHS" --seed "$s"
    last_row "$OUT/$v-s$s" pool | awk -F, -v v="$v" -v s="$s" '{print v "," s "," $3 "," $5 "," $8}' >> "$OUT/ablations.csv"
  done
done
cat "$OUT/ablations.csv"
