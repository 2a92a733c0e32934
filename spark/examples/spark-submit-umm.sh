#!/usr/bin/env bash
# Distributed UMM fine-tuning with spark-submit (Spark 3.5, Scala 2.12, Java 17), after a pretraining run.
#
# Build first (from the repository root):
#   mvn -o -q install -DskipTests && (cd spark && mvn -B -q package -DskipTests dependency:copy-dependencies \
#       -DincludeScope=runtime -DoutputDirectory=target/lib)
#
# Usage: examples/spark-submit-umm.sh [MASTER] [SOURCE] [OUT]
#        e.g. examples/spark-submit.sh local[2] runs/spark-simclr && \
#             examples/spark-submit-umm.sh local[2] runs/spark-simclr runs/spark-umm
#        SOURCE is a run directory of umm4j pretrain or of examples/spark-submit.sh; its manifest names the dataset,
#        backbone and method, which must be readable on the driver (the driver reads the images and checkpoints).
#        Then: umm4j eval --run OUT (the result is an ordinary run directory).
set -euo pipefail
cd "$(dirname "$0")/.."
MASTER="${1:-local[2]}"
SOURCE="${2:-runs/spark-simclr}"
OUT="${3:-runs/spark-umm}"
source examples/spark-env.sh   # JAR, JARS, the Java 17 --add-opens flags (OPENS), OMP_NUM_THREADS=1

# --batch-size is per worker; --local-steps K UMM steps per worker between two averages of f_l and Adam's moments.
spark-submit \
  --class org.umm4j.spark.SparkUmm \
  --master "$MASTER" \
  --driver-memory 4g \
  --conf "spark.driver.extraJavaOptions=$OPENS" \
  --conf "spark.executor.extraJavaOptions=$OPENS" \
  --conf spark.executorEnv.OMP_NUM_THREADS=1 \
  --jars "$JARS" \
  "$JAR" \
  --checkpoint "$SOURCE" --out "$OUT" \
  --workers 2 --local-steps 1 --batch-size 64 --epochs 1 \
  --lr 1e-4 --inner-lr 0.01 --beta 1 --lambda 1 --hypergradient unrolled
