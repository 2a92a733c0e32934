#!/usr/bin/env bash
# Distributed SimCLR pretraining with spark-submit (Spark 3.5, Scala 2.12, Java 17).
#
# Build first (from the repository root):
#   mvn -o -q install -DskipTests && (cd spark && mvn -B -q package -DskipTests dependency:copy-dependencies \
#       -DincludeScope=runtime -DoutputDirectory=target/lib)
# Spark itself is "provided": spark-submit supplies it. Every other jar (umm4j, DL4J, ND4J natives) goes in --jars.
#
# Usage: examples/spark-submit.sh [MASTER] [OUT]   e.g. examples/spark-submit.sh local[2] runs/spark-simclr
#        MASTER may be spark://host:7077, yarn, k8s://...; the data directory must then be readable on the driver.
set -euo pipefail
cd "$(dirname "$0")/.."
MASTER="${1:-local[2]}"
OUT="${2:-runs/spark-simclr}"
JAR=target/umm4j-spark-0.1.0-SNAPSHOT.jar
JARS=$(ls target/lib/*.jar | grep -v -E '/(spark-|scala-library|scala-reflect|hadoop-client)' | paste -sd, -)

# Spark on Java 17 reflects into JDK internals: open them on the driver and on every executor.
OPENS="--add-opens=java.base/java.lang=ALL-UNNAMED --add-opens=java.base/java.lang.invoke=ALL-UNNAMED \
--add-opens=java.base/java.lang.reflect=ALL-UNNAMED --add-opens=java.base/java.io=ALL-UNNAMED \
--add-opens=java.base/java.net=ALL-UNNAMED --add-opens=java.base/java.nio=ALL-UNNAMED \
--add-opens=java.base/java.util=ALL-UNNAMED --add-opens=java.base/java.util.concurrent=ALL-UNNAMED \
--add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED --add-opens=java.base/sun.nio.ch=ALL-UNNAMED \
--add-opens=java.base/sun.nio.cs=ALL-UNNAMED --add-opens=java.base/sun.security.action=ALL-UNNAMED \
--add-opens=java.base/sun.util.calendar=ALL-UNNAMED -Djdk.reflect.useDirectMethodHandle=false"

# One ND4J thread per Spark task slot: Spark already runs one replica per core.
export OMP_NUM_THREADS=1

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
