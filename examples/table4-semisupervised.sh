#!/usr/bin/env bash
# UMM paper, Table 4: semi-supervised evaluation - fine-tune the pretrained backbone (+ a linear classifier) on 1 % and
# 10 % of the training labels, with and without UMM fine-tuning in between; test top-1/top-5.
# For each method and seed: pretrain, UMM from the last checkpoint, then `umm4j finetune` of both at each fraction.
# Writes $OUT/table4.csv (method, seed, variant, fraction, labelled, top1, top5).
# Pretraining uses the whole CIFAR-10 subset by default (5,000 of its ~5,170 images: ~500 per class), so 1 % is 5
# labelled images per class and 10 % is 50 (FRACTIONS to change).
TRAIN_LIMIT="${TRAIN_LIMIT:-5000}"
source "$(dirname "$0")/common.sh"
OUT="${OUT:-runs/table4}"
METHODS="${METHODS:-simclr byol}"
FRACTIONS="${FRACTIONS:-0.01 0.1}"
FT_EPOCHS="${FT_EPOCHS:-$([ "$FULL" = 1 ] && echo 60 || echo 20)}"
FT_BATCH="${FT_BATCH:-16}"
mkdir -p "$OUT"
echo "method,seed,variant,fraction,labelled,top1,top5" > "$OUT/table4.csv"
for m in $METHODS; do
  for s in $SEEDS; do
    run="$OUT/$m-s$s"
    umm4j pretrain --method "$m" $DATA $NET --epochs "$PRE_EPOCHS" --batch-size "$BATCH" --seed "$s" --out "$run/pre"
    umm4j umm --checkpoint "$run/pre" --epochs "$UMM_EPOCHS" --seed "$s" --out "$run/umm"
    for v in pre umm; do
      for f in $FRACTIONS; do
        ft="$run/$v-ft$f"
        umm4j finetune --run "$run/$v" --label-fraction "$f" --epochs "$FT_EPOCHS" --batch-size "$FT_BATCH" --seed "$s" --out "$ft"
        python3 - "$ft/finetune.json" "$m" "$s" "$v" "$f" >> "$OUT/table4.csv" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print(",".join(sys.argv[2:6] + [str(r["labelled"]), "%.4f" % r["top1"], "%.4f" % r["top5"]]))
PY
      done
    done
  done
done
cat "$OUT/table4.csv"
