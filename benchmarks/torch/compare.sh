#!/bin/bash
# umm4j vs PyTorch, one run on one machine: SSL training step (SimCLR, BYOL) and forward-only feature extraction of a
# CIFAR ResNet-18 at base widths 16 and 64, batch 128 of 3x32x32, each configuration measured for umm4j and then
# PyTorch back to back (same threads), with `uptime` before and after. Prints a table of img/s and umm4j/PyTorch.
#
# Needs: the benchmarks jar built from this worktree
#   (cd .. && mvn -o -q install -DskipTests) && mvn -o -q package
# and Debian's PyTorch (apt-get install -y python3-torch) run by /usr/bin/python3. Not part of CI.
#
# Environment: THREADS (2), WIDTHS ("16 64"), METHODS ("simclr byol forward"), LOG (/tmp/umm4j-vs-torch.log),
# STEPS16/WARMUP16 (3/2: timed/warm-up steps at width 16), STEPS64/WARMUP64 (1/1 for training steps at width 64;
# forward uses 3/1), JAVA_OPTS (extra JVM options).
set -euo pipefail
cd "$(dirname "$0")/.."
THREADS=${THREADS:-2}
WIDTHS=${WIDTHS:-"16 64"}
METHODS=${METHODS:-"simclr byol forward"}
LOG=${LOG:-/tmp/umm4j-vs-torch.log}
JAR=target/benchmarks.jar
PY=/usr/bin/python3
export OMP_NUM_THREADS=$THREADS
: > "$LOG"
{
  echo "date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')  OMP_NUM_THREADS=$OMP_NUM_THREADS  torch threads=$THREADS"
  echo "uptime before: $(uptime)"
} | tee -a "$LOG"
for w in $WIDTHS; do
  for m in $METHODS; do
    if [ "$w" -le 16 ]; then steps=${STEPS16:-3}; warm=${WARMUP16:-2};
    elif [ "$m" = forward ]; then steps=3; warm=1;
    else steps=${STEPS64:-1}; warm=${WARMUP64:-1}; fi
    echo "-- $m width $w: $warm warm-up + $steps timed (load $(cut -d' ' -f1 /proc/loadavg))" | tee -a "$LOG"
    java ${JAVA_OPTS:-} -cp "$JAR" org.umm4j.bench.SslStepBenchmark --methods "$m" --base-width "$w" \
        --batch 128 --steps "$steps" --warmup "$warm" 2>/dev/null | grep -E '^(RESULT|[a-z]+ +[0-9])' | tee -a "$LOG"
    "$PY" torch/ssl_step_torch.py --method "$m" --base-width "$w" --batch 128 --steps "$steps" --warmup "$warm" \
        --threads "$THREADS" | tee -a "$LOG"
  done
done
echo "uptime after: $(uptime)" | tee -a "$LOG"
"$PY" - "$LOG" <<'PYEOF'
import sys
rows = {}
for line in open(sys.argv[1]):
    if line.startswith("RESULT "):
        kv = dict(t.split("=", 1) for t in line.split()[1:])
        rows[(kv["method"], int(kv["base_width"]), kv["impl"])] = kv
print("\n| base width | what | umm4j img/s | PyTorch img/s | umm4j/PyTorch | CPU s/step umm4j | PyTorch | CPU ratio "
      "PyTorch/umm4j | umm4j RSS MB | PyTorch RSS MB | params (both) |")
print("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
for (m, w, impl), u in sorted(rows.items(), key=lambda r: (r[0][1], r[0][0])):
    if impl != "umm4j":
        continue
    t = rows.get((m, w, "torch"))
    if t is None:
        continue
    same = u["params"] if u["params"] == t["params"] else "%s vs %s" % (u["params"], t["params"])
    print("| %d | %s | %.1f | %.1f | %.2fx | %.2f | %.2f | %.2fx | %s | %s | %s |" % (
        w, m, float(u["img_s"]), float(t["img_s"]), float(u["img_s"]) / float(t["img_s"]), float(u["cpu_s"]),
        float(t["cpu_s"]), float(t["cpu_s"]) / float(u["cpu_s"]), u["rss_peak_mb"], t["rss_peak_mb"], same))
PYEOF
