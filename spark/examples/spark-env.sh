#!/usr/bin/env bash
# Shared by the spark-submit examples; source it from the spark/ folder. Sets JAR, JARS and OPENS.
# Spark itself is "provided": spark-submit supplies it. Every other jar (umm4j, DL4J, ND4J natives) goes in --jars.
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
