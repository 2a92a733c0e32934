#!/usr/bin/env bash
# Every method trains on the CIFAR-10 subset and its loss falls: 3 epochs of 640 images each, ResNet-18 at width
# 0.125; prints the mean loss of the first and the last epoch. Usage: examples/per-method-loss.sh [DATA_DIR] [OUT]
set -uo pipefail
cd "$(dirname "$0")/.."
DATA_DIR="${1:-../shared/datasets/cifar10-subset}"
OUT="${2:-runs/per-method}"
mvn -q -B compile dependency:build-classpath -Dmdep.outputFile=target/classpath.txt >/dev/null
CP="target/classes:$(cat target/classpath.txt)"
for m in simclr byol barlow vicreg vicregl simsiam mocov2 wmse swav superinfo; do
  rm -rf "$OUT/$m"
  extra=""
  [ "$m" = wmse ] && extra="--objective-param subBatchSize=64"
  [ "$m" = swav ] && extra="--local-crops 2"
  mkdir -p "$(dirname "$OUT")"
  start=$(date +%s)
  java -cp "$CP" org.umm4j.cli.Umm4j pretrain --method $m --dataset cifar10 --data-dir "$DATA_DIR" \
    --train-limit 640 --width 0.125 --epochs 3 --batch-size 64 --monitor-subset 0 --out "$OUT/$m" $extra > "$OUT-$m.log" 2>&1
  rc=$?
  end=$(date +%s)
  awk -F, -v m=$m -v rc=$rc -v t=$((end-start)) 'NR>1 {s[$1]+=$3; n[$1]++} END {printf "%s rc=%d %ds epoch0 %.4f epoch2 %.4f %s\n", m, rc, t, s[0]/n[0], s[2]/n[2], (s[2]/n[2] < s[0]/n[0]) ? "falls" : "DOES NOT FALL"}' "$OUT/$m/metrics.csv"
done
