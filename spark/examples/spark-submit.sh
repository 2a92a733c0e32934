#!/usr/bin/env bash
# Distributed SimCLR pretraining with spark-submit (Spark 3.5, Scala 2.12, Java 17).
#
# Build first (from the repository root):
#   mvn -o -q install -DskipTests && (cd spark && mvn -B -q package -DskipTests dependency:copy-dependencies \
#       -DincludeScope=runtime -DoutputDirectory=target/lib)
#
# Usage: examples/spark-submit.sh [MASTER] [OUT]   e.g. examples/spark-submit.sh local[2] runs/spark-simclr
#        MASTER may be spark://host:7077, yarn, k8s://...; the data directory must then be readable on the driver.
set -euo pipefail
cd "$(dirname "$0")/.."
MASTER="${1:-local[2]}"
OUT="${2:-runs/spark-simclr}"
source examples/spark-env.sh   # JAR, JARS, the Java 17 --add-opens flags (OPENS), OMP_NUM_THREADS=1

spark-submit \
  --class org.umm4j.spark.SparkPretrain \
  --master "$MASTER" \
  --driver-memory 4g \
  --conf "spark.driver.extraJavaOptions=$OPENS" \
  --conf "spark.executor.extraJavaOptions=$OPENS" \
  --conf spark.executorEnv.OMP_NUM_THREADS=1 \
  --jars "$JARS" \
  "$JAR" \
  --method simclr --epochs 10 --workers 2 --batch-per-worker 64 --averaging-frequency 5 \
  --lr 1e-3 --lr-scaling none \
  --dataset synthetic --width 0.25 \
  --out "$OUT"
